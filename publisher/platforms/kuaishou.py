"""Kuaishou Open Platform client (platforms.md §6): fragment upload, publish, list; OAuth.

State the job persists between steps (all JSON)::

    {"upload_token": str, "endpoint": str,  # host[:port]/prefix, from start_upload
     "opened_at": float (epoch s), "part_size": int,
     "done": [int, …],       # fragment ids (0-based) Kuaishou acknowledged
     "acknowledged": int,    # bytes in those fragments
     "completed": bool,      # /api/upload/complete answered
     "caption": str,         # the caption, again at each publish
     "attempted_at": float | None,  # the first publish's time
     "photo_id": str | None} # from publish, or found by find_post

Kuaishou answers ``result: 1`` on success. Its other result codes are not documented
(✘): :data:`RESULT_KINDS` holds the sandbox's, the one table to correct against the
live platform. Refresh tokens rotate, and the new one keeps the old one's expiry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

from publisher.platforms import covers
from publisher.platforms.base import (
    DEFAULT_TIMEOUT,
    App,
    Kind,
    Media,
    PlatformClient,
    PlatformError,
    PostMeta,
    Progress,
    Remote,
    Tokens,
    read_chunk,
    retry_after,
)
from publisher.platforms.envelopes import body_of, kind_of
from publisher.platforms.insights import Malformed, Reading
from publisher.platforms.parts import Split

log = logging.getLogger(__name__)

MB = 1024 * 1024

# ✘ What each result code asks of the job (the sandbox's codes); any other is permanent.
RESULT_KINDS: dict[int, Kind] = {
    100200101: "auth",  # access token invalid or expired
    100200102: "auth",  # refresh token invalid, used or expired: the user authorizes again
    100200103: "expired_session",  # upload token invalid or expired: upload again
    100200104: "rate",
    100200105: "quota",  # daily publish limit
    100200500: "transient",  # server error
}


# Kuaishou's open API gives counts only: no watch time, no curve.
KUAISHOU_METRICS = {"views": "view_count", "likes": "like_count", "comments": "comment_count"}


class Client(PlatformClient):
    name = "kuaishou"
    display_name = "Kuaishou"
    DEFAULT_ENDPOINTS: ClassVar[dict[str, str]] = {
        "api": "https://open.kuaishou.com",
        "upload": "https://open.kuaishou.com",  # unused: start_upload names the upload host
        "auth": "https://open.kuaishou.com",
    }
    SCOPE = "user_info,user_video_publish,user_video_info"
    PART_SIZE = 8 * MB  # ✘ the size Kuaishou clients use; no documented bounds
    # ✘ No documented size, duration or caption limits: None means none is checked.
    MAX_DURATION_S: ClassVar[float | None] = None
    MAX_CAPTION: ClassVar[int | None] = None
    # How far before the publish attempt a listed photo may be dated and still be ours.
    CLOCK_SLACK_S = 300.0
    LIST_PAGES = 5

    def __init__(
        self,
        endpoints: dict[str, str] | None,
        app: App,
        *,
        chunk_size: int = PART_SIZE,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError(f"fragments need a positive size, not {chunk_size}")
        super().__init__(
            endpoints or dict(self.DEFAULT_ENDPOINTS), app, timeout=timeout, session=session
        )
        self.chunk_size = chunk_size

    # -- accounts ----------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "app_id": self.app.client_id,
            "scope": self.SCOPE,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "ua": "pc",  # the desktop consent page (QR code or login)
        }
        return f"{self.url('auth', '/oauth2/authorize')}?{urlencode(query)}"

    def exchange_code(self, code: str, *, redirect_uri: str, now: datetime) -> Tokens:
        query = {"code": code, "grant_type": "authorization_code"}
        return _tokens(self._oauth("/oauth2/access_token", query, "code exchange"), now)

    def refresh(self, tokens: Tokens, *, now: datetime) -> Tokens:
        """Rotate the tokens; the old refresh token dies, the new one keeps its expiry."""
        if not tokens.refresh_token:
            raise PlatformError(
                self.name, "no refresh token: connect the account again", kind="auth"
            )
        query = {"refresh_token": tokens.refresh_token, "grant_type": "refresh_token"}
        return _tokens(self._oauth("/oauth2/refresh_token", query, "token refresh"), now)

    def _oauth(self, path: str, query: dict[str, str], what: str) -> dict[str, Any]:
        # Documented as query parameters, the way Kuaishou's SDKs send them.
        query = {"app_id": self.app.client_id, "app_secret": self.app.client_secret, **query}
        return self._result(self.request("GET", self.url("auth", path), params=query), what)

    # -- publishing --------------------------------------------------------------------

    @classmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        reasons = []
        if media.size <= 0 or media.duration_s <= 0:
            reasons.append("the file is empty: no bytes or no duration")
        # Kuaishou itself takes landscape video; Hookline publishes vertical cuts there.
        if media.width >= media.height:
            reasons.append(
                f"Kuaishou cuts are vertical (9:16); this file is {media.width}x{media.height}"
            )
        if cls.MAX_DURATION_S is not None and media.duration_s > cls.MAX_DURATION_S:
            reasons.append(
                f"the video runs {media.duration_s:.0f} s; Kuaishou takes {cls.MAX_DURATION_S:.0f}"
            )
        if cls.MAX_CAPTION is not None and len(meta.caption) > cls.MAX_CAPTION:
            reasons.append(
                f"the caption has {len(meta.caption)} characters; Kuaishou takes {cls.MAX_CAPTION}"
            )
        return reasons

    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        data = self._call("POST", "/openapi/photo/start_upload", tokens, what="start upload")
        return {
            "upload_token": data["upload_token"],
            "endpoint": data["endpoint"],
            "opened_at": time.time(),
            "part_size": self.chunk_size,
            "done": [],
            "acknowledged": 0,
            "completed": False,
            "caption": meta.caption,
            "attempted_at": None,
            "photo_id": None,
        }

    def upload(
        self, tokens: Tokens, state: dict[str, Any], media: Media, *, progress: Progress
    ) -> None:
        split = Split(media.size, state["part_size"], first=0)
        for number in split.pending(state["done"]):
            self._send_fragment(state, media, split, number)
            state["done"].append(number)
            state["acknowledged"] = split.acknowledged(state["done"])
            progress(state["acknowledged"], media.size)
        if not state["completed"]:
            params = {"fragment_count": split.count}
            self._on_upload_host("/api/upload/complete", state, params, what="complete")
            state["completed"] = True

    def _send_fragment(
        self, state: dict[str, Any], media: Media, split: Split, number: int
    ) -> None:
        offset, length = split.span(number)
        self._on_upload_host(
            "/api/upload/fragment",
            state,
            {"fragment_id": number},
            what=f"fragment {number}",
            data=read_chunk(media.path, offset, length),
            headers={"Content-Type": "application/octet-stream"},
        )

    def _on_upload_host(
        self, path: str, state: dict[str, Any], params: dict[str, Any], *, what: str, **kwargs: Any
    ) -> None:
        """POST to the upload host start_upload named; the upload token is the credential."""
        endpoint = str(state["endpoint"])
        # The docs build http://{endpoint}; an endpoint with its own scheme keeps it.
        base = endpoint if "://" in endpoint else f"http://{endpoint}"
        query = {**params, "upload_token": state["upload_token"]}
        self._result(self.request("POST", base + path, params=query, **kwargs), what)

    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        if state["photo_id"]:  # made already, by an earlier finish or found by find_post
            return
        cover = self._cover(media)
        state["caption"] = meta.caption
        # The first attempt's time: any photo at or after it may be one of ours.
        state["attempted_at"] = state["attempted_at"] or time.time()
        data = self._call(
            "POST",
            "/openapi/photo/publish",
            tokens,
            what="publish",
            params={"upload_token": state["upload_token"]},
            data={"caption": meta.caption, "stereo_type": "NOT_SPHERICAL_VIDEO"},
            files={"cover": ("cover.jpg", cover, "image/jpeg")},
        )
        state["photo_id"] = str(data["video_info"]["photo_id"])

    def _cover(self, media: Media) -> bytes:
        """Return the cover Kuaishou requires: the video's first frame."""
        try:
            return covers.first_frame_jpeg(media.path)
        except covers.CoverError as exc:
            # Kuaishou probes the video itself and says why it fails; a black cover lets
            # its verdict reach the job instead of a cover problem hiding it.
            log.warning("kuaishou: %s; publishing with a black cover", exc)
            return covers.black_jpeg()

    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        """Look for the photo an unanswered publish made: same caption, made since then."""
        if state["photo_id"]:
            return True
        since_ms = 1000 * ((state["attempted_at"] or state["opened_at"]) - self.CLOCK_SLACK_S)
        for photo in self._photos_since(tokens, since_ms):
            if photo.get("caption") == state["caption"]:
                state["photo_id"] = str(photo["photo_id"])
                log.info("kuaishou: found photo %s from an unanswered publish", photo["photo_id"])
                return True
        return False

    def _photos_since(self, tokens: Tokens, since_ms: float) -> Iterator[dict[str, Any]]:
        """Yield the account's photos created at or after ``since_ms``, newest first."""
        params: dict[str, Any] = {"count": 20}
        for _ in range(self.LIST_PAGES):
            data = self._call("GET", "/openapi/photo/list", tokens, what="list", params=params)
            photos = data.get("video_list") or []
            yield from (p for p in photos if p.get("create_time", 0) >= since_ms)
            if not photos or any(p.get("create_time", 0) < since_ms for p in photos):
                return
            params["cursor"] = photos[-1]["photo_id"]

    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        photo_id = state["photo_id"]
        if not photo_id:
            return Remote("uploading")
        params = {"photo_id": photo_id}
        data = self._call("GET", "/openapi/photo/info", tokens, what="photo info", params=params)
        return _remote(data["video_info"])

    # -- analytics ------------------------------------------------------------------

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
        body = self._call(
            "GET", "/openapi/photo/info", tokens, what="photo info", params={"photo_id": remote_id}
        )
        info = body.get("video_info")
        if not isinstance(info, dict):
            raise Malformed("Kuaishou's photo info came without video_info")
        reading.raw["video_info"] = {k: info.get(k) for k in KUAISHOU_METRICS.values()}
        for name, field in KUAISHOU_METRICS.items():
            reading.put(name, info.get(field), source=field)
        return reading

    # -- HTTP --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        tokens: Tokens,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Call an /openapi endpoint as the account: app_id and access_token in the query."""
        query = {"app_id": self.app.client_id, "access_token": tokens.access_token}
        response = self.request(
            method, self.url("api", path), params={**query, **(params or {})}, **kwargs
        )
        return self._result(response, what)

    def _result(self, response: requests.Response, what: str) -> dict[str, Any]:
        """Return the answer when ``result`` is 1, or raise the PlatformError it stands for."""
        body = body_of(self.name, response, what)
        code = int(body.get("result") or 0)
        if response.ok and code == 1:
            return dict(body)
        raise PlatformError(
            self.name,
            f"{what}: {body.get('error_msg') or response.reason} (result {code})",
            kind=kind_of(response.status_code, code, RESULT_KINDS),
            status=response.status_code,
            code=str(code),
            retry_after=retry_after(response),
        )


def _tokens(data: dict[str, Any], now: datetime) -> Tokens:
    # With rotation, refresh_token_expires_in counts down to the first grant's expiry.
    refresh_in = data.get("refresh_token_expires_in")
    return Tokens(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token"),
        expires_at=now + timedelta(seconds=int(data["expires_in"])),
        refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
        account_id=data["open_id"],
        scope=",".join(data.get("scopes") or []),
    )


def _remote(info: dict[str, Any]) -> Remote:
    photo_id = str(info["photo_id"])
    # ✘ publish_status and fail_reason are the sandbox's: the docs show only `pending`.
    if info.get("publish_status") == "failed":
        reason = info.get("fail_reason") or "Kuaishou could not process the video"
        return Remote("failed", photo_id, reason=reason, code="processing_failed")
    if info.get("pending"):
        return Remote("processing", photo_id)
    return Remote("published", photo_id, url=f"https://www.kuaishou.com/short-video/{photo_id}")
