"""The one interface every platform client speaks, and the data that crosses it.

A client owns a ``requests.Session`` (retries mounted on the adapter, a timeout on
every call) and turns each HTTP error into a :class:`PlatformError` that says what
kind of failure it is, so the publishing job can decide: retry now, wait, defer to
the next quota window, ask for a reconnect, or give up.

Publishing is split into steps whose state is a plain JSON dict the job persists after
every step (and after every acknowledged chunk), so a killed worker resumes where the
platform says it stopped:

``begin`` -> ``upload`` (resumable) -> ``finish`` (creates or schedules the post) ->
``status`` (processing, until published or failed).

``finish`` is the step that can create a post twice; before calling it again after an
unknown outcome, the job asks :meth:`PlatformClient.find_post` what the platform has.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from publisher.platforms.insights import Reading

log = logging.getLogger(__name__)

Kind = Literal["auth", "rate", "quota", "transient", "permanent", "expired_session"]
Progress = Callable[[int, int], None]  # (bytes acknowledged, total)
DEFAULT_TIMEOUT = (5.0, 60.0)  # connect, read


@dataclass(frozen=True)
class App:
    """Hookline's credentials as a platform app (client id / key and secret)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    refresh_expires_at: datetime | None = None
    account_id: str = ""  # channel id, open_id, page or IG user id
    scope: str = ""

    def expires_within(self, seconds: float, now: datetime) -> bool:
        return (self.expires_at - now).total_seconds() < seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "refresh_expires_at": self.refresh_expires_at.isoformat()
            if self.refresh_expires_at
            else None,
            "account_id": self.account_id,
            "scope": self.scope,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        refresh_until = data.get("refresh_expires_at")
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            refresh_expires_at=datetime.fromisoformat(refresh_until) if refresh_until else None,
            account_id=data.get("account_id", ""),
            scope=data.get("scope", ""),
        )


@dataclass(frozen=True)
class Media:
    """The file to publish, with the facts platforms check."""

    path: Path
    size: int
    sha256: str
    duration_s: float
    width: int
    height: int
    video_codec: str
    fps: float | None = None
    mime_type: str = "video/mp4"


@dataclass(frozen=True)
class Caption:
    language: str
    path: Path  # SRT
    name: str


@dataclass(frozen=True)
class PostMeta:
    """What the post says, in the channel's language."""

    title: str
    description: str = ""
    hashtags: tuple[str, ...] = ()
    language: str = ""
    privacy: str = "public"
    publish_at: datetime | None = None  # None: publish as soon as processed
    captions: tuple[Caption, ...] = ()
    localizations: dict[str, tuple[str, str]] = field(default_factory=dict)  # lang: (title, desc)

    @property
    def caption(self) -> str:
        """The description with the hashtags appended, as the short-video apps show it."""
        tags = " ".join(t if t.startswith("#") else f"#{t}" for t in self.hashtags)
        return " ".join(part for part in (self.description, tags) if part).strip()


@dataclass(frozen=True)
class Quota:
    """What one publication spends of a platform allowance, checked before it starts.

    ``window``: "day_pacific" (resets at midnight Pacific, as YouTube's quota does),
    "day_utc", "rolling_24h" (a cap over the last 24 hours), or "minute".
    """

    bucket: str
    cost: int
    limit: int
    window: Literal["day_pacific", "day_utc", "rolling_24h", "minute"]


@dataclass(frozen=True)
class Remote:
    """What the platform says about the post."""

    status: Literal["uploading", "processing", "scheduled", "published", "failed"]
    remote_id: str | None = None
    url: str | None = None
    reason: str = ""  # the platform's words when it failed
    code: str = ""


