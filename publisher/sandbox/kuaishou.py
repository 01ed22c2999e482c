"""Kuaishou Open Platform emulator (platforms.md §6): OAuth, fragment uploads, publish, list.

Answers are ``{"result": 1, …}`` on success and ``{"result": <code>, "error_msg": …}``
otherwise, with HTTP 200 for the platform's own refusals. Calls to ``/openapi`` carry
``app_id`` and ``access_token`` in the query; the upload host named by ``start_upload``
takes only the ``upload_token``. Publishing is asynchronous: a photo is ``pending`` for
``processing_s``, then published, or failed when the file did not pass the probe.

Knobs are class attributes; ✘ marks what the docs do not say (here: most limits):

- ``processing_s`` 0.3 s ✘: how long a new photo stays ``pending``
- ``upload_token_s`` 24 h ✘: how long an upload token may be used
- ``formats`` ✘: the MIME types accepted (MP4 and MOV); ``max_duration_s`` ✘ (None:
  no limit found); ``max_caption_chars`` ✘ (None)
- ``publish_once_per_upload`` ✘: whether a second publish with the same upload token is
  refused (False: it makes a second photo, so clients must look before publishing again)

The docs mirror names no result codes besides 1; the codes below are the emulator's own ✘,
and the client's table must match them. How a photo that failed processing shows is not
documented either ✘: ``photo/info`` answers ``pending: false`` with the emulator's fields
``publish_status`` ("pending", "published", "failed") and ``fail_reason``.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import av

from hookline.errors import MediaRejected
from hookline.probe import describe_video
from publisher.sandbox import insights
from publisher.sandbox.assembly import Parts, missing
from publisher.sandbox.core import (
    Handler,
    Platform,
    Post,
    Request,
    Response,
    TokenPolicy,
    new_id,
)
from publisher.sandbox.handlers import Refused, account_id, guarded, required, whole_number

OK = 1
PARAMETER_ERROR = 100200100
ACCESS_TOKEN_INVALID = 100200101
REFRESH_TOKEN_INVALID = 100200102
UPLOAD_TOKEN_INVALID = 100200103
RATE_LIMITED = 100200104
QUOTA_EXCEEDED = 100200105
SERVER_ERROR = 100200500

SCOPES = ["user_info", "user_video_publish", "user_video_info"]


@dataclass
class _Upload:
    upload_token: str
    account_id: str
    opened_at: float
    complete: bool = False
    photo_ids: tuple[str, ...] = ()  # the photos published from it


@dataclass
class _Photo:
    photo_id: str
    account_id: str
    caption: str
    create_time: float
    fail_reason: str  # "" when the file passed the probe


class Emulator(Platform):
    name = "kuaishou"
    display_name = "Kuaishou"
    # Lifetimes are "not fixed"; these are the documented example values.
    policy = TokenPolicy(access_s=3600, refresh_s=648000, rotate=True, inherit_expiry=True)

    processing_s = 0.3
    upload_token_s = 86400.0
    formats: tuple[str, ...] = ("video/mp4", "video/quicktime")
    max_duration_s: float | None = None
    max_caption_chars: int | None = None
    publish_once_per_upload = False

    def __init__(self, sandbox: Any) -> None:
        self._lock = threading.Lock()
        self._uploads: dict[str, _Upload] = {}
        self._photos: dict[str, _Photo] = {}
        super().__init__(sandbox)
        self.parts = Parts(self.uploads)
        self._restore()

    def _restore(self) -> None:
        """Bring back the photos the ledger kept, so a restarted sandbox still lists them."""
        for post in self.ledger.posts(self.name):
            reason = str(post.extra.get("fail_reason", ""))
            photo = _Photo(post.remote_id, post.account_id, post.caption, post.created_at, reason)
            self._photos[photo.photo_id] = photo

    def register(self) -> None:
        for method in ("GET", "POST"):  # the consent page posts its form back to itself
            self.route(method, "/oauth2/authorize", self.consent_page, step="authorize", auth=False)
            self._add(method, "/oauth2/access_token", self.access_token, step="token", auth=False)
            self._add(method, "/oauth2/refresh_token", self.refresh_token, step="token", auth=False)
        self._add("POST", "/openapi/photo/start_upload", self.start_upload, step="init")
        self._add("POST", "/api/upload/fragment", self.fragment, step="chunk", auth=False)
        self._add("POST", "/api/upload/complete", self.complete, step="complete", auth=False)
        self._add("POST", "/api/upload", self.direct_upload, step="chunk", auth=False)
        self._add("POST", "/api/upload/multipart", self.direct_upload, step="chunk", auth=False)
        self._add("POST", "/openapi/photo/publish", self.publish, step="publish")
        self._add("GET", "/openapi/photo/list", self.list_photos, step="list")
        self._add("GET", "/openapi/photo/info", self.photo_info, step="status")

    def _add(
        self, method: str, path: str, handler: Handler, *, step: str, auth: bool = True
    ) -> None:
        checked = self._for_app(handler) if auth else handler
        self.route(method, path, guarded(checked, self._refusal), step=step, auth=auth)

    def _for_app(self, handler: Handler) -> Handler:
        """Refuse an /openapi call without the ``app_id`` every one of them carries."""

        def run(request: Request) -> Response:
            if not request.query.get("app_id"):
                raise Refused(PARAMETER_ERROR, "app_id is missing")
            return handler(request)

        return run

    # -- envelopes -------------------------------------------------------------------

    @staticmethod
    def _refusal(refusal: Refused) -> Response:
        return Response(refusal.status, {"result": refusal.code, "error_msg": refusal.description})

    def error(self, status: int, code: str, message: str) -> Response:
        number = SERVER_ERROR if status >= 500 else PARAMETER_ERROR
        return Response(status, {"result": number, "error_msg": message})

    def unauthorized(self) -> Response:
        return Response(
            200, {"result": ACCESS_TOKEN_INVALID, "error_msg": "access_token invalid or expired"}
        )

    def rate_limited(self, retry_after: float) -> Response:
        body = {"result": RATE_LIMITED, "error_msg": "request too frequent"}
        return Response(429, body, {"Retry-After": str(int(max(1, retry_after)))})

    def quota_exceeded(self, retry_after: float) -> Response:
        body = {"result": QUOTA_EXCEEDED, "error_msg": "daily publish limit reached"}
        return Response(200, body, {"Retry-After": str(int(max(1, retry_after)))})

    # -- OAuth -------------------------------------------------------------------------

    def access_token(self, request: Request) -> Response:
        params = required(
            request, ("app_id", "app_secret", "code", "grant_type"), code=PARAMETER_ERROR
        )
        if params["grant_type"] != "authorization_code":
            raise Refused(PARAMETER_ERROR, "grant_type must be authorization_code")
        account = self.accounts.redeem_code(params["code"], "")
        if account is None:
            raise Refused(PARAMETER_ERROR, "the code is unknown, used or expired")
        return self._granted(self.accounts.grant(account, self.policy))

    def refresh_token(self, request: Request) -> Response:
        """Rotate: a new refresh token that keeps the old one's expiry; the old one dies."""
        params = required(
            request, ("app_id", "app_secret", "refresh_token", "grant_type"), code=PARAMETER_ERROR
        )
        if params["grant_type"] != "refresh_token":
            raise Refused(PARAMETER_ERROR, "grant_type must be refresh_token")
        grant = self.accounts.use_refresh(params["refresh_token"], self.policy)
        if grant is None:
            raise Refused(REFRESH_TOKEN_INVALID, "refresh_token invalid, used or expired")
        return self._granted(grant)

    @staticmethod
    def _granted(grant: dict[str, Any]) -> Response:
        body = {
            "result": OK,
            "access_token": grant["access_token"],
            "expires_in": grant["expires_in"],
            "refresh_token": grant["refresh_token"],
            "refresh_token_expires_in": grant["refresh_expires_in"],
            "open_id": grant["account"].account_id,
            "scopes": SCOPES,
        }
        return Response(200, body)

    # -- uploads -----------------------------------------------------------------------

    def start_upload(self, request: Request) -> Response:
        upload = _Upload(new_id("kst_"), account_id(request), self.clock())
        with self._lock:
            self._uploads[upload.upload_token] = upload
        # The upload host, as a host:port/prefix the client puts behind http://.
        endpoint = f"{urlsplit(self.sandbox.url).netloc}/{self.name}"
        return Response(
            200, {"result": OK, "upload_token": upload.upload_token, "endpoint": endpoint}
        )

    def fragment(self, request: Request) -> Response:
        upload = self._upload(request.query.get("upload_token", ""))
        number = whole_number(request.query.get("fragment_id"), "fragment_id", code=PARAMETER_ERROR)
        if number < 0:  # fragments count from 0
            raise Refused(PARAMETER_ERROR, f"fragment_id {number} (fragments count from 0)")
        body = request.body()
        if not body:
            raise Refused(PARAMETER_ERROR, "the fragment is empty")
        self.parts.put(upload.upload_token, number, body)
        return Response(200, {"result": OK})

    def complete(self, request: Request) -> Response:
        upload = self._upload(request.query.get("upload_token", ""))
        count = whole_number(
            request.query.get("fragment_count"), "fragment_count", code=PARAMETER_ERROR
        )
        with self._lock:  # a second complete (after a lost answer) finds the work done
            if not upload.complete:
                self.parts.assemble(upload.upload_token, self._checked_fragments(upload, count))
                upload.complete = True
        return Response(200, {"result": OK})

    def _checked_fragments(self, upload: _Upload, count: int) -> list[int]:
        received = set(self.parts.sizes(upload.upload_token))
        gaps = missing(received, 0, count)
        if count < 1 or gaps or len(received) != count:
            raise Refused(
                PARAMETER_ERROR,
                f"fragment_count {count} does not match the fragments received "
                f"({sorted(received)}; missing {gaps})",
            )
        return list(range(count))

    def direct_upload(self, request: Request) -> Response:
        """Take the whole file in one request: raw bytes, or the multipart field ``file``."""
        upload = self._upload(request.query.get("upload_token", ""))
        is_form = request.headers.get("content-type", "").startswith("multipart/form-data")
        data = request.multipart().get("file", b"") if is_form else request.body()
        if not data:
            raise Refused(PARAMETER_ERROR, "the upload is empty")
        self.uploads.path(upload.upload_token).unlink(missing_ok=True)
        self.uploads.write(upload.upload_token, 0, data)
        upload.complete = True
        return Response(200, {"result": OK})

    def _upload(self, token: str) -> _Upload:
        upload = self._uploads.get(token)
        if upload is None or self.clock() - upload.opened_at > self.upload_token_s:
            raise Refused(UPLOAD_TOKEN_INVALID, "upload_token invalid or expired")
        return upload

    # -- photos -----------------------------------------------------------------------

    def publish(self, request: Request) -> Response:
        upload = self._upload(request.query.get("upload_token", ""))
        if upload.account_id != account_id(request) or not upload.complete:
            raise Refused(PARAMETER_ERROR, "the upload_token has no completed upload")
        fields = request.multipart()
        caption = fields.get("caption", b"").decode()
        cover_size = _cover_size(fields.get("cover", b""))
        if self.max_caption_chars is not None and len(caption) > self.max_caption_chars:
            raise Refused(PARAMETER_ERROR, f"caption over {self.max_caption_chars} characters")
        photo = self._photo(upload, caption)
        self._record(photo, upload, cover_size)
        return Response(200, {"result": OK, "video_info": self._photo_shape(photo)})

    def _photo(self, upload: _Upload, caption: str) -> _Photo:
        verdict = self._verdict(upload)
        with self._lock:
            if upload.photo_ids and self.publish_once_per_upload:
                raise Refused(PARAMETER_ERROR, "this upload_token was already published")
            photo = _Photo(new_id("5"), upload.account_id, caption, self.clock(), verdict)
            upload.photo_ids += (photo.photo_id,)
            self._photos[photo.photo_id] = photo
        return photo

    def _verdict(self, upload: _Upload) -> str:
        """Probe the file as the transcoder will; return why it fails, or ""."""
        try:
            found = describe_video(self.uploads.path(upload.upload_token))
        except MediaRejected as exc:
            return f"the file is not a readable video ({exc.code})"
        if found.mime_type not in self.formats:
            return f"unsupported video format {found.container!r} ({found.mime_type})"
        if found.duration_s <= 0:
            return "the video has no duration"
        if self.max_duration_s is not None and found.duration_s > self.max_duration_s:
            return f"the video runs {found.duration_s:.0f} s, over {self.max_duration_s:.0f} s"
        return ""

    def _record(self, photo: _Photo, upload: _Upload, cover_size: tuple[int, int]) -> None:
        path = self.uploads.path(upload.upload_token)
        post = Post(
            platform=self.name,
            account_id=photo.account_id,
            remote_id=photo.photo_id,
            sha256=self.uploads.sha256(upload.upload_token),
            size=path.stat().st_size,
            title=photo.caption,
            caption=photo.caption,
            created_at=photo.create_time,
            status="failed" if photo.fail_reason else "published",
            extra={"cover": list(cover_size), "fail_reason": photo.fail_reason},
        )
        self.ledger.add(post)

    def list_photos(self, request: Request) -> Response:
        """Newest first; ``cursor`` is the last photo_id of the previous page ✘."""
        count = whole_number(request.query.get("count", "20"), "count", code=PARAMETER_ERROR)
        count = min(count, 200)
        with self._lock:
            mine = [p for p in self._photos.values() if p.account_id == account_id(request)]
        mine.sort(key=lambda p: p.create_time, reverse=True)
        ids = [p.photo_id for p in mine]
        cursor = request.query.get("cursor")
        start = ids.index(cursor) + 1 if cursor in ids else 0
        page = [self._photo_shape(p) for p in mine[start : start + count]]
        return Response(200, {"result": OK, "video_list": page})

    def photo_info(self, request: Request) -> Response:
        photo = self._photos.get(request.query.get("photo_id", ""))
        if photo is None or photo.account_id != account_id(request):
            raise Refused(PARAMETER_ERROR, "photo_id not found")
        return Response(200, {"result": OK, "video_info": self._photo_shape(photo)})

    def _photo_shape(self, photo: _Photo) -> dict[str, Any]:
        pending = self.clock() - photo.create_time < self.processing_s
        status = "pending" if pending else "failed" if photo.fail_reason else "published"
        return {
            "photo_id": photo.photo_id,
            "caption": photo.caption,
            "cover": f"https://p1.a.yximgs.com/sandbox/{photo.photo_id}.jpg",
            "play_url": f"https://www.kuaishou.com/short-video/{photo.photo_id}",
            "create_time": int(photo.create_time * 1000),  # milliseconds
            **insights.kuaishou_counts(self, photo.photo_id),
            "pending": pending,
            "publish_status": status,
            "fail_reason": "" if pending else photo.fail_reason,
        }


def _cover_size(data: bytes) -> tuple[int, int]:
    """Return the cover image's (width, height); refuse a cover that is not an image."""
    if not data:
        raise Refused(PARAMETER_ERROR, "the cover image is missing")
    try:
        with av.open(io.BytesIO(data)) as container:
            context = container.streams.video[0].codec_context
            return context.width, context.height
    except (av.FFmpegError, IndexError):  # an unreadable image is the caller's mistake
        raise Refused(PARAMETER_ERROR, "the cover is not a readable image") from None
