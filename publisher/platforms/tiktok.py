"""TikTok Direct Post through the Content Posting API: creator info, chunked upload, status.

TikTok makes the post by itself once the last chunk arrives and the file passes its
checks; there is no create call, so ``finish`` has nothing to send. Every ``upload`` call
starts by asking TikTok how many bytes it holds (status fetch, ``uploaded_bytes``): the
job persists state only on acknowledged chunks, and TikTok has no probe request, so that
count is where to continue (shared/platforms.md §2).

State (JSON): ``{"publish_id", "upload_url", "size", "chunk_size", "chunk_count",
"acknowledged", "username", "privacy_level"}``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

from publisher.platforms.base import (
    App,
    Kind,
    Media,
    PlatformClient,
    PlatformError,
    PostMeta,
    Progress,
    Quota,
    Remote,
    Tokens,
    read_chunk,
    retry_after,
)
from publisher.platforms.insights import Malformed, Reading

MB = 1024 * 1024  # TikTok's guide says "MB"; SDKs read it as MiB
MIN_CHUNK = 5 * MB  # chunks are 5–64 MB; a file under 5 MB goes whole
MAX_CHUNK = 64 * MB
MAX_BYTES = 4 * 1024 * MB
MAX_DURATION_S = 600.0  # the API's own limit; the account's may be lower
CODECS = ("h264", "hevc", "vp8", "vp9")
MIME_TYPES = ("video/mp4", "video/quicktime", "video/webm")
# Hookline's privacy words -> TikTok's privacy levels.
PRIVACY = {
    "public": "PUBLIC_TO_EVERYONE",
    "followers": "FOLLOWER_OF_CREATOR",
    "friends": "MUTUAL_FOLLOW_FRIENDS",
    "private": "SELF_ONLY",
}
SCOPES = "user.info.basic,video.publish"
AUTH_CODES = ("access_token_invalid", "scope_not_authorized", "invalid_grant", "invalid_client")
CAP_CODES = (
    "spam_risk_too_many_posts",
    "reached_active_user_cap",
    "spam_risk_too_many_pending_share",
)
# TikTok says neither when a rolling 24 h cap frees up nor when to retry after a 429.
CAP_RETRY_S = 3600.0
RATE_RETRY_S = 60.0
DISPLAY_FIELDS = ("id", "view_count", "like_count", "comment_count", "share_count", "duration")
DISPLAY_METRICS = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
}
BUSINESS_FIELDS = [
    "item_id",
    "video_views",
    "reach",
    "total_time_watched",
    "average_time_watched",
    "full_video_watched_rate",
    "video_duration",
    "likes",
    "comments",
    "shares",
    "favorites",
    "new_followers",
    "video_view_retention",
]
BUSINESS_METRICS = {
    "views": "video_views",
    "reach": "reach",
    "watch_time_s": "total_time_watched",
    "avg_view_duration_s": "average_time_watched",
    "completion_rate": "full_video_watched_rate",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saves": "favorites",
    "follows": "new_followers",
}
NOT_BUSINESS = 40001  # the account is a personal one: only the Display API's counts
BUSINESS_KINDS: dict[int, Kind] = {40100: "rate", 40104: "auth", 40105: "auth", 50000: "transient"}


class Client(PlatformClient):
    name = "tiktok"
    display_name = "TikTok"
    DEFAULT_ENDPOINTS: ClassVar[dict[str, str]] = {
        "api": "https://open.tiktokapis.com",
        "upload": "https://open-upload.tiktokapis.com",  # unused: init returns the upload URL
        "auth": "https://www.tiktok.com",
    }

    def __init__(
        self, endpoints: dict[str, str], app: App, *, chunk_size: int = 10 * MB, **kw: Any
    ) -> None:
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"TikTok chunks are {MIN_CHUNK}–{MAX_CHUNK} bytes (5–64 MB)")
        super().__init__(endpoints, app, **kw)
        self.chunk_size = chunk_size

    # -- accounts ------------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "client_key": self.app.client_id,
            "response_type": "code",
            "scope": SCOPES,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return self.url("auth", "/v2/auth/authorize/") + "?" + urlencode(query)

    def exchange_code(self, code: str, *, redirect_uri: str, now: datetime) -> Tokens:
        fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return _tokens(self._token(fields), now)

    def refresh(self, tokens: Tokens, *, now: datetime) -> Tokens:
        """Trade the refresh token for new tokens; the old refresh token dies (rotation)."""
        if not tokens.refresh_token:
            raise PlatformError(self.name, "no refresh token: reconnect the channel", kind="auth")
        return _tokens(
            self._token({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}), now
        )

    def _token(self, fields: dict[str, str]) -> dict[str, Any]:
        form = {**fields, "client_key": self.app.client_id, "client_secret": self.app.client_secret}
        response = self.request("POST", self.url("api", "/v2/oauth/token/"), data=form)
        # The token endpoint answers flat, and may say "error" with a 200.
        granted = _json(response)
        if response.status_code != 200 or "access_token" not in granted:
            raise self._failure(response)
        return granted

    # -- publishing ----------------------------------------------------------------------

    @classmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        reasons = []
        if media.fps is not None and not 23 <= media.fps <= 60:
            reasons.append(f"{media.fps:g} fps: TikTok takes 23–60 fps")
        if min(media.width, media.height) < 360 or max(media.width, media.height) > 4096:
            reasons.append(f"{media.width}x{media.height}: TikTok takes 360–4096 px per side")
        if media.duration_s > MAX_DURATION_S:
            reasons.append(f"{media.duration_s:.0f} s: TikTok's API takes up to 10 minutes")
        if media.video_codec not in CODECS:
            reasons.append(
                f"{media.video_codec or 'unknown'} video: TikTok takes {', '.join(CODECS)}"
            )
        if media.size > MAX_BYTES:
            reasons.append(f"{media.size / 1e9:.1f} GB: TikTok takes up to 4 GB")
        if media.mime_type not in MIME_TYPES:
            reasons.append(f"{media.mime_type}: TikTok takes MP4, MOV or WebM")
        text = post_text(meta)
        if len(text.encode("utf-16-le")) // 2 > 2200:
            reasons.append("the title and caption are over 2200 characters (TikTok's limit)")
        if meta.privacy not in PRIVACY:
            reasons.append(f"TikTok has no {meta.privacy!r} privacy; use {', '.join(PRIVACY)}")
        return reasons

    def quotas(self, meta: PostMeta) -> list[Quota]:
        return [Quota("video.init", 1, 6, "minute")]  # 6 inits a minute per user token

    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        creator = self._call(tokens, "/v2/post/publish/creator_info/query/", {})
        level = PRIVACY.get(meta.privacy, meta.privacy)
        options = creator.get("privacy_level_options") or []
        if level not in options:
            raise PlatformError(
                self.name,
                f"this TikTok account can post as {', '.join(options)}, not {level}",
                kind="permanent",
                code="privacy_level_option_mismatch",
            )
        chunk_size, count = chunk_plan(media.size, self.chunk_size)
        post_info = {
            "title": post_text(meta),
            "privacy_level": level,
            # The creator's own settings must be respected (TikTok's sharing guidelines).
            "disable_comment": bool(creator.get("comment_disabled")),
            "disable_duet": bool(creator.get("duet_disabled")),
            "disable_stitch": bool(creator.get("stitch_disabled")),
        }
        source_info = {
            "source": "FILE_UPLOAD",
            "video_size": media.size,
            "chunk_size": chunk_size,
            "total_chunk_count": count,
        }
        body = {"post_info": post_info, "source_info": source_info}
        started = self._call(tokens, "/v2/post/publish/video/init/", body)
        return {
            "publish_id": started["publish_id"],
            "upload_url": started["upload_url"],
            "size": media.size,
            "chunk_size": chunk_size,
            "chunk_count": count,
            "acknowledged": 0,
            "username": creator.get("creator_username", ""),
            "privacy_level": level,
        }

    def upload(
        self, tokens: Tokens, state: dict[str, Any], media: Media, *, progress: Progress
    ) -> None:
        state["acknowledged"] = self._fetch(tokens, state)["uploaded_bytes"]
        while state["acknowledged"] < state["size"]:
            before = state["acknowledged"]
            self._send_chunk(state, media)
            if state["acknowledged"] <= before:
                # Resending what TikTok will not keep would loop; let the job back off.
                raise PlatformError(self.name, "TikTok kept none of the chunk", kind="transient")
            progress(state["acknowledged"], media.size)

    def _send_chunk(self, state: dict[str, Any], media: Media) -> None:
        first, last = chunk_bounds(state, state["acknowledged"])
        response = self.request(
            "PUT",
            state["upload_url"],
            headers={
                "Content-Type": media.mime_type,
                "Content-Range": f"bytes {first}-{last}/{state['size']}",
            },
            data=read_chunk(media.path, first, last - first + 1),
        )
        if response.status_code == 201:  # every chunk arrived
            state["acknowledged"] = state["size"]
        elif response.status_code == 206:
            state["acknowledged"] = kept_bytes(response.headers.get("Content-Range"), last + 1)
        else:
            raise self._failure(response, chunk=True)

    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        """Send nothing: TikTok makes the post itself once the last chunk has arrived."""

    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        found = self._fetch(tokens, state)
        state["acknowledged"] = found["uploaded_bytes"]
        return found["status"] != "FAILED" and found["uploaded_bytes"] >= state["size"]

    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        return remote_of(self._fetch(tokens, state), state)

    def _fetch(self, tokens: Tokens, state: dict[str, Any]) -> dict[str, Any]:
        return self._call(
            tokens, "/v2/post/publish/status/fetch/", {"publish_id": state["publish_id"]}
        )

    def _call(self, tokens: Tokens, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the API; return the envelope's data, or raise its error."""
        response = self.request(
            "POST",
            self.url("api", path),
            headers={"Authorization": f"Bearer {tokens.access_token}"},
            json=body,
        )
        answer = _json(response)
        if response.status_code != 200 or (answer.get("error") or {}).get("code") != "ok":
            raise self._failure(response)
        return answer.get("data") or {}

    # -- analytics -------------------------------------------------------------------------

    def insights(
        self,
        tokens: Tokens,
        remote_id: str,
        *,
        duration_s: float,
        published_at: datetime,
        now: datetime,
    ) -> Reading:
        reading = Reading()
        video = self._business_video(tokens, remote_id, reading)
        if video is not None:
            read_business(video, duration_s, reading)
            return reading
        found = self._call(
            tokens,
            "/v2/video/query/?fields=" + ",".join(DISPLAY_FIELDS),
            {"filters": {"video_ids": [remote_id]}},
        )
        reading.raw["display"] = found
        videos = [v for v in found.get("videos") or [] if str(v.get("id")) == remote_id]
        if not videos:
            reading.delayed = True
            reading.warnings.append("TikTok does not list the video's numbers yet")
            return reading
        for name, field in DISPLAY_METRICS.items():
            reading.put(name, videos[0].get(field), source=field)
        return reading

    def _business_video(
        self, tokens: Tokens, remote_id: str, reading: Reading
    ) -> dict[str, Any] | None:
        """The video from the Business API; None when the account is not a Business one."""
        host = "business" if "business" in self.endpoints else "api"
        response = self.request(
            "GET",
            self.url(host, "/open_api/v1.3/business/video/list/"),
            params={
                "business_id": tokens.account_id,
                "fields": json.dumps(BUSINESS_FIELDS),
                "filters": json.dumps({"video_ids": [remote_id]}),
            },
            headers={"Access-Token": tokens.access_token},
        )
        if response.status_code != 200:
            raise self._failure(response)
        body = _json(response)
        if "code" not in body:
            raise Malformed(
                f"TikTok's Business API answered without a code: {response.text[:60]!r}"
            )
        code = int(body.get("code") or 0)
        if code == NOT_BUSINESS:
            return None
        if code != 0:
            raise PlatformError(
                self.name,
                f"the Business API refused: {body.get('message')} (code {code})",
                kind=BUSINESS_KINDS.get(code, "permanent"),
                code=str(code),
            )
        reading.raw["business"] = body.get("data")
        videos = (body.get("data") or {}).get("videos") or []
        found = [v for v in videos if str(v.get("item_id")) == remote_id]
        if not found:
            reading.delayed = True
            reading.warnings.append("TikTok reports a video's numbers a day or two late")
            return {}
        return found[0]

    # -- errors ----------------------------------------------------------------------------

    def _failure(self, response: requests.Response, *, chunk: bool = False) -> PlatformError:
        code, message = tiktok_error(response)
        status = response.status_code
        kind = error_kind(status, code, chunk=chunk)
        wait = None
        if kind == "rate":
            wait = retry_after(response) or RATE_RETRY_S
        elif kind == "quota":
            wait = retry_after(response) or CAP_RETRY_S
        return PlatformError(
            self.name,
            message or f"HTTP {status}",
            kind=kind,
            status=status,
            code=code,
            retry_after=wait,
        )


