"""Publishing under faults: 1,000 publications of 10 MB to the emulators, 4 workers.

Run with ``make bench``. Six platforms' emulators (the sandbox, in this process) take
1,000 publications of distinct 10 MB videos, due at a steady rate, from 4 `hookline
worker` processes on PostgreSQL, while 10% of all chunk requests are cut mid-transfer.
Channels are spread so that no platform's documented cap is reached.

Measured:

* bytes on the wire (every request body the emulators read, cut transfers included)
  ÷ the videos' bytes: target <= 1.05;
* duplicates: posts of one video on one account, counted by the emulators: target 0;
* start lag: from each publication's time to its worker starting it, p99 <= 2 s;
* upload throughput: each publication's bytes ÷ its upload step (from the first byte
  sent, through every chunk and the state persisted after each, to the last byte
  acknowledged, retries after cut transfers included; the timeline records it), median,
  against plain HTTP PUTs of the same files to the same server (each stored as a file of
  its own, as uploads are), one at a time from a process of their own, paced over the
  same run: target >= 0.7×.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from hookline import migrate
from hookline.clock import utcnow
from hookline.db import Database
from hookline.models import Channel, MediaAsset, Publication, PublicationAttempt, PublicationStatus
from hookline.storage import MediaStore
from publisher import scheduling
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox

from platformkit import make_video
from publishkit import approved_cut, finished, sandbox_channel, variant
from testkit import REPO, SUPPORT, Workers, free_port, make_settings

# (platform, channels, publications each): inside every cap (YouTube's project-wide
# 100 videos.insert a day, TikTok's 15 posts a creator, Instagram's 100 and Facebook's 30
# a rolling 24 h). BENCH_PUBLISH_SCALE=0.1 runs a tenth of it, for a quick look.
SCALE = float(os.environ.get("BENCH_PUBLISH_SCALE", "1"))
PLAN = tuple(
    (platform, channels, max(1, round(each * SCALE)))
    for platform, channels, each in (
        ("youtube", 2, 50),
        ("tiktok", 10, 15),
        ("instagram", 5, 50),
        ("facebook", 8, 25),
        ("douyin", 3, 50),
        ("kuaishou", 3, 50),
    )
)
PUBLICATIONS = sum(channels * each for _, channels, each in PLAN)
RATE_PER_S = 3.0  # publications coming due per second
WORKERS = 4
CHUNK_FAULTS = 0.10
BASELINE_FILES = 40
RESULTS = REPO / "bench-results"


@pytest.mark.timeout(3600)
def bench_publish(postgres_url: str, tmp_path: Path) -> None:
    db = Database.from_url(postgres_url)
    migrate.upgrade(db.engine)
    port = free_port()
    settings = make_settings(tmp_path, postgres_url, sandbox_port=port)
    sandbox = Sandbox(tmp_path / "sandbox").start(port=port)
    workers = Workers(
        postgres_url, tmp_path, HOOKLINE_JOB_POLL_SECONDS="0.1", HOOKLINE_JOB_LEASE_SECONDS="30"
    )
    try:
        clip = make_video(tmp_path / "clip.mp4", seconds=20, size="720x1280", bitrate="4M")
        size = clip.stat().st_size
        cuts = make_cuts(db, settings, clip, tmp_path)
        workers.start(WORKERS, concurrency=1)
        # Due times start once the setup is over and the workers are up: lateness caused by
        # making 1,000 cuts is the bench's, not the scheduler's.
        publication_ids = schedule_all(db, settings, cuts, first=utcnow() + timedelta(seconds=30))
        cut_short = Fault("*", "chunk", "drop", probability=CHUNK_FAULTS)
        sandbox.faults.add(cut_short)
        wire_before = sandbox.wire_bytes
        baseline = plain_puts(sandbox, settings.media_root, db)
        wait_until_published(db, publication_ids, timeout=PUBLICATIONS / RATE_PER_S + 600)
        wire = sandbox.wire_bytes - wire_before
        result = measure(db, publication_ids)
        out, _ = baseline.communicate(timeout=120)
        plain = statistics.median(json.loads(out))
        result.update(
            plain_put_mb_s=round(plain / 1e6, 1),
            throughput_ratio=round(result["upload_mb_s_p50"] * 1e6 / plain, 2),
            bytes_ratio=round(wire / (size * PUBLICATIONS), 4),
            chunk_requests_cut=cut_short.hits,
            duplicates=len(sandbox.ledger.duplicates()),
            posts=len(sandbox.ledger.posts()),
            video_mb=round(size / 1e6, 2),
        )
    finally:
        workers.stop_all()
        sandbox.stop()
        db.dispose()
        shutil.rmtree(tmp_path / "media", ignore_errors=True)
        shutil.rmtree(tmp_path / "sandbox", ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "publish.json").write_text(json.dumps(result, indent=2))
    print(f"\npublishing: {json.dumps(result, indent=2)}")
    assert result["posts"] == PUBLICATIONS and result["duplicates"] == 0, result
    assert result["bytes_ratio"] <= 1.05, result
    assert result["start_lag_p99_s"] <= 2.0, result
    assert result["throughput_ratio"] >= 0.7, result


def make_cuts(db: Database, settings, clip: Path, tmp_path: Path) -> list[tuple[int, int]]:
    """Make the channels and 1,000 distinct approved cuts: (cut id, channel id) pairs."""
    ids, n = [], 0
    with db.transaction() as session:
        for platform, channels, each in PLAN:
            for c in range(channels):
                channel = sandbox_channel(session, settings, platform, account=f"{platform}-{c}")
                for _ in range(each):
                    video = variant(clip, tmp_path / "variants", n)
                    cut = approved_cut(session, settings, video, episode=n + 1)
                    video.unlink()
                    ids.append((cut.id, channel.id))
                    n += 1
    return ids


def schedule_all(
    db: Database, settings, ids: list[tuple[int, int]], *, first: datetime
) -> list[int]:
    """Schedule the cuts at a steady rate from ``first``, interleaving the platforms."""
    # Interleave the platforms so every moment has a mix of protocols.
    order = sorted(range(len(ids)), key=lambda i: (i % 50, i))
    publication_ids = []
    with db.transaction() as session:
        for slot, i in enumerate(order):
            cut_id, channel_id = ids[i]
            at = first + timedelta(seconds=slot / RATE_PER_S)
            draft = scheduling.Draft(
                cut_id, channel_id, at.replace(tzinfo=None), title=f"Episodio {i + 1}"
            )
            publication = scheduling.schedule(session, settings, _utc(draft))
            publication_ids.append(publication.id)
    late = (utcnow() - first).total_seconds()
    assert late < 0, f"scheduling took {late:.0f} s past the first due time: start later"
    return publication_ids


def _utc(draft: scheduling.Draft) -> scheduling.Draft:
    """The sandbox channels are on Europe/Madrid: give the draft its wall-clock time there."""
    local = scheduling.to_local(draft.local_time.replace(tzinfo=UTC), "Europe/Madrid")
    return replace(draft, local_time=local.replace(tzinfo=None))


def wait_until_published(db: Database, ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = finished(db)
        if done >= len(ids):
            return
        time.sleep(1.0)
    raise AssertionError(f"only {done} of {len(ids)} publications finished in {timeout:.0f} s")


def measure(db: Database, ids: list[int]) -> dict[str, float]:
    with db.session() as session:
        publications = {p.id: p for p in session.exec(select(Publication))}
        platforms = {c.id: c.platform for c in session.exec(select(Channel))}
        attempts = session.exec(
            select(PublicationAttempt).order_by(col(PublicationAttempt.id))
        ).all()
    starts: dict[int, float] = {}
    rates: list[float] = []
    by_platform: dict[str, list[float]] = {}
    for attempt in attempts:
        publication = publications[attempt.publication_id]
        if attempt.step == "start" and attempt.publication_id not in starts:
            starts[attempt.publication_id] = (attempt.at - publication.scheduled_at).total_seconds()
        if attempt.step == "upload" and attempt.outcome == "ok":
            took = re.search(r"acknowledged in ([\d.]+) s", attempt.message)
            assert took, attempt.message
            rates.append(publication.bytes_sent / max(float(took.group(1)), 1e-6))
            by_platform.setdefault(platforms[publication.channel_id], []).append(rates[-1])
    lags = sorted(starts.values())
    published = sum(p.status == PublicationStatus.PUBLISHED for p in publications.values())
    return {
        "published": published,
        "start_lag_p50_s": round(statistics.median(lags), 3),
        "start_lag_p99_s": round(lags[int(len(lags) * 0.99) - 1], 3),
        "start_lag_max_s": round(lags[-1], 3),
        "upload_mb_s_p50": round(statistics.median(rates) / 1e6, 1),
        "upload_mb_s_p10": round(sorted(rates)[len(rates) // 10] / 1e6, 1),
        "upload_mb_s_p50_by_platform": {
            name: round(statistics.median(values) / 1e6, 1) for name, values in by_platform.items()
        },
    }


def plain_puts(sandbox: Sandbox, media_root: Path, db: Database) -> subprocess.Popen[str]:
    """PUT some of the same files to the same server, paced over the run, side by side."""
    store = MediaStore(media_root)
    with db.session() as session:
        hashes = session.exec(
            select(MediaAsset.sha256).where(MediaAsset.kind == "video").limit(BASELINE_FILES)
        ).all()
    interval = PUBLICATIONS / RATE_PER_S / BASELINE_FILES
    command = [
        sys.executable,
        str(SUPPORT / "plainput.py"),
        f"{sandbox.url}/_sandbox/sink",
        str(interval),
        *(str(store.path_for(h)) for h in hashes),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
