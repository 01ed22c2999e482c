"""What the Instagram and Facebook clients share: Meta's Graph API (platforms.md 3, 4).

Accounts (Facebook Login): the authorization code buys a short-lived *user* token,
``fb_exchange_token`` trades it for a long-lived (~60-day) one, and ``/me/accounts``
gives the *Page* token every publishing call uses. :class:`Tokens` holds the Page token
as ``access_token`` and the long-lived user token as ``refresh_token``; ``expires_at`` is
the user token's expiry, since the Page token lives only as long as it. A refresh trades
the user token for a fresh long-lived one and asks for the Page token again. Meta does
not rotate: a user token that has lapsed means reconnecting.

Errors: Meta answers most refusals with HTTP 400 and says what happened in ``code`` and
``error_subcode``; :func:`classify` turns those into the job's kinds.

Uploads (rupload.facebook.com): the file is sent from an ``offset`` header with a
``file_size`` header. We send it in pieces of ``chunk_size``, *one request per piece*,
each with its own offset, so every piece is acknowledged (the job persists progress)
and a broken transfer costs at most one piece. Meta documents one request from an
offset; several pieces are our choice (✘: a ``chunk_size`` of at least the file size
sends the documented single request). A resumed upload first asks the platform how
much it has; a piece refused while the platform holds another offset (an answer lost
after the bytes were kept) is resent from the platform's count.
"""

from __future__ import annotations

import abc
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

from publisher.platforms.base import (
    DEFAULT_TIMEOUT,
    App,
    FileSlice,
    Kind,
    Media,
    PlatformClient,
    PlatformError,
    PostMeta,
    Progress,
    Tokens,
    read_chunk,
    retry_after,
)
from publisher.platforms.insights import Malformed

log = logging.getLogger(__name__)

GRAPH_VERSION = "v23.0"  # pinned: Meta silently serves expired versions as newer ones
LONG_LIVED_S = 60 * 86400  # what a long-lived user token lasts when Meta omits expires_in
DEFAULT_RATE_WAIT_S = 300.0  # Meta's rate windows roll over an hour; look again in 5 min
DEFAULT_QUOTA_WAIT_S = 3600.0  # when Meta does not say when the publishing cap reopens
USAGE_WARNING = 90  # percent of an allowance; Mixpost backs off above this
MAX_RESYNCS = 3  # offset corrections in one upload call before giving up to the job

AUTH_CODES = frozenset({102, 190})
RATE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2, -1, -2})
# Subcodes Meta documents as "try again" (server error, builder not yet there, not ready).
TRANSIENT_SUBCODES = frozenset({2207001, 2207003, 2207008, 2207027, 2207032})
# The upload session is gone: start again with a new container or video.
EXPIRED_SUBCODES = frozenset({2207020, 2207053, 1363030})
# The account is restricted or suspected of spam: waiting will not help.
BLOCKED_SUBCODES = frozenset({2207050, 2207051})


@dataclass(frozen=True)
class Refusal:
    """One Meta error, from either envelope (Graph's ``error`` or rupload's ``debug_info``)."""

    status: int
    message: str
    code: int | None = None
    subcode: int | None = None
    transient: bool = False

    @property
    def label(self) -> str:
        """The code as the job records it: ``"code/subcode"``, or the HTTP status."""
        if self.code is None:
            return str(self.status)
        return f"{self.code}/{self.subcode}" if self.subcode else str(self.code)


def refusal_of(response: requests.Response) -> Refusal:
    """Read Meta's error out of a failed response (any shape, even a proxy's HTML page)."""
    try:
        body = response.json()
    except ValueError:
        return Refusal(response.status_code, response.text[:200] or response.reason or "")
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return Refusal(
            status=response.status_code,
            message=str(error.get("message", "")),
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            transient=bool(error.get("is_transient")),
        )
    debug = body.get("debug_info") if isinstance(body, dict) else None
    if isinstance(debug, dict):
        return Refusal(
            response.status_code,
            f"{debug.get('type', 'upload error')}: {debug.get('message', '')}",
            transient=bool(debug.get("retriable")),
        )
    return Refusal(response.status_code, json.dumps(body)[:200])


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def classify(refusal: Refusal) -> Kind:
    """Say what the job should do about ``refusal``."""
    code, subcode = refusal.code, refusal.subcode
    # A missing permission (10, 200–299) is permanent: a refresh cannot grant it.
    if code in AUTH_CODES or refusal.status == 401:
        return "auth"
    if subcode in BLOCKED_SUBCODES:
        return "permanent"
    if code == 9 or subcode == 2207042:
        return "quota"
    if code in RATE_CODES or refusal.status == 429:
        return "rate"
    if subcode in EXPIRED_SUBCODES:
        return "expired_session"
    transient = code in TRANSIENT_CODES or subcode in TRANSIENT_SUBCODES
    if transient or refusal.transient or refusal.status >= 500:
        return "transient"
    return "permanent"


