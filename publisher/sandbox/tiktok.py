"""TikTok's Content Posting API (Direct Post) as the sandbox plays it.

Creator info, init with a chunk plan, sequential chunk PUTs to the returned upload URL,
status fetch while TikTok processes and checks the file (shared/platforms.md §2). Every
API answer is wrapped in ``{"data": …, "error": {"code": "ok", …}}``; the OAuth token
endpoint answers flat, as TikTok's does.

Route steps, for faults: "consent", "token", "creator_info", "init", "chunk", "status".
The upload URL carries its own credential (``upload_token``), as TikTok's does, so chunk
PUTs need no access token and an "expire_token" fault on "chunk" has nothing to expire.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from hookline.errors import MediaRejected
from hookline.probe import describe_video
from publisher.sandbox.core import Account, Platform, Post, Request, Response, TokenPolicy

DAY_S = 86400.0
MB = 1024 * 1024  # TikTok's guide says "MB"; SDKs read it as MiB
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MB
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
MIME_TYPES = ("video/mp4", "video/quicktime", "video/webm")
CODECS = ("h264", "hevc", "vp8", "vp9")
SCOPES = "user.info.basic,video.publish"
RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class Upload:
    """One Direct Post: its upload task, the chunks that arrived, then the post."""

    publish_id: str
    upload_id: str
    upload_token: str
    account: Account
    title: str
    privacy: str
    video_size: int
    chunk_size: int
    chunk_count: int
    created: float
    max_duration_s: int
    chunks: int = 0  # arrived in order: chunks 0 .. chunks-1
    completed_at: float | None = None
    fail_reason: str = ""
    post_id: int | None = None

    @property
    def uploaded_bytes(self) -> int:
        if self.chunks == self.chunk_count:  # the last chunk is longer than the others
            return self.video_size
        return self.chunks * self.chunk_size

    def chunk_bounds(self, index: int) -> tuple[int, int]:
        """Return the first and last byte of chunk ``index`` (the last one takes the rest)."""
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.chunk_count - 1 else first + self.chunk_size - 1
        return first, last


class Emulator(Platform):
    name = "tiktok"
    display_name = "TikTok"
    # 2026-11 docs: 2 h access, 180 d refresh, and every refresh rotates the refresh token.
    policy = TokenPolicy(access_s=2 * 3600, refresh_s=180 * DAY_S, rotate=True)
    processing_s = 0.3
    upload_url_s = 3600.0  # upload_url is valid for 1 h
    max_video_post_duration_sec = 600
    posts_per_day = 15  # ✘ TikTok caps posts per creator per 24 h but publishes no number
    audited = True  # unaudited clients may only post SELF_ONLY, to private accounts

    def __init__(self, sandbox: Any) -> None:
        self._lock = threading.Lock()
        self.by_publish_id: dict[str, Upload] = {}
        self.by_upload_id: dict[str, Upload] = {}
        super().__init__(sandbox)

    def register(self) -> None:
        self.route("GET", "/v2/auth/authorize/", self.consent_page, step="consent", auth=False)
        self.route("POST", "/v2/auth/authorize/", self.consent_page, step="consent", auth=False)
        self.route("POST", "/v2/oauth/token/", self.token, step="token", auth=False)
        self.route(
            "POST", "/v2/post/publish/creator_info/query/", self.creator_info, step="creator_info"
        )
        self.route("POST", "/v2/post/publish/video/init/", self.init, step="init")
        self.route("PUT", "/video/", self.put_chunk, step="chunk", auth=False)
        self.route("POST", "/v2/post/publish/status/fetch/", self.fetch_status, step="status")

    # -- the envelope ------------------------------------------------------------------------

    def ok(self, data: dict[str, Any], status: int = 200, headers: dict | None = None) -> Response:
        envelope = {"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id()}}
        return Response(status, envelope, headers or {})

    def error(self, status: int, code: str, message: str) -> Response:
        envelope = {"data": {}, "error": {"code": code, "message": message, "log_id": _log_id()}}
        return Response(status, envelope)

    def quota_exceeded(self, retry_after: float) -> Response:
        return self.error(
            403, "spam_risk_too_many_posts", "The user has reached the daily post cap."
        )

    # -- OAuth -------------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        form = request.form()
        if not form.get("client_key") or not form.get("client_secret"):
            return _oauth_error(401, "invalid_client", "Client key or secret is missing.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            account = self.accounts.redeem_code(form.get("code", ""), form.get("redirect_uri", ""))
            granted = self.accounts.grant(account, self.policy) if account else None
        elif grant == "refresh_token":
            granted = self.accounts.use_refresh(form.get("refresh_token", ""), self.policy)
        else:
            return _oauth_error(400, "unsupported_grant_type", f"Unknown grant_type {grant!r}.")
        if granted is None:
            return _oauth_error(400, "invalid_grant", "Authorization code or token is invalid.")
        fields = ("access_token", "expires_in", "refresh_token", "refresh_expires_in", "token_type")
        body = {k: granted[k] for k in fields}
        return Response(200, {**body, "open_id": granted["account"].account_id, "scope": SCOPES})

    # -- creator info --------------------------------------------------------------------------

    def creator_info(self, request: Request) -> Response:
        if limited := self._rate(request, "creator_info", 20):
            return limited
        account = request.account
        assert account is not None
        return self.ok(
            {
                "creator_avatar_url": "",  # the sandbox has no pictures to show
                "creator_username": account.account_id,
                "creator_nickname": account.name,
                "privacy_level_options": self.privacy_options(account),
                "comment_disabled": False,
                "duet_disabled": False,
                "stitch_disabled": False,
                "max_video_post_duration_sec": self.max_video_post_duration_sec,
            }
        )

    def privacy_options(self, account: Account) -> list[str]:
        if not self.audited:
            return ["SELF_ONLY"]
        if account.private:  # a private account cannot post to everyone
            return ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
        return list(PRIVACY_LEVELS)

    # -- init ------------------------------------------------------------------------------------

    def init(self, request: Request) -> Response:
        if limited := self._rate(request, "init", 6):
            return limited
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "invalid_params", "The body is not JSON.")
        account = request.account
        assert account is not None
        post, source = body.get("post_info") or {}, body.get("source_info") or {}
        refused = self._post_refusal(account, post) or _source_refusal(source)
        if refused:
            return self.error(*refused)
        if self.buckets.used(self._cap_bucket(account), DAY_S) >= self.posts_per_day:
            return self.quota_exceeded(0)
        upload = self._open(account, post, source)
        url = (
            f"{self.sandbox.url}/{self.name}/video/"
            f"?upload_id={upload.upload_id}&upload_token={upload.upload_token}"
        )
        return self.ok({"publish_id": upload.publish_id, "upload_url": url})

    def _post_refusal(self, account: Account, post: dict[str, Any]) -> tuple[int, str, str] | None:
        title = str(post.get("title") or "")
        if len(title.encode("utf-16-le")) // 2 > 2200:
            return 400, "invalid_params", "post_info.title is over 2200 UTF-16 characters."
        if not self.audited and not account.private:
            return (
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to private accounts.",
            )
        if post.get("privacy_level") not in self.privacy_options(account):
            return (
                400,
                "privacy_level_option_mismatch",
                f"privacy_level {post.get('privacy_level')!r} is not one of the creator's options.",
            )
        return None

    def _open(self, account: Account, post: dict[str, Any], source: dict[str, Any]) -> Upload:
        upload = Upload(
            publish_id=f"v_pub_file~v2-1.{secrets.randbelow(10**19)}",
            upload_id=f"tt-{secrets.token_hex(8)}",
            upload_token=secrets.token_urlsafe(16),
            account=account,
            title=str(post.get("title") or ""),
            privacy=post["privacy_level"],
            video_size=int(source["video_size"]),
            chunk_size=int(source["chunk_size"]),
            chunk_count=int(source["total_chunk_count"]),
            created=self.clock(),
            max_duration_s=self.max_video_post_duration_sec,
        )
        with self._lock:
            self.by_publish_id[upload.publish_id] = upload
            self.by_upload_id[upload.upload_id] = upload
        return upload

    # -- chunks ----------------------------------------------------------------------------------

    def put_chunk(self, request: Request) -> Response:
        with self._lock:
            upload = self.by_upload_id.get(request.query.get("upload_id", ""))
        if upload is None:
            return self.error(404, "invalid_params", "No such upload task.")
        if request.query.get("upload_token") != upload.upload_token:
            return self.error(403, "invalid_file_upload", "The upload token is not valid.")
        if self.clock() > upload.created + self.upload_url_s:
            return self.error(403, "invalid_file_upload", "The upload URL expired: init again.")
        if request.headers.get("content-type", "").split(";")[0] not in MIME_TYPES:
            return self.error(400, "invalid_file_upload", f"Content-Type must be {MIME_TYPES}.")
        data = request.body()
        with self._lock:
            return self._take_chunk(upload, request.headers.get("content-range", ""), data)

    def _take_chunk(self, upload: Upload, content_range: str, data: bytes) -> Response:
        found = RANGE.fullmatch(content_range.strip())
        if found is None:
            return self.error(416, "invalid_file_upload", f"Bad Content-Range {content_range!r}.")
        first, last, total = (int(n) for n in found.groups())
        if last - first + 1 != len(data):
            return self.error(400, "invalid_file_upload", "Content-Range and body length differ.")
        problem = chunk_problem(upload, first, last, total)
        if problem:
            return self.error(416, "invalid_file_upload", problem)
        self.uploads.write(upload.upload_id, first, data)
        # A chunk sent again after a lost answer replaces itself; a new one extends the file.
        upload.chunks = max(upload.chunks, first // upload.chunk_size + 1)
        if upload.chunks < upload.chunk_count:
            done = f"bytes 0-{upload.uploaded_bytes - 1}/{upload.video_size}"
            return self.ok({}, 206, {"Content-Range": done})
        if upload.completed_at is None:
            self._complete(upload)
        return self.ok({}, 201)

    def _complete(self, upload: Upload) -> None:
        """All chunks arrived: check the file as TikTok's processing would, then post it."""
        upload.completed_at = self.clock()
        upload.fail_reason = self._check_media(upload)
        if upload.fail_reason:
            return
        bucket = self._cap_bucket(upload.account)
        if self.buckets.spend(bucket, 1, self.posts_per_day, DAY_S) is not None:
            upload.fail_reason = "spam_risk_too_many_posts"
            return
        upload.post_id = 7_000_000_000_000_000_000 + secrets.randbelow(10**18)
        self.ledger.add(
            Post(
                platform=self.name,
                account_id=upload.account.account_id,
                remote_id=str(upload.post_id),
                sha256=self.uploads.sha256(upload.upload_id),
                size=upload.video_size,
                title=upload.title,
                caption=upload.title,
                created_at=upload.completed_at,
                extra={"publish_id": upload.publish_id, "privacy_level": upload.privacy},
            )
        )

    def _check_media(self, upload: Upload) -> str:
        """Return TikTok's fail_reason for the assembled file, or "" when it passes."""
        try:
            facts = describe_video(self.uploads.path(upload.upload_id))
        except MediaRejected:
            return "file_format_check_failed"
        if facts.video_codec not in CODECS or facts.mime_type not in MIME_TYPES:
            return "file_format_check_failed"
        if facts.duration_s > upload.max_duration_s:
            return "duration_check_failed"
        if facts.fps is None or not 23 <= facts.fps <= 60:
            return "frame_rate_check_failed"
        if min(facts.width, facts.height) < 360 or max(facts.width, facts.height) > 4096:
            return "picture_size_check_failed"
        return ""

    # -- status ------------------------------------------------------------------------------------

    def fetch_status(self, request: Request) -> Response:
        if limited := self._rate(request, "status", 30):
            return limited
        try:
            publish_id = (request.json() or {}).get("publish_id", "")
        except ValueError:
            return self.error(400, "invalid_params", "The body is not JSON.")
        with self._lock:
            upload = self.by_publish_id.get(publish_id)
        if upload is None or upload.account is not request.account:
            return self.error(400, "invalid_params", f"No such publish_id {publish_id!r}.")
        return self.ok(self._status_of(upload))

    def _status_of(self, upload: Upload) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": "PROCESSING_UPLOAD",
            "uploaded_bytes": upload.uploaded_bytes,
            "fail_reason": "",
            "publicaly_available_post_id": [],
        }
        done = upload.completed_at
        if done is None or self.clock() < done + self.processing_s:
            return data
        if upload.fail_reason:
            return {**data, "status": "FAILED", "fail_reason": upload.fail_reason}
        # Only a public post gets an id anyone can open.
        public = [upload.post_id] if upload.privacy == "PUBLIC_TO_EVERYONE" else []
        return {**data, "status": "PUBLISH_COMPLETE", "publicaly_available_post_id": public}

    # -- limits ------------------------------------------------------------------------------------

    def _rate(self, request: Request, what: str, per_minute: int) -> Response | None:
        """Apply a per-access-token rate limit (TikTok counts per user token per minute)."""
        wait = self.buckets.spend(f"{self.name}:{what}:{request.bearer()}", 1, per_minute, 60.0)
        return None if wait is None else self.rate_limited(wait)

    def _cap_bucket(self, account: Account) -> str:
        return f"{self.name}:posts:{account.account_id}"


