"""Facebook Reels on a Page through the Graph API (platforms.md section 4).

``begin`` starts a video (``video_reels``, ``upload_phase=start``), ``upload`` sends its
bytes through rupload, ``finish`` publishes it (``upload_phase=finish``,
``video_state=PUBLISHED``) or lets Facebook schedule it (``SCHEDULED`` with
``scheduled_publish_time`` in unix seconds), and ``status`` reads the video's phases.

State (a JSON dict the job persists)::

    {"video_id": "1234…", "upload_url": "https://rupload…/video-upload/v23.0/1234…",
     "acknowledged": 1048576,            # bytes Facebook confirmed
     "video_state": "PUBLISHED"}         # once finished: PUBLISHED or SCHEDULED

A resumed upload learns Facebook's count from ``uploading_phase.bytes_transferred``.
``finish`` reads the status first and never finishes a video that is already published
or scheduled; :meth:`Client.find_post` reads the same ``publishing_phase``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from publisher.platforms.base import Media, PlatformError, PostMeta, Quota, Remote, Tokens
from publisher.platforms.insights import Reading, value_of
from publisher.platforms.meta import MetaClient, caption_of

MIN_SIZE = (540, 960)
# Facebook schedules at least this far ahead (✘ Page post rules); nearer times are
# waited for and published then.
SCHEDULE_LEAD_S = 600.0


class Client(MetaClient):
    name = "facebook"
    display_name = "Facebook"
    daily_post_cap = 30
    SCOPES: ClassVar[tuple[str, ...]] = (
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "read_insights",
        "pages_manage_engagement",
    )
    UPLOAD_PREFIX = "/video-upload"

    def account_of(self, page: dict[str, Any]) -> str:
        return str(page.get("id", ""))

    # -- before anything is sent ------------------------------------------------------------

    @classmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        ratio = media.width / media.height if media.height else 0.0
        vertical = abs(ratio - 9 / 16) <= 0.01
        size = f"{media.width}×{media.height}"
        checks = [
            (
                not 3 <= media.duration_s <= 90,
                f"Facebook Reels must be 3–90 s; this cut is {media.duration_s:.1f} s",
            ),
            (not vertical, f"Facebook Reels must be 9:16; this cut is {size}"),
            (
                vertical and (media.width < MIN_SIZE[0] or media.height < MIN_SIZE[1]),
                f"Facebook Reels must be at least 540×960; this cut is {size}",
            ),
            (
                media.fps is not None and not 24 <= media.fps <= 60,
                f"Facebook Reels must be 24–60 fps; this cut is {media.fps or 0:.1f} fps",
            ),
            (
                meta.privacy != "public",
                f"Facebook Reels on a Page are public; this publication asks for {meta.privacy}",
            ),
        ]
        return [reason for bad, reason in checks if bad]

    def quotas(self, meta: PostMeta) -> list[Quota]:
        return [Quota("facebook:reels", 1, self.daily_post_cap or 30, "rolling_24h")]

    # -- publishing ----------------------------------------------------------------------------

    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        body = self.graph(
            "POST",
            f"/{tokens.account_id}/video_reels",
            tokens.access_token,
            what="start the reel upload",
            data={"upload_phase": "start"},
        )
        video_id = str(body["video_id"])
        return {"video_id": video_id, "upload_url": self.upload_url(video_id), "acknowledged": 0}

    def platform_offset(self, tokens: Tokens, state: dict[str, Any]) -> int:
        uploading = self._status(tokens, state).get("uploading_phase") or {}
        return int(uploading.get("bytes_transferred", 0))

    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        status = self._status(tokens, state)
        if _posted(status):  # an earlier finish went through
            state["video_state"] = _video_state(status)
            return
        self._require_open(status)
        params = self._finish_params(state, meta)
        body = self.graph(
            "POST",
            f"/{tokens.account_id}/video_reels",
            tokens.access_token,
            what="publish the reel",
            data=params,
        )
        if not body.get("success"):
            raise PlatformError(
                self.name, f"Facebook did not confirm the reel: {body}", kind="transient"
            )
        state["video_state"] = params["video_state"]

    def _finish_params(self, state: dict[str, Any], meta: PostMeta) -> dict[str, str]:
        params = {
            "upload_phase": "finish",
            "video_id": state["video_id"],
            "video_state": "PUBLISHED",
            "description": caption_of(meta),
        }
        when = meta.publish_at
        if when is not None and (when - datetime.now(UTC)).total_seconds() >= SCHEDULE_LEAD_S:
            params.update(
                video_state="SCHEDULED", scheduled_publish_time=str(int(when.timestamp()))
            )
        else:
            self.wait_for(when)  # too near to schedule: publish at the time
        return params

    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        status = self._status(tokens, state)
        if not _posted(status):
            return False
        state["video_state"] = _video_state(status)
        return True

    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        status = self._status(tokens, state)
        video_id = state["video_id"]
        url = f"https://www.facebook.com/reel/{video_id}"
        if status.get("video_status") in ("error", "expired"):
            return _failed(status, video_id)
        publishing = status.get("publishing_phase") or {}
        if publishing.get("publish_status") == "scheduled":
            return Remote("scheduled", remote_id=video_id, url=url)
        if publishing.get("publish_status") == "published" and publishing.get("status") == (
            "complete"
        ):
            return Remote("published", remote_id=video_id, url=url)
        uploading = (status.get("uploading_phase") or {}).get("status")
        return Remote("processing" if uploading == "complete" else "uploading", video_id)

    # -- helpers -------------------------------------------------------------------------------

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
        items = self.insight_items(tokens, f"/{remote_id}/video_insights")
        reading.raw["video_insights"] = items
        if not items:
            reading.delayed = True
            reading.warnings.append("Facebook has no video insights for the reel yet")
            return reading
        read_insights(items, duration_s, reading)
        return reading

    def _status(self, tokens: Tokens, state: dict[str, Any]) -> dict[str, Any]:
        body = self.graph(
            "GET",
            f"/{state['video_id']}",
            tokens.access_token,
            what="read the reel's status",
            params={"fields": "status"},
        )
        return body.get("status") or {}

    def _require_open(self, status: dict[str, Any]) -> None:
        """Refuse to finish a video Facebook rejected or let expire."""
        if status.get("video_status") == "expired":
            raise PlatformError(
                self.name,
                "the upload expired before it was published",
                kind="expired_session",
                code="expired",
            )
        if status.get("video_status") == "error":
            failed = _failed(status, "")
            raise PlatformError(self.name, failed.reason, kind="permanent", code=failed.code)


FB_FIELDS = {
    "views": ("blue_reels_play_count", 1.0),
    "reach": ("post_impressions_unique", 1.0),
    "watch_time_s": ("post_video_view_time", 0.001),
    "avg_view_duration_s": ("post_video_avg_time_watched", 0.001),
    "follows": ("post_video_followers", 1.0),
}


def read_insights(items: list[dict[str, Any]], duration_s: float, reading: Reading) -> None:
    """Read a reel's video insights, its retention graph included."""
    for name, (insight, scale) in FB_FIELDS.items():
        reading.put(name, value_of(items, insight), scale=scale, source=insight)
    reactions = value_of(items, "post_video_likes_by_reaction_type")
    if isinstance(reactions, dict):
        reading.put("likes", sum(v for v in reactions.values() if isinstance(v, int | float)))
    actions = value_of(items, "post_video_social_actions")
    if isinstance(actions, dict):
        reading.put("comments", actions.get("COMMENT", 0))
        reading.put("shares", actions.get("SHARE", 0))
    graph = value_of(items, "post_video_retention_graph")
    if not isinstance(graph, dict) or len(graph) < 2:
        reading.warnings.append("post_video_retention_graph is missing from the platform's answer")
        return
    try:
        points = sorted((int(k), float(v)) for k, v in graph.items())
    except (TypeError, ValueError):
        reading.warnings.append("post_video_retention_graph has unreadable points")
        return
    last = points[-1][0] or 1
    reading.set_curve(
        [k / last for k, _ in points], [v for _, v in points], f"{len(points)} points"
    )


def _posted(status: dict[str, Any]) -> bool:
    publish_status = (status.get("publishing_phase") or {}).get("publish_status")
    return publish_status in ("published", "scheduled")


def _video_state(status: dict[str, Any]) -> str:
    publishing = status.get("publishing_phase") or {}
    return "SCHEDULED" if publishing.get("publish_status") == "scheduled" else "PUBLISHED"


def _failed(status: dict[str, Any], video_id: str) -> Remote:
    if status.get("video_status") == "expired":
        return Remote(
            "failed",
            video_id or None,
            reason="the upload expired before it was published",
            code="expired",
        )
    error = (status.get("processing_phase") or {}).get("error") or {}
    reason = error.get("message") or "Facebook could not process the video"
    return Remote(
        "failed",
        video_id or None,
        reason=f"Facebook rejected the video: {reason}",
        code="processing_error",
    )
