"""Instagram Reels through the Instagram Graph API with Facebook Login (platforms.md 3).

``begin`` creates a resumable REELS container, ``upload`` fills it through rupload,
``finish`` publishes it with ``media_publish`` once Instagram has processed it, and
``status`` reads the published reel's permalink.

State (a JSON dict the job persists)::

    {"container_id": "1789…", "upload_url": "https://rupload…/ig-api-upload/v23.0/1789…",
     "acknowledged": 1048576,            # bytes Instagram confirmed
     "created_at": "2026-11-21T07:00:00+00:00", "caption_sha256": "…",
     "media_id": "1790…"}                # once published (finish, or found by find_post)

Publishing twice: ``finish`` reads the container first and never publishes one that is
PUBLISHED. Instagram does not link a container to the media it became, so after an
unseen publish :meth:`Client.find_post` matches the account's newest reels by caption
and time (the ``media_publish`` answer carries the id when it arrives).

Instagram cannot schedule through the API: before ``meta.publish_at`` ``finish`` raises
a transient error carrying the wait. A container expires 24 h after ``begin``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from publisher.platforms.base import Media, PlatformError, PostMeta, Quota, Remote, Tokens
from publisher.platforms.insights import Reading, value_of
from publisher.platforms.meta import MetaClient, caption_of, count_hashtags

MAX_BYTES = 300 * 1024 * 1024
MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
CLOCK_SKEW = timedelta(minutes=10)  # between our clock and Instagram's, matching media
# Instagram's container status gives only a subcode; these say what it means.
SUBCODE_HINTS = {
    "2207026": "Instagram does not support this video (it must be MOV/MP4 with the moov atom "
    "first, H.264/HEVC, 3 s–15 min, 23–60 fps, at most 300 MB)",
    "2207020": "the container expired before it was published",
    "2207053": "an unknown upload error; upload again",
}


class Client(MetaClient):
    name = "instagram"
    display_name = "Instagram"
    daily_post_cap = 100
    SCOPES: ClassVar[tuple[str, ...]] = (
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_insights",
        "pages_show_list",
        "pages_read_engagement",
        "business_management",
    )
    UPLOAD_PREFIX = "/ig-api-upload"

    def account_of(self, page: dict[str, Any]) -> str:
        return str((page.get("instagram_business_account") or {}).get("id", ""))

    # -- before anything is sent ------------------------------------------------------------

    @classmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        return _media_refusals(media) + _meta_refusals(meta)

    def quotas(self, meta: PostMeta) -> list[Quota]:
        return [Quota("instagram:posts", 1, self.daily_post_cap or 100, "rolling_24h")]

    def publishing_usage(self, tokens: Tokens) -> tuple[int, int]:
        """Return (posts in the last 24 h, the cap) as Instagram counts them."""
        body = self.graph(
            "GET",
            f"/{tokens.account_id}/content_publishing_limit",
            tokens.access_token,
            what="read the publishing limit",
            params={"fields": "quota_usage,config"},
        )
        entry = (body.get("data") or [{}])[0]
        total = (entry.get("config") or {}).get("quota_total", self.daily_post_cap)
        return int(entry.get("quota_usage", 0)), int(total)

    # -- publishing ----------------------------------------------------------------------------

    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        caption = caption_of(meta)
        body = self.graph(
            "POST",
            f"/{tokens.account_id}/media",
            tokens.access_token,
            what="create the reel container",
            data={
                "media_type": "REELS",
                "upload_type": "resumable",
                "caption": caption,
                "share_to_feed": "true",
            },
        )
        container = str(body["id"])
        return {
            "container_id": container,
            "upload_url": self.upload_url(container),
            "acknowledged": 0,
            "created_at": datetime.now(UTC).isoformat(),
            "caption_sha256": _sha256(caption),
        }

    def platform_offset(self, tokens: Tokens, state: dict[str, Any]) -> int:
        # ✘ one client reads an Offset header from a GET on the rupload URL; so do we.
        response = self.request(
            "GET", state["upload_url"], headers={"Authorization": f"OAuth {tokens.access_token}"}
        )
        body = self.answer(response, "ask how much of the upload arrived")
        offset = response.headers.get("Offset", body.get("offset"))
        if offset is None:
            raise PlatformError(
                self.name,
                "Instagram did not say how much of the upload arrived",
                kind="permanent",
                status=response.status_code,
            )
        return int(offset)

    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        self.wait_for(meta.publish_at)
        container = self._container(tokens, state)
        if container.get("status_code") == "PUBLISHED":  # an earlier finish went through
            self._remember_media(tokens, state)
            return
        self._require_finished(container)
        body = self.graph(
            "POST",
            f"/{tokens.account_id}/media_publish",
            tokens.access_token,
            what="publish the reel",
            data={"creation_id": state["container_id"]},
        )
        state["media_id"] = str(body["id"])

    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        if state.get("media_id"):
            return True
        if self._container(tokens, state).get("status_code") != "PUBLISHED":
            return False
        self._remember_media(tokens, state)
        return True

    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        if state.get("media_id"):
            return self._published(tokens, state["media_id"])
        container = self._container(tokens, state)
        code = container.get("status_code", "")
        if code == "PUBLISHED":
            if self._remember_media(tokens, state):
                return self._published(tokens, state["media_id"])
            return Remote("published", reason="published; the reel's id could not be matched")
        if code in ("ERROR", "EXPIRED"):
            return _failed(container)
        return Remote("processing", remote_id=state["container_id"])

    # -- helpers -------------------------------------------------------------------------------

    def _container(self, tokens: Tokens, state: dict[str, Any]) -> dict[str, Any]:
        return self.graph(
            "GET",
            f"/{state['container_id']}",
            tokens.access_token,
            what="read the container's status",
            params={"fields": "id,status_code,status"},
        )

    def _require_finished(self, container: dict[str, Any]) -> None:
        code = container.get("status_code")
        if code == "FINISHED":
            return
        if code == "IN_PROGRESS":
            raise PlatformError(
                self.name,
                "Instagram is still processing the video",
                kind="transient",
                retry_after=10.0,
            )
        failed = _failed(container)
        kind = "expired_session" if code == "EXPIRED" else "permanent"
        raise PlatformError(self.name, failed.reason, kind=kind, code=failed.code)

    def _remember_media(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        """Find the reel a published container became; record its id in ``state``."""
        if state.get("media_id"):
            return True
        body = self.graph(
            "GET",
            f"/{tokens.account_id}/media",
            tokens.access_token,
            what="list the account's reels",
            params={"fields": "id,caption,timestamp", "limit": "25"},
        )
        since = datetime.fromisoformat(state["created_at"]) - CLOCK_SKEW
        for media in body.get("data", []):
            made = datetime.strptime(media.get("timestamp", ""), "%Y-%m-%dT%H:%M:%S%z")
            if made >= since and _sha256(media.get("caption", "")) == state["caption_sha256"]:
                state["media_id"] = str(media["id"])
                return True
        return False

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
        items = self.insight_items(tokens, f"/{remote_id}/insights", metric=",".join(IG_METRICS))
        reading.raw["insights"] = items
        if not items:
            reading.delayed = True
            reading.warnings.append("Instagram has no insights for the reel yet (up to 48 h)")
            return reading
        read_insights(items, reading)
        return reading

    def _published(self, tokens: Tokens, media_id: str) -> Remote:
        body = self.graph(
            "GET",
            f"/{media_id}",
            tokens.access_token,
            what="read the reel",
            params={"fields": "id,permalink,shortcode"},
        )
        url = body.get("permalink") or f"https://www.instagram.com/reel/{body.get('shortcode')}/"
        return Remote("published", remote_id=media_id, url=url)


IG_METRICS = (
    "views",
    "reach",
    "likes",
    "comments",
    "saved",
    "shares",
    "total_interactions",
    "ig_reels_avg_watch_time",
    "ig_reels_video_view_total_time",
    "reels_skip_rate",
)
# Hookline's metric: (Instagram's insight, scale).
IG_FIELDS = {
    "views": ("views", 1.0),
    "reach": ("reach", 1.0),
    "likes": ("likes", 1.0),
    "comments": ("comments", 1.0),
    "saves": ("saved", 1.0),
    "shares": ("shares", 1.0),
    "avg_view_duration_s": ("ig_reels_avg_watch_time", 0.001),
    "watch_time_s": ("ig_reels_video_view_total_time", 0.001),
}


def read_insights(items: list[dict[str, Any]], reading: Reading) -> None:
    """Read a reel's insights; Instagram has no curve, its hook rate is 1 - skip rate."""
    for name, (insight, scale) in IG_FIELDS.items():
        reading.put(name, value_of(items, insight), scale=scale, source=insight)
    skip = value_of(items, "reels_skip_rate")
    if isinstance(skip, int | float):
        reading.values["hook_rate"] = 1.0 - float(skip) / 100.0
        reading.hook_rate_definition = "1 - reels_skip_rate (3 s)"
    else:
        reading.warnings.append("reels_skip_rate is missing from the platform's answer")


