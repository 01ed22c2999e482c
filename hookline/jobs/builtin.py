"""Job kinds of the shell itself: a no-op for smoke tests, and housekeeping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from hookline.jobs.context import JobContext
from hookline.jobs.registry import job
from hookline.models import Job, JobStatus

# Temp files younger than this may belong to an upload still in progress.
TEMP_FILE_MAX_AGE = timedelta(hours=6)


@job("noop")
def noop(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: checks that workers are alive and measures the queue itself."""
    return {}


@job("jobs.prune", max_attempts=3)
def prune_finished_jobs(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Delete succeeded and cancelled jobs older than the retention; keep dead ones."""
    cutoff = ctx.now() - timedelta(days=ctx.settings.job_retention_days)
    with ctx.db.engine.begin() as conn:
        deleted = conn.execute(
            delete(Job.__table__).where(
                Job.__table__.c.status.in_([JobStatus.SUCCEEDED.value, JobStatus.CANCELLED.value]),
                Job.__table__.c.finished_at < cutoff,
            )
        ).rowcount
    return {"deleted": deleted}


@job("media.clean_temp", max_attempts=3)
def clean_media_temp(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Remove temp files left in the media store by interrupted writes."""
    removed = ctx.store.gc_temp(older_than=TEMP_FILE_MAX_AGE, now=ctx.now())
    return {"removed": removed}