def regain_after(response: requests.Response) -> float | None:
    """Seconds until Meta gives access back: Retry-After, else its usage header's estimate."""
    explicit = retry_after(response)
    if explicit is not None:
        return explicit
    minutes = [
        entry.get("estimated_time_to_regain_access") or 0
        for entries in _header_json(response, "X-Business-Use-Case-Usage").values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    return 60.0 * max(minutes) if minutes and max(minutes) > 0 else None


def usage_percent(response: requests.Response) -> int:
    """The highest share of an allowance Meta reports in the usage headers (0–100)."""
    shares = [v for v in _header_json(response, "X-App-Usage").values() if isinstance(v, int)]
    for entries in _header_json(response, "X-Business-Use-Case-Usage").values():
        for entry in entries if isinstance(entries, list) else []:
            shares += [
                v
                for k, v in entry.items()
                if isinstance(v, int) and k != "type" and not k.startswith("estimated")
            ]
    return max(shares, default=0)


def _header_json(response: requests.Response, name: str) -> dict[str, Any]:
    try:
        value = json.loads(response.headers.get(name) or "{}")
    except ValueError:  # advisory headers: a malformed one must not fail the call
        return {}
    return value if isinstance(value, dict) else {}


def caption_of(meta: PostMeta) -> str:
    """The post's text: the description with hashtags, else the title."""
    return meta.caption or meta.title


def count_hashtags(text: str) -> int:
    return len(re.findall(r"(?<!\w)#\w+", text))


class MetaClient(PlatformClient):
    """A Graph API client: Facebook Login, Meta's errors, rupload's resumable bytes."""

    DEFAULT_ENDPOINTS: ClassVar[dict[str, str]] = {
        "api": "https://graph.facebook.com",
        "upload": "https://rupload.facebook.com",
        "auth": "https://www.facebook.com",
    }
    SCOPES: ClassVar[tuple[str, ...]] = ()
    UPLOAD_PREFIX: ClassVar[str] = ""  # rupload's path before the version
    CHUNK_SIZE: ClassVar[int] = 8 * 1024 * 1024

    def __init__(
        self,
        endpoints: dict[str, str],
        app: App,
        *,
        chunk_size: int | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(
            {**self.DEFAULT_ENDPOINTS, **endpoints}, app, timeout=timeout, session=session
        )
        self.chunk_size = chunk_size or self.CHUNK_SIZE

    # -- accounts ----------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode(
            {
                "client_id": self.app.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": ",".join(self.SCOPES),
                "response_type": "code",
            }
        )
        return self.url("auth", f"/{GRAPH_VERSION}/dialog/oauth?{query}")

    def exchange_code(self, code: str, *, redirect_uri: str, now: datetime) -> Tokens:
        short = self._token_call({"code": code, "redirect_uri": redirect_uri})
        return self._tokens_from(short["access_token"], account_id="", now=now)

    def refresh(self, tokens: Tokens, *, now: datetime) -> Tokens:
        if not tokens.refresh_token:
            raise PlatformError(
                self.name, "no user token to renew; reconnect the account", kind="auth"
            )
        return self._tokens_from(tokens.refresh_token, account_id=tokens.account_id, now=now)

    def _tokens_from(self, user_token: str, *, account_id: str, now: datetime) -> Tokens:
        """Make ``user_token`` long-lived and fetch the Page token that goes with it."""
        long_lived = self._token_call(
            {"grant_type": "fb_exchange_token", "fb_exchange_token": user_token}
        )
        page = self.choose_page(self._pages(long_lived["access_token"]), account_id)
        expires = now + timedelta(seconds=int(long_lived.get("expires_in") or LONG_LIVED_S))
        return Tokens(
            access_token=page["access_token"],
            refresh_token=long_lived["access_token"],
            expires_at=expires,
            refresh_expires_at=expires,
            account_id=self.account_of(page),
            scope=",".join(self.SCOPES),
        )

    def _token_call(self, params: dict[str, str]) -> dict[str, Any]:
        query = {"client_id": self.app.client_id, "client_secret": self.app.client_secret}
        response = self.request(
            "GET",
            self.url("api", f"/{GRAPH_VERSION}/oauth/access_token"),
            params={**query, **params},
        )
        return self.answer(response, "get an access token")

    def _pages(self, user_token: str) -> list[dict[str, Any]]:
        fields = "id,name,access_token,instagram_business_account"
        body = self.graph(
            "GET",
            "/me/accounts",
            user_token,
            what="list the Pages",
            params={"fields": fields, "limit": "100"},
        )
        return [page for page in body.get("data", []) if page.get("access_token")]

    def choose_page(self, pages: list[dict[str, Any]], account_id: str) -> dict[str, Any]:
        """Pick the Page this channel publishes through (its account, or the first)."""
        for page in pages:
            if self.account_of(page) and account_id in ("", self.account_of(page)):
                return page
        wanted = f" {account_id}" if account_id else ""
        raise PlatformError(
            self.name,
            f"this login manages no Page with the {self.display_name} account{wanted}; "
            "reconnect and select it",
            kind="permanent",
        )

    @abc.abstractmethod
    def account_of(self, page: dict[str, Any]) -> str:
        """The account a ``/me/accounts`` entry stands for ("" when it has none)."""

    # -- HTTP -----------------------------------------------------------------------------

    def graph(
        self, method: str, path: str, token: str, *, what: str, **kwargs: Any
    ) -> dict[str, Any]:
        """Call the Graph API at ``path`` (under the pinned version) with ``token``."""
        response = self.request(
            method,
            self.url("api", f"/{GRAPH_VERSION}{path}"),
            headers={"Authorization": f"OAuth {token}"},
            **kwargs,
        )
        return self.answer(response, what)

    def answer(self, response: requests.Response, what: str) -> dict[str, Any]:
        """Return the JSON of a successful response; raise what a failure means."""
        share = usage_percent(response)
        if share >= USAGE_WARNING:
            log.warning("%s: %d%% of Meta's call allowance used", self.name, share)
        if not response.ok:
            raise self.failure(response, what)
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformError(
                self.name,
                f"unreadable answer to '{what}'",
                kind="transient",
                status=response.status_code,
            ) from exc
        return body if isinstance(body, dict) else {"data": body}

    def failure(self, response: requests.Response, what: str) -> PlatformError:
        refusal = refusal_of(response)
        kind = classify(refusal)
        wait = regain_after(response)
        if kind == "rate":
            wait = wait or DEFAULT_RATE_WAIT_S
        elif kind == "quota":
            wait = wait or DEFAULT_QUOTA_WAIT_S
        return PlatformError(
            self.name,
            f"could not {what}: {refusal.message or response.reason}",
            kind=kind,
            status=response.status_code,
            code=refusal.label,
            retry_after=wait,
        )

    # -- analytics ------------------------------------------------------------------------

    def insight_items(self, tokens: Tokens, path: str, **params: str) -> list[dict[str, Any]]:
        """The ``data`` list of an insights edge; [] while Meta has not counted anything."""
        body = self.graph("GET", path, tokens.access_token, what="read insights", params=params)
        data = body.get("data")
        if not isinstance(data, list):
            raise Malformed(f"{self.display_name} insights came without a data list")
        return data

    # -- uploading ------------------------------------------------------------------------

    def upload_url(self, upload_id: str) -> str:
        """rupload's URL for an upload: the same path Meta returns, on our endpoint."""
        return self.url("upload", f"{self.UPLOAD_PREFIX}/{GRAPH_VERSION}/{upload_id}")

    def upload(
        self, tokens: Tokens, state: dict[str, Any], media: Media, *, progress: Progress
    ) -> None:
        # Ask first, always: a piece cut short may have left bytes that rupload kept (and
        # the run that sent it may have died before saying so).
        offset = self._acknowledge(state, self.platform_offset(tokens, state), media, progress)
        resyncs = 0
        while offset < media.size:
            piece = read_chunk(media.path, offset, self.chunk_size)
            try:
                self._send_piece(tokens, state, media, offset, piece)
            except PlatformError as error:
                resyncs += 1
                offset = self._resync(tokens, state, error, offset, resyncs)
                offset = self._acknowledge(state, offset, media, progress)
                continue
            offset = self._acknowledge(state, offset + len(piece), media, progress)

    def _send_piece(
        self, tokens: Tokens, state: dict[str, Any], media: Media, offset: int, piece: FileSlice
    ) -> None:
        headers = {
            "Authorization": f"OAuth {tokens.access_token}",
            "offset": str(offset),
            "file_size": str(media.size),
            "Content-Type": "application/octet-stream",
        }
        response = self.request("POST", state["upload_url"], headers=headers, data=piece)
        body = self.answer(response, f"upload bytes {offset}–{offset + len(piece)}")
        if body.get("success") is False:
            raise PlatformError(
                self.name,
                f"the upload was not accepted: {body}",
                kind="transient",
                status=response.status_code,
            )

    def _resync(
        self,
        tokens: Tokens,
        state: dict[str, Any],
        error: PlatformError,
        offset: int,
        resyncs: int,
    ) -> int:
        """After a refused piece, return where the platform says to go on (or re-raise).

        A refusal while the platform holds another offset means we were out of step (it
        kept bytes whose acknowledgement was lost); any other refusal stands.
        """
        if error.kind != "permanent" or resyncs > MAX_RESYNCS:
            raise error
        actual = self.platform_offset(tokens, state)
        if actual == offset:
            raise error
        log.info("%s: resuming at the platform's offset %d, not %d", self.name, actual, offset)
        return actual

    def _acknowledge(
        self, state: dict[str, Any], offset: int, media: Media, progress: Progress
    ) -> int:
        state["acknowledged"] = offset
        progress(offset, media.size)
        return offset

    @abc.abstractmethod
    def platform_offset(self, tokens: Tokens, state: dict[str, Any]) -> int:
        """Ask the platform how many bytes of the upload it has."""

    # -- scheduling --------------------------------------------------------------------------

    def wait_for(self, publish_at: datetime | None) -> None:
        """Raise a transient error carrying the wait while ``publish_at`` is ahead.

        For what the platform cannot schedule itself: the job comes back at the time.
        """
        if publish_at is None:
            return
        wait = (publish_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            raise PlatformError(
                self.name,
                f"not yet: due at {publish_at.isoformat()}",
                kind="transient",
                retry_after=wait,
            )
