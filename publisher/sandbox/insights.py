"""The emulators' analytics endpoints, answered from the simulated audience.

Each platform's metric endpoint speaks its documented shape (platforms.md §7): YouTube
Analytics' result table (no ``rows`` while the reporting delay hides the video), TikTok's
Display and Business video queries, the Graph API's insights for Instagram and Facebook,
Douyin's item data and Kuaishou's photo info. Route step: "analytics", for faults.

``Glitches`` make an endpoint misbehave for one post the way real platforms do: a
malformed body, a partial answer, impossible numbers.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from publisher.sandbox.audience import HOLD_SECONDS, Observation
from publisher.sandbox.core import Post, Request, Response
from publisher.sandbox.handlers import account_id

GLITCHES = ("malformed", "partial", "negative", "over")
YT_POINTS = 100
FB_POINTS = 41
DOUYIN_MAX_AGE_S = 30 * 86400.0


class Glitches:
    """Posts whose metrics come back broken, by (platform, remote id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_post: dict[tuple[str, str], str] = {}

    def add(self, platform: str, remote_id: str, kind: str) -> None:
        if kind not in GLITCHES:
            raise ValueError(f"unknown glitch {kind!r}; use one of {', '.join(GLITCHES)}")
        with self._lock:
            self._by_post[(platform, remote_id)] = kind

    def of(self, platform: str, remote_id: str) -> str:
        with self._lock:
            return self._by_post.get((platform, remote_id), "")


def install(sandbox: Any) -> None:
    """Add the analytics routes to every emulator the sandbox runs."""
    routes = {
        "youtube": _youtube,
        "tiktok": _tiktok,
        "instagram": _instagram,
        "facebook": _facebook,
        "douyin": _douyin,
    }
    for name, add in routes.items():
        if name in sandbox.platforms:
            add(sandbox.platforms[name])


def observe(platform: Any, post: Post) -> Observation | None:
    sandbox = platform.sandbox
    published = post.scheduled_at or post.created_at
    key = f"{post.platform}:{post.remote_id}"
    return sandbox.audience.observe(post.platform, key, post.sha256, published, platform.clock())


def _post(platform: Any, request: Request, remote_id: str) -> Post | None:
    post = platform.ledger.find(platform.name, remote_id)
    if post is None or post.account_id != account_id(request):
        return None
    return post


def _glitch(platform: Any, post: Post) -> str:
    return platform.sandbox.glitches.of(post.platform, post.remote_id)


# -- YouTube Analytics ---------------------------------------------------------------------


def _youtube(platform: Any) -> None:
    def reports(request: Request) -> Response:
        query = request.query
        video = query.get("filters", "").partition("video==")[2].split(";")[0]
        if not video:
            return platform.error(400, "badRequest", "filters=video==VIDEO_ID is required.")
        post = _post(platform, request, video)
        if post is None:
            return platform.error(403, "forbidden", "The video is not the channel's.")
        metrics = [m for m in query.get("metrics", "").split(",") if m]
        dimension = query.get("dimensions", "")
        headers = [{"name": dimension, "columnType": "DIMENSION", "dataType": "FLOAT"}] * bool(
            dimension
        ) + [{"name": m, "columnType": "METRIC", "dataType": "FLOAT"} for m in metrics]
        table: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        seen = observe(platform, post)
        glitch = _glitch(platform, post)
        if glitch == "malformed":
            return Response(200, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})
        if seen is not None and seen.views:  # no data yet: Google omits ``rows``
            if dimension == "elapsedVideoTimeRatio":
                table["rows"] = _youtube_curve(seen, metrics, glitch)
            else:
                values = _youtube_totals(seen, glitch)
                table["rows"] = [[values.get(m) for m in metrics]]
        return Response(200, table)

    platform.route("GET", "/v2/reports", reports, step="analytics")


def _youtube_totals(seen: Observation, glitch: str) -> dict[str, Any]:
    views = -seen.views if glitch == "negative" else seen.views
    values = {
        "views": views,
        "engagedViews": round(seen.views * seen.still_watching(HOLD_SECONDS)),
        "estimatedMinutesWatched": round(seen.watch_time_s / 60),
        "averageViewDuration": round(seen.avg_view_duration_s),
        "averageViewPercentage": round(100 * seen.avg_view_duration_s / seen.duration_s, 2),
        "likes": seen.likes,
        "comments": seen.comments,
        "shares": seen.shares,
        "subscribersGained": seen.follows,
    }
    if glitch == "partial":
        for name in ("estimatedMinutesWatched", "averageViewDuration", "likes"):
            values.pop(name)
    return values


