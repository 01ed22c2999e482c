"""YouTube Data API v3 as the sandbox plays it: resumable uploads, videos, captions, quota.

The paths are Google's own (``/upload/youtube/v3/videos``, ``/youtube/v3/videos``,
``/upload/youtube/v3/captions``, ``/token``, the consent page at ``/auth``), so a client
that points its base URLs here speaks the real protocol (shared/platforms.md §1).

Route steps, for faults: "consent", "token", "channels", "init", "chunk", "status",
"captions". The status probe (``Content-Range: bytes */TOTAL``) is a PUT to the session
URI like every chunk, and the server picks a route by method and path only, so probes
are step "chunk" too.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hookline.errors import MediaRejected
from hookline.probe import describe_video
from publisher.sandbox.core import (
    Account,
    Platform,
    Post,
    Request,
    Response,
    TokenPolicy,
    new_id,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
DAY_S = 86400.0
CHUNK_MULTIPLE = 256 * 1024  # every chunk but the last is a multiple of 256 KiB
SCOPES = "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.force-ssl"
PRIVACY = ("public", "unlisted", "private")
RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class Session:
    """A resumable upload: the requested video resource and the bytes that arrived."""

    id: str
    account: Account
    total: int | None  # X-Upload-Content-Length, when the client declared it
    resource: dict[str, Any]
    created: float
    received: int = 0
    chunk_size: int | None = None  # the size of the first non-final chunk
    final: dict[str, Any] | None = None  # the video resource the last chunk was answered with


@dataclass
class Video:
    id: str
    account: Account
    resource: dict[str, Any]
    created: float
    ready_at: float  # processing ends
    failure: str = ""  # status.failureReason once processed


@dataclass
class Track:
    id: str
    video_id: str
    language: str
    name: str
    is_draft: bool = False


class Emulator(Platform):
    name = "youtube"
    display_name = "YouTube"
    # Google: ~1 h access tokens; the refresh token is issued once and does not rotate.
    policy = TokenPolicy(access_s=3600, refresh_s=None, rotate=False)
    processing_s = 0.3
    session_s = 7 * DAY_S  # ✘ Google does not document how long a session URI lives
    videos_insert_per_day = 100  # videos.insert has its own bucket (from 2026-06-01)
    units_per_day = 10_000  # every other method shares these

    def __init__(self, sandbox: Any) -> None:
        self._lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, Video] = {}
        self.tracks: list[Track] = []
        super().__init__(sandbox)

    def register(self) -> None:
        self.route("GET", "/auth", self.consent_page, step="consent", auth=False)
        self.route("POST", "/auth", self.consent_page, step="consent", auth=False)
        self.route("POST", "/token", self.token, step="token", auth=False)
        self.route("GET", "/youtube/v3/channels", self.channels, step="channels")
        self.route("POST", "/upload/youtube/v3/videos", self.insert, step="init")
        self.route("PUT", "/upload/youtube/v3/videos", self.put_media, step="chunk")
        self.route("GET", "/youtube/v3/videos", self.list_videos, step="status")
        self.route("POST", "/upload/youtube/v3/captions", self.insert_caption, step="captions")

    # -- Google's error shapes -----------------------------------------------------------

    def error(self, status: int, code: str, message: str) -> Response:
        reason = "backendError" if status >= 500 else code
        domain = "youtube.quota" if reason == "quotaExceeded" else "global"
        detail = {"domain": domain, "reason": reason, "message": message}
        return Response(status, {"error": {"code": status, "message": message, "errors": [detail]}})

    def unauthorized(self) -> Response:
        return self.error(401, "authError", "Invalid Credentials")

    def rate_limited(self, retry_after: float) -> Response:
        response = self.error(429, "rateLimitExceeded", "The request rate is too high.")
        response.headers["Retry-After"] = str(int(max(1, retry_after)))
        return response

    def quota_exceeded(self, retry_after: float) -> Response:
        # Google sends no Retry-After: the quota comes back at midnight Pacific time.
        return self.error(
            403,
            "quotaExceeded",
            "The request cannot be completed because you have exceeded your quota.",
        )

    # -- OAuth ---------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        form = request.form()
        if not form.get("client_id") or not form.get("client_secret"):
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            account = self.accounts.redeem_code(form.get("code", ""), form.get("redirect_uri", ""))
            granted = self.accounts.grant(account, self.policy) if account else None
        elif grant == "refresh_token":
            granted = self.accounts.use_refresh(form.get("refresh_token", ""), self.policy)
            if granted is not None:
                granted.pop("refresh_token")  # Google sends one on consent only
        else:
            return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        if granted is None:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        fields = ("access_token", "expires_in", "refresh_token", "token_type")
        return Response(200, {**{k: granted[k] for k in fields if k in granted}, "scope": SCOPES})

    def channels(self, request: Request) -> Response:
        if refused := self._spend_units(1):
            return refused
        if request.query.get("mine") != "true":
            return self.error(400, "missingRequiredParameter", "This sandbox lists mine=true only.")
        assert request.account is not None
        channel = {"kind": "youtube#channel", "id": request.account.account_id}
        return Response(200, {"kind": "youtube#channelListResponse", "items": [channel]})

    # -- videos.insert, resumable --------------------------------------------------------

    def insert(self, request: Request) -> Response:
        # Every request costs quota, invalid ones included.
        if refused := self._spend("videos.insert", 1, self.videos_insert_per_day):
            return refused
        if request.query.get("uploadType") != "resumable":
            return self.error(400, "invalidParameter", "The sandbox takes uploadType=resumable.")
        try:
            resource = request.json()
        except ValueError:
            return self.error(400, "parseError", "The video resource is not valid JSON.")
        problem = metadata_problem(resource)
        if problem:
            return self.error(400, *problem)
        assert request.account is not None
        declared = request.headers.get("x-upload-content-length")
        session = Session(
            new_id("yt-"),
            request.account,
            int(declared) if declared else None,
            resource,
            self.clock(),
        )
        with self._lock:
            self.sessions[session.id] = session
        location = (
            f"{self.sandbox.url}/{self.name}/upload/youtube/v3/videos"
            f"?uploadType=resumable&upload_id={session.id}"
        )
        return Response(200, b"", {"Location": location})

    def put_media(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return self.error(404, "notFound", "No such upload session: start a new upload.")
        content_range = request.headers.get("content-range", "")
        data = request.body()  # read before taking the lock: a slow sender holds up no one
        with self._lock:
            if session.final is not None:  # a finished upload repeats its final answer
                return Response(201, session.final)
            if content_range.startswith("bytes */"):
                return _progress(session)
            return self._take_chunk(session, data, content_range)

    def keep_partial(self, request: Request, data: bytes) -> None:
        """Keep the whole 256 KiB blocks of a cut-short chunk; the status probe reports them."""
        session = self._session(request)
        found = RANGE.fullmatch(request.headers.get("content-range", "").strip())
        if session is None or found is None:
            return
        first = int(found.group(1))
        kept = len(data) // CHUNK_MULTIPLE * CHUNK_MULTIPLE
        with self._lock:
            if session.final is None and first == session.received and kept:
                self.uploads.write(session.id, first, data[:kept])
                session.received = first + kept

    def _session(self, request: Request) -> Session | None:
        with self._lock:
            session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None or session.account is not request.account:
            return None
        return session if self.clock() < session.created + self.session_s else None

    def _take_chunk(self, session: Session, data: bytes, content_range: str) -> Response:
        span = chunk_span(content_range, len(data), session.total)
        if isinstance(span, str):
            return self.error(400, "badRequest", span)
        first, last, total = span
        problem = range_problem(session, first, last, total)
        if problem:
            return self.error(400, "badRequest", problem)
        self.uploads.write(session.id, first, data)
        session.received = last + 1
        if session.received < total:
            session.chunk_size = len(data)
            return _progress(session)
        session.final = self._render(self._create_video(session))
        return Response(201, session.final)

    def _create_video(self, session: Session) -> Video:
        now = self.clock()
        video = Video(
            id=secrets.token_urlsafe(8),  # 11 characters, like YouTube's ids
            account=session.account,
            resource=session.resource,
            created=now,
            ready_at=now + self.processing_s,
            failure=self._processing_failure(session.id),
        )
        self.videos[video.id] = video
        self.ledger.add(self._post(video, session))
        return video

    def _processing_failure(self, session_id: str) -> str:
        """Look at the file as YouTube's transcoder would: is it a video at all?"""
        if self.uploads.size(session_id) == 0:
            return "emptyFile"
        try:
            describe_video(self.uploads.path(session_id))
        except MediaRejected:
            return "invalidFile"
        return ""

    def _post(self, video: Video, session: Session) -> Post:
        snippet = video.resource.get("snippet") or {}
        publish_at = _publish_at(video.resource)
        scheduled = publish_at is not None and publish_at.timestamp() > video.created
        return Post(
            platform=self.name,
            account_id=video.account.account_id,
            remote_id=video.id,
            sha256=self.uploads.sha256(session.id),
            size=self.uploads.size(session.id),
            title=snippet.get("title", ""),
            caption=snippet.get("description", ""),
            created_at=video.created,
            scheduled_at=publish_at.timestamp() if publish_at else None,
            status="failed" if video.failure else "scheduled" if scheduled else "published",
        )

    # -- videos.list -----------------------------------------------------------------------

    def list_videos(self, request: Request) -> Response:
        if refused := self._spend_units(1):
            return refused
        ids = [i for i in request.query.get("id", "").split(",") if i]
        with self._lock:
            found = [self.videos.get(i) for i in ids]
        items = [self._render(v) for v in found if v and v.account is request.account]
        page = {"totalResults": len(items), "resultsPerPage": len(items)}
        return Response(
            200, {"kind": "youtube#videoListResponse", "items": items, "pageInfo": page}
        )

    def _render(self, video: Video) -> dict[str, Any]:
        """Return the video resource as it stands now: processing, then processed or failed."""
        now = self.clock()
        snippet = {**(video.resource.get("snippet") or {}), "channelId": video.account.account_id}
        status = {"privacyStatus": "public", **(video.resource.get("status") or {})}
        if now < video.ready_at:
            status["uploadStatus"], processing = "uploaded", "processing"
        elif video.failure:
            status.update(uploadStatus="failed", failureReason=video.failure)
            processing = "failed"
        else:
            status["uploadStatus"], processing = "processed", "succeeded"
            publish_at = _publish_at(video.resource)
            if publish_at is not None and publish_at.timestamp() <= now:
                status.pop("publishAt")  # the scheduled time came: YouTube makes it public
                status["privacyStatus"] = "public"
        return {
            "kind": "youtube#video",
            "id": video.id,
            "snippet": snippet,
            "status": status,
            "processingDetails": {"processingStatus": processing},
            "localizations": video.resource.get("localizations") or {},
        }

    # -- captions.insert -------------------------------------------------------------------

    def insert_caption(self, request: Request) -> Response:
        if refused := self._spend_units(400):
            return refused
        parts = related_parts(request)
        if len(parts) != 2:
            return self.error(
                400, "mediaBodyRequired", "Send the track's metadata and file as multipart/related."
            )
        try:
            snippet = json.loads(parts[0]).get("snippet") or {}
        except ValueError:
            return self.error(400, "parseError", "The caption metadata is not valid JSON.")
        with self._lock:
            video = self.videos.get(snippet.get("videoId", ""))
            if video is None or video.account is not request.account:
                return self.error(404, "videoNotFound", "The video for this caption was not found.")
            if not snippet.get("language"):
                return self.error(400, "invalidMetadata", "snippet.language is required.")
            if not parts[1].strip():
                return self.error(400, "contentRequired", "The caption track has no content.")
            return self._add_track(video, snippet)

    def _add_track(self, video: Video, snippet: dict[str, Any]) -> Response:
        language, name = snippet["language"], snippet.get("name", "")
        if any((t.video_id, t.language, t.name) == (video.id, language, name) for t in self.tracks):
            return self.error(409, "captionExists", "The video already has this caption track.")
        track = Track(new_id(), video.id, language, name, bool(snippet.get("isDraft")))
        self.tracks.append(track)
        body = {
            "kind": "youtube#caption",
            "id": track.id,
            "snippet": {
                "videoId": video.id,
                "language": language,
                "name": name,
                "isDraft": track.is_draft,
                "trackKind": "standard",
                "status": "serving",
            },
        }
        return Response(200, body)

    # -- quota -------------------------------------------------------------------------------

    def _spend(self, bucket: str, cost: int, limit: int) -> Response | None:
        # Buckets count over a sliding window; naming the bucket after the Pacific date
        # makes it start afresh at midnight Pacific, as Google's quota does.
        day = datetime.fromtimestamp(self.clock(), PACIFIC).date().isoformat()
        if self.buckets.spend(f"{self.name}:{bucket}:{day}", cost, limit, 2 * DAY_S) is None:
            return None
        return self.quota_exceeded(0)

    def _spend_units(self, cost: int) -> Response | None:
        return self._spend("units", cost, self.units_per_day)


