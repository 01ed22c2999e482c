"""Douyin Open Platform client (platforms.md §5): part upload, create, list, data; OAuth.

State the job persists between steps (all JSON)::

    {"upload_id": str, "opened_at": float (epoch s), "part_size": int,
     "done": [int, …],       # part numbers (1-based) Douyin acknowledged
     "acknowledged": int,    # bytes in those parts
     "video_id": str | None, # from part complete
     "text": str,            # the caption, again at each create
     "attempted_at": float | None,  # the first create's time
     "item_id": str | None}  # from create, or found by find_post

``find_post`` looks for items made after the first create, or after the upload opened
when the job could not keep the state that create changed.

Douyin answers HTTP 200 with ``data.error_code`` for its refusals; the code decides the
kind of :class:`PlatformError`, HTTP 429 and 5xx decide when the envelope is missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

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
from publisher.platforms.insights import Reading
from publisher.platforms.parts import Split

log = logging.getLogger(__name__)

MB = 1024 * 1024

# What Douyin's error codes (as its SDKs list them) ask of the job; any other is permanent.
KINDS: dict[int, Kind] = {
    10001: "transient",  # system error (OAuth endpoints)
    10008: "auth",  # access token invalid or expired (OAuth-era endpoints)
    10010: "auth",  # refresh token expired: the user authorizes again
    10020: "auth",  # refresh token renewed too often: the user authorizes again
    2100004: "transient",  # system busy
    2190001: "quota",  # quota used up
    2190002: "auth",  # access token invalid
    2190003: "auth",  # the user did not grant this API
    2190008: "auth",  # access token expired
    2190015: "auth",  # access token and open_id do not match
}
IN_REVIEW, REJECTED = 4, 2  # video_status values; 1, 5, 6 and 7 are published ones


DOUYIN_METRICS = {
    "views": "total_play",
    "avg_view_duration_s": "avg_play_duration",
    "likes": "total_like",
    "comments": "total_comment",
    "shares": "total_share",
}


class Client(PlatformClient):
    name = "douyin"
    display_name = "Douyin"
    DEFAULT_ENDPOINTS: ClassVar[dict[str, str]] = {
        "api": "https://open.douyin.com",
        "upload": "https://open.douyin.com",
        "auth": "https://open.douyin.com",
    }
    SCOPE = "user_info,video.create,video.list,video.data"
    PART_SIZE = 20 * MB  # Douyin recommends 20 MB parts
    MIN_PART = 5 * MB  # and refuses smaller ones, but for the last
    MAX_BYTES = 4 * 1024 * MB
    MAX_DURATION_S = 15 * 60.0
    MAX_TEXT = 1000  # ✘ no documented limit for `text`; the emulator's knob matches
    FORMATS: ClassVar[dict[str, str]] = {".mp4": "video/mp4", ".webm": "video/webm"}
    # An upload_id lives 2 h; give up 10 min early so clock skew never sends a dead one.
    UPLOAD_LIFE_S = 2 * 3600.0 - 600
    # The access token lives 15 d, so the next refresh may come 15 d from now: renew the
    # refresh token (30 d) while that wait would outlive it.
    RENEW_WITHIN = timedelta(days=20)
    # How far before the create attempt a listed item may be dated and still be ours.
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
        if chunk_size < self.MIN_PART:
            raise ValueError(f"Douyin parts are at least 5 MB, not {chunk_size} bytes")
        super().__init__(
            endpoints or dict(self.DEFAULT_ENDPOINTS), app, timeout=timeout, session=session
        )
        self.chunk_size = chunk_size

    # -- accounts ----------------------------------------------------------------------

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "client_key": self.app.client_id,
            "response_type": "code",
            "scope": self.SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.url('auth', '/platform/oauth/connect/')}?{urlencode(query)}"

    def exchange_code(self, code: str, *, redirect_uri: str, now: datetime) -> Tokens:
        form = {
            "client_key": self.app.client_id,
            "client_secret": self.app.client_secret,
            "code": code,
            "grant_type": "authorization_code",
        }
        return _tokens(self._oauth("/oauth/access_token/", form, "code exchange"), now)

    def refresh(self, tokens: Tokens, *, now: datetime) -> Tokens:
        """Refresh the access token, renewing the refresh token first when it runs short."""
        if not tokens.refresh_token:
            raise PlatformError(
                self.name, "no refresh token: connect the account again", kind="auth"
            )
        refresh_token = tokens.refresh_token
        until = tokens.refresh_expires_at
        if until is not None and until - now < self.RENEW_WITHIN:
            refresh_token = self._renew(refresh_token)
        form = {
            "client_key": self.app.client_id,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        return _tokens(self._oauth("/oauth/refresh_token/", form, "token refresh"), now)

    def _renew(self, refresh_token: str) -> str:
        """Trade the refresh token for one with a fresh 30 days (the old one dies)."""
        form = {"client_key": self.app.client_id, "refresh_token": refresh_token}
        data = self._oauth("/oauth/renew_refresh_token/", form, "refresh token renewal")
        log.info("douyin: refresh token renewed for %s s", data.get("expires_in"))
        return str(data["refresh_token"])

    def _oauth(self, path: str, form: dict[str, str], what: str) -> dict[str, Any]:
        # The docs' table shows GET with a query; current docs and SDKs POST a form, which
        # keeps the secret out of URLs and out of the session's GET retries.
        return self._data(self.request("POST", self.url("auth", path), data=form), what)

    # -- publishing --------------------------------------------------------------------

    @classmethod
    def refusals(cls, media: Media, meta: PostMeta) -> list[str]:
        reasons = []
        if media.size <= 0 or media.duration_s <= 0:
            reasons.append("the file is empty: no bytes or no duration")
        # Stored media has no extension, only its probed MIME type; a named file has both.
        suffix = media.path.suffix.lower()
        if media.mime_type not in cls.FORMATS.values() or (suffix and suffix not in cls.FORMATS):
            reasons.append(
                f"Douyin takes mp4 or webm files; this one is {media.path.suffix or '?'} "
                f"({media.mime_type})"
            )
        if media.duration_s > cls.MAX_DURATION_S:
            reasons.append(
                f"Douyin takes up to 15 min; this video runs {media.duration_s / 60:.1f} min"
            )
        if media.size > cls.MAX_BYTES:
            reasons.append(
                f"Douyin takes files up to 4 GB; this one has {media.size / 1024**3:.1f} GB"
            )
        # Douyin itself takes landscape video; Hookline publishes vertical cuts there.
        if media.width >= media.height:
            reasons.append(
                f"Douyin cuts are vertical (9:16); this file is {media.width}x{media.height}"
            )
        if len(meta.caption) > cls.MAX_TEXT:
            reasons.append(
                f"the caption has {len(meta.caption)} characters; Douyin takes {cls.MAX_TEXT}"
            )
        return reasons

    def begin(self, tokens: Tokens, media: Media, meta: PostMeta) -> dict[str, Any]:
        data = self._call("POST", "/video/part/init/", tokens, what="part init", endpoint="upload")
        return {
            "upload_id": data["upload_id"],
            "opened_at": time.time(),
            "part_size": self.chunk_size,
            "done": [],
            "acknowledged": 0,
            "video_id": None,
            "text": meta.caption,
            "attempted_at": None,
            "item_id": None,
        }

    def upload(
        self, tokens: Tokens, state: dict[str, Any], media: Media, *, progress: Progress
    ) -> None:
        split = Split(media.size, state["part_size"], first=1)
        for number in split.pending(state["done"]):
            self._send_part(tokens, state, media, split, number)
            state["done"].append(number)
            state["acknowledged"] = split.acknowledged(state["done"])
            progress(state["acknowledged"], media.size)
        if state["video_id"] is None:
            state["video_id"] = self._complete(tokens, state)

    def _send_part(
        self, tokens: Tokens, state: dict[str, Any], media: Media, split: Split, number: int
    ) -> None:
        self._check_alive(state)
        offset, length = split.span(number)
        video = (media.path.name, read_chunk(media.path, offset, length), media.mime_type)
        self._call(
            "POST",
            "/video/part/upload/",
            tokens,
            what=f"part {number}",
            endpoint="upload",
            params={"upload_id": state["upload_id"], "part_number": number},
            files={"video": video},
        )

    def _complete(self, tokens: Tokens, state: dict[str, Any]) -> str:
        """Close the upload; Douyin probes the file and names the video it made of it."""
        self._check_alive(state)
        params = {"upload_id": state["upload_id"]}
        path = "/video/part/complete/"
        data = self._call("POST", path, tokens, what="complete", endpoint="upload", params=params)
        return str(data["video"]["video_id"])

    def _check_alive(self, state: dict[str, Any]) -> None:
        age = time.time() - state["opened_at"]
        if age > self.UPLOAD_LIFE_S:
            raise PlatformError(
                self.name,
                f"the upload_id is {age / 3600:.1f} h old and Douyin keeps one 2 h: "
                "start the upload again",
                kind="expired_session",
            )

    def finish(self, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta) -> None:
        if state["item_id"]:  # made already, by an earlier finish or found by find_post
            return
        state["text"] = meta.caption
        # The first attempt's time: any item at or after it may be one of ours.
        state["attempted_at"] = state["attempted_at"] or time.time()
        body = {"video_id": state["video_id"], "text": meta.caption}
        data = self._call("POST", "/video/create/", tokens, what="create", json=body)
        state["item_id"] = data["item_id"]

    def find_post(self, tokens: Tokens, state: dict[str, Any]) -> bool:
        """Look for the item an unanswered create made: by video_id where listed, else text."""
        if state["item_id"]:
            return True
        since = (state["attempted_at"] or state["opened_at"]) - self.CLOCK_SLACK_S
        for item in self._items_since(tokens, since):
            if _is_ours(item, state):
                state["item_id"] = item["item_id"]
                log.info("douyin: found item %s from an unanswered create", item["item_id"])
                return True
        return False

    def _items_since(self, tokens: Tokens, since: float) -> Iterator[dict[str, Any]]:
        """Yield the account's items created at or after ``since``, newest first."""
        cursor = 0
        for _ in range(self.LIST_PAGES):
            params = {"cursor": cursor, "count": 20}
            data = self._call("GET", "/video/list/", tokens, what="video list", params=params)
            items = data.get("list") or []
            yield from (i for i in items if i.get("create_time", 0) >= since)
            older = any(i.get("create_time", 0) < since for i in items)
            if older or not data.get("has_more"):
                return
            cursor = data["cursor"]

    def status(self, tokens: Tokens, state: dict[str, Any]) -> Remote:
        item_id = state["item_id"]
        if not item_id:
            return Remote("uploading")
        body = {"item_ids": [item_id]}
        data = self._call("POST", "/video/data/", tokens, what="video data", json=body)
        found = [i for i in data.get("list") or [] if i.get("item_id") == item_id]
        if not found:
            raise PlatformError(
                self.name, f"item {item_id} is gone from the account", kind="permanent"
            )
        return _remote(found[0])

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
        data = self._call(
            "GET",
            "/data/external/item/base/",
            tokens,
            what="item data",
            params={"item_id": remote_id},
        )
        result = data.get("result")
        reading.raw["item"] = result
        if not isinstance(result, dict) or not result:
            reading.delayed = True
            reading.warnings.append("Douyin reports a day's plays the next morning")
            return reading
        for name, field in DOUYIN_METRICS.items():
            reading.put(name, result.get(field), source=field)
        return reading

    # -- HTTP --------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        tokens: Tokens,
        *,
        what: str,
        endpoint: str = "api",
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Call an OpenAPI endpoint as the account: open_id in the query, token in a header."""
        query = {"open_id": tokens.account_id, **(params or {})}
        headers = {"access-token": tokens.access_token}
        url = self.url(endpoint, path)
        response = self.request(method, url, params=query, headers=headers, **kwargs)
        return self._data(response, what)

    def _data(self, response: requests.Response, what: str) -> dict[str, Any]:
        """Return the envelope's ``data``, or raise the PlatformError its code stands for."""
        body = body_of(self.name, response, what)
        data = body.get("data") or {}
        extra = body.get("extra") or {}
        code = int(data.get("error_code") or extra.get("error_code") or 0)
        if response.ok and code == 0:
            return data
        words = data.get("description") or extra.get("description") or response.reason
        raise PlatformError(
            self.name,
            f"{what}: {words} (error {code})",
            kind=kind_of(response.status_code, code, KINDS),
            status=response.status_code,
            code=str(code) if code else "",
            retry_after=retry_after(response),
        )


def _tokens(data: dict[str, Any], now: datetime) -> Tokens:
    refresh_in = data.get("refresh_expires_in")
    return Tokens(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token"),
        expires_at=now + timedelta(seconds=int(data["expires_in"])),
        refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
        account_id=data["open_id"],
        scope=data.get("scope", ""),
    )


def _is_ours(item: dict[str, Any], state: dict[str, Any]) -> bool:
    if "video_id" in item:  # where the list shows it, the video_id is proof
        return bool(item["video_id"] == state["video_id"])
    return bool(item.get("title") == state["text"])


def _remote(item: dict[str, Any]) -> Remote:
    item_id = str(item["item_id"])
    status = int(item.get("video_status") or 0)
    if not item.get("is_reviewed") or status == IN_REVIEW:
        return Remote("processing", item_id)
    if status == REJECTED:
        reason = "Douyin's review found the video not suitable for the public (不适宜公开)"
        return Remote("failed", item_id, reason=reason, code=f"video_status {status}")
    return Remote("published", item_id, url=f"https://www.douyin.com/video/{item_id}")
