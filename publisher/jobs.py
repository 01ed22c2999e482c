"""The publisher's job kinds: publish one publication; sweep for any left without a job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from hookline.jobs import JobContext, job
from hookline.jobs import registry as job_kinds
from hookline.models import Job, JobStatus, Publication, PublicationStatus
from publisher import execution
from publisher.scheduling import PUBLISH, queue_publication

MAX_ATTEMPTS = 8
# How far ahead the sweep looks for scheduled publications that lost their job.
SWEEP_AHEAD = timedelta(hours=1)


@job(PUBLISH, max_attempts=MAX_ATTEMPTS)
def publish(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Upload, post and confirm one publication, resuming wherever it stopped."""
    run = execution.Run(
        db=ctx.db,
        settings=ctx.settings,
        publication_id=payload["publication_id"],
        progress=lambda percent, message: ctx.progress(percent, message),
        clock=ctx.now,
    )
    try:
        return execution.publish(run)
    except execution.Held:
        return {"status": "held"}
    except Exception as error:  # the last attempt: say so on the publication, then fail the job
        if ctx.attempt >= job_kinds.default_attempts(PUBLISH) and not _waiting(error):
            execution.give_up(run, error)
        raise


def _waiting(error: BaseException) -> bool:
    from hookline.errors import PermanentJobError, RetryLater

    return isinstance(error, RetryLater | PermanentJobError)


@job("publisher.sweep", max_attempts=3)
def sweep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Queue a job for any scheduled publication that is due soon and has none waiting."""
    horizon = ctx.now() + SWEEP_AHEAD
    queued = 0
    with ctx.db.transaction() as session:
        due = session.exec(
            select(Publication).where(
                col(Publication.status).in_(
                    [
                        PublicationStatus.SCHEDULED.value,
                        PublicationStatus.DEFERRED.value,
                        PublicationStatus.UPLOADING.value,
                        PublicationStatus.PROCESSING.value,
                    ]
                ),
                col(Publication.scheduled_at) <= horizon,
            )
        ).all()
        for publication in due:
            current = session.get(Job, publication.job_id) if publication.job_id else None
            if current is None or current.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
                queue_publication(session, publication, now=ctx.now())
                queued += 1
    return {"queued": queued}
