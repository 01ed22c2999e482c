"""Helpers for analytics tests: a studio that publishes to the sandbox, whose clock moves."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from analytics.audience import Content
from hookline.clock import utcnow
from hookline.db import Database
from hookline.jobs.worker import run_jobs
from hookline.models import (
    Channel,
    JobStatus,
    MediaAsset,
    MetricCollection,
    MetricSnapshot,
    Publication,
)
from hookline.settings import Settings
from publisher import scheduling
from publisher.sandbox.server import Sandbox

from publishkit import approved_cut, sandbox_channel, variant

JOBS = ("publisher.jobs",)
PLATFORMS = ("youtube", "tiktok", "instagram", "facebook", "douyin", "kuaishou")


class Clock:
    """The sandbox's clock: real time plus however far a test has moved it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, days: float) -> None:
        self.offset += days * 86400.0


@dataclass
class Studio:
    db: Database
    settings: Settings
    sandbox: Sandbox
    clock: Clock
    folder: Path

    def publish(self, platform: str, video: Path, n: int, **content: object) -> int:
        """Publish episode ``n`` on a ``platform`` sandbox channel; describe it to the audience."""
        unique = variant(video, self.folder / "videos", n)
        with self.db.transaction() as session:
            channel = session.exec(select(Channel).where(Channel.platform == platform)).first()
            if channel is None:
                channel = sandbox_channel(session, self.settings, platform)
            cut = approved_cut(session, self.settings, unique, episode=n)
            asset = session.get_one(MediaAsset, cut.asset_id)
            self.sandbox.audience.describe(
                asset.sha256,
                Content(duration_s=asset.duration_s or 4.0, episode=n, market="es", **content),  # type: ignore[arg-type]
            )
            local = scheduling.to_local(utcnow(), channel.timezone).replace(tzinfo=None)
            draft = scheduling.Draft(
                cut_id=cut.id,
                channel_id=channel.id,
                local_time=local,
                title=f"La novia por contrato {n}",
                description="Ella firmó sin leer.",
                hashtags=("#dramacorto",),
            )
            publication_id = scheduling.schedule(session, self.settings, draft).id
        self._run(publication_id)
        return publication_id

    def _run(self, publication_id: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self.db.session() as session:
                publication = session.get_one(Publication, publication_id)
                job_id = publication.job_id
            run_jobs(self.db, self.settings, [job_id], modules=JOBS, tick_s=0.05)
            with self.db.session() as session:
                from hookline.models import Job

                if session.get_one(Job, job_id).status == JobStatus.SUCCEEDED:
                    assert session.get_one(Publication, publication_id).status == "published"
                    return
        raise AssertionError(f"publication {publication_id} was not published")

    def snapshots(self, publication_id: int) -> list[MetricSnapshot]:
        with self.db.session() as session:
            return list(
                session.exec(
                    select(MetricSnapshot)
                    .where(MetricSnapshot.publication_id == publication_id)
                    .order_by(col(MetricSnapshot.as_of))
                )
            )

    def state(self, publication_id: int) -> MetricCollection:
        with self.db.session() as session:
            return session.get_one(MetricCollection, publication_id)

    def later(self, hours: float) -> object:
        return utcnow() + timedelta(hours=hours)
