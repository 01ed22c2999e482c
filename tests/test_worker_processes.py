"""Real `hookline worker` processes against a real database: drain, crash, dead-letter, elect."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from hookline import migrate
from hookline.clock import utcnow
from hookline.db import Database
from hookline.jobs import enqueue
from hookline.jobs.scheduler import LOCK_NAME
from hookline.models import Job, JobStatus, Lock

import jobkinds
from testkit import Workers, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def queue_db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    migrate.upgrade(database.engine)
    with database.engine.begin() as conn:
        conn.execute(text(jobkinds.CREATE_EXECUTIONS))
    yield database
    database.dispose()


@pytest.fixture
def workers(database_url: str, tmp_path: Path, queue_db: Database) -> Iterator[Workers]:
    pool = Workers(database_url, tmp_path)
    yield pool
    pool.stop_all()


def count(db: Database, statement) -> int:
    with db.engine.connect() as conn:
        return conn.execute(statement).scalar_one()


def job_row(db: Database, job_id: int) -> Job:
    with db.session() as session:
        return session.get_one(Job, job_id)


def test_four_workers_run_2000_jobs_exactly_once(queue_db: Database, workers: Workers):
    with queue_db.transaction() as session:
        ids = [enqueue(session, "test.record").id for _ in range(2000)]
    workers.start(4, concurrency=4)
    finished = select(func.count()).select_from(Job).where(Job.status == JobStatus.SUCCEEDED)
    wait_for(lambda: count(queue_db, finished) == 2000, timeout=240, what="2000 jobs to finish")

    with queue_db.engine.connect() as conn:
        runs = conn.execute(text("SELECT job_id, worker FROM test_executions")).all()
        attempts = conn.execute(select(Job.attempts, func.count()).group_by(Job.attempts)).all()
    assert sorted(r.job_id for r in runs) == sorted(ids)  # each job ran once, none twice
    assert dict(attempts) == {1: 2000}
    assert len({r.worker for r in runs}) == 4  # the work was shared


def test_job_of_a_sigkilled_worker_is_rerun_after_its_lease_and_completes_once(
    queue_db: Database, workers: Workers
):
    with queue_db.transaction() as session:
        job_id = enqueue(session, "test.slow", {"seconds": 4}).id
    [victim] = workers.start(1, concurrency=1)
    starts = (
        select(func.count()).select_from(text("test_executions")).where(text("phase = 'start'"))
    )
    wait_for(lambda: count(queue_db, starts) == 1, timeout=30, what="the job to start")
    wait_for(
        lambda: job_row(queue_db, job_id).progress > 0, timeout=30, what="progress to be reported"
    )
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    killed_at = utcnow()
    assert job_row(queue_db, job_id).status == JobStatus.RUNNING  # nobody knows yet

    workers.start(1, concurrency=1)
    wait_for(
        lambda: job_row(queue_db, job_id).status == JobStatus.SUCCEEDED,
        timeout=60,
        what="the rerun",
    )
    job = job_row(queue_db, job_id)
    assert job.attempts == 2
    assert job.started_at >= killed_at  # not before the first lease (2 s) ran out
    with queue_db.engine.connect() as conn:
        phases = sorted(r[0] for r in conn.execute(text("SELECT phase FROM test_executions")))
    assert phases == ["done", "start", "start"]  # started twice, completed once


def test_always_failing_job_is_dead_lettered_with_its_error(queue_db: Database, workers: Workers):
    with queue_db.transaction() as session:
        job_id = enqueue(session, "test.fails").id
    workers.start(1)
    wait_for(
        lambda: job_row(queue_db, job_id).status == JobStatus.DEAD,
        timeout=60,
        what="dead-lettering",
    )
    job = job_row(queue_db, job_id)
    assert job.attempts == job.max_attempts == 3
    assert "RuntimeError: the render farm is on fire (attempt 3)" in job.last_error
    assert "jobkinds.py" in job.last_error  # where it failed


def test_one_scheduler_among_many_workers_and_a_successor_when_it_dies(
    queue_db: Database, workers: Workers
):
    procs = workers.start(3, concurrency=1, scheduler=True)

    def holder() -> str | None:
        with queue_db.session() as session:
            lock = session.get(Lock, LOCK_NAME)
            return lock.holder if lock and lock.expires_at > utcnow() else None

    wait_for(lambda: holder() is not None, timeout=30, what="a scheduler to be elected")
    leader = holder()
    time.sleep(2.5)  # several election rounds
    assert holder() == leader
    assert count(queue_db, select(func.count()).select_from(Lock)) == 1
    # The recurring housekeeping was enqueued once, by the leader.
    prune = select(func.count()).select_from(Job).where(Job.kind == "jobs.prune")
    wait_for(lambda: count(queue_db, prune) >= 1, timeout=30, what="recurring work to be enqueued")

    leader_pid = int(leader.split(":")[1])
    [victim] = [p for p in procs if p.pid == leader_pid]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    wait_for(lambda: holder() not in (None, leader), timeout=30, what="another worker to take over")
    assert int(holder().split(":")[1]) in {p.pid for p in procs if p.poll() is None}
    time.sleep(1)
    with queue_db.engine.connect() as conn:
        keys = [row[0] for row in conn.execute(select(Job.key).where(Job.kind == "jobs.prune"))]
    assert len(keys) == len(set(keys))  # the successor caught up without enqueueing a period twice


def test_worker_stops_gracefully_on_sigterm_and_hands_back_nothing_lost(
    queue_db: Database, workers: Workers
):
    with queue_db.transaction() as session:
        job_id = enqueue(session, "test.slow", {"seconds": 1}).id
    [proc] = workers.start(1, concurrency=1)
    wait_for(
        lambda: job_row(queue_db, job_id).status == JobStatus.RUNNING,
        timeout=30,
        what="the job to start",
    )
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert job_row(queue_db, job_id).status == JobStatus.SUCCEEDED  # finished before exiting
