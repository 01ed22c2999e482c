"""Recurring work, declared as data: what to enqueue, and how often.

The elected scheduler (hookline.jobs.scheduler) turns each entry into an
APScheduler trigger that enqueues a job. The job key includes the fire time, so
a job is enqueued once per period however many schedulers think they lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger


@dataclass(frozen=True)
class Recurring:
    name: str
    kind: str
    every: timedelta | None = None
    cron: str | None = None  # crontab fields, in UTC: "0 3 * * *"
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError(f"recurring {self.name!r}: give exactly one of every= or cron=")

    def trigger(self) -> BaseTrigger:
        if self.every is not None:
            return IntervalTrigger(seconds=self.every.total_seconds(), timezone="UTC")
        return CronTrigger.from_crontab(self.cron, timezone="UTC")

    def key(self, fired_at: datetime) -> str:
        """Return the idempotency key of the run that fires at ``fired_at``."""
        if self.every is not None:
            period = int(fired_at.timestamp() // self.every.total_seconds())
            return f"recurring:{self.name}:{period}"
        return f"recurring:{self.name}:{fired_at:%Y%m%dT%H%M}"


# Hookline's own housekeeping; each domain adds its entries in hookline.wiring.
CORE: tuple[Recurring, ...] = (
    Recurring("prune-finished-jobs", "jobs.prune", every=timedelta(hours=1)),
    Recurring("clean-media-temp", "media.clean_temp", every=timedelta(hours=6)),
)
