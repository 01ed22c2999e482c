"""Instagram Reels through the Graph API, emulated (platforms.md section 3).

A reel is a *container*: created (``POST /{ig-user-id}/media``, resumable), filled through
rupload (``/ig-api-upload/{ver}/{container}``), processed (IN_PROGRESS, then FINISHED or
ERROR), published once (``POST /{ig-user-id}/media_publish``, PUBLISHED), or left to
EXPIRE after 24 h. At most ``publish_limit`` posts per rolling 24 h, reported by
``content_publishing_limit``.

Emulator knobs (✘): publishing a PUBLISHED container answers code 24 / 2207008 ("the
media builder does not exist"), since Meta does not document that case; every spec
violation is reported as 2207026; ``video_url`` containers are refused as unfetchable.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from publisher.sandbox.core import Account, Post, Request, Response
from publisher.sandbox.meta import (
    DAY_S,
    GRAPH_VERSION,
    VERSION,
    GraphEmulator,
    RuploadSession,
    VideoFacts,
    graph_id,
    is_mp4_or_mov,
)

UNSUPPORTED_VIDEO = 2207026
MAX_BYTES = 300 * 1024 * 1024
STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: Media was not published within 24 hours.",
    "ERROR": f"Error: Media upload has failed with error code {UNSUPPORTED_VIDEO}",
}


@dataclass
class Container:
    id: str
    owner: str  # the IG user id
    caption: str
    share_to_feed: bool
    created: float
    upload: RuploadSession
    media_id: str | None = None


@dataclass
class IgMedia:
    id: str
    owner: str
    shortcode: str
    caption: str
    created: float
    container_id: str

    def fields(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "caption": self.caption,
            "media_type": "VIDEO",
            "media_product_type": "REELS",
            "shortcode": self.shortcode,
            "permalink": f"https://www.instagram.com/reel/{self.shortcode}/",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.created)),
        }


class Emulator(GraphEmulator):
    name = "instagram"
    display_name = "Instagram"
    rate_code = 4
    usage_type = "instagram"
    publish_limit = 100  # API posts per rolling 24 h (older docs: 25, then 50)
    container_ttl_s = DAY_S

    def __init__(self, sandbox: Any) -> None:
        self.containers: dict[str, Container] = {}
        self.media: dict[str, IgMedia] = {}
        super().__init__(sandbox)

    def register(self) -> None:
        super().register()
        self.graph("POST", r"/(?P<ig_user>[^/]+)/media", self.create_container, step="init")
        self.graph("POST", r"/(?P<ig_user>[^/]+)/media_publish", self.publish, step="publish")
        self.graph("GET", r"/(?P<ig_user>[^/]+)/content_publishing_limit", self.limit, step="limit")
        self.graph("GET", r"/(?P<ig_user>[^/]+)/media", self.list_media, step="status")
        self.graph("GET", r"/(?P<node>[^/]+)", self.node, step="status")
        upload = rf"/ig-api-upload{VERSION}/(?P<container>[^/]+)"
        self.route("POST", upload, self.chunk, step="chunk")
        self.route("GET", upload, self.offset, step="offset")

    def page_entry(self, account: Account, page_token: str) -> dict[str, Any]:
        return {
            "id": f"{account.account_id}-page",
            "name": f"{account.name} (Page)",
            "access_token": page_token,
            "instagram_business_account": {"id": account.account_id},
        }

    # -- containers ---------------------------------------------------------------------------

    def create_container(self, request: Request) -> Response:
        ig_user = request.params["ig_user"]
        if not self._owns(request, ig_user):
            return self.not_found(ig_user)
        params = self.params(request)
        refusal = self._refuse_container(params)
        if refusal is not None:
            return refusal
        container = Container(
            id=graph_id(),
            owner=ig_user,
            caption=params.get("caption", ""),
            share_to_feed=params.get("share_to_feed", "true").lower() == "true",
            created=self.clock(),
            upload=RuploadSession(key=""),
        )
        container.upload.key = f"instagram-{container.id}"
        with self._lock:
            self.containers[container.id] = container
        uri = f"{self.sandbox.url}/{self.name}/ig-api-upload/{GRAPH_VERSION}/{container.id}"
        return Response(200, {"id": container.id, "uri": uri})

    def _refuse_container(self, params: dict[str, str]) -> Response | None:
        if params.get("media_type") != "REELS":
            return self.graph_error(
                400,
                f"The media type {params.get('media_type')} is unknown.",
                code=100,
                subcode=2207023,
            )
        if params.get("upload_type") != "resumable":
            return self.graph_error(
                400,
                "The media could not be fetched from this uri: the "
                "sandbox fetches nothing; use upload_type=resumable.",
                code=9004,
                subcode=2207052,
            )
        caption = params.get("caption", "")
        if len(caption) > 2200 or len(re.findall(r"#\w+", caption)) > 30:
            return self.graph_error(
                400,
                f"The submitted caption was {len(caption)} characters long. The maximum is "
                "2200 characters and 30 hashtags.",
                code=36004,
                subcode=2207010,
            )
        return None

    def status_code(self, container: Container) -> str:
        if container.media_id is not None:
            return "PUBLISHED"
        if self.clock() - container.created >= self.container_ttl_s:
            return "EXPIRED"
        if not self.processed(container.upload):
            return "IN_PROGRESS"
        return "ERROR" if container.upload.verdict else "FINISHED"

    def node(self, request: Request) -> Response:
        """``GET /{id}``: a container's status, or a published reel."""
        node = request.params["node"]
        container = self.containers.get(node)
        media = self.media.get(node)
        owner = container.owner if container else media.owner if media else None
        if owner is None or not self._owns(request, owner):
            return self.not_found(node)
        if container is not None:
            code = self.status_code(container)
            fields = {"id": node, "status_code": code, "status": STATUS_TEXT[code]}
        else:
            assert media is not None
            fields = media.fields()
        return Response(200, _only(fields, request.query.get("fields")))

    # -- bytes ----------------------------------------------------------------------------------

    def chunk(self, request: Request) -> Response:
        container = self._container(request)
        if container is None:
            return self.not_found(request.params["container"])
        return self.receive(request, container.upload)

    def upload_of(self, request: Request) -> RuploadSession | None:
        container = self._container(request)
        return container.upload if container else None

    def offset(self, request: Request) -> Response:
        container = self._container(request)
        if container is None:
            return self.not_found(request.params["container"])
        return self.received(container.upload)

    def _container(self, request: Request) -> Container | None:
        container = self.containers.get(request.params["container"])
        return container if container and self._owns(request, container.owner) else None

    def judge(self, facts: VideoFacts | None, size: int) -> str | None:
        """Check the Reels specs (platforms.md: MOV/MP4, H.264/HEVC, 3 s–15 min, 23–60 fps)."""
        if size > MAX_BYTES:
            return f"{size} bytes is over 300 MB"
        if facts is None:
            return "not a video"
        problems = [
            (not is_mp4_or_mov(facts), f"container {facts.format_name} is not MOV or MP4"),
            (not facts.moov_first, "the moov atom is not at the front"),
            (facts.video_codec not in ("h264", "hevc"), f"codec {facts.video_codec}"),
            (not 3 <= facts.duration_s <= 900, f"{facts.duration_s:.1f} s is not 3 s–15 min"),
            (not 23 <= facts.fps <= 60, f"{facts.fps:.1f} fps is not 23–60"),
        ]
        return "; ".join(reason for bad, reason in problems if bad) or None

    # -- publishing -----------------------------------------------------------------------------

    def publish(self, request: Request) -> Response:
        ig_user = request.params["ig_user"]
        if not self._owns(request, ig_user):
            return self.not_found(ig_user)
        creation_id = self.params(request).get("creation_id", "")
        with self._lock:  # check and publish at once: two racing calls make one post
            container = self.containers.get(creation_id)
            if container is None or container.owner != ig_user:
                return self._builder_gone(creation_id)
            refusal = self._refuse_publish(container)
            if refusal is not None:
                return refusal
            wait = self.buckets.spend(self._limit_bucket(ig_user), 1, self.publish_limit, DAY_S)
            if wait is not None:
                return self.quota_exceeded(wait)
            media = self._post(container)
        return Response(200, {"id": media.id})

    def _refuse_publish(self, container: Container) -> Response | None:
        code = self.status_code(container)
        if code == "PUBLISHED":
            return self._builder_gone(container.id)
        if code == "EXPIRED":
            return self.graph_error(
                400,
                "The media you are trying to access has expired. Please try to upload again.",
                code=-2,
                subcode=2207020,
            )
        if code == "IN_PROGRESS":
            return self.graph_error(
                400,
                "The media is not ready for publishing, please wait for a moment",
                code=9007,
                subcode=2207027,
            )
        if code == "ERROR":
            return self.graph_error(
                400,
                "The video format is not supported. Please check spec for supported video format",
                code=352,
                subcode=UNSUPPORTED_VIDEO,
            )
        return None

    def _builder_gone(self, creation_id: str) -> Response:
        return self.graph_error(
            400,
            f"The media builder with creation id = {creation_id} does not exist or has been "
            "expired.",
            code=24,
            subcode=2207008,
        )

    def quota_exceeded(self, retry_after: float) -> Response:
        return self.graph_error(
            400,
            "You reached maximum number of posts that is allowed to be published by Content "
            "Publishing API.",
            code=9,
            subcode=2207042,
            regain_s=retry_after,
        )

    def _post(self, container: Container) -> IgMedia:
        media = IgMedia(
            id=graph_id(),
            owner=container.owner,
            shortcode=secrets.token_urlsafe(8)[:11],
            caption=container.caption,
            created=self.clock(),
            container_id=container.id,
        )
        container.media_id = media.id
        self.media[media.id] = media
        self.ledger.add(
            Post(
                platform=self.name,
                account_id=container.owner,
                remote_id=media.id,
                sha256=self.uploads.sha256(container.upload.key),
                size=container.upload.received,
                title="",
                caption=container.caption,
                created_at=media.created,
                extra={
                    "container_id": container.id,
                    "shortcode": media.shortcode,
                    "share_to_feed": container.share_to_feed,
                },
            )
        )
        return media

    def limit(self, request: Request) -> Response:
        ig_user = request.params["ig_user"]
        if not self._owns(request, ig_user):
            return self.not_found(ig_user)
        used = self.buckets.used(self._limit_bucket(ig_user), DAY_S)
        config = {"quota_total": self.publish_limit, "quota_duration": int(DAY_S)}
        return Response(200, {"data": [{"quota_usage": used, "config": config}]})

    def list_media(self, request: Request) -> Response:
        """``GET /{ig-user-id}/media``: the account's reels, newest first."""
        ig_user = request.params["ig_user"]
        if not self._owns(request, ig_user):
            return self.not_found(ig_user)
        limit = int(request.query.get("limit") or 25)
        mine = sorted(
            (m for m in self.media.values() if m.owner == ig_user),
            key=lambda m: m.created,
            reverse=True,
        )
        fields = request.query.get("fields")
        return Response(200, {"data": [_only(m.fields(), fields) for m in mine[:limit]]})

    # -- helpers --------------------------------------------------------------------------------

    def _owns(self, request: Request, ig_user: str) -> bool:
        return request.account is not None and request.account.account_id == ig_user

    def _limit_bucket(self, ig_user: str) -> str:
        return f"{self.name}:published:{ig_user}"


def _only(fields: dict[str, Any], wanted: str | None) -> dict[str, Any]:
    """Keep the ``fields=`` the caller asked for (the id always comes back)."""
    if not wanted:
        return {"id": fields["id"]}
    names = {name.strip() for name in wanted.split(",")} | {"id"}
    return {name: value for name, value in fields.items() if name in names}
