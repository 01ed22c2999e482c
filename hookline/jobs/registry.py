"""Job kinds: a name, the function that runs it, and how it is retried.

Each domain declares its kinds in a ``jobs`` module with the :func:`job`
decorator; the worker imports those modules (listed in ``hookline.wiring``), so
adding a kind is one function and one decorator line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline.errors import InvalidInput

if TYPE_CHECKING:
    from hookline.jobs.context import JobContext

Handler = Callable[["JobContext", dict[str, Any]], dict[str, Any] | None]

# The shell's own kinds; domains and plugins are passed to :func:`load`.
BUILTIN = "hookline.jobs.builtin"


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    description: str
    max_attempts: int = 5
    # Name of the setting that caps how many of these one worker process runs at once.
    parallel_setting: str | None = None


_KINDS: dict[str, JobKind] = {}


DEFAULT_ATTEMPTS = 5


def job(
    name: str, *, max_attempts: int = DEFAULT_ATTEMPTS, parallel_setting: str | None = None
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of job kind ``name``."""

    def register(handler: Handler) -> Handler:
        existing = _KINDS.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"job kind {name!r} is registered twice")
        description = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
        _KINDS[name] = JobKind(name, handler, description, max_attempts, parallel_setting)
        return handler

    return register


def load(modules: Iterable[str] = ()) -> dict[str, JobKind]:
    """Import the built-in job kinds plus ``modules``; return every kind registered."""
    for module in (BUILTIN, *modules):
        importlib.import_module(module)
    return dict(_KINDS)


def get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        known = ", ".join(sorted(_KINDS)) or "none loaded"
        raise InvalidInput(f"Unknown job kind {name!r}. Known kinds: {known}.") from None


def default_attempts(name: str) -> int:
    """Return the attempts a job of kind ``name`` gets before it is dead-lettered."""
    kind = _KINDS.get(name)
    return kind.max_attempts if kind else DEFAULT_ATTEMPTS
