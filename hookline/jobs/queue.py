"""The jobs table as a queue: enqueue, claim, heartbeat, finish, retry, cancel.

Every state change is one SQL statement guarded by the job's current state (and,
for a running job, by the worker that holds its lease), so two processes can
never both move the same job: the second statement matches no row.

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``; on SQLite the claiming
``UPDATE … RETURNING`` runs in a ``BEGIN IMMEDIATE`` transaction (see
hookline.db), which serialises claims across processes.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.jobs import registry
from hookline.models import Job, JobStatus, User

jobs = Job.__table__
c = jobs.c

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How long a failed attempt waits before the next one."""

    base_s: float = 5.0
    max_s: float = 3600.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """Return the wait after ``attempt`` (1-based): exponential, half of it jittered."""
        ceiling = min(self.max_s, self.base_s * 2 ** max(0, attempt - 1))
        jitter = (rng or random).uniform(0, ceiling / 2)
        return timedelta(seconds=ceiling / 2 + jitter)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    run_at: datetime


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended, waiting to be written to the jobs table."""

    job: ClaimedJob
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    cancelled: bool = False
    permanent: bool = False
    # Set when the job asked to run again later without counting this attempt.
    postpone_s: float | None = None
    note: str = ""


def record(
    conn: Connection, worker: str, outcome: Outcome, *, policy: RetryPolicy, now: datetime
) -> JobStatus | None:
    """Write ``outcome``; return the job's new status, or None when ``worker`` lost the lease."""
    job = outcome.job
    if outcome.postpone_s is not None:
        until = now + timedelta(seconds=outcome.postpone_s)
        return JobStatus.QUEUED if postpone(conn, worker, job.id, until, outcome.note) else None
    if outcome.cancelled:
        return JobStatus.CANCELLED if mark_cancelled(conn, worker, job.id, now=now) else None
    if outcome.error is not None:
        return fail(
            conn, worker, job, outcome.error, policy=policy, now=now, permanent=outcome.permanent
        )
    return JobStatus.SUCCEEDED if succeed(conn, worker, job.id, outcome.result, now=now) else None


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    key: str | None = None,
    priority: int = 100,
    max_attempts: int | None = None,
    now: datetime | None = None,
) -> Job:
    """Add a job; with ``key``, an existing job with that key is returned instead.

    The idempotency key makes enqueueing safe to repeat: the scheduler, a
    retried web request or two racing processes all end up with one job.
    """
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(f"A job key must be 1-{MAX_KEY_LENGTH} characters long.")
    now = now or utcnow()
    if max_attempts is None:
        max_attempts = registry.default_attempts(kind)
    values = {
        "kind": kind,
        "payload": payload or {},
        "key": key,
        "status": JobStatus.QUEUED.value,
        "priority": priority,
        "run_at": run_at or now,
        "max_attempts": max_attempts,
        "created_at": now,
        "updated_at": now,
    }
    if key is None:
        job_id = session.execute(insert(jobs).values(values).returning(c.id)).scalar_one()
    else:
        session.execute(_insert_ignoring_key_conflict(session, values))
        job_id = session.execute(select(c.id).where(c.key == key)).scalar_one()
    return session.get_one(Job, job_id)


