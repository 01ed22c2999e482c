"""The worker: claims due jobs, runs them on threads, keeps their leases alive.

One process runs ``concurrency`` jobs at once. A heartbeat thread renews the
leases of the jobs it runs; if the process dies (even by SIGKILL) the leases
expire and any worker requeues those jobs (``queue.reap_expired``).
"""

from __future__ import annotations

import logging
import os
import queue as stdqueue
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from hookline.clock import utcnow
from hookline.db import Database
from hookline.errors import JobCancelled, PermanentJobError, RetryLater
from hookline.jobs import queue, registry
from hookline.jobs.context import JobContext
from hookline.jobs.recurring import Recurring
from hookline.jobs.scheduler import SchedulerService
from hookline.models import FINISHED, Job, JobStatus
from hookline.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass
class _Running:
    job: queue.ClaimedJob
    context: JobContext


class Worker:
    """Run jobs from the queue until stopped.

    The main loop is the only writer of outcomes: in one transaction it records what
    finished since its last turn and claims as many jobs as threads are free. One
    round trip per turn, however many jobs it covers, is what makes no-op jobs cheap.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        concurrency: int | None = None,
        name: str | None = None,
        clock: Clock = utcnow,
        modules: Sequence[str] = (),
        recurring: Sequence[Recurring] = (),
        only_ids: Sequence[int] | None = None,
    ) -> None:
        self.db = db
        self.only_ids = only_ids
        self.settings = settings
        self.concurrency = max(1, concurrency or settings.worker_concurrency)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self.policy = queue.RetryPolicy(
            settings.job_backoff_seconds, settings.job_backoff_max_seconds
        )
        self.kinds = registry.load((*modules, *settings.plugins))
        self.scheduler = (
            SchedulerService(db, recurring, holder=self.name, lease=self.lease, clock=clock)
            if recurring and settings.scheduler
            else None
        )
        self._running: dict[int, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._force = threading.Event()
        self._inbox: stdqueue.SimpleQueue[_Running | None] = stdqueue.SimpleQueue()
        self._finished: stdqueue.SimpleQueue[queue.Outcome] = stdqueue.SimpleQueue()
        self._unrecorded: list[queue.Outcome] = []
        self._next_reap = 0.0

    # -- lifecycle -----------------------------------------------------------------

    def run(self, *, install_signals: bool = False) -> None:
        """Work until :meth:`stop` (or SIGINT/SIGTERM when ``install_signals``)."""
        if install_signals:
            self._install_signal_handlers()
        self._start_threads()
        if self.scheduler:
            self.scheduler.start()
        log.info("worker %s started: %d at a time", self.name, self.concurrency)
        try:
            while not self._stopping.is_set():
                self._wait(self._turn())
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    @property
    def running_ids(self) -> list[int]:
        with self._lock:
            return list(self._running)

    # -- the loop ------------------------------------------------------------------

    def _turn(self, *, claim: bool = True) -> float:
        """Record finished jobs and claim new ones; return how long to sleep."""
        poll = self.settings.job_poll_seconds
        self._collect_finished()
        done = self._unrecorded
        free = self.concurrency - len(self._running) + len(done) if claim else 0
        now = self.clock()
        try:
            with self.db.engine.begin() as conn:
                statuses = [
                    queue.record(conn, self.name, o, policy=self.policy, now=now) for o in done
                ]
                self._maybe_reap(conn, now)
                claimed = self._claim(conn, free, done, now) if free > 0 else []
                next_due = queue.next_due_at(conn) if free > 0 and not claimed else None
        except OperationalError as exc:  # database unreachable: keep the outcomes, retry
            log.warning("worker %s cannot reach the database: %s", self.name, exc.orig)
            return poll * 4
        self._forget(done, statuses)
        for job in claimed:
            self._dispatch(job)
        if claimed or free <= 0:
            return 0.0 if claimed else poll
        if next_due is None:
            return poll
        return max(0.0, min(poll, (next_due - self.clock()).total_seconds()))

    def _claim(
        self, conn: Connection, free: int, done: list[queue.Outcome], now: datetime
    ) -> list[queue.ClaimedJob]:
        """Claim up to ``free`` jobs, keeping kinds with a parallel cap under it."""
        running = Counter(entry.job.kind for entry in self._running.values())
        running.subtract(o.job.kind for o in done)
        caps = self._caps()
        full = [kind for kind, cap in caps.items() if running[kind] >= cap]
        claimed = queue.claim(
            conn,
            self.name,
            limit=free,
            lease=self.lease,
            now=now,
            skip_kinds=full,
            only_ids=self.only_ids,
        )
        keep, extra = [], []
        for job in claimed:
            cap = caps.get(job.kind)
            fits = cap is None or running[job.kind] < cap
            (keep if fits else extra).append(job)
            running[job.kind] += fits
        # One claim can take several jobs of a capped kind; the ones over the cap go back.
        queue.release(conn, self.name, [job.id for job in extra], now=now)
        return keep

    def _caps(self) -> dict[str, int]:
        return {
            name: max(1, int(getattr(self.settings, kind.parallel_setting)))
            for name, kind in self.kinds.items()
            if kind.parallel_setting
        }

    def _collect_finished(self) -> None:
        while True:
            try:
                self._unrecorded.append(self._finished.get_nowait())
            except stdqueue.Empty:
                return

    def _forget(self, done: list[queue.Outcome], statuses: list[JobStatus | None]) -> None:
        with self._lock:
            for outcome, status in zip(done, statuses, strict=True):
                self._running.pop(outcome.job.id, None)
                _log_outcome(outcome, status)
        self._unrecorded = []

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._wake.wait(seconds)
        self._wake.clear()

    def _maybe_reap(self, conn: Connection, now: datetime) -> None:
        moment = time.monotonic()
        if moment < self._next_reap:
            return
        self._next_reap = moment + max(1.0, self.settings.job_lease_seconds / 4)
        reaped = queue.reap_expired(conn, now=now)
        if reaped:
            log.warning("requeued %d job(s) whose worker stopped heartbeating", reaped)

    def _dispatch(self, job: queue.ClaimedJob) -> None:
        entry = self._entry(job)
        with self._lock:
            self._running[job.id] = entry
        self._inbox.put(entry)

    def run_inline(self, job: queue.ClaimedJob) -> JobStatus | None:
        """Run a claimed job in the calling thread and record its outcome."""
        outcome = self._execute(self._entry(job))
        with self.db.engine.begin() as conn:
            status = queue.record(conn, self.name, outcome, policy=self.policy, now=self.clock())
        _log_outcome(outcome, status)
        return status

    def _entry(self, job: queue.ClaimedJob) -> _Running:
        context = JobContext(
            job_id=job.id,
            attempt=job.attempt,
            worker=self.name,
            db=self.db,
            settings=self.settings,
            clock=self.clock,
        )
        return _Running(job, context)

    # -- running one job -----------------------------------------------------------

    def _execute_forever(self) -> None:
        while (entry := self._inbox.get()) is not None:
            self._finished.put(self._execute(entry))
            self._wake.set()

    def _execute(self, entry: _Running) -> queue.Outcome:
        job, context = entry.job, entry.context
        try:
            kind = self.kinds.get(job.kind)
            if kind is None:
                raise PermanentJobError(
                    f"No handler for job kind {job.kind!r} in this worker; "
                    "is the plugin that defines it listed in HOOKLINE_PLUGINS?"
                )
            result = kind.handler(context, dict(job.payload))
        except JobCancelled:
            return queue.Outcome(job, cancelled=True)
        except RetryLater as wait:
            return queue.Outcome(job, postpone_s=wait.delay_s, note=str(wait))
        except Exception as exc:  # any failure of the job is recorded, never lost
            log.warning("job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempt, exc)
            return queue.Outcome(job, error=exc, permanent=isinstance(exc, PermanentJobError))
        return queue.Outcome(job, result=result)

    # -- heartbeats ----------------------------------------------------------------

    def _heartbeat_forever(self) -> None:
        # Beats on through shutdown: jobs finishing in the grace period keep their leases.
        interval = self.settings.job_lease_seconds / 3
        while True:
            time.sleep(interval)
            self._heartbeat()

    def _heartbeat(self) -> None:
        with self._lock:
            entries = dict(self._running)
        if not entries:
            return
        try:
            with self.db.engine.begin() as conn:
                held = queue.heartbeat(
                    conn, self.name, list(entries), lease=self.lease, now=self.clock()
                )
        except OperationalError as exc:  # keep beating; the lease has slack for a blip
            log.warning("heartbeat failed: %s", exc.orig)
            return
        for job_id, entry in entries.items():
            if held.get(job_id):
                entry.context.cancel_requested = True

    # -- start and stop ------------------------------------------------------------

    def _start_threads(self) -> None:
        for index in range(self.concurrency):
            self._spawn(self._execute_forever, f"job-{index}")
        self._spawn(self._heartbeat_forever, "heartbeat")

    def _spawn(self, target: Callable[[], None], label: str) -> None:
        # Daemon threads: a job stuck in C code must not keep a stopping process alive.
        thread = threading.Thread(target=target, name=f"{self.name}:{label}", daemon=True)
        thread.start()

    def _shutdown(self) -> None:
        """Let running jobs finish (up to a lease), record them, hand back the rest."""
        if self.scheduler:
            self.scheduler.stop()
        deadline = time.monotonic() + self.settings.job_lease_seconds
        while self._running and time.monotonic() < deadline and not self._force.is_set():
            self._turn(claim=False)
            self._wait(0.1)
        self._turn(claim=False)
        leftover = self.running_ids
        if leftover:
            with self.db.engine.begin() as conn:
                queue.release(conn, self.name, leftover, now=self.clock())
            log.warning("released %d unfinished job(s) back to the queue", len(leftover))
        for _ in range(self.concurrency):
            self._inbox.put(None)
        log.info("worker %s stopped", self.name)

    def _install_signal_handlers(self) -> None:
        def handle(signum: int, _frame: object) -> None:
            if self._stopping.is_set():
                self._force.set()
                self._wake.set()
                return
            log.info("stopping after running jobs finish (signal again to stop now)")
            self.stop()

        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)


def _log_outcome(outcome: queue.Outcome, status: JobStatus | None) -> None:
    job = outcome.job
    if status is None:
        log.warning("job %s finished after its lease was taken over; outcome dropped", job.id)
    elif status == JobStatus.DEAD:
        log.error("job %s (%s) dead-lettered after %d attempt(s)", job.id, job.kind, job.attempt)


def run_due_jobs(
    db: Database, settings: Settings, *, clock: Clock = utcnow, limit: int | None = None
) -> int:
    """Run due jobs one at a time in this thread until none is due; return how many ran.

    For tests and one-off maintenance: the same code path as the worker, no threads.
    """
    worker = Worker(db, settings, concurrency=1, name=f"inline:{os.getpid()}", clock=clock)
    ran = 0
    while limit is None or ran < limit:
        with db.engine.begin() as conn:
            claimed = queue.claim(conn, worker.name, limit=1, lease=worker.lease, now=clock())
        if not claimed:
            return ran
        worker.run_inline(claimed[0])
        ran += 1
    return ran


def run_jobs(
    db: Database,
    settings: Settings,
    job_ids: Sequence[int],
    *,
    parallel: int = 1,
    modules: Sequence[str] = (),
    on_tick: Callable[[list[Job]], None] | None = None,
    tick_s: float = 0.3,
) -> list[Job]:
    """Run these jobs in this process, ``parallel`` at a time, until every one has finished.

    For commands that start work and show its progress (``hookline localize``): the jobs
    are ordinary rows, so the jobs page shows them, and a worker elsewhere may take some.
    ``on_tick(jobs)`` is called with fresh rows as they progress.
    """
    worker = Worker(
        db,
        settings.replace(scheduler=False),
        concurrency=parallel,
        modules=modules,
        name=f"cli:{socket.gethostname()}:{os.getpid()}",
        only_ids=list(job_ids),
    )
    thread = threading.Thread(target=worker.run, name="run-jobs", daemon=True)
    thread.start()
    try:
        while True:
            rows = _rows(db, job_ids)
            if on_tick:
                on_tick(rows)
            if all(row.status in FINISHED for row in rows):
                return rows
            time.sleep(tick_s)
    finally:
        worker.stop()
        thread.join(timeout=settings.job_lease_seconds + 5)


def _rows(db: Database, job_ids: Sequence[int]) -> list[Job]:
    with db.session() as session:
        found = {job.id: job for job in session.exec(select(Job).where(col(Job.id).in_(job_ids)))}
    return [found[i] for i in job_ids]
