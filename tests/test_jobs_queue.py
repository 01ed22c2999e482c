"""The queue's rules, on SQLite and PostgreSQL, with an explicit clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from hookline.errors import Conflict, InvalidInput
from hookline.jobs import (
    enqueue,
    queue,
    registry,
    request_cancel,
    retry_now,
    run_due_jobs,
    run_jobs,
)
from hookline.jobs.worker import Worker
from hookline.models import Job, JobStatus

import jobkinds
from testkit import make_settings

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def settings(db, tmp_path: Path):
    return make_settings(tmp_path, str(db.engine.url.render_as_string(hide_password=False)))


@pytest.fixture(autouse=True)
def executions_table(db):
    with db.engine.begin() as conn:
        conn.execute(text(jobkinds.CREATE_EXECUTIONS))


def _job(db, job_id: int) -> Job:
    with db.session() as session:
        return session.get_one(Job, job_id)


def _executions(db, phase: str = "done") -> list[int]:
    with db.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT job_id FROM test_executions WHERE phase = :p"), {"p": phase}
            )
        ]


def test_same_key_returns_the_same_job(db):
    with db.transaction() as session:
        first = enqueue(session, "noop", {"a": 1}, key="publish:42", now=T0)
        again = enqueue(session, "noop", {"a": 2}, key="publish:42", now=T0)
        other = enqueue(session, "noop", key="publish:43", now=T0)
    assert first.id == again.id
    assert again.payload == {"a": 1}
    assert other.id != first.id


def test_key_must_fit(db):
    with db.transaction() as session, pytest.raises(InvalidInput, match="1-200 characters"):
        enqueue(session, "noop", key="x" * 201)


def test_claim_takes_due_jobs_in_priority_then_time_order(db):
    with db.transaction() as session:
        late = enqueue(session, "noop", run_at=T0 + timedelta(minutes=5), now=T0).id
        low = enqueue(session, "noop", priority=200, now=T0).id
        first = enqueue(session, "noop", run_at=T0 - timedelta(seconds=2), now=T0).id
        second = enqueue(session, "noop", now=T0).id
    with db.engine.begin() as conn:
        claimed = queue.claim(conn, "w1", limit=10, lease=LEASE, now=T0)
    assert [j.id for j in claimed] == sorted([first, second, low])
    assert late not in [j.id for j in claimed]
    with db.engine.begin() as conn:
        assert queue.claim(conn, "w2", limit=10, lease=LEASE, now=T0) == []
        assert queue.next_due_at(conn) == T0 + timedelta(minutes=5)
        assert [
            j.id
            for j in queue.claim(conn, "w2", limit=10, lease=LEASE, now=T0 + timedelta(minutes=5))
        ] == [late]


def test_priority_orders_claims(db):
    with db.transaction() as session:
        low = enqueue(session, "noop", priority=200, now=T0).id
        high = enqueue(session, "noop", priority=10, now=T0).id
    with db.engine.begin() as conn:
        assert [j.id for j in queue.claim(conn, "w", limit=1, lease=LEASE, now=T0)] == [high]
        assert [j.id for j in queue.claim(conn, "w", limit=1, lease=LEASE, now=T0)] == [low]


def test_concurrent_claims_never_share_a_job(db):
    with db.transaction() as session:
        for _ in range(200):
            enqueue(session, "noop", now=T0)
    taken: list[list[int]] = []
    errors: list[BaseException] = []

    def grab(name: str) -> None:
        mine: list[int] = []
        try:
            while True:
                with db.engine.begin() as conn:
                    batch = queue.claim(conn, name, limit=7, lease=LEASE, now=T0)
                if not batch:
                    break
                mine += [j.id for j in batch]
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)
        taken.append(mine)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    everything = [j for mine in taken for j in mine]
    assert len(everything) == 200
    assert len(set(everything)) == 200


def test_failure_retries_with_backoff_then_dead_letters_with_the_error(db, settings):
    clock = Clock()
    with db.transaction() as session:
        job_id = enqueue(session, "test.fails", now=T0).id
    assert _job(db, job_id).max_attempts == 3

    assert run_due_jobs(db, settings, clock=clock) == 1
    job = _job(db, job_id)
    assert job.status == JobStatus.QUEUED
    assert job.attempts == 1
    assert "render farm is on fire (attempt 1)" in job.last_error
    assert job.run_at > T0  # backed off
    assert run_due_jobs(db, settings, clock=clock) == 0  # not due yet

    for _ in range(2):
        clock.now = _job(db, job_id).run_at
        assert run_due_jobs(db, settings, clock=clock) == 1
    job = _job(db, job_id)
    assert job.status == JobStatus.DEAD
    assert job.attempts == 3
    assert "RuntimeError: the render farm is on fire (attempt 3)" in job.last_error
    assert job.finished_at == clock.now


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling():
    policy = queue.RetryPolicy(base_s=10, max_s=100)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        delays = {policy.delay(attempt).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_permanent_error_dead_letters_at_once(db, settings):
    with db.transaction() as session:
        job_id = enqueue(session, "test.refuses").id
    run_due_jobs(db, settings)
    job = _job(db, job_id)
    assert job.status == JobStatus.DEAD
    assert job.attempts == 1
    assert "can never work" in job.last_error


def test_unknown_kind_is_dead_lettered_with_a_hint(db, settings):
    with db.transaction() as session:
        job_id = enqueue(session, "no.such.kind").id
    run_due_jobs(db, settings)
    job = _job(db, job_id)
    assert job.status == JobStatus.DEAD
    assert "HOOKLINE_PLUGINS" in job.last_error


def test_success_stores_result_and_progress(db, settings):
    with db.transaction() as session:
        job_id = enqueue(session, "test.record").id
    run_due_jobs(db, settings)
    job = _job(db, job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"job": job_id}
    assert job.progress == 100
    assert _executions(db) == [job_id]


def test_expired_lease_requeues_then_dead_letters(db):
    with db.transaction() as session:
        job_id = enqueue(session, "noop", max_attempts=2, now=T0).id
    now = T0
    for attempt in (1, 2):
        with db.engine.begin() as conn:
            [claimed] = queue.claim(conn, "doomed", limit=1, lease=LEASE, now=now)
            assert claimed.attempt == attempt
            assert queue.reap_expired(conn, now=now + LEASE / 2) == 0
            now += LEASE + timedelta(seconds=1)
            assert queue.reap_expired(conn, now=now) == 1
    job = _job(db, job_id)
    assert job.status == JobStatus.DEAD
    assert "worker doomed stopped before finishing" in job.last_error


def test_heartbeat_extends_the_lease_and_a_lost_lease_drops_the_outcome(db):
    with db.transaction() as session:
        job_id = enqueue(session, "noop", now=T0).id
    with db.engine.begin() as conn:
        queue.claim(conn, "slowpoke", limit=1, lease=LEASE, now=T0)
        assert queue.heartbeat(
            conn, "slowpoke", [job_id], lease=LEASE, now=T0 + timedelta(seconds=20)
        ) == {job_id: False}
        assert queue.reap_expired(conn, now=T0 + timedelta(seconds=40)) == 0  # extended to 50 s
        assert queue.reap_expired(conn, now=T0 + timedelta(seconds=51)) == 1
        [again] = queue.claim(conn, "rescuer", limit=1, lease=LEASE, now=T0 + timedelta(seconds=52))
        # The first worker wakes up: its heartbeat and its result no longer count.
        assert (
            queue.heartbeat(conn, "slowpoke", [job_id], lease=LEASE, now=T0 + timedelta(seconds=53))
            == {}
        )
        assert not queue.succeed(
            conn, "slowpoke", job_id, {"stale": True}, now=T0 + timedelta(seconds=53)
        )
        assert queue.succeed(
            conn, "rescuer", job_id, {"fresh": True}, now=T0 + timedelta(seconds=54)
        )
    job = _job(db, job_id)
    assert job.result == {"fresh": True}
    assert job.attempts == 2 == again.attempt


def test_cancel_a_queued_job(db):
    with db.transaction() as session:
        job_id = enqueue(session, "noop").id
        assert request_cancel(session, job_id).status == JobStatus.CANCELLED
    with db.transaction() as session, pytest.raises(Conflict, match="only queued or running"):
        request_cancel(session, job_id)


def test_cancel_a_running_job_stops_it_at_its_next_progress_report(db, settings):
    with db.transaction() as session:
        job_id = enqueue(session, "test.slow", {"seconds": 30}, now=T0).id
    worker = Worker(db, settings, concurrency=1, name="canceller")
    with db.engine.begin() as conn:
        [claimed] = queue.claim(conn, worker.name, limit=1, lease=LEASE, now=T0)
    with db.transaction() as session:
        assert request_cancel(session, job_id).cancel_requested
    worker.run_inline(claimed)
    job = _job(db, job_id)
    assert job.status == JobStatus.CANCELLED
    assert _executions(db, "start") == [job_id]
    assert _executions(db, "done") == []


def test_retry_revives_dead_and_cancelled_jobs_only(db, settings):
    with db.transaction() as session:
        dead = enqueue(session, "test.refuses").id
        done = enqueue(session, "test.record").id
    run_due_jobs(db, settings)
    with db.transaction() as session:
        revived = retry_now(session, dead)
        assert (revived.status, revived.attempts) == (JobStatus.QUEUED, 0)
        with pytest.raises(Conflict, match="only dead or cancelled"):
            retry_now(session, done)


def test_release_hands_jobs_back_without_spending_an_attempt(db):
    with db.transaction() as session:
        job_id = enqueue(session, "noop", now=T0).id
    with db.engine.begin() as conn:
        queue.claim(conn, "leaving", limit=1, lease=LEASE, now=T0)
        assert queue.release(conn, "leaving", [job_id], now=T0) == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.lease_owner) == (JobStatus.QUEUED, 0, None)


def test_registered_kinds_declare_their_attempts():
    kinds = registry.load(["jobkinds"])
    assert kinds["test.slow"].max_attempts == 3
    assert kinds["noop"].description.startswith("Do nothing")
    with pytest.raises(InvalidInput, match="Known kinds"):
        registry.get("nope")


def test_a_job_that_waits_is_postponed_without_spending_attempts(db, settings, tmp_path):
    flag = tmp_path / "upstream-done"
    with db.transaction() as session:
        job_id = enqueue(session, "test.waits", {"until": str(flag)}, max_attempts=1, now=T0).id
    clock = Clock()
    for _ in range(3):
        assert run_due_jobs(db, settings, clock=clock) == 1
        job = _job(db, job_id)
        assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
        assert job.progress_message == "waiting for the upstream file"
        clock.advance(seconds=1)
    flag.touch()
    run_due_jobs(db, settings, clock=clock)
    assert _job(db, job_id).status == JobStatus.SUCCEEDED


def test_a_kind_with_a_parallel_cap_never_runs_more_than_its_cap_at_once(db, settings):
    with db.transaction() as session:
        ids = [enqueue(session, "test.capped").id for _ in range(5)]
        ids += [enqueue(session, "test.record").id for _ in range(3)]
    worker = Worker(db, settings.replace(localize_parallel=2), concurrency=4, modules=["jobkinds"])
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(_job(db, i).status == JobStatus.SUCCEEDED for i in ids):
                break
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert all(_job(db, i).status == JobStatus.SUCCEEDED for i in ids)
    assert jobkinds.MOST_AT_ONCE[0] == 2
    assert all(_job(db, i).attempts == 1 for i in ids)  # handing back the extras cost nothing


def test_run_jobs_runs_exactly_the_jobs_it_is_given_and_reports_progress(db, settings):
    with db.transaction() as session:
        mine = [enqueue(session, "test.slow", {"seconds": 0.3}).id for _ in range(3)]
        other = enqueue(session, "test.record").id
    seen: list[float] = []
    rows = run_jobs(
        db,
        settings,
        mine,
        parallel=2,
        modules=["jobkinds"],
        on_tick=lambda jobs: seen.extend(j.progress for j in jobs),
        tick_s=0.05,
    )
    assert [r.status for r in rows] == [JobStatus.SUCCEEDED] * 3
    assert _job(db, other).status == JobStatus.QUEUED
    assert any(0 < p < 100 for p in seen)


def test_a_cancelled_job_whose_worker_died_is_not_run_again(db):
    with db.transaction() as session:
        job_id = enqueue(session, "noop", now=T0).id
    with db.engine.begin() as conn:
        queue.claim(conn, "gone", limit=1, lease=LEASE, now=T0)
    with db.transaction() as session:
        request_cancel(session, job_id, now=T0)
    with db.engine.begin() as conn:
        assert queue.reap_expired(conn, now=T0 + LEASE + timedelta(seconds=1)) == 1
    assert _job(db, job_id).status == JobStatus.CANCELLED