def _insert_ignoring_key_conflict(session: Session, values: dict[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(jobs).values(values).on_conflict_do_nothing(index_elements=["key"])


def claim(
    conn: Connection,
    worker: str,
    *,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
    skip_kinds: Sequence[str] = (),
    only_ids: Sequence[int] | None = None,
) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs for ``worker`` and lease them until ``now + lease``.

    ``skip_kinds`` are kinds this worker already runs as many of as it may; ``only_ids``
    limits the claim to those jobs (a command running the jobs it just enqueued).
    """
    now = now or utcnow()
    due = (
        select(c.id)
        .where(c.status == JobStatus.QUEUED.value, c.run_at <= now)
        .where(c.kind.notin_(list(skip_kinds)) if skip_kinds else true())
        .where(c.id.in_(list(only_ids)) if only_ids is not None else true())
        .order_by(c.priority, c.run_at, c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = conn.execute(
        update(jobs)
        .where(c.id.in_(due.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING.value,
            lease_owner=worker,
            lease_expires_at=now + lease,
            attempts=c.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .returning(c.id, c.kind, c.payload, c.attempts, c.max_attempts, c.run_at)
    ).all()
    return sorted((ClaimedJob(*row) for row in claimed), key=lambda j: j.id)


def next_due_at(conn: Connection) -> datetime | None:
    """Return when the earliest queued job becomes due (None when the queue is empty)."""
    return conn.execute(
        select(func.min(c.run_at)).where(c.status == JobStatus.QUEUED.value)
    ).scalar()


def heartbeat(
    conn: Connection, worker: str, job_ids: Sequence[int], *, lease: timedelta, now: datetime
) -> dict[int, bool]:
    """Extend the leases ``worker`` still holds; return {job id: cancel requested}.

    A job missing from the answer was taken away (its lease expired and another
    worker claimed it): the caller must not report its outcome.
    """
    if not job_ids:
        return {}
    rows = conn.execute(
        update(jobs)
        .where(_held_by(worker, job_ids))
        .values(lease_expires_at=now + lease)
        .returning(c.id, c.cancel_requested)
    ).all()
    return {job_id: bool(cancel) for job_id, cancel in rows}


def report_progress(
    conn: Connection, worker: str, job_id: int, percent: float, message: str, *, now: datetime
) -> bool | None:
    """Store progress; return whether cancellation was requested (None: lease lost)."""
    row = conn.execute(
        update(jobs)
        .where(_held_by(worker, [job_id]))
        .values(
            progress=max(0.0, min(100.0, percent)), progress_message=message[:500], updated_at=now
        )
        .returning(c.cancel_requested)
    ).first()
    return None if row is None else bool(row[0])


def succeed(
    conn: Connection, worker: str, job_id: int, result: dict[str, Any] | None, *, now: datetime
) -> bool:
    """Mark the job done; False when ``worker`` no longer held it."""
    return _finish(
        conn, worker, job_id, now, status=JobStatus.SUCCEEDED, result=result or {}, progress=100.0
    )


def mark_cancelled(conn: Connection, worker: str, job_id: int, *, now: datetime) -> bool:
    return _finish(
        conn, worker, job_id, now, status=JobStatus.CANCELLED, last_error="cancelled while running"
    )


def fail(
    conn: Connection,
    worker: str,
    job: ClaimedJob,
    error: BaseException,
    *,
    policy: RetryPolicy,
    now: datetime,
    permanent: bool = False,
) -> JobStatus | None:
    """Record a failed attempt: retry later with backoff, or dead-letter it.

    Returns the job's new status, or None when the worker had lost the lease.
    """
    message = describe_error(error)
    if permanent or job.attempt >= job.max_attempts:
        done = _finish(conn, worker, job.id, now, status=JobStatus.DEAD, last_error=message)
        return JobStatus.DEAD if done else None
    moved = conn.execute(
        update(jobs)
        .where(_held_by(worker, [job.id]))
        .values(
            status=JobStatus.QUEUED.value,
            run_at=now + policy.delay(job.attempt),
            last_error=message,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    ).rowcount
    return JobStatus.QUEUED if moved else None


def postpone(conn: Connection, worker: str, job_id: int, until: datetime, note: str) -> bool:
    """Put a job back until ``until`` without counting the attempt (it was waiting, not failing)."""
    return bool(
        conn.execute(
            update(jobs)
            .where(_held_by(worker, [job_id]))
            .values(
                status=JobStatus.QUEUED.value,
                attempts=c.attempts - 1,
                run_at=until,
                progress_message=note[:500],
                lease_owner=None,
                lease_expires_at=None,
                updated_at=until,
            )
        ).rowcount
    )


def release(conn: Connection, worker: str, job_ids: Sequence[int], *, now: datetime) -> int:
    """Give unfinished jobs back at shutdown without counting the interrupted attempt."""
    if not job_ids:
        return 0
    return conn.execute(
        update(jobs)
        .where(_held_by(worker, job_ids))
        .values(
            status=JobStatus.QUEUED.value,
            attempts=c.attempts - 1,
            run_at=now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    ).rowcount


def reap_expired(conn: Connection, *, now: datetime) -> int:
    """Requeue (or dead-letter) jobs whose worker stopped heartbeating.

    A job someone asked to cancel is cancelled rather than run again.
    """
    out_of_attempts = c.attempts >= c.max_attempts
    ends = or_(out_of_attempts, c.cancel_requested)
    return conn.execute(
        update(jobs)
        .where(c.status == JobStatus.RUNNING.value, c.lease_expires_at < now)
        .values(
            status=case(
                (c.cancel_requested, JobStatus.CANCELLED.value),
                (out_of_attempts, JobStatus.DEAD.value),
                else_=JobStatus.QUEUED.value,
            ),
            last_error=literal("worker ")
            + func.coalesce(c.lease_owner, "?")
            + " stopped before finishing (its lease expired); the attempt counts as failed",
            finished_at=case((ends, now), else_=None),
            run_at=now,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    ).rowcount


def request_cancel(
    session: Session, job_id: int, *, actor: User | None = None, now: datetime | None = None
) -> Job:
    """Cancel a queued job now, or ask its worker to stop a running one (audited)."""
    now = now or utcnow()
    job = _get(session, job_id)
    before = job.status
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = now
    elif job.status == JobStatus.RUNNING:
        job.cancel_requested = True
    else:
        raise Conflict(
            f"Job {job_id} is {job.status}; only queued or running jobs can be cancelled."
        )
    job.updated_at = now
    session.add(job)
    audit.record(
        session,
        actor=actor,
        action="job.cancel",
        entity_type="job",
        entity_id=job_id,
        before={"status": before},
        after={"status": job.status},
    )
    session.flush()
    return job


def retry_now(
    session: Session, job_id: int, *, actor: User | None = None, now: datetime | None = None
) -> Job:
    """Run a dead-lettered or cancelled job again, with a fresh set of attempts (audited)."""
    now = now or utcnow()
    job = _get(session, job_id)
    before = job.status
    if job.status not in (JobStatus.DEAD, JobStatus.CANCELLED):
        raise Conflict(f"Job {job_id} is {job.status}; only dead or cancelled jobs can be retried.")
    job.status = JobStatus.QUEUED
    job.attempts = 0
    job.run_at = now
    job.cancel_requested = False
    job.finished_at = None
    job.progress = 0.0
    job.progress_message = ""
    job.updated_at = now
    session.add(job)
    audit.record(
        session,
        actor=actor,
        action="job.retry",
        entity_type="job",
        entity_id=job_id,
        before={"status": before},
        after={"status": job.status},
    )
    session.flush()
    return job


def describe_error(error: BaseException) -> str:
    """Keep the error's type, message and the innermost frames: enough to act on."""
    summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    where = "".join(traceback.format_list(frames)).rstrip()
    return f"{summary}\n{where}" if where else summary


def _held_by(worker: str, job_ids: Sequence[int]) -> Any:
    return and_(
        c.id.in_(list(job_ids)), c.lease_owner == worker, c.status == JobStatus.RUNNING.value
    )


def _finish(
    conn: Connection, worker: str, job_id: int, now: datetime, *, status: JobStatus, **values: Any
) -> bool:
    return bool(
        conn.execute(
            update(jobs)
            .where(_held_by(worker, [job_id]))
            .values(
                status=status.value,
                finished_at=now,
                updated_at=now,
                lease_owner=None,
                lease_expires_at=None,
                **values,
            )
        ).rowcount
    )


def _get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"No job {job_id}.")
    return job


__all__ = [
    "ClaimedJob",
    "Outcome",
    "RetryPolicy",
    "claim",
    "enqueue",
    "fail",
    "heartbeat",
    "mark_cancelled",
    "next_due_at",
    "reap_expired",
    "record",
    "release",
    "report_progress",
    "request_cancel",
    "retry_now",
    "succeed",
]