def _youtube_curve(seen: Observation, metrics: list[str], glitch: str) -> list[list[Any]]:
    rows = []
    typical = 0.5 + (seen.completion - 0.25)  # above 0.5: holds better than similar videos
    for i in range(1, YT_POINTS + 1):
        ratio = i / YT_POINTS
        value = seen.still_watching(ratio * seen.duration_s)
        if glitch == "over":
            value *= 40  # beyond any loop
        row: list[Any] = [ratio]
        for metric in metrics:
            if metric == "audienceWatchRatio":
                row.append(round(value, 5))
            elif metric == "relativeRetentionPerformance":
                row.append(round(min(1.0, max(0.0, typical)), 3))
            else:
                row.append(None)
        rows.append(row)
    return rows


# -- TikTok ----------------------------------------------------------------------------------


def _tiktok(platform: Any) -> None:
    def display(request: Request) -> Response:
        ids = ((request.json().get("filters") or {}).get("video_ids")) or []
        if len(ids) > 20:
            return platform.error(400, "invalid_params", "At most 20 video_ids per query.")
        videos = []
        for remote_id in ids:
            post = _post(platform, request, str(remote_id))
            seen = observe(platform, post) if post else None
            if post is None or seen is None:
                continue  # TikTok leaves out what it cannot show
            videos.append(
                {
                    "id": post.remote_id,
                    "view_count": seen.views,
                    "like_count": seen.likes,
                    "comment_count": seen.comments,
                    "share_count": seen.shares,
                    "duration": round(seen.duration_s),
                }
            )
        envelope = {"data": {"videos": videos}, "error": {"code": "ok", "message": ""}}
        return Response(200, envelope)

    def business(request: Request) -> Response:
        if account_id(request).endswith("personal"):
            body = {"code": 40001, "message": "The account is not a Business Account.", "data": {}}
            return Response(200, body)
        try:
            ids = json.loads(request.query.get("filters") or "{}").get("video_ids") or []
        except ValueError:
            return Response(200, {"code": 40002, "message": "filters is not JSON.", "data": {}})
        videos = []
        for remote_id in ids:
            post = _post(platform, request, str(remote_id))
            seen = observe(platform, post) if post else None
            if post is None or seen is None:
                continue
            videos.append(_tiktok_business(seen, post, _glitch(platform, post)))
        return Response(200, {"code": 0, "message": "OK", "data": {"videos": videos}})

    platform.route("POST", "/v2/video/query/", display, step="analytics")
    platform.route("GET", "/open_api/v1.3/business/video/list/", business, step="analytics")


def _tiktok_business(seen: Observation, post: Post, glitch: str) -> dict[str, Any]:
    seconds = int(seen.duration_s)
    retention = [
        {"second": s, "percentage": round(100 * seen.still_watching(s), 2)}
        for s in range(seconds + 1)
    ]
    video: dict[str, Any] = {
        "item_id": post.remote_id,
        "video_views": -seen.views if glitch == "negative" else seen.views,
        "reach": seen.reach,
        "total_time_watched": round(seen.watch_time_s, 1),
        "average_time_watched": round(seen.avg_view_duration_s, 2),
        "full_video_watched_rate": round(seen.completion, 4),
        "video_duration": round(seen.duration_s, 2),
        "likes": seen.likes,
        "comments": seen.comments,
        "shares": seen.shares,
        "favorites": seen.saves,
        "new_followers": seen.follows,
        "video_view_retention": retention,
    }
    if glitch == "partial":
        video.pop("video_view_retention")
        video["average_time_watched"] = "n/a"
    if glitch == "over":
        video["full_video_watched_rate"] = 3.5
    return video


# -- Instagram and Facebook (Graph API insights) ------------------------------------------------


def _insight(name: str, value: Any, node: str) -> dict[str, Any]:
    title = name.replace("_", " ").capitalize()
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": title,
        "id": f"{node}/insights/{name}/lifetime",
    }


