"""YouTube Shorts through the Data API v3: resumable upload, scheduling, captions.

The video exists once the last chunk is acknowledged (``videos.insert`` is the upload), so
``upload`` records the video id and ``finish`` only adds the caption tracks. Every
``upload`` call starts with a status probe: the job persists state only when a chunk is
acknowledged, and Google refuses bytes it already has, so what it says it holds is the
only safe place to continue from (shared/platforms.md §1).

State (JSON): ``{"session_uri", "size", "chunk_size", "acknowledged", "video_id"?,
"caption_languages": [...], "captions": {language: caption id | None}}``.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests

from hookline.clock import as_utc, utcnow
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

PACIFIC = ZoneInfo("America/Los_Angeles")
CHUNK_MULTIPLE = 256 * 1024
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",  # captions.insert needs it
)
PRIVACY = ("public", "unlisted", "private")
SHORTS_MAX_S = 180.0
CAPTION_UNITS = 400
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
QUOTA_REASONS = ("quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded")
ENTERTAINMENT = "24"  # videoCategories id
ANALYTICS_METRICS = (
    "views",
    "engagedViews",
    "estimatedMinutesWatched",
    "averageViewDuration",
    "averageViewPercentage",
    "likes",
    "comments",
    "shares",
    "subscribersGained",
)
# Hookline's metric: (YouTube's metric, scale).
ANALYTICS_FIELDS = {
    "views": ("views", 1.0),
    "watch_time_s": ("estimatedMinutesWatched", 60.0),
    "avg_view_duration_s": ("averageViewDuration", 1.0),
    "avg_percent_viewed": ("averageViewPercentage", 1.0),
    "likes": ("likes", 1.0),
    "comments": ("comments", 1.0),
    "shares": ("shares", 1.0),
    "follows": ("subscribersGained", 1.0),
}


class Client(PlatformClient):
    name = "youtube"
    display_name = "YouTube"
    # "token" is Google's token host; without it (the sandbox) the token path is on "auth".
    DEFAULT_ENDPOINTS: ClassVar[dict[str, str]] = {
        "api": "https://www.googleapis.com",
        "upload": "https://www.googleapis.com",
        "auth": "https://accounts.google.com/o/oauth2/v2",
        "token": "https://oauth2.googleapis.com",
        "analytics": "https://youtubeanalytics.googleapis.com",
    }

    def __init__(
        self, endpoints: dict[str, str], app: App, *, chunk_size: int = 16 * 1024 * 1024, **kw: Any
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
            raise ValueError("YouTube chunks must be a positive multiple of 256 KiB (262144 bytes)")
        super().__init__(endpoints, app, **kw)
        self.chunk_size = chunk_size

    # -- accounts ------------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "client_id": self.app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "access_type": "offline",  # a refresh token, to publish while nobody is there
            "prompt": "consent",  # Google returns the refresh token on consent only
            "include_granted_scopes": "true",
            "state": state,
        }
        return self.url("auth", "/auth") + "?" + urlencode(query)

    def exchange_code(self, code: str, *, redirect_uri: str, now: datetime) -> Tokens:
        granted = self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        tokens = _tokens(granted, now, refresh_token=granted.get("refresh_token"))
        return dataclasses.replace(tokens, account_id=self._channel_id(tokens.access_token))

    def refresh(self, tokens: Tokens, *, now: datetime) -> Tokens:
        if not tokens.refresh_token:
            raise PlatformError(self.name, "no refresh token: reconnect the channel", kind="auth")
        granted = self._token(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        )
        renewed = _tokens(granted, now, refresh_token=tokens.refresh_token)  # it does not rotate
        return dataclasses.replace(renewed, account_id=tokens.account_id)

    def _token(self, fields: dict[str, str]) -> dict[str, Any]:
        form = {**fields, "client_id": self.app.client_id, "client_secret": self.app.client_secret}
        host = "token" if "token" in self.endpoints else "auth"
        response = self.request("POST", self.url(host, "/token"), data=form)
        if response.status_code != 200:
            raise self._failure(response)
        return response.json()

    def _channel_id(self, access_token: str) -> str:
        response = self.request(
            "GET",
            self.url("api", "/youtube/v3/channels"),
            params={"part": "id", "mine": "true"},
            headers=_bearer(access_token),
        )
        if response.status_code != 200:
            raise self._failure(response)
        items = response.json().get("items") or []
        if not items:
            raise PlatformError(
                self.name,
                "this Google account has no YouTube channel: create one, then reconnect",
                kind="auth",
                status=401,
                code="youtubeSignupRequired",
            )
        return items[0]["id"]

    # -- publishing ----------------------------------------------------------------------

    @classmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        reasons = []
        if media.duration_s > SHORTS_MAX_S:
            reasons.append(
                f"{media.duration_s:.0f} s is over 3 minutes: YouTube would not make it a Short"
            )
        if media.width > media.height:
            reasons.append(
                f"{media.width}x{media.height} is landscape: YouTube makes only vertical or "
                "square videos Shorts"
            )
        reasons += _text_refusals(meta.title, meta.caption)
        if tags_length(_tags(meta)) > 500:
            reasons.append("the hashtags add up to more than 500 characters (YouTube's tag limit)")
        if meta.privacy not in PRIVACY:
            reasons.append(f"YouTube has no {meta.privacy!r} privacy; use {', '.join(PRIVACY)}")
        if meta.localizations and not meta.language:
            reasons.append("localized titles need the video's own language (defaultLanguage)")
        for language, (title, description) in meta.localizations.items():
            reasons += [f"{language}: {r}" for r in _text_refusals(title, description)]
        return reasons

    def quotas(self, meta: PostMeta) -> list[Quota]:
        spends = [Quota("videos.insert", 1, 100, "day_pacific")]
        if meta.captions:
            spends.append(Quota("units", CAPTION_UNITS * len(meta.captions), 10_000, "day_pacific"))
        return spends

    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        response = self.request(
            "POST",
            self.url("upload", "/upload/youtube/v3/videos"),
            params={"uploadType": "resumable", "part": "snippet,status,localizations"},
            headers={
                **_bearer(tokens.access_token),
                "X-Upload-Content-Length": str(media.size),
                "X-Upload-Content-Type": media.mime_type,
            },
            json=video_resource(meta),
        )
        if response.status_code != 200 or "Location" not in response.headers:
            raise self._failure(response)
        return {
            "session_uri": response.headers["Location"],
            "size": media.size,
            "chunk_size": self.chunk_size,
            "acknowledged": 0,
            "caption_languages": [c.language for c in meta.captions],
            "captions": {},
        }

    def upload(
        self, tokens: Tokens, state: dict[str, Any], media: Media, *, progress: Progress
    ) -> None:
        self._probe(tokens, state)
        while "video_id" not in state:
            before = state["acknowledged"]
            self._take(self._send_chunk(tokens, state, media), state)
            if state["acknowledged"] <= before and "video_id" not in state:
                # Resending what Google will not keep would loop; let the job back off.
                raise PlatformError(self.name, "YouTube kept none of the chunk", kind="transient")
            progress(state["acknowledged"], media.size)

    def _probe(self, tokens: Tokens, state: dict[str, Any]) -> None:
        """Ask Google what it holds (a finished upload answers with the video again)."""
        response = self.request(
            "PUT",
            state["session_uri"],
            headers={**_bearer(tokens.access_token), "Content-Range": f"bytes */{state['size']}"},
            data=b"",
            allow_redirects=False,
        )
        self._take(response, state)

    def _send_chunk(self, tokens: Tokens, state: dict[str, Any], media: Media) -> requests.Response:
        first = state["acknowledged"]
        data = read_chunk(media.path, first, state["chunk_size"])
        headers = {
            **_bearer(tokens.access_token),
            "Content-Type": media.mime_type,
            "Content-Range": f"bytes {first}-{first + len(data) - 1}/{media.size}",
        }
        return self.request(
            "PUT", state["session_uri"], headers=headers, data=data, allow_redirects=False
        )

    def _take(self, response: requests.Response, state: dict[str, Any]) -> None:
        """Record what a session answer says: bytes kept (308) or the created video."""
        if response.status_code == 308:
            state["acknowledged"] = kept_bytes(response.headers.get("Range"))
        elif response.status_code in (200, 201):
            state["video_id"] = response.json()["id"]
            state["acknowledged"] = state["size"]
        else:
            raise self._failure(response, session=True)

    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        if "video_id" not in state:
            self._probe(tokens, state)
        if "video_id" not in state:
            raise PlatformError(
                self.name,
                f"the upload stopped at {state['acknowledged']} of {state['size']} bytes",
                kind="transient",
                code="uploadIncomplete",
            )
        for caption in meta.captions:
            if caption.language not in state["captions"]:
                state["captions"][caption.language] = self._insert_caption(
                    tokens, state["video_id"], caption.language, caption.name, caption.path
                )

    def _insert_caption(
        self, tokens: Tokens, video_id: str, language: str, name: str, path: Path
    ) -> str | None:
        """Add one caption track; return its id (None when an earlier try already made it)."""
        snippet = {"videoId": video_id, "language": language, "name": name, "isDraft": False}
        body, content_type = multipart_related({"snippet": snippet}, path.read_bytes())
        response = self.request(
            "POST",
            self.url("upload", "/upload/youtube/v3/captions"),
            params={"uploadType": "multipart", "part": "snippet"},
            headers={**_bearer(tokens.access_token), "Content-Type": content_type},
            data=body,
        )
        if response.status_code == 409:  # captionExists: a lost answer hid an earlier success
            return None
        if response.status_code != 200:
            raise self._failure(response)
        return response.json()["id"]

    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        if "video_id" not in state:
            self._probe(tokens, state)
        pending = set(state["caption_languages"]) - set(state["captions"])
        # finish adds the captions; until they are all there it has work left to do.
        return "video_id" in state and not pending

    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        video = self._video(tokens, state["video_id"])
        if video is None:
            return Remote("failed", state["video_id"], reason="the video is gone", code="notFound")
        return remote_of(video)

    def _video(self, tokens: Tokens, video_id: str) -> dict[str, Any] | None:
        response = self.request(
            "GET",
            self.url("api", "/youtube/v3/videos"),
            params={"part": "status,processingDetails", "id": video_id},
            headers=_bearer(tokens.access_token),
        )
        if response.status_code != 200:
            raise self._failure(response)
        items = response.json().get("items") or []
        return items[0] if items else None

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
        query = {
            "ids": "channel==MINE",
            "startDate": published_at.date().isoformat(),
            "endDate": now.date().isoformat(),
            "filters": f"video=={remote_id}",
        }
        totals = self._report(tokens, {**query, "metrics": ",".join(ANALYTICS_METRICS)})
        reading.raw["totals"] = totals
        if not totals.get("rows"):  # Google omits rows until it has data (2-3 days behind)
            reading.delayed = True
            reading.warnings.append("YouTube Analytics has no data for the video yet")
            return reading
        row = dict(zip(_columns(totals), totals["rows"][0], strict=False))
        for name, (metric, scale) in ANALYTICS_FIELDS.items():
            reading.put(name, row.get(metric), scale=scale, source=metric)
        engaged, views = row.get("engagedViews"), row.get("views")
        if isinstance(engaged, int | float) and isinstance(views, int | float) and views > 0:
            reading.values["hook_rate"] = engaged / views
            reading.hook_rate_definition = "engaged views / views (Shorts)"
        curve = self._report(
            tokens,
            {
                **query,
                "dimensions": "elapsedVideoTimeRatio",
                "metrics": "audienceWatchRatio,relativeRetentionPerformance",
            },
        )
        reading.raw["retention"] = curve
        self._read_curve(curve, reading)
        return reading

    def _read_curve(self, table: dict[str, Any], reading: Reading) -> None:
        rows = [r for r in table.get("rows") or [] if isinstance(r, list) and len(r) >= 3]
        if not rows:
            reading.warnings.append("YouTube gave no retention curve for the video")
            return
        try:
            xs = [0.0] + [float(r[0]) for r in rows]
            ys = [1.0] + [float(r[1]) for r in rows]
            relative = [float(r[2]) for r in rows if r[2] is not None]
        except (TypeError, ValueError):
            reading.warnings.append("YouTube's retention curve has values that are not numbers")
            return
        reading.set_curve(xs, ys, f"{len(rows)} points (elapsedVideoTimeRatio)")
        if relative:
            reading.relative_performance = sum(relative) / len(relative)

    def _report(self, tokens: Tokens, query: dict[str, str]) -> dict[str, Any]:
        host = "analytics" if "analytics" in self.endpoints else "api"
        response = self.request(
            "GET", self.url(host, "/v2/reports"), params=query, headers=_bearer(tokens.access_token)
        )
        if response.status_code != 200:
            raise self._failure(response)
        try:
            table = response.json()
        except ValueError:
            raise Malformed(f"YouTube Analytics answered with {response.text[:60]!r}") from None
        if not isinstance(table, dict) or "columnHeaders" not in table:
            raise Malformed("YouTube Analytics answered without columnHeaders")
        return table

    # -- errors ----------------------------------------------------------------------------

    def _failure(self, response: requests.Response, *, session: bool = False) -> PlatformError:
        reason, message = google_error(response)
        status = response.status_code
        kind = error_kind(status, reason, session=session)
        wait = None
        if kind == "rate":
            wait = retry_after(response)
        elif kind == "quota":
            wait = seconds_to_pacific_midnight(utcnow())
        return PlatformError(
            self.name,
            message or f"HTTP {status}",
            kind=kind,
            status=status,
            code=reason,
            retry_after=wait,
        )


# -- plain rules and shapes, no I/O -----------------------------------------------------------


def video_resource(meta: PostMeta) -> dict[str, Any]:
    """Return the video resource videos.insert gets for this post."""
    snippet: dict[str, Any] = {
        "title": meta.title,
        "description": meta.caption,
        "tags": _tags(meta),
        "categoryId": ENTERTAINMENT,
    }
    if meta.language:
        snippet["defaultLanguage"] = meta.language
        snippet["defaultAudioLanguage"] = meta.language
    resource: dict[str, Any] = {"snippet": snippet, "status": _privacy(meta)}
    if meta.localizations:
        resource["localizations"] = {
            language: {"title": title, "description": description}
            for language, (title, description) in meta.localizations.items()
        }
    return resource


def _privacy(meta: PostMeta) -> dict[str, Any]:
    status: dict[str, Any] = {"privacyStatus": meta.privacy, "selfDeclaredMadeForKids": False}
    # YouTube schedules by keeping the video private until publishAt, then making it
    # public; an unlisted or private post has no public moment, so it goes up as asked.
    if meta.publish_at is not None and meta.privacy == "public":
        status["privacyStatus"] = "private"
        status["publishAt"] = as_utc(meta.publish_at).strftime("%Y-%m-%dT%H:%M:%SZ")
    return status


def _tags(meta: PostMeta) -> list[str]:
    return [tag.lstrip("#") for tag in meta.hashtags]


def tags_length(tags: list[str]) -> int:
    """Count tags as YouTube does: commas between them, quotes around those with spaces."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def _text_refusals(title: str, description: str) -> list[str]:
    reasons = []
    if not title.strip():
        reasons.append("YouTube needs a title")
    if len(title) > 100:
        reasons.append(f"the title has {len(title)} characters; YouTube allows 100")
    if len(description.encode()) > 5000:
        reasons.append(f"the description is {len(description.encode())} bytes; YouTube allows 5000")
    if any(c in title + description for c in "<>"):
        reasons.append("YouTube refuses < and > in titles and descriptions")
    return reasons