# -- rules, without I/O ----------------------------------------------------------------------


def metadata_problem(resource: dict[str, Any]) -> tuple[str, str] | None:
    """Return (reason, message) when videos.insert would refuse this resource."""
    snippet = resource.get("snippet") or {}
    status = resource.get("status") or {}
    title, description = snippet.get("title") or "", snippet.get("description") or ""
    if not title.strip() or len(title) > 100 or _angled(title):
        return "invalidTitle", "The title is empty, over 100 characters, or contains < or >."
    if len(description.encode()) > 5000 or _angled(description):
        return "invalidDescription", "The description is over 5000 bytes or contains < or >."
    if tags_length(snippet.get("tags") or []) > 500:
        return "invalidTags", "The tags add up to more than 500 characters."
    if status.get("privacyStatus", "public") not in PRIVACY:
        return "invalidVideoMetadata", f"Unknown privacyStatus {status.get('privacyStatus')!r}."
    if "publishAt" in status and not _valid_publish_at(status):
        return "invalidPublishAt", "publishAt must be an ISO 8601 time, on a private video."
    if resource.get("localizations") and not snippet.get("defaultLanguage"):
        return "defaultLanguageNotSet", "Localizations need snippet.defaultLanguage."
    return None


def tags_length(tags: list[str]) -> int:
    """Count tags as YouTube does: commas between them, quotes around those with spaces."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def _angled(text: str) -> bool:
    return "<" in text or ">" in text


def _valid_publish_at(status: dict[str, Any]) -> bool:
    if status.get("privacyStatus") != "private":
        return False
    try:
        when = datetime.fromisoformat(str(status["publishAt"]))
    except ValueError:
        return False
    return when.tzinfo is not None  # a time without a zone is no instant


def _publish_at(resource: dict[str, Any]) -> datetime | None:
    value = (resource.get("status") or {}).get("publishAt")
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def chunk_span(content_range: str, length: int, declared: int | None) -> tuple[int, int, int] | str:
    """Return (first, last, total) of a PUT, or why its Content-Range is unusable."""
    if not content_range:  # the whole file in one request
        total = declared if declared is not None else length
        return (0, length - 1, total) if length == total else "The body is not the whole file."
    found = RANGE.fullmatch(content_range.strip())
    if found is None:
        return f"Unreadable Content-Range {content_range!r}."
    first, last, total = (int(n) for n in found.groups())
    if last - first + 1 != length:
        return f"Content-Range covers {last - first + 1} bytes but the body has {length}."
    if declared is not None and total != declared:
        return f"Content-Range total {total} differs from X-Upload-Content-Length {declared}."
    return first, last, total


def range_problem(session: Session, first: int, last: int, total: int) -> str | None:
    """Say why this chunk cannot follow what the session has, or None when it can."""
    if first != session.received:
        have = f"bytes 0-{session.received - 1}" if session.received else "nothing"
        return (
            f"The chunk starts at byte {first} but the upload has {have}: overlapping or "
            "gapped ranges are refused (probe with Content-Range: bytes */TOTAL)."
        )
    if last + 1 >= total:
        return None
    size = last - first + 1
    if size % CHUNK_MULTIPLE:
        return f"A non-final chunk of {size} bytes is not a multiple of 262144 bytes."
    if session.chunk_size not in (None, size):
        return f"Chunks must all be {session.chunk_size} bytes (but the last); got {size}."
    return None


def related_parts(request: Request) -> list[bytes]:
    """Split a multipart/related body into its parts' payloads (headers dropped)."""
    found = re.search(r'boundary="?([^";]+)"?', request.headers.get("content-type", ""))
    if not found or not request.headers.get("content-type", "").startswith("multipart/related"):
        return []
    parts = []
    for chunk in request.body().split(b"--" + found.group(1).encode())[1:]:
        if chunk.startswith(b"--"):  # the closing delimiter
            break
        _, _, payload = chunk.partition(b"\r\n\r\n")
        parts.append(payload.removesuffix(b"\r\n"))
    return parts


def _progress(session: Session) -> Response:
    """308 Resume Incomplete, with the bytes kept so far (no Range when there are none)."""
    headers = {"Range": f"bytes=0-{session.received - 1}"} if session.received else {}
    return Response(308, b"", headers)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description})
