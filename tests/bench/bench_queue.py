"""Queue throughput and lag: 10,000 no-op jobs, 4 worker processes, SQLite and PostgreSQL.

Run with ``make bench``. Two measurements per database:

* throughput: 10,000 jobs already due, drained by 4 workers; jobs per second from the
  first claim to the last finish (worker start-up excluded);
* lag: 10,000 jobs coming due at a steady 250 per second while the workers run; the
  delay from each job's ``run_at`` to its start, median and p99.

Targets on the 2-core machine: >= 500 jobs/s on PostgreSQL and p99 lag <= 1 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from hookline import migrate
from hookline.clock import utcnow
from hookline.db import Database
from hookline.models import Job, JobStatus

from testkit import REPO, worker_env

JOBS = 10_000
WORKERS = 4
CONCURRENCY = 4
LAG_RATE_PER_S = 250
RESULTS = REPO / "bench-results"


def enqueue_many(db: Database, count: int, *, start, spacing_s: float = 0.0) -> None:
    now = utcnow()
    rows = [
        {
            "kind": "noop",
            "payload": {},
            "status": "queued",
            "priority": 100,
            "attempts": 0,
            "max_attempts": 5,
            "cancel_requested": False,
            "progress": 0.0,
            "progress_message": "",
            "result": {},
            "run_at": start + timedelta(seconds=i * spacing_s),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    with db.engine.begin() as conn:
        for chunk in range(0, count, 1000):
            conn.execute(insert(Job.__table__), rows[chunk : chunk + 1000])


def wait_until_done(db: Database, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    statement = select(func.count()).select_from(Job).where(Job.status == JobStatus.SUCCEEDED)
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            if conn.execute(statement).scalar_one() >= expected:
                return
        time.sleep(0.25)
    raise AssertionError(f"{expected} jobs did not finish within {timeout:.0f} s")


def timings(db: Database) -> list[tuple]:
    with db.engine.connect() as conn:
        return conn.execute(select(Job.run_at, Job.started_at, Job.finished_at)).all()


def start_workers(url: str, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    env = worker_env(
        url, tmp_path, HOOKLINE_JOB_POLL_SECONDS="0.2", HOOKLINE_JOB_LEASE_SECONDS="30"
    )
    command = [
        sys.executable,
        "-m",
        "hookline",
        "worker",
        "--concurrency",
        str(CONCURRENCY),
        "--no-scheduler",
    ]
    return [subprocess.Popen(command, cwd=REPO, env=env) for _ in range(WORKERS)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


def measure(url: str, tmp_path: Path) -> dict[str, float]:
    db = Database.from_url(url)
    migrate.upgrade(db.engine)
    enqueue_many(db, JOBS, start=utcnow())
    procs = start_workers(url, tmp_path)
    try:
        wait_until_done(db, JOBS, timeout=600)
        rows = timings(db)
        first = min(r.started_at for r in rows)
        last = max(r.finished_at for r in rows)
        throughput = JOBS / (last - first).total_seconds()

        with db.engine.begin() as conn:
            conn.execute(Job.__table__.delete())
        start = utcnow() + timedelta(seconds=2)
        enqueue_many(db, JOBS, start=start, spacing_s=1 / LAG_RATE_PER_S)
        wait_until_done(db, JOBS, timeout=600)
        lags = sorted((r.started_at - r.run_at).total_seconds() for r in timings(db))
    finally:
        stop(procs)
        db.dispose()
    return {
        "jobs_per_s": round(throughput, 1),
        "lag_p50_s": round(statistics.median(lags), 3),
        "lag_p99_s": round(lags[int(len(lags) * 0.99) - 1], 3),
        "lag_max_s": round(lags[-1], 3),
    }


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def bench_queue(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'q.db'}"
    )
    result = measure(url, tmp_path)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"queue-{backend}.json").write_text(json.dumps(result, indent=2))
    print(f"\nqueue on {backend}: {result}")
    if backend == "postgresql":
        assert result["jobs_per_s"] >= 500, result
    assert result["lag_p99_s"] <= 1.0, result
