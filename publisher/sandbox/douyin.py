"""Douyin Open Platform emulator (platforms.md §5): OAuth, part uploads, create, list, data.

Every answer is Douyin's envelope: ``{"data": {…, "error_code", "description"},
"extra": {"error_code", "description", "sub_error_code", "sub_description", "logid",
"now"}}`` (OAuth answers carry ``"message"`` instead of ``"extra"``), with HTTP 200 for
the platform's own refusals. The access token travels in the ``access-token`` header
(older docs: the query).

Knobs are class attributes; ✘ marks what the docs do not say:

- ``processing_s``: how long a new item stays under review (``video_status`` 4) ✘
- ``max_duration_s`` 900, ``max_bytes`` 4 GB, ``simple_upload_max`` 128 MB (parts are
  mandatory above), ``min_part_bytes`` 5 MB for every part but the last,
  ``upload_id_s`` 2 h: as documented.
- ``max_text_chars`` 1000 ✘ (no limit found for ``text``)
- ``list_shows_video_id`` ✘: whether ``/video/list/`` items carry the ``video_id`` their
  create used (the documented item has ``item_id, title, cover, create_time`` only)
- ``rejected_words`` ✘: items whose text contains one fail review (``video_status`` 2)
- ``max_renewals`` 5 ✘: how often ``/oauth/renew_refresh_token/`` renews one grant

Error codes are those Douyin SDKs list ◐; three uses are the emulator's own ✘:
a second create with a used ``video_id`` is refused with 2190007 (invalid video id), an
expired or unknown ``upload_id`` with 2100005, a rate limit is HTTP 429 with
``Retry-After`` and 2100004 (system busy), and a used-up quota (2190001) carries a
``Retry-After`` too.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

from hookline.errors import MediaRejected
from hookline.probe import MediaProbe, describe_video
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

DAY = 86400.0
MB = 1024 * 1024

# OAuth error codes ◐
OAUTH_PARAMETER_ERROR = 10002
MISSING_PARAMETER = 10005
CODE_EXPIRED = 10007
REFRESH_TOKEN_EXPIRED = 10010
RENEW_LIMIT = 10020
# OpenAPI error codes ◐ (2100005 ✔)
SYSTEM_BUSY = 2100004
PARAMETER_ERROR = 2100005
QUOTA_USED_UP = 2190001
VIDEO_TOO_LARGE = 2190005
VIDEO_TOO_LONG = 2190006
VIDEO_ID_INVALID = 2190007
ACCESS_TOKEN_EXPIRED = 2190008
OPEN_ID_MISMATCH = 2190015

REFRESH_EXPIRED_WORDS = "refresh_token 过期 (ask the user to authorize again)"
SCOPE = "user_info,video.create,video.list,video.data"
PUBLISHED, REJECTED, IN_REVIEW = 5, 2, 4  # video_status: public, 不适宜公开, 审核中


@dataclass
class _Upload:
    upload_id: str
    account_id: str
    opened_at: float
    video_id: str | None = None
    refusal: Refused | None = None  # what complete said when the file failed its probe


@dataclass
class _Video:
    video_id: str
    account_id: str
    sha256: str
    size: int
    probe: MediaProbe
    item_id: str | None = None  # set by the create that used it


@dataclass
class _Item:
    item_id: str
    account_id: str
    video_id: str
    text: str
    create_time: float


class Emulator(Platform):
    name = "douyin"
    display_name = "Douyin"
    policy = TokenPolicy(access_s=15 * DAY, refresh_s=30 * DAY)

    processing_s = 0.3
    max_duration_s = 15 * 60.0
    max_bytes = 4 * 1024 * MB
    simple_upload_max = 128 * MB
    min_part_bytes = 5 * MB
    upload_id_s = 2 * 3600.0
    max_text_chars = 1000
    list_shows_video_id = False
    rejected_words: tuple[str, ...] = ()
    max_renewals = 5

    def __init__(self, sandbox: Any) -> None:
        self._lock = threading.RLock()  # complete holds it while it accepts the video
        self._uploads: dict[str, _Upload] = {}
        self._videos: dict[str, _Video] = {}
        self._items: dict[str, _Item] = {}
        self._renewals: dict[str, int] = {}  # refresh token -> renewals of its grant so far
        super().__init__(sandbox)
        self.parts = Parts(self.uploads)
        self._restore()

    def _restore(self) -> None:
        """Bring back the items the ledger kept, so a restarted sandbox still lists them."""
        for post in self.ledger.posts(self.name):
            video_id = str(post.extra.get("video_id", ""))
            item = _Item(post.remote_id, post.account_id, video_id, post.caption, post.created_at)
            self._items[item.item_id] = item

    def register(self) -> None:
        for method in ("GET", "POST"):  # the consent page posts its form back to itself
            self.route(
                method, "/platform/oauth/connect/", self.consent_page, step="authorize", auth=False
            )
            self._oauth(method, "/oauth/access_token/", self.access_token)
            self._oauth(method, "/oauth/refresh_token/", self.refresh_token)
            self._oauth(method, "/oauth/renew_refresh_token/", self.renew_refresh_token)
        self._api("POST", "/video/upload/", self.simple_upload, step="chunk")
        self._api("POST", "/video/part/init/", self.part_init, step="init")
        self._api("POST", "/video/part/upload/", self.part_upload, step="chunk")
        self._api("POST", "/video/part/complete/", self.part_complete, step="complete")
        self._api("POST", "/video/create/", self.create, step="publish")
        self._api("GET", "/video/list/", self.list_videos, step="list")
        self._api("POST", "/video/data/", self.video_data, step="status")

    def _oauth(self, method: str, path: str, handler: Handler) -> None:
        self.route(method, path, guarded(handler, self._oauth_refusal), step="token", auth=False)

    def _api(self, method: str, path: str, handler: Handler, *, step: str) -> None:
        self.route(method, path, guarded(self._for_open_id(handler), self._refusal), step=step)

    def _for_open_id(self, handler: Handler) -> Handler:
        """Refuse a call whose ``open_id`` is not the account the token stands for."""

        def run(request: Request) -> Response:
            if request.query.get("open_id") != account_id(request):
                raise Refused(OPEN_ID_MISMATCH, "请求参数 access_token openid 不匹配")
            return handler(request)

        return run

    # -- envelopes -------------------------------------------------------------------

    def answer(self, data: dict[str, Any], code: int = 0, description: str = "") -> dict[str, Any]:
        extra = {
            "error_code": code,
            "description": description,
            "sub_error_code": 0,
            "sub_description": "",
            "logid": secrets.token_hex(12),
            "now": int(self.clock() * 1000),
        }
        return {"data": {**data, "error_code": code, "description": description}, "extra": extra}

    def _refusal(self, refusal: Refused) -> Response:
        return Response(refusal.status, self.answer({}, refusal.code, refusal.description))

    def _oauth_refusal(self, refusal: Refused) -> Response:
        return Response(refusal.status, _oauth_answer({}, refusal.code, refusal.description))

    def error(self, status: int, code: str, message: str) -> Response:
        number = SYSTEM_BUSY if status >= 500 else PARAMETER_ERROR
        return Response(status, self.answer({}, number, message))

    def unauthorized(self) -> Response:
        return Response(
            200, self.answer({}, ACCESS_TOKEN_EXPIRED, "access_token过期,请刷新或重新授权")
        )

    def rate_limited(self, retry_after: float) -> Response:
        response = Response(429, self.answer({}, SYSTEM_BUSY, "系统繁忙，请稍候再试"))
        response.headers["Retry-After"] = str(int(max(1, retry_after)))
        return response

    def quota_exceeded(self, retry_after: float) -> Response:
        response = Response(200, self.answer({}, QUOTA_USED_UP, "quota已用完"))
        response.headers["Retry-After"] = str(int(max(1, retry_after)))
        return response

    # -- OAuth -------------------------------------------------------------------------

    def access_token(self, request: Request) -> Response:
        params = required(
            request, ("client_key", "client_secret", "code", "grant_type"), code=MISSING_PARAMETER
        )
        if params["grant_type"] != "authorization_code":
            raise Refused(OAUTH_PARAMETER_ERROR, "grant_type must be authorization_code")
        account = self.accounts.redeem_code(params["code"], "")
        if account is None:
            raise Refused(CODE_EXPIRED, "授权码过期 (the code is unknown, used or expired)")
        return self._granted(self.accounts.grant(account, self.policy))

    def refresh_token(self, request: Request) -> Response:
        params = required(
            request, ("client_key", "refresh_token", "grant_type"), code=MISSING_PARAMETER
        )
        if params["grant_type"] != "refresh_token":
            raise Refused(OAUTH_PARAMETER_ERROR, "grant_type must be refresh_token")
        grant = self.accounts.use_refresh(params["refresh_token"], self.policy)
        if grant is None:
            raise Refused(REFRESH_TOKEN_EXPIRED, REFRESH_EXPIRED_WORDS)
        return self._granted(grant)

    def renew_refresh_token(self, request: Request) -> Response:
        """Trade a refresh token for a new one with a fresh 30 days; the old one dies."""
        wanted = ("client_key", "refresh_token")
        old = required(request, wanted, code=MISSING_PARAMETER)["refresh_token"]
        renewed = self._renewals.get(old, 0)
        if renewed >= self.max_renewals:
            raise Refused(RENEW_LIMIT, "更新 refresh_token 次数超出限制 (authorize again)")
        renewal = TokenPolicy(self.policy.access_s, self.policy.refresh_s, rotate=True)
        grant = self.accounts.use_refresh(old, renewal)
        if grant is None:
            raise Refused(REFRESH_TOKEN_EXPIRED, REFRESH_EXPIRED_WORDS)
        self._renewals[grant["refresh_token"]] = renewed + 1
        data = {"refresh_token": grant["refresh_token"], "expires_in": grant["refresh_expires_in"]}
        return Response(200, _oauth_answer(data))

    def _granted(self, grant: dict[str, Any]) -> Response:
        data = {
            "access_token": grant["access_token"],
            "expires_in": grant["expires_in"],
            "refresh_token": grant["refresh_token"],
            "refresh_expires_in": grant["refresh_expires_in"],
            "open_id": grant["account"].account_id,
            "scope": SCOPE,
        }
        return Response(200, _oauth_answer(data))

    # -- uploads -----------------------------------------------------------------------

    def simple_upload(self, request: Request) -> Response:
        data = _video_field(request)
        if len(data) > self.simple_upload_max:
            raise Refused(
                VIDEO_TOO_LARGE, "视频文件太大了: files above 128 MB must be sent in parts"
            )
        session_id = new_id("dys_")
        self.uploads.write(session_id, 0, data)
        return self._video_answer(self._accept(session_id, account_id(request)))

    def part_init(self, request: Request) -> Response:
        upload = _Upload(new_id("dyu_"), account_id(request), self.clock())
        with self._lock:
            self._uploads[upload.upload_id] = upload
        return Response(200, self.answer({"upload_id": upload.upload_id}))

    def part_upload(self, request: Request) -> Response:
        upload = self._upload(request)
        number = whole_number(request.query.get("part_number"), "part_number", code=PARAMETER_ERROR)
        if number < 1:  # part numbers start at 1
            raise Refused(
                PARAMETER_ERROR, f"Parameter error: part_number {number} (parts count from 1)"
            )
        self.parts.put(upload.upload_id, number, _video_field(request))
        return Response(200, self.answer({}))

    def part_complete(self, request: Request) -> Response:
        upload = self._upload(request)
        with self._lock:  # a second complete (after a lost answer) gets the first one's outcome
            if upload.refusal is None and upload.video_id is None:
                self._complete(upload)
        if upload.refusal is not None:
            raise upload.refusal
        return self._video_answer(self._videos[str(upload.video_id)])

    def _complete(self, upload: _Upload) -> None:
        sizes = self.parts.sizes(upload.upload_id)
        numbers = self._checked_parts(sizes)
        self.parts.assemble(upload.upload_id, numbers)
        try:
            video = self._accept(upload.upload_id, upload.account_id)
        except Refused as refusal:
            upload.refusal = refusal
            return
        upload.video_id = video.video_id

    def _checked_parts(self, sizes: dict[int, int]) -> list[int]:
        """Return the part numbers in order, or refuse gaps, small parts, too many bytes."""
        if not sizes:
            raise Refused(PARAMETER_ERROR, "Parameter error: no part was uploaded")
        gaps = missing(set(sizes), 1, max(sizes))
        if gaps:
            raise Refused(PARAMETER_ERROR, f"Parameter error: parts {gaps} are missing")
        numbers = sorted(sizes)
        small = [n for n in numbers[:-1] if sizes[n] < self.min_part_bytes]
        if small:
            raise Refused(
                PARAMETER_ERROR,
                f"Parameter error: part {small[0]} has {sizes[small[0]]} bytes; "
                "every part but the last needs at least 5 MB",
            )
        if sum(sizes.values()) > self.max_bytes:
            raise Refused(VIDEO_TOO_LARGE, "视频文件太大了: at most 4 GB")
        return numbers

    def _accept(self, session_id: str, owner: str) -> _Video:
        """Probe the uploaded file as Douyin's transcoder would; keep it as a video."""
        path = self.uploads.path(session_id)
        try:
            found = describe_video(path)
        except MediaRejected as exc:
            reason = f"Parameter error: the file is not a readable video ({exc.code})"
            raise Refused(PARAMETER_ERROR, reason) from exc
        if found.mime_type not in ("video/mp4", "video/webm"):
            raise Refused(
                PARAMETER_ERROR,
                f"Parameter error: unsupported video format {found.container!r} "
                f"({found.mime_type}); Douyin takes mp4 or webm",
            )
        if found.duration_s > self.max_duration_s:
            raise Refused(
                VIDEO_TOO_LONG, f"视频时长不能超过 15 分钟 (this one runs {found.duration_s:.0f} s)"
            )
        sha256 = self.uploads.sha256(session_id)
        video = _Video(new_id("v0"), owner, sha256, path.stat().st_size, found)
        with self._lock:
            self._videos[video.video_id] = video
        return video

    def _upload(self, request: Request) -> _Upload:
        upload = self._uploads.get(request.query.get("upload_id", ""))
        if upload is None or upload.account_id != account_id(request):
            raise Refused(PARAMETER_ERROR, "Parameter error: unknown upload_id")
        if self.clock() - upload.opened_at > self.upload_id_s:
            raise Refused(PARAMETER_ERROR, "Parameter error: upload_id expired (valid 2 h)")
        return upload

    def _video_answer(self, video: _Video) -> Response:
        shape = {
            "video_id": video.video_id,
            "width": video.probe.width,
            "height": video.probe.height,
        }
        return Response(200, self.answer({"video": shape}))

    # -- posts ------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        body = request.json()
        text = str(body.get("text", ""))
        if len(text) > self.max_text_chars:
            raise Refused(
                PARAMETER_ERROR, f"Parameter error: text over {self.max_text_chars} characters"
            )
        item = self._claim(str(body.get("video_id", "")), account_id(request), text)
        self._record(item)
        return Response(200, self.answer({"item_id": item.item_id}))

    def _record(self, item: _Item) -> None:
        """Put the new item in the sandbox's ledger, with the verdict its review will give."""
        video = self._videos[item.video_id]
        post = Post(
            platform=self.name,
            account_id=item.account_id,
            remote_id=item.item_id,
            sha256=video.sha256,
            size=video.size,
            title=item.text,
            caption=item.text,
            created_at=item.create_time,
            status="failed" if self._rejected(item) else "published",
            extra={"video_id": video.video_id},
        )
        self.ledger.add(post)

    def _claim(self, video_id: str, owner: str, text: str) -> _Item:
        """Turn a video into an item; a video makes one item only (DYGO: fresh video_id)."""
        with self._lock:
            video = self._videos.get(video_id)
            if video is None or video.account_id != owner:
                raise Refused(VIDEO_ID_INVALID, "无效的视频文件 ID (unknown video_id)")
            if video.item_id is not None:
                raise Refused(
                    VIDEO_ID_INVALID,
                    f"无效的视频文件 ID: video_id already made item {video.item_id}; "
                    "each create needs a fresh upload",
                )
            item = _Item(new_id("7"), owner, video_id, text, self.clock())
            video.item_id = item.item_id
            self._items[item.item_id] = item
        return item

    def list_videos(self, request: Request) -> Response:
        cursor = whole_number(request.query.get("cursor", "0"), "cursor", code=PARAMETER_ERROR)
        count = min(
            whole_number(request.query.get("count", "10"), "count", code=PARAMETER_ERROR), 20
        )
        with self._lock:
            mine = [i for i in self._items.values() if i.account_id == account_id(request)]
        mine.sort(key=lambda i: i.create_time, reverse=True)
        page = mine[cursor : cursor + count]
        data = {
            "list": [self._item_shape(i) for i in page],
            "cursor": cursor + len(page),
            "has_more": cursor + len(page) < len(mine),
        }
        return Response(200, self.answer(data))

    def video_data(self, request: Request) -> Response:
        wanted = request.json().get("item_ids") or []
        mine = (self._items.get(str(i)) for i in wanted)
        found = [i for i in mine if i is not None and i.account_id == account_id(request)]
        return Response(200, self.answer({"list": [self._item_shape(i) for i in found]}))

    def _item_shape(self, item: _Item) -> dict[str, Any]:
        reviewed = self.clock() - item.create_time >= self.processing_s
        status = IN_REVIEW if not reviewed else REJECTED if self._rejected(item) else PUBLISHED
        shape: dict[str, Any] = {
            "item_id": item.item_id,
            "title": item.text,
            "cover": "",
            "create_time": int(item.create_time),
            "is_reviewed": reviewed,
            "video_status": status,
            "share_url": f"https://www.douyin.com/video/{item.item_id}",
        }
        if self.list_shows_video_id:
            shape["video_id"] = item.video_id
        return shape

    def _rejected(self, item: _Item) -> bool:
        return any(word in item.text for word in self.rejected_words)


def _oauth_answer(data: dict[str, Any], code: int = 0, description: str = "") -> dict[str, Any]:
    """Douyin's OAuth envelope: ``message`` where the OpenAPI has ``extra``."""
    fields = {**data, "error_code": code, "description": description}
    return {"data": fields, "message": "success" if code == 0 else "error"}


def _video_field(request: Request) -> bytes:
    data = request.multipart().get("video")
    if not data:
        raise Refused(PARAMETER_ERROR, "Parameter error: the multipart field 'video' is missing")
    return data
