"""The clock of Hookline: APScheduler 3 firing recurring work, in one process only.

Every worker may run a :class:`SchedulerService`; they compete for the
``scheduler`` lock in the database and only the holder's APScheduler is resumed.
When the holder dies its lease runs out and another worker takes over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import OperationalError

from hookline.db import Database
from hookline.jobs import locks, queue
from hookline.jobs.recurring import Recurring

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"


class SchedulerService:
    """Hold the scheduler lock when possible and fire recurring entries while holding it."""

    def __init__(
        self,
        db: Database,
        entries: Sequence[Recurring],
        *,
        holder: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.entries = tuple(entries)
        self.holder = holder
        self.lease = lease
        self.clock = clock
        self.is_leader = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._aps = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )

    def start(self) -> None:
        # Each entry also fires when this process becomes the leader: work missed while no
        # scheduler ran is caught up, and the period in the job key prevents doubles.
        for entry in self.entries:
            self._aps.add_job(
                self.fire, entry.trigger(), args=[entry], id=entry.name, next_run_time=self.clock()
            )
        self._aps.start(paused=True)
        self._thread = threading.Thread(
            target=self._elect_forever, name="scheduler-election", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self._aps.running:
            self._aps.shutdown(wait=False)
        if self.is_leader:
            with self.db.engine.begin() as conn:
                locks.release(conn, LOCK_NAME, self.holder)
            self.is_leader = False

    def elect(self) -> bool:
        """Take or renew the lock; resume or pause APScheduler to match. Return leadership."""
        try:
            with self.db.engine.begin() as conn:
                leader = locks.acquire(
                    conn, LOCK_NAME, self.holder, ttl=self.lease, now=self.clock()
                )
        except OperationalError as exc:  # cannot prove we lead: stop firing until we can
            log.warning("scheduler election failed: %s", exc.orig)
            leader = False
        if leader != self.is_leader:
            log.info("%s %s the scheduler", self.holder, "now runs" if leader else "no longer runs")
            (self._aps.resume if leader else self._aps.pause)()
        self.is_leader = leader
        return leader

    def fire(self, entry: Recurring) -> None:
        """Enqueue the job for one run of ``entry`` (once per period, by its key)."""
        now = self.clock()
        with self.db.transaction() as session:
            queue.enqueue(session, entry.kind, entry.payload, key=entry.key(now), now=now)
        log.info("scheduled %s (%s)", entry.name, entry.kind)

    def _elect_forever(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stop.is_set():
            self.elect()
            self._stop.wait(interval)
