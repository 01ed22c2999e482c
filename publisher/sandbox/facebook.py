"""Facebook Reels on a Page, emulated (platforms.md section 4).

``POST /{page-id}/video_reels`` with ``upload_phase=start`` opens a video; its bytes go
to rupload (``/video-upload/{ver}/{video_id}``); ``upload_phase=finish`` publishes it,
schedules it (``scheduled_publish_time``, unix epoch) or keeps it as a draft.
``GET /{video_id}?fields=status`` reports every phase. At most ``publish_limit`` reels
per rolling 24 h per Page, counted when one is published or scheduled.

Emulator knobs (✘): the cap's error is code 9 (Meta documents the cap, not its error);
finishing an already finished video is refused with code 100; a video never finished
expires after 24 h; a schedule must be 10 minutes to 30 days ahead (Page post rules).
"""

from __future__ import annotations

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

VIDEO_STATES = ("PUBLISHED", "DRAFT", "SCHEDULED")


@dataclass
class Video:
    id: str
    page: str
    created: float
    upload: RuploadSession
    video_state: str = ""  # set by finish
    description: str = ""
    finished_at: float | None = None
    publish_time: float | None = None  # SCHEDULED: when it goes out


class Emulator(GraphEmulator):
    name = "facebook"
    display_name = "Facebook"
    rate_code = 32
    usage_type = "pages"
    publish_limit = 30  # API-published reels per rolling 24 h per Page
    upload_ttl_s = DAY_S
    schedule_min_s = 600.0
    schedule_max_s = 30 * DAY_S

    def __init__(self, sandbox: Any) -> None:
        self.videos: dict[str, Video] = {}
        super().__init__(sandbox)

    def register(self) -> None:
        super().register()
        # One path for start and finish: the step is chosen inside (see with_step_fault).
        self.graph("POST", r"/(?P<page>[^/]+)/video_reels", self.video_reels, step="reels")
        self.graph("GET", r"/(?P<node>[^/]+)", self.node, step="status")
        upload = rf"/video-upload{VERSION}/(?P<video_id>[^/]+)"
        self.route("POST", upload, self.chunk, step="chunk")
        self.route("GET", upload, self.offset, step="offset")

    def page_entry(self, account: Account, page_token: str) -> dict[str, Any]:
        return {
            "id": account.account_id,
            "name": account.name,
            "access_token": page_token,
            "category": "Entertainment",
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
        }

    def video_reels(self, request: Request) -> Response:
        page = request.params["page"]
        if request.account is None or request.account.account_id != page:
            return self.not_found(page)
        params = self.params(request)
        phase = params.get("upload_phase", "")
        if phase == "start":
            return self.with_step_fault(request, "init", lambda: self.start(page))
        if phase == "finish":
            return self.with_step_fault(request, "publish", lambda: self.finish(page, params))
        return self.graph_error(400, "(#100) upload_phase must be one of start, finish", code=100)

    # -- start and bytes -------------------------------------------------------------------------

    def start(self, page: str) -> Response:
        video = Video(id=graph_id(), page=page, created=self.clock(), upload=RuploadSession(key=""))
        video.upload.key = f"facebook-{video.id}"
        with self._lock:
            self.videos[video.id] = video
        url = f"{self.sandbox.url}/{self.name}/video-upload/{GRAPH_VERSION}/{video.id}"
        return Response(200, {"video_id": video.id, "upload_url": url})

    def chunk(self, request: Request) -> Response:
        video = self._video(request, request.params["video_id"])
        if video is None:
            return self.not_found(request.params["video_id"])
        return self.receive(request, video.upload)

    def upload_of(self, request: Request) -> RuploadSession | None:
        video = self._video(request, request.params["video_id"])
        return video.upload if video else None

    def offset(self, request: Request) -> Response:
        video = self._video(request, request.params["video_id"])
        if video is None:
            return self.not_found(request.params["video_id"])
        return self.received(video.upload)

    def judge(self, facts: VideoFacts | None, size: int) -> str | None:
        """Check the Reels specs (platforms.md: 9:16, ≥ 540×960, 24–60 fps, 3–90 s)."""
        if facts is None:
            return "The file is not a video."
        problems = [
            (not is_mp4_or_mov(facts), f"container {facts.format_name} is not MP4"),
            (not 3 <= facts.duration_s <= 90, f"{facts.duration_s:.1f} s is not 3–90 s"),
            (
                facts.width < 540 or facts.height < 960,
                f"{facts.width}×{facts.height} is under 540×960",
            ),
            (
                abs(facts.width / max(1, facts.height) - 9 / 16) > 0.01,
                f"{facts.width}×{facts.height} is not 9:16",
            ),
            (not 24 <= facts.fps <= 60, f"{facts.fps:.1f} fps is not 24–60"),
        ]
        return "; ".join(reason for bad, reason in problems if bad) or None

    # -- finish --------------------------------------------------------------------------------

    def finish(self, page: str, params: dict[str, str]) -> Response:
        with self._lock:  # check and publish at once: two racing calls make one post
            video = self.videos.get(params.get("video_id", ""))
            if video is None or video.page != page:
                return self.not_found(params.get("video_id", ""))
            refusal = self._refuse_finish(video, params)
            if refusal is not None:
                return refusal
            if params["video_state"].upper() != "DRAFT":
                wait = self.buckets.spend(f"{self.name}:reels:{page}", 1, self.publish_limit, DAY_S)
                if wait is not None:
                    return self.quota_exceeded(wait)
            self._finish(video, params)
        return Response(200, {"success": True})

    def _refuse_finish(self, video: Video, params: dict[str, str]) -> Response | None:
        state = params.get("video_state", "").upper()
        upload = video.upload
        if state not in VIDEO_STATES:
            return self.graph_error(
                400, "(#100) video_state must be one of " + ", ".join(VIDEO_STATES), code=100
            )
        if video.video_state:
            return self.graph_error(400, "(#100) This video has already been finished.", code=100)
        if self._expired(video):
            return self.graph_error(
                400,
                "Your video upload timed out before it could be completed.",
                code=100,
                subcode=1363030,
            )
        if upload.done_at is None:
            return self.graph_error(
                400,
                f"(#100) Video upload is missing: {upload.received} of "
                f"{upload.file_size or '?'} bytes arrived.",
                code=100,
            )
        if upload.verdict:
            return self.graph_error(
                400,
                "(#6000) There was a problem uploading your video file. "
                f"Please try again with another file: {upload.verdict}",
                code=6000,
            )
        return self._refuse_schedule(params) if state == "SCHEDULED" else None

    def _refuse_schedule(self, params: dict[str, str]) -> Response | None:
        try:
            lead = float(params.get("scheduled_publish_time", "")) - self.clock()
        except ValueError:
            lead = -1.0
        if not self.schedule_min_s <= lead <= self.schedule_max_s:
            return self.graph_error(
                400, "(#100) The specified scheduled publish time is invalid.", code=100
            )
        return None

    def _finish(self, video: Video, params: dict[str, str]) -> None:
        now = self.clock()
        video.video_state = params["video_state"].upper()
        video.description = params.get("description", "")
        video.finished_at = now
        if video.video_state == "SCHEDULED":
            video.publish_time = float(params["scheduled_publish_time"])
        if video.video_state == "DRAFT":
            return
        self.ledger.add(
            Post(
                platform=self.name,
                account_id=video.page,
                remote_id=video.id,
                sha256=self.uploads.sha256(video.upload.key),
                size=video.upload.received,
                title=params.get("title", ""),
                caption=video.description,
                created_at=now,
                scheduled_at=video.publish_time,
                status="scheduled" if video.publish_time else "published",
            )
        )

    def quota_exceeded(self, retry_after: float) -> Response:
        return self.graph_error(
            400,
            f"(#9) This Page has published {self.publish_limit} reels through the API in the "
            "last 24 hours, the most allowed.",
            code=9,
            regain_s=retry_after,
        )

    # -- status --------------------------------------------------------------------------------

    def node(self, request: Request) -> Response:
        """``GET /{video_id}?fields=status``."""
        video = self._video(request, request.params["node"])
        if video is None:
            return self.not_found(request.params["node"])
        body: dict[str, Any] = {"id": video.id, "status": self.status_of(video)}
        if video.video_state:
            body["permalink_url"] = f"/reel/{video.id}"
        return Response(200, body)

    def status_of(self, video: Video) -> dict[str, Any]:
        upload = video.upload
        uploading = (
            "complete" if upload.done_at else "in_progress" if upload.received else ("not_started")
        )
        return {
            "video_status": self._video_status(video),
            "uploading_phase": {"status": uploading, "bytes_transferred": upload.received},
            "processing_phase": self._processing_phase(upload),
            "publishing_phase": self._publishing_phase(video),
            "processing_progress": self._progress(upload),
        }

    def _video_status(self, video: Video) -> str:
        upload = video.upload
        if self.processed(upload) and upload.verdict:
            return "error"
        if self._expired(video):
            return "expired"
        if upload.done_at is None:
            return "uploading"
        return "ready" if self.processed(upload) else "processing"

    def _processing_phase(self, upload: RuploadSession) -> dict[str, Any]:
        if upload.done_at is None:
            return {"status": "not_started"}
        if not self.processed(upload):
            return {"status": "in_progress"}
        if upload.verdict:
            return {"status": "error", "error": {"message": upload.verdict}}
        return {"status": "complete"}

    def _publishing_phase(self, video: Video) -> dict[str, Any]:
        if not video.video_state:
            return {"status": "not_started"}
        if video.video_state == "DRAFT":
            return {"status": "complete", "publish_status": "draft"}
        assert video.finished_at is not None and video.upload.done_at is not None
        if video.publish_time is not None:
            due = self.clock() >= video.publish_time
            return {
                "status": "complete",
                "publish_status": "published" if due else "scheduled",
                "publish_time": int(video.publish_time),
            }
        ready_at = max(video.finished_at, video.upload.done_at + self.processing_s)
        return {
            "status": "complete" if self.processed(video.upload) else "in_progress",
            "publish_status": "published",
            "publish_time": int(ready_at),
        }

    def _progress(self, upload: RuploadSession) -> int:
        if upload.done_at is None:
            return 0
        elapsed = self.clock() - upload.done_at
        return min(100, int(100 * elapsed / self.processing_s)) if self.processing_s else 100

    # -- helpers --------------------------------------------------------------------------------

    def _video(self, request: Request, video_id: str) -> Video | None:
        video = self.videos.get(video_id)
        account = request.account
        return video if video and account and account.account_id == video.page else None

    def _expired(self, video: Video) -> bool:
        return not video.video_state and self.clock() - video.created >= self.upload_ttl_s