def kept_bytes(range_header: str | None) -> int:
    """Return how many bytes a 308's ``Range: bytes=0-N`` says Google kept (0 without one)."""
    if not range_header:
        return 0
    return int(range_header.rsplit("-", 1)[1]) + 1


def multipart_related(metadata: dict[str, Any], media: bytes) -> tuple[bytes, str]:
    """Return a multipart/related body (JSON metadata, then the file) and its content type."""
    boundary = f"hookline-{secrets.token_hex(12)}"
    body = b"".join(
        [
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
            json.dumps(metadata).encode(),
            f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode(),
            media,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, f'multipart/related; boundary="{boundary}"'


def remote_of(video: dict[str, Any]) -> Remote:
    """Read a video resource as processing, scheduled, published or failed."""
    status = video.get("status") or {}
    url = f"https://youtube.com/shorts/{video['id']}"
    upload = status.get("uploadStatus")
    if upload in ("failed", "rejected", "deleted"):
        code = status.get("failureReason") or status.get("rejectionReason") or upload
        return Remote("failed", video["id"], reason=f"YouTube {upload} the video", code=code)
    if upload != "processed":
        return Remote("processing", video["id"], url)
    if status.get("publishAt") and status.get("privacyStatus") == "private":
        return Remote("scheduled", video["id"], url)
    return Remote("published", video["id"], url)


def google_error(response: requests.Response) -> tuple[str, str]:
    """Return (reason, message) from Google's API or OAuth error body."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # the API: {"error": {"errors": [{"reason": …}], "message": …}}
        details = error.get("errors") or [{}]
        return details[0].get("reason", ""), error.get("message", "")
    if isinstance(error, str):  # OAuth: {"error": "invalid_grant", "error_description": …}
        return error, body.get("error_description", "")
    return "", ""


def error_kind(status: int, reason: str, *, session: bool = False) -> Kind:
    """Say what a failed call means for the job (platforms.md §1.4)."""
    if session and status in (404, 410):
        return "expired_session"  # the session URI is gone: upload again from byte 0
    if status == 401 or reason in ("invalid_grant", "invalid_client", "authError"):
        return "auth"
    if status == 429 or reason in RATE_REASONS:
        return "rate"
    if reason in QUOTA_REASONS:
        return "quota"
    if status >= 500:
        return "transient"
    return "permanent"


def seconds_to_pacific_midnight(now: datetime) -> float:
    """Return the seconds until YouTube's quota day starts again (midnight Pacific)."""
    tomorrow = now.astimezone(PACIFIC).date() + timedelta(days=1)
    return (datetime.combine(tomorrow, time(0), PACIFIC) - now).total_seconds()


def _tokens(granted: dict[str, Any], now: datetime, *, refresh_token: str | None) -> Tokens:
    return Tokens(
        access_token=granted["access_token"],
        refresh_token=refresh_token,
        expires_at=now + timedelta(seconds=int(granted.get("expires_in", 3600))),
        scope=granted.get("scope", ""),
    )


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _columns(table: dict[str, Any]) -> list[str]:
    return [str(h.get("name")) for h in table.get("columnHeaders") or [] if isinstance(h, dict)]