def _failed(container: dict[str, Any]) -> Remote:
    """What an ERROR or EXPIRED container says, with the subcode spelled out."""
    text = container.get("status") or container.get("status_code", "")
    if container.get("status_code") == "EXPIRED":
        return Remote("failed", reason=f"{text} ({SUBCODE_HINTS['2207020']})", code="2207020")
    found = re.search(r"error code (\d+)", text)
    subcode = found.group(1) if found else ""
    hint = SUBCODE_HINTS.get(subcode)
    return Remote("failed", reason=f"{text}: {hint}" if hint else text, code=subcode)


def _media_refusals(media: Media) -> list[str]:
    ratio = media.width / media.height if media.height else 0.0
    size = f"{media.width}×{media.height}"
    checks = [
        (
            not _is_mov_or_mp4(media.path, media.mime_type),
            f"Instagram Reels must be MOV or MP4; this cut is {media.mime_type}",
        ),
        (
            media.video_codec not in ("h264", "hevc"),
            f"Instagram Reels must be H.264 or HEVC; this cut is {media.video_codec or 'unknown'}",
        ),
        (
            not 3 <= media.duration_s <= 900,
            f"Instagram Reels must be 3 s–15 min; this cut is {media.duration_s:.1f} s",
        ),
        (
            media.fps is not None and not 23 <= media.fps <= 60,
            f"Instagram Reels must be 23–60 fps; this cut is {media.fps or 0:.1f} fps",
        ),
        (ratio > 0.8, f"Instagram Reels are vertical (9:16); this cut is {size}"),
        (
            media.size > MAX_BYTES,
            f"Instagram Reels must be at most 300 MB; this cut is {media.size / 2**20:.0f} MB",
        ),
    ]
    return [reason for bad, reason in checks if bad]


def _meta_refusals(meta: PostMeta) -> list[str]:
    caption = caption_of(meta)
    checks = [
        (
            len(caption) > MAX_CAPTION,
            f"Instagram captions are at most {MAX_CAPTION} characters; this one is {len(caption)}",
        ),
        (
            count_hashtags(caption) > MAX_HASHTAGS,
            f"Instagram allows {MAX_HASHTAGS} hashtags; this caption has {count_hashtags(caption)}",
        ),
        (
            len(re.findall(r"(?<!\w)@\w+", caption)) > MAX_MENTIONS,
            f"Instagram allows {MAX_MENTIONS} @mentions in a caption",
        ),
        (
            meta.privacy != "public",
            f"Instagram reels are public; this publication asks for {meta.privacy}",
        ),
    ]
    return [reason for bad, reason in checks if bad]


def _is_mov_or_mp4(path: Path, mime_type: str) -> bool:
    return mime_type in ("video/mp4", "video/quicktime") or path.suffix.lower() in (".mp4", ".mov")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
