"""200 publications while `hookline worker` processes are SIGKILLed at random points.

The workers are real processes on a real database; the platforms are the sandbox's
emulators over HTTP, which count every post. Each publication must end published,
and each video must have been posted exactly once.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from hookline.clock import utcnow
from hookline.db import Database
from hookline.models import Job, JobStatus, Publication, PublicationStatus
from publisher import scheduling
from publisher.sandbox.server import Sandbox

from platformkit import make_video
from publishkit import approved_cut, finished, sandbox_channel, variant
from testkit import Workers, free_port, make_settings

pytestmark = pytest.mark.slow

# 25 publications on each channel: well inside every platform's daily cap and quota.
CHANNELS = (
    ("youtube", "yt-1"),
    ("youtube", "yt-2"),
    ("instagram", "ig-1"),
    ("instagram", "ig-2"),
    ("facebook", "fb-1"),
    ("facebook", "fb-2"),
    ("douyin", "dy-1"),
    ("kuaishou", "ks-1"),
)
PER_CHANNEL = 25
KILLS = 25


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    running = Sandbox(tmp_path / "sandbox").start(port=free_port())
    yield running
    running.stop()


def test_200_publications_survive_random_worker_kills_and_post_exactly_once(
    tmp_path: Path, db: Database, database_url: str, sandbox: Sandbox
):
    settings = make_settings(tmp_path, database_url, sandbox_port=sandbox_port(sandbox))
    clip = make_video(tmp_path / "clip.mp4", seconds=4, size="540x960", bitrate="1M")
    with db.transaction() as session:
        channel_ids = []
        for platform, account in CHANNELS:
            channel_ids.append(sandbox_channel(session, settings, platform, account=account).id)
    n = 0
    with db.transaction() as session:
        for channel_id in channel_ids:
            for _ in range(PER_CHANNEL):
                n += 1
                video = variant(clip, tmp_path / "videos", n)
                cut = approved_cut(session, settings, video, episode=n)
                now = scheduling.to_local(utcnow(), "Europe/Madrid").replace(tzinfo=None)
                scheduling.schedule(
                    session,
                    settings,
                    scheduling.Draft(cut.id, channel_id, now, title=f"Episodio {n}"),
                )

    workers = Workers(database_url, tmp_path, HOOKLINE_JOB_LEASE_SECONDS="1.5")
    rng = random.Random(7)
    try:
        workers.start(3, concurrency=3)
        kills = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and finished(db) < 200:
            time.sleep(rng.uniform(0.05, 0.3))
            # Only a worker in the middle of a publication: killing one that is still
            # starting up or waiting for work would prove nothing.
            busy = [p for p in workers.procs if p.poll() is None and p.pid in running_pids(db)]
            if kills < KILLS and busy:
                rng.choice(busy).send_signal(signal.SIGKILL)
                kills += 1
                workers.start(1, concurrency=3)
    finally:
        workers.stop_all()

    with db.session() as session:
        statuses = Counter(session.exec(select(Publication.status)).all())
    assert statuses == {PublicationStatus.PUBLISHED: 200}, statuses
    assert kills == KILLS  # each landed on a worker in the middle of a publication
    posts = Counter(post.sha256 for post in sandbox.ledger.posts())
    assert len(posts) == 200 and set(posts.values()) == {1}, sandbox.ledger.duplicates()


def running_pids(db: Database) -> set[int]:
    """Process ids of the workers holding a running job (lease owners are host:pid:tag)."""
    with db.session() as session:
        owners = session.exec(
            select(Job.lease_owner).where(Job.status == JobStatus.RUNNING.value)
        ).all()
    return {int(owner.split(":")[1]) for owner in owners if owner and owner.count(":") >= 2}


def sandbox_port(sandbox: Sandbox) -> int:
    return int(sandbox.url.rsplit(":", 1)[1])