class PlatformError(Exception):
    """A platform refused or failed a call; ``kind`` says what the job should do."""

    def __init__(
        self,
        platform: str,
        message: str,
        *,
        kind: Kind,
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{platform}: {message}")
        self.platform = platform
        self.message = message
        self.kind = kind
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.kind in ("transient", "rate", "expired_session")


class PlatformClient(abc.ABC):
    """One platform's API. Subclasses implement the steps; the job strings them together."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    # The cap on posts a channel may publish in a rolling 24 h (None: no published cap).
    daily_post_cap: ClassVar[int | None] = None

    def __init__(
        self,
        endpoints: dict[str, str],
        app: App,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.app = app
        self.timeout = timeout
        self.http = session or retrying_session()

    # -- accounts ----------------------------------------------------------------------

    @abc.abstractmethod
    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        """Where to send the user to grant Hookline access (OAuth 2 authorization code)."""

    @abc.abstractmethod
    def exchange_code(self, code: str, *, redirect_uri: str, now: datetime) -> Tokens:
        """Trade the authorization code for tokens."""

    @abc.abstractmethod
    def refresh(self, tokens: Tokens, *, now: datetime) -> Tokens:
        """Get a fresh access token (and the new refresh token, where they rotate)."""

    # -- publishing --------------------------------------------------------------------

    @classmethod
    @abc.abstractmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        """Return why this platform would reject this post (empty when it would not).

        Checked at scheduling time, without the network: specs and metadata limits.
        """

    def quotas(self, meta: PostMeta) -> list[Quota]:
        """Return the allowances one publication spends (none by default)."""
        return []

    @abc.abstractmethod
    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        """Open an upload session; return the state to persist."""

    @abc.abstractmethod
    def upload(
        self, tokens: Tokens, state: dict[str, Any], media: Media, *, progress: Progress
    ) -> None:
        """Send the bytes the platform does not have yet, updating ``state`` as acknowledged.

        Resumes from the platform's own count where it offers one (probe, offset, status).
        ``progress`` is called after every acknowledged chunk; the job persists ``state``.
        """

    @abc.abstractmethod
    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        """Create (or schedule) the post from the uploaded media; record its ids in ``state``."""

    @abc.abstractmethod
    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        """Return whether the platform already made the post ``finish`` would make.

        Called before ``finish`` when an earlier ``finish`` may have succeeded unseen;
        records what it finds in ``state``.
        """

    @abc.abstractmethod
    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        """Ask how the post is doing: processing, scheduled, published or failed."""

    # -- analytics ---------------------------------------------------------------------

    def insights(
        self,
        tokens: Tokens,
        remote_id: str,
        *,
        duration_s: float,
        published_at: datetime,
        now: datetime,
    ) -> Reading:
        """Read the post's metrics and retention curve, as far as the platform gives them."""
        raise NotImplementedError(f"{self.display_name} has no analytics client")

    def close(self) -> None:
        self.http.close()

    # -- helpers for subclasses --------------------------------------------------------

    def url(self, name: str, path: str) -> str:
        return self.endpoints[name].rstrip("/") + path

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request with a timeout; connection failures become transient errors."""
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.http.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise PlatformError(
                self.name,
                f"no answer from {method} {url.split('?')[0]} ({type(exc).__name__})",
                kind="transient",
            ) from exc


def retrying_session(total: int = 2) -> requests.Session:
    """A session that retries idempotent calls refused with 502/503/504 (not uploads).

    Chunk and post-creating calls are retried by the job, which knows what the
    platform already has; blind retries there would send bytes or posts twice.
    """
    session = requests.Session()
    retry = Retry(
        total=total,
        connect=0,
        read=0,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=0.2,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def retry_after(response: requests.Response) -> float | None:
    """Read Retry-After in seconds (numeric or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


class FileSlice:
    """Bytes [offset, offset + size) of a file, as a request body read while it is sent.

    requests hands a file-like body to http.client, which reads and sends it block by
    block, so a chunk is never copied into memory whole before the first byte goes out.
    http.client asks for 8 KiB at a time; this answers with up to 1 MiB, to keep the
    system calls few. ``len()`` is the slice's size, which requests sends as
    Content-Length. One slice is one request body: a resend makes a new slice.
    """

    BLOCK = 1 << 20

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self.path, self.offset = path, offset
        self.size = max(0, min(size, path.stat().st_size - offset))
        self._left = self.size
        self._fh: Any = None

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int | None = -1) -> bytes:
        if self._left <= 0:
            self.close()
            return b""
        if self._fh is None:
            self._fh = self.path.open("rb")
            self._fh.seek(self.offset)
        wanted = self._left if amount is None or amount < 0 else max(amount, self.BLOCK)
        data = self._fh.read(min(self._left, wanted))
        self._left = self._left - len(data) if data else 0
        if self._left <= 0:
            self.close()
        return data

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __del__(self) -> None:
        self.close()


def read_chunk(path: Path, offset: int, size: int) -> FileSlice:
    """The chunk at ``offset`` (at most ``size`` bytes), to send as a request body."""
    return FileSlice(path, offset, size)
