"""What the Instagram and Facebook emulators share: Meta's Graph API and rupload.

Both platforms speak one API (platforms.md sections 3 and 4):

- Versioned paths, ``/v23.0/...``. Any version is served, as Meta serves expired ones as
  the current one; the ``facebook-api-version`` header says which.
- One error envelope: ``{"error": {"message", "type", "code", "error_subcode",
  "is_transient", "fbtrace_id"}}``, HTTP 400 for most refusals (code 190 included), so
  clients must read the code, not the status.
- Facebook Login: the code buys a short-lived *user* token, ``fb_exchange_token`` a
  long-lived (60-day) one, and ``/me/accounts`` the *Page* tokens every call then uses.
  No refresh-token rotation. Here user tokens are the framework's refresh tokens (alive,
  expiring and revocable like them, never valid for API calls) and Page tokens its
  access tokens (what ``expire_token`` faults hit).
- Usage headers: ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` (with
  ``estimated_time_to_regain_access`` in minutes when an allowance is used up).
- rupload.facebook.com: the bytes of one file sent from an ``offset`` header with a
  ``file_size`` header. A piece whose offset is not what arrived so far is refused.

Emulator knobs (✘ in platforms.md, chosen here): a rupload session accepts the file in
several pieces, one request each; the refusal of a wrong offset; a GET on a rupload URL
answering the received offset (header ``Offset`` and JSON); the app-call allowance.
"""

from __future__ import annotations

import json
import math
import secrets
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from publisher.sandbox.core import Account, Drop, Platform, Request, Response, TokenPolicy

GRAPH_VERSION = "v23.0"
VERSION = r"/v\d+\.\d+"  # the path prefix routes accept
DAY_S = 86400.0
SHORT_USER_TOKEN_S = 3600.0  # what a code buys; fb_exchange_token makes it long-lived
LONG_TOKEN_S = 60 * DAY_S
USAGE_OWNER = "sandbox-business"  # the key of X-Business-Use-Case-Usage
# Probing an uploaded file runs beside the uploads, not inside the answer to the last byte.
JUDGES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-transcoder")


def graph_id() -> str:
    """Return a new object id in Meta's style (a long decimal number)."""
    return str(10**16 + secrets.randbelow(9 * 10**16))


# -- the uploaded file and what a transcoder makes of it -------------------------------------


@dataclass(frozen=True)
class VideoFacts:
    """What the platform learns from a first look at an uploaded file."""

    format_name: str  # PyAV's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    video_codec: str
    duration_s: float
    width: int
    height: int
    fps: float
    moov_first: bool  # the MP4/MOV index before the media data ("fast start")


def probe_video(path: Path) -> VideoFacts | None:
    """Describe the video in ``path``; None when it is no video PyAV can read."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            return VideoFacts(
                format_name=container.format.name,
                video_codec=stream.codec_context.name,
                duration_s=_duration_s(container, stream),
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                fps=float(stream.average_rate or 0),
                moov_first=moov_first(path),
            )
    except av.FFmpegError:  # not a video: the platform's verdict, not our failure
        return None


def _duration_s(container: Any, stream: Any) -> float:
    if container.duration:
        return float(container.duration / av.time_base)
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def moov_first(path: Path) -> bool:
    """Whether the top-level ``moov`` box comes before ``mdat`` (Instagram asks for it)."""
    with path.open("rb") as fh:
        while len(header := fh.read(8)) == 8:
            size, kind = struct.unpack(">I4s", header)
            if kind in (b"moov", b"mdat"):
                return kind == b"moov"
            if size == 1:  # a 64-bit size follows the type
                size = struct.unpack(">Q", fh.read(8))[0] - 8
            if size < 8:  # size 0 runs to the end of the file: no moov before it
                return False
            fh.seek(size - 8, 1)
    return False


def is_mp4_or_mov(facts: VideoFacts) -> bool:
    return "mp4" in facts.format_name.split(",") or "mov" in facts.format_name.split(",")


@dataclass
class RuploadSession:
    """The bytes of one file arriving at rupload.facebook.com."""

    key: str  # the Uploads session id
    file_size: int | None = None
    received: int = 0
    done_at: float | None = None  # when the last byte arrived
    # The transcoder's judgement, made after the last byte is acknowledged, as Meta's is.
    judging: Future[str | None] | None = None

    @property
    def verdict(self) -> str | None:
        """Why the platform's transcoder refuses the file (waits for its judgement)."""
        return self.judging.result() if self.judging is not None else None


