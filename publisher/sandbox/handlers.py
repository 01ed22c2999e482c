"""Helpers for emulator handlers: refusals as exceptions, parameters, the caller's account.

Checks deep inside an emulator (an expired upload, a part too small) raise
:class:`Refused`; :func:`guarded` turns it into the platform's own error envelope, so
handlers read as the happy path.
"""

from __future__ import annotations

from collections.abc import Callable

from publisher.sandbox.core import Handler, Request, Response


class Refused(Exception):
    """The platform says no: its error code, its words, and the HTTP status it uses."""

    def __init__(self, code: int, description: str, status: int = 200) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status


def guarded(handler: Handler, answer: Callable[[Refused], Response]) -> Handler:
    """Wrap ``handler`` so that a :class:`Refused` it raises becomes ``answer(refusal)``."""

    def run(request: Request) -> Response:
        try:
            return handler(request)
        except Refused as refusal:
            return answer(refusal)

    return run


def required(request: Request, names: tuple[str, ...], *, code: int) -> dict[str, str]:
    """Read parameters from the query and the body (JSON or form); refuse missing ones.

    OAuth endpoints are documented with query parameters and called with form or JSON
    bodies by current SDKs; platforms take all three.
    """
    found = dict(request.query)
    if request.headers.get("content-type", "").startswith("application/json"):
        found.update({k: str(v) for k, v in request.json().items()})
    elif request.length:
        found.update(request.form())
    absent = [name for name in names if not found.get(name)]
    if absent:
        raise Refused(code, f"missing parameters: {', '.join(absent)}")
    return found


def whole_number(value: str | None, name: str, *, code: int) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise Refused(code, f"{name} must be a whole number, not {value!r}") from None


def account_id(request: Request) -> str:
    """Return the id of the account the request's token stands for (routes with auth)."""
    assert request.account is not None  # the sandbox checked the token before the handler
    return request.account.account_id