# -- plain rules and shapes, no I/O -----------------------------------------------------------


def post_text(meta: PostMeta) -> str:
    """Return TikTok's one text (it calls it the title): our title, then the caption."""
    return "\n\n".join(part for part in (meta.title, meta.caption) if part)


def chunk_plan(size: int, chunk_size: int) -> tuple[int, int]:
    """Return (chunk_size, total_chunk_count) for init, by TikTok's media transfer rules."""
    if size < MIN_CHUNK or size <= chunk_size:
        return size, 1  # under 5 MB it must go whole; up to one chunk it may
    # The count is rounded down: the last chunk takes the remainder (under 2 chunks).
    return chunk_size, size // chunk_size


def chunk_bounds(state: dict[str, Any], first: int) -> tuple[int, int]:
    """Return the first and last byte of the chunk starting at ``first``."""
    index = min(first // state["chunk_size"], state["chunk_count"] - 1)
    start = index * state["chunk_size"]
    last = (
        state["size"] - 1 if index == state["chunk_count"] - 1 else start + state["chunk_size"] - 1
    )
    return start, last


def kept_bytes(content_range: str | None, default: int) -> int:
    """Return the bytes a 206's ``Content-Range: bytes 0-N/TOTAL`` says TikTok holds."""
    if not content_range or "-" not in content_range:
        return default
    return int(content_range.split("-", 1)[1].split("/", 1)[0]) + 1


def remote_of(found: dict[str, Any], state: dict[str, Any]) -> Remote:
    """Read a status fetch as uploading, processing, published or failed."""
    status = found.get("status", "")
    if status == "FAILED":
        reason = found.get("fail_reason", "")
        return Remote("failed", reason=f"TikTok refused the video ({reason})", code=reason)
    if status != "PUBLISH_COMPLETE":
        done = found.get("uploaded_bytes", 0) >= state["size"]
        return Remote("processing" if done else "uploading", reason=status.lower())
    ids = found.get("publicaly_available_post_id") or []  # (sic)
    if ids:
        post = str(ids[0])
        return Remote(
            "published", post, f"https://www.tiktok.com/@{state['username']}/video/{post}"
        )
    if state["privacy_level"] == "PUBLIC_TO_EVERYONE":
        # A public post gets its id after moderation (minutes, sometimes hours).
        return Remote("processing", reason="in moderation")
    return Remote("published")  # not public: TikTok gives no id anyone could open


def tiktok_error(response: requests.Response) -> tuple[str, str]:
    """Return (code, message) from the API envelope or the OAuth endpoint's flat error."""
    body = _json(response)
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("code", ""), error.get("message", "")
    if isinstance(error, str):
        return error, body.get("error_description", "")
    return "", response.text[:200]


def error_kind(status: int, code: str, *, chunk: bool = False) -> Kind:
    """Say what a failed call means for the job (platforms.md §2)."""
    if chunk and status in (403, 404):
        return "expired_session"  # the upload URL expired or the task is gone: init again
    if chunk and status == 416:
        return "transient"  # out of step: the next upload() reads uploaded_bytes again
    if status == 401 or code in AUTH_CODES:
        return "auth"
    if status == 429 or code == "rate_limit_exceeded":
        return "rate"
    if code in CAP_CODES:
        return "quota"
    if status >= 500 or code == "internal_error":
        return "transient"
    return "permanent"


def _json(response: requests.Response) -> dict[str, Any]:
    """Return the JSON object of a response ({} when it has none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tokens(granted: dict[str, Any], now: datetime) -> Tokens:
    refresh_for = granted.get("refresh_expires_in")
    return Tokens(
        access_token=granted["access_token"],
        refresh_token=granted.get("refresh_token"),
        expires_at=now + timedelta(seconds=int(granted["expires_in"])),
        refresh_expires_at=now + timedelta(seconds=int(refresh_for)) if refresh_for else None,
        account_id=granted.get("open_id", ""),
        scope=granted.get("scope", ""),
    )


def read_business(video: dict[str, Any], duration_s: float, reading: Reading) -> None:
    """Read a Business API video: totals, and the per-second retention where it has one."""
    if not video:
        return
    for name, field in BUSINESS_METRICS.items():
        reading.put(name, video.get(field), source=field)
    retention = video.get("video_view_retention")
    if not isinstance(retention, list):
        reading.warnings.append("TikTok gave no per-second retention for the video")
        return
    length = float(video.get("video_duration") or duration_s) or duration_s
    try:
        points = sorted((float(p["second"]), float(p["percentage"]) / 100) for p in retention)
    except (KeyError, TypeError, ValueError):
        reading.warnings.append("TikTok's per-second retention has unreadable points")
        return
    reading.set_curve(
        [min(1.0, s / length) for s, _ in points], [v for _, v in points], "per second"
    )