# -- the emulator base ----------------------------------------------------------------------


class GraphEmulator(Platform):
    """A Meta platform: Graph API conventions, Facebook Login, rupload, usage headers."""

    policy = TokenPolicy(access_s=LONG_TOKEN_S, refresh_s=LONG_TOKEN_S)
    processing_s: float = 0.3  # from the last byte to the end of processing
    app_calls_per_hour: int = 4800  # ✘ knob: X-App-Usage's call_count is a share of this
    rate_code: int = 4  # what a rate-limit fault answers (4 app, 17 user, 32 Page)
    usage_type: str = "instagram"  # the X-Business-Use-Case-Usage entry's type

    def __init__(self, sandbox: Any) -> None:
        self._lock = threading.RLock()
        super().__init__(sandbox)

    def register(self) -> None:
        # Facebook Login's dialog lives at a versioned path; the framework's consent page
        # serves it (the form posts back to the same URL).
        for method in ("GET", "POST"):
            self.route(
                method, f"{VERSION}/dialog/oauth", self.consent_page, step="consent", auth=False
            )
        self.route(
            "GET", f"(?:{VERSION})?/oauth/access_token", self.access_token, step="token", auth=False
        )
        self.route("GET", f"{VERSION}/me/accounts", self.me_accounts, step="token", auth=False)

    def graph(
        self, method: str, pattern: str, handler: Callable[[Request], Response], *, step: str
    ) -> None:
        """Add a Graph API route: versioned, counted against the app's hourly calls."""

        def metered(request: Request) -> Response:
            wait = self.buckets.spend(f"{self.name}:app-calls", 1, self.app_calls_per_hour, 3600)
            if wait is not None:
                return self.rate_limited(wait)
            response = handler(request)
            for name, value in self.usage_headers().items():  # an error's own estimate stays
                response.headers.setdefault(name, value)
            return response

        self.route(method, f"{VERSION}{pattern}", metered, step=step)

    # -- errors, in Meta's envelope ------------------------------------------------------

    def graph_error(
        self,
        status: int,
        message: str,
        *,
        code: int,
        subcode: int | None = None,
        transient: bool = False,
        regain_s: float = 0.0,
    ) -> Response:
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        return Response(status, {"error": error}, self.usage_headers(regain_s))

    def error(self, status: int, code: str, message: str) -> Response:
        """The framework's errors (injected 5xx, unknown routes) in Meta's envelope."""
        if code == "internal_error":
            return self.graph_error(
                status,
                "An unexpected error has occurred. Please retry your request later.",
                code=2,
                transient=True,
            )
        return self.graph_error(400 if status == 404 else status, f"(#100) {message}", code=100)

    def unauthorized(self) -> Response:
        return self.graph_error(
            400,
            "Error validating access token: Session has expired or the token is invalid.",
            code=190,
            subcode=463,
        )

    def rate_limited(self, retry_after: float) -> Response:
        messages = {
            4: "Application request limit reached",
            17: "User request limit reached",
            32: "Page request limit reached",
        }
        text = messages.get(self.rate_code, "Calls to this API have exceeded the rate limit")
        response = self.graph_error(400, f"(#{self.rate_code}) {text}", code=self.rate_code)
        response.headers.update(self.usage_headers(retry_after, share=100))
        return response

    def not_found(self, node: str) -> Response:
        return self.graph_error(
            400,
            f"Unsupported request. Object with ID '{node}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
            code=100,
            subcode=33,
        )

    def usage_headers(self, regain_s: float = 0.0, share: int | None = None) -> dict[str, str]:
        """Meta's usage headers: the share of the hourly calls used, when access returns."""
        if share is None:
            used = self.buckets.used(f"{self.name}:app-calls", 3600)
            share = min(100, used * 100 // self.app_calls_per_hour)
        usage = {"call_count": share, "total_cputime": share // 2, "total_time": share // 2}
        regain = {
            "type": self.usage_type,
            **usage,
            "estimated_time_to_regain_access": math.ceil(regain_s / 60),
        }
        return {
            "X-App-Usage": json.dumps(usage),
            "X-Business-Use-Case-Usage": json.dumps({USAGE_OWNER: [regain]}),
            "facebook-api-version": GRAPH_VERSION,
        }

    # -- Facebook Login ----------------------------------------------------------------

    def access_token(self, request: Request) -> Response:
        """``GET /oauth/access_token``: trade a code, or a user token for a long-lived one."""
        query = request.query
        if not query.get("client_id") or not query.get("client_secret"):
            return self.graph_error(400, "Missing client_id or client_secret parameter.", code=101)
        if query.get("grant_type") == "fb_exchange_token":
            return self._long_lived(query.get("fb_exchange_token", ""))
        if "code" in query:
            return self._redeem(query["code"], query.get("redirect_uri", ""))
        return self.graph_error(400, "(#100) Unsupported grant_type.", code=100)

    def _redeem(self, code: str, redirect_uri: str) -> Response:
        account = self.accounts.redeem_code(code, redirect_uri)
        if account is None:
            return self.graph_error(
                400,
                "This authorization code has been used or has expired.",
                code=100,
                subcode=36009,
            )
        expires = self.clock() + SHORT_USER_TOKEN_S
        return self._user_token(self.accounts.grant(account, self.policy, refresh_expires=expires))

    def _long_lived(self, user_token: str) -> Response:
        # use_refresh checks that the user token is alive (and counts as a refresh).
        checked = self.accounts.use_refresh(user_token, self.policy)
        if checked is None:
            return self.unauthorized()
        return self._user_token(self.accounts.grant(checked["account"], self.policy))

    def _user_token(self, granted: dict[str, Any]) -> Response:
        return Response(
            200,
            {
                "access_token": granted["refresh_token"],
                "token_type": "bearer",
                "expires_in": granted["refresh_expires_in"],
            },
        )

    def me_accounts(self, request: Request) -> Response:
        """``GET /me/accounts``: the Pages the user manages, each with a fresh Page token."""
        user_token = request.bearer() or request.query.get("access_token") or ""
        page = self.accounts.use_refresh(user_token, self.policy)
        if page is None:
            return self.unauthorized()
        entry = self.page_entry(page["account"], page["access_token"])
        return Response(200, {"data": [entry]}, self.usage_headers())

    def page_entry(self, account: Account, page_token: str) -> dict[str, Any]:
        """The ``/me/accounts`` entry of the Page behind ``account``."""
        raise NotImplementedError

    # -- params and faults -----------------------------------------------------------------

    def params(self, request: Request) -> dict[str, str]:
        """Graph parameters: the query string and, for POSTs, the form body."""
        form = request.form() if request.method == "POST" else {}
        return {**request.query, **form}

    def with_step_fault(
        self, request: Request, step: str, handler: Callable[[], Response]
    ) -> Response:
        """Apply the faults injected for ``step`` around ``handler``.

        The framework picks a route's step from its path alone; Facebook tells ``start``
        from ``finish`` by a parameter of one path, so that route applies its faults here,
        the way the server does around handlers.
        """
        fault = self.sandbox.faults.take(self.name, step)
        if fault is None:
            return handler()
        if fault.kind == "expire_token":
            self.accounts.expire(request.bearer() or request.query.get("access_token"))
            return self.unauthorized()
        if fault.kind == "drop":  # the body was read to learn the phase: drop unanswered
            raise Drop
        if fault.kind == "error":
            return self.error(fault.status, "internal_error", "")
        if fault.kind == "rate":
            return self.rate_limited(fault.retry_after)
        if fault.kind == "quota":
            return self.quota_exceeded(fault.retry_after)
        handler()  # lose_response: do the work, never answer
        raise Drop

    # -- rupload ------------------------------------------------------------------------------

    def receive(self, request: Request, session: RuploadSession) -> Response:
        """Take one piece of the file at the ``offset`` header (rupload's protocol)."""
        if "file_url" in request.headers:
            return rupload_error(
                400,
                "ProcessingFailedError",
                "The sandbox cannot fetch hosted files; send the bytes.",
            )
        try:
            offset = int(request.headers.get("offset", ""))
            size = int(request.headers.get("file_size", ""))
        except ValueError:
            return rupload_error(
                400,
                "ParameterValidationError",
                "HeaderValuePredicate: Header Offset not convertable to unsigned long",
            )
        data = request.body()
        with self._lock:
            refusal = self._check_piece(session, offset, size, len(data))
            if refusal is not None:
                return refusal
            self.uploads.write(session.key, offset, data)
            session.file_size, session.received = size, offset + len(data)
            if session.received == size:
                path = self.uploads.path(session.key)
                session.judging = JUDGES.submit(lambda: self.judge(probe_video(path), size))
                session.done_at = self.clock()
        return Response(200, {"success": True, "message": "Upload successful."})

    def keep_partial(self, request: Request, data: bytes) -> None:
        """rupload keeps every byte that arrived; the client asks for the offset to resume."""
        session = self.upload_of(request)
        try:
            offset, size = int(request.headers["offset"]), int(request.headers["file_size"])
        except (KeyError, ValueError):
            return
        with self._lock:
            if session is None or self._check_piece(session, offset, size, len(data)):
                return
            if data:
                self.uploads.write(session.key, offset, data)
                session.file_size, session.received = size, offset + len(data)

    def upload_of(self, request: Request) -> RuploadSession | None:
        """The rupload session a chunk request is for (None when there is none)."""
        raise NotImplementedError

    def _check_piece(
        self, session: RuploadSession, offset: int, size: int, length: int
    ) -> Response | None:
        if session.file_size not in (None, size):
            return rupload_error(
                400,
                "ParameterValidationError",
                f"file_size changed from {session.file_size} to {size}",
            )
        if session.done_at is not None:
            return rupload_error(400, "ProcessingFailedError", "The upload is already complete.")
        if offset != session.received:
            return rupload_error(
                400,
                "OffsetMismatchError",
                f"Offset {offset} does not match the {session.received} bytes "
                "received; resume from there.",
            )
        if offset + length > size:
            return rupload_error(
                400,
                "ParameterValidationError",
                f"{offset + length} bytes is more than file_size {size}",
            )
        return None

    def received(self, session: RuploadSession) -> Response:
        """A GET on the rupload URL: how much arrived (✘ knob; one client reads ``Offset``)."""
        body = {"offset": session.received, "file_size": session.file_size}
        return Response(200, body, {"Offset": str(session.received)})

    def judge(self, facts: VideoFacts | None, size: int) -> str | None:
        """Return why the transcoder refuses the file (None when it takes it)."""
        raise NotImplementedError

    def processed(self, session: RuploadSession) -> bool:
        """Whether the transcoder is done with the file (accepted or refused)."""
        return session.done_at is not None and self.clock() - session.done_at >= self.processing_s


def rupload_error(status: int, kind: str, message: str) -> Response:
    """rupload.facebook.com's error shape, which is not the Graph API's."""
    return Response(status, {"debug_info": {"retriable": False, "type": kind, "message": message}})
