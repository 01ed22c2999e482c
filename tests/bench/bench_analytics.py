"""Analytics at scale: 2,000 publications x 30 days of hourly snapshots, with their curves.

Run with ``make bench`` (``BENCH_ANALYTICS_SCALE=0.1`` runs a tenth of the publications).
Per database:

* ingestion: about 1.5M rows (1.44M hourly snapshots, the daily rollup they feed, and a
  daily retention curve per publication) through ``analytics.store``, the same code the
  collector writes with; rows per second;
* page time: the overview and the retention explorer served by the app (server time,
  aggregation in SQL), 30 requests each after a warm-up; p95.

Targets: ingestion >= 50,000 rows/s; overview and retention <= 300 ms at p95.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert
from sqlmodel import col, select

from analytics import store
from hookline import migrate
from hookline.app import create_app
from hookline.auth import create_user
from hookline.db import Database
from hookline.models import (
    Channel,
    Episode,
    Localization,
    LocalizedCut,
    MediaAsset,
    MetricCollection,
    Publication,
    RetentionCurve,
    Series,
)

from testkit import PASSWORD, REPO, make_settings

SCALE = float(os.environ.get("BENCH_ANALYTICS_SCALE", "1"))
PUBLICATIONS = int(2000 * SCALE)
DAYS = 30
PLATFORMS = ("youtube", "tiktok", "instagram", "facebook", "douyin", "kuaishou")
MARKETS = ("en", "es", "pt", "id", "fr")
RESULTS = REPO / "bench-results"
REQUESTS = 30


def seed_catalog(db: Database, start: datetime) -> list[int]:
    """Series, episodes, cuts, channels and published publications, inserted in bulk."""
    with db.engine.begin() as conn:
        conn.execute(
            insert(Series),
            [
                {
                    "title": "Bench",
                    "slug": "bench",
                    "source_language": "en",
                    "logline": "",
                    "created_at": start,
                }
            ],
        )
        conn.execute(
            insert(MediaAsset),
            [
                {
                    "sha256": f"{i:064x}",
                    "size_bytes": 1,
                    "kind": "video",
                    "container": "mp4",
                    "extension": "mp4",
                    "mime_type": "video/mp4",
                    "original_name": "",
                    "duration_s": 45.0,
                    "probe": {},
                    "created_at": start,
                }
                for i in range(1, PUBLICATIONS + 1)
            ],
        )
        episodes = max(1, PUBLICATIONS // (len(MARKETS) * len(PLATFORMS)))
        conn.execute(
            insert(Episode),
            [
                {
                    "series_id": 1,
                    "number": n,
                    "title": f"Ep {n}",
                    "hook_type": ["slap", "secret_reveal", "flash_forward"][n % 3],
                    "tropes": ["revenge"],
                    "status": "ready",
                    "warnings": [],
                    "created_at": start,
                    "updated_at": start,
                }
                for n in range(1, episodes + 1)
            ],
        )
        conn.execute(
            insert(Channel),
            [
                {
                    "platform": p,
                    "name": f"{p}-{m}",
                    "language": m,
                    "region": "",
                    "timezone": "Europe/Madrid",
                    "external_id": f"{p}-{m}",
                    "status": "connected",
                    "reconnect_reason": "",
                    "account_name": "",
                    "sandbox": True,
                    "settings": {},
                    "created_at": start,
                }
                for p in PLATFORMS
                for m in MARKETS
            ],
        )
        locs, cuts, pubs = [], [], []
        for i in range(PUBLICATIONS):
            episode = i % episodes + 1
            channel = i % (len(PLATFORMS) * len(MARKETS)) + 1
            market = MARKETS[(channel - 1) % len(MARKETS)]
            locs.append(
                {
                    "episode_id": episode,
                    "language": f"{market}-{i}",
                    "is_source": False,
                    "status": "approved",
                    "profile": "vertical",
                    "translator": "",
                    "options": {},
                    "stage": "",
                    "progress": 1.0,
                    "qc_summary": {},
                    "created_at": start,
                    "updated_at": start,
                }
            )
            cuts.append(
                {
                    "localization_id": i + 1,
                    "kind": "burned_in",
                    "asset_id": i + 1,
                    "inputs_hash": "",
                    "created_at": start,
                }
            )
            published = start + timedelta(minutes=37 * i % (24 * 60))
            pubs.append(
                {
                    "cut_id": i + 1,
                    "channel_id": channel,
                    "scheduled_at": published,
                    "status": "published",
                    "title": f"Pub {i}",
                    "description": "",
                    "hashtags": [],
                    "language": market,
                    "privacy": "public",
                    "idempotency_key": f"bench-{i}",
                    "phase": "done",
                    "upload_state": {},
                    "bytes_sent": 0,
                    "remote_id": f"r{i}",
                    "published_at": published,
                    "created_at": start,
                    "updated_at": start,
                }
            )
        conn.execute(insert(Localization), locs)
        conn.execute(insert(LocalizedCut), cuts)
        conn.execute(insert(Publication), pubs)
    return list(range(1, PUBLICATIONS + 1))


def rows_for(publication_ids: list[int], start: datetime) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(1)
    snapshots, curves = [], []
    base = np.linspace(1.0, 0.25, 101)
    for pid in publication_ids:
        total = float(rng.uniform(2_000, 200_000))
        for hour in range(DAYS * 24):
            as_of = start + timedelta(hours=hour)
            views = int(total * (1 - np.exp(-(hour + 1) / 40)))
            snapshots.append(
                {
                    "publication_id": pid,
                    "as_of": as_of,
                    "collected_at": as_of,
                    "views": views,
                    "reach": int(views * 0.8),
                    "watch_time_s": views * 14.0,
                    "avg_view_duration_s": 14.0,
                    "avg_percent_viewed": 31.0,
                    "completion_rate": 0.22,
                    "hook_rate": 0.7,
                    "hook_rate_definition": "bench",
                    "likes": views // 20,
                    "comments": views // 300,
                    "shares": views // 200,
                    "saves": None,
                    "follows": views // 500,
                    "raw": {},
                }
            )
        for day in range(DAYS):
            curves.append(
                {
                    "publication_id": pid,
                    "as_of": start + timedelta(days=day, hours=23),
                    "collected_at": start,
                    "duration_s": 45.0,
                    "views_basis": int(total),
                    "points": [round(float(v), 4) for v in base * rng.uniform(0.9, 1.0)],
                    "source_resolution": "bench",
                    "relative_performance": None,
                }
            )
    return snapshots, curves


def ingest(db: Database, snapshots: list[dict], curves: list[dict]) -> float:
    began = time.perf_counter()
    step = 50_000
    for first in range(0, len(snapshots), step):
        with db.engine.begin() as conn:
            store.add_snapshots(conn, snapshots[first : first + step])
    with db.engine.begin() as conn:
        store.add_curves(conn, curves)
    return time.perf_counter() - began


def point_latest_curves(db: Database, publication_ids: list[int]) -> None:
    from sqlalchemy import func, select

    with db.engine.begin() as conn:
        latest = dict(
            conn.execute(
                select(RetentionCurve.publication_id, func.max(RetentionCurve.id)).group_by(
                    RetentionCurve.publication_id
                )
            ).all()
        )
        conn.execute(
            insert(MetricCollection),
            [
                {
                    "publication_id": pid,
                    "status": "active",
                    "next_at": datetime.now(UTC),
                    "last_outcome": "ok",
                    "message": "",
                    "collections": 1,
                    "latest_curve_id": latest.get(pid),
                }
                for pid in publication_ids
            ],
        )


def page_times(client, url: str) -> list[float]:
    assert client.get(url).status_code == 200  # warm-up
    times = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.data[:300]
    return times


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def bench_analytics(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'bench.db'}"
    )
    db = Database.from_url(url)
    migrate.upgrade(db.engine)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    ids = seed_catalog(db, start)
    snapshots, curves = rows_for(ids, start)
    seconds = ingest(db, snapshots, curves)
    days = len(ids) * (DAYS + 1)
    rows = len(snapshots) + len(curves) + days
    point_latest_curves(db, ids)

    settings = make_settings(tmp_path, url)
    app = create_app(settings, db=db)
    app.config["TESTING"] = True
    app.config["WTF_CSRF_ENABLED"] = False
    with db.transaction() as session:
        create_user(session, "analyst", PASSWORD, ["analyst"])
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": PASSWORD})
    period = (
        f"start={(start + timedelta(days=2)).date()}&end={(start + timedelta(days=DAYS)).date()}"
    )
    overview = page_times(client, f"/analytics/?{period}")
    retention = page_times(client, "/analytics/retention?by=platform")
    # One episode chosen: lines under the cursor, per-second drop-off, relative retention
    # (which ranks the episode's cuts against every curve of their markets).
    with db.session() as session:
        episode_id = session.exec(select(Episode.id).order_by(col(Episode.id).desc())).first()
    one_episode = page_times(client, f"/analytics/retention?episode={episode_id}")
    result = {
        "backend": backend,
        "publications": len(ids),
        "rows": rows,
        "snapshots": len(snapshots),
        "curves": len(curves),
        "ingest_s": round(seconds, 2),
        "ingest_rows_per_s": round(rows / seconds),
        "overview_p95_ms": round(p95(overview), 1),
        "overview_median_ms": round(statistics.median(overview), 1),
        "retention_p95_ms": round(p95(retention), 1),
        "retention_median_ms": round(statistics.median(retention), 1),
        "retention_episode_p95_ms": round(p95(one_episode), 1),
        "retention_episode_median_ms": round(statistics.median(one_episode), 1),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "analytics.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing[backend] = result
    path.write_text(json.dumps(existing, indent=2))
    print(json.dumps(result))
    db.dispose()