# -- rules, without I/O ----------------------------------------------------------------------------


def _source_refusal(source: dict[str, Any]) -> tuple[int, str, str] | None:
    if source.get("source") == "PULL_FROM_URL":
        return 403, "url_ownership_unverified", "The sandbox has no verified domains."
    if source.get("source") != "FILE_UPLOAD":
        return 400, "invalid_params", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL."
    try:
        plan = [int(source[k]) for k in ("video_size", "chunk_size", "total_chunk_count")]
    except (KeyError, TypeError, ValueError):
        return 400, "invalid_params", "FILE_UPLOAD needs video_size, chunk_size, total_chunk_count."
    problem = chunk_plan_problem(*plan)
    return (400, "invalid_params", problem) if problem else None


def chunk_plan_problem(video_size: int, chunk_size: int, count: int) -> str | None:
    """Say how a FILE_UPLOAD chunk plan breaks TikTok's media transfer rules, if it does."""
    if not 0 < video_size <= MAX_VIDEO_BYTES:
        return "video_size must be between 1 byte and 4 GB."
    if video_size < MIN_CHUNK:
        if (chunk_size, count) != (video_size, 1):
            return "A video under 5 MB goes as one chunk: chunk_size = video_size, 1 chunk."
        return None
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return "chunk_size must be 5–64 MB."
    if count != video_size // chunk_size:
        return "total_chunk_count must be video_size / chunk_size, rounded down."
    if not 1 <= count <= MAX_CHUNKS:
        return "An upload has 1–1000 chunks."
    if video_size - (count - 1) * chunk_size > MAX_LAST_CHUNK:
        return "The last chunk may not exceed 128 MB."
    return None


def chunk_problem(upload: Upload, first: int, last: int, total: int) -> str | None:
    """Say why a chunk's range does not fit the upload's plan, or None when it does."""
    if total != upload.video_size:
        return f"The total {total} is not the video_size {upload.video_size} given at init."
    index = first // upload.chunk_size
    if index >= upload.chunk_count or upload.chunk_bounds(index) != (first, last):
        return f"bytes {first}-{last} is not one of the chunks planned at init."
    if index > upload.chunks:
        return f"Chunks go in order: chunk {upload.chunks} comes next, not {index}."
    return None


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status, {"error": error, "error_description": description, "log_id": _log_id()})


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()