def _instagram(platform: Any) -> None:
    def insights(request: Request) -> Response:
        node = request.params["media"]
        post = _post(platform, request, node)
        if post is None:
            return platform.error(400, "100", f"Unsupported get request: object {node} not found.")
        seen = observe(platform, post)
        if seen is None or not seen.views:
            return Response(200, {"data": []})  # Meta answers with nothing while it counts
        glitch = _glitch(platform, post)
        skip = 1.0 - seen.still_watching(HOLD_SECONDS)
        values = {
            "views": -seen.views if glitch == "negative" else seen.views,
            "reach": seen.reach,
            "likes": seen.likes,
            "comments": seen.comments,
            "saved": seen.saves,
            "shares": seen.shares,
            "total_interactions": seen.likes + seen.comments + seen.saves + seen.shares,
            "ig_reels_avg_watch_time": round(seen.avg_view_duration_s * 1000),
            "ig_reels_video_view_total_time": round(seen.watch_time_s * 1000),
            "reels_skip_rate": round(100 * skip, 2) if glitch != "over" else 250.0,
            "follows": seen.follows,
        }
        asked = [m for m in request.query.get("metric", "").split(",") if m in values]
        if glitch == "partial":
            asked = asked[: len(asked) // 2]
        return Response(200, {"data": [_insight(m, values[m], node) for m in asked]})

    platform.graph("GET", r"/(?P<media>[^/]+)/insights", insights, step="analytics")


def _facebook(platform: Any) -> None:
    def video_insights(request: Request) -> Response:
        node = request.params["video"]
        post = _post(platform, request, node)
        if post is None:
            return platform.error(400, "100", f"Unsupported get request: object {node} not found.")
        seen = observe(platform, post)
        if seen is None or not seen.views:
            return Response(200, {"data": []})
        glitch = _glitch(platform, post)
        graph = {
            str(i): round(seen.still_watching(seen.duration_s * i / (FB_POINTS - 1)), 4)
            for i in range(FB_POINTS)
        }
        if glitch == "over":
            graph = {k: v * 30 for k, v in graph.items()}
        data = [
            _insight("blue_reels_play_count", seen.views, node),
            _insight("fb_reels_total_plays", round(seen.views * 1.15), node),
            _insight("post_impressions_unique", seen.reach, node),
            _insight("post_video_view_time", round(seen.watch_time_s * 1000), node),
            _insight("post_video_avg_time_watched", round(seen.avg_view_duration_s * 1000), node),
            _insight("post_video_retention_graph", graph, node),
            _insight("post_video_likes_by_reaction_type", {"REACTION_LIKE": seen.likes}, node),
            _insight(
                "post_video_social_actions", {"COMMENT": seen.comments, "SHARE": seen.shares}, node
            ),
            _insight("post_video_followers", seen.follows, node),
        ]
        if glitch == "negative":
            data[0] = _insight("blue_reels_play_count", -seen.views, node)
        if glitch == "partial":
            data = data[:2]
        if glitch == "malformed":
            return Response(200, {"data": "not a list"})
        return Response(200, {"data": data})

    platform.graph("GET", r"/(?P<video>[^/]+)/video_insights", video_insights, step="analytics")


# -- Douyin and Kuaishou ---------------------------------------------------------------------------


def _douyin(platform: Any) -> None:
    def item_base(request: Request) -> Response:
        post = _post(platform, request, request.query.get("item_id", ""))
        if post is None:
            return Response(200, platform.answer({}, 2100004, "item_id 不存在"))
        published = post.scheduled_at or post.created_at
        if platform.clock() - published > DOUYIN_MAX_AGE_S:
            return Response(200, platform.answer({}, 2190008, "只能查询 30 天内的视频数据"))
        seen = observe(platform, post)
        if seen is None:  # the day's numbers come the next morning
            return Response(200, platform.answer({"result": {}}, 0, ""))
        glitch = _glitch(platform, post)
        result = {
            "avg_play_duration": round(seen.avg_view_duration_s, 2),
            "total_play": -seen.views if glitch == "negative" else seen.views,
            "total_like": seen.likes,
            "total_comment": seen.comments,
            "total_share": seen.shares,
        }
        if glitch == "partial":
            result.pop("avg_play_duration")
        return Response(200, platform.answer({"result": result}, 0, ""))

    platform._api("GET", "/data/external/item/base/", item_base, step="analytics")


def kuaishou_counts(platform: Any, photo_id: str) -> dict[str, int]:
    """The counts Kuaishou's photo info carries: views, likes, comments (0 while unknown)."""
    post = platform.ledger.find(platform.name, photo_id)
    seen = observe(platform, post) if post is not None else None
    if seen is None:
        return {"like_count": 0, "comment_count": 0, "view_count": 0}
    views = -seen.views if _glitch(platform, post) == "negative" else seen.views
    return {"like_count": seen.likes, "comment_count": seen.comments, "view_count": views}
