"""API: list, inspect, enqueue, retry and cancel jobs."""

from __future__ import annotations

from flask_login import current_user
from sqlmodel import col, select

from hookline import audit
from hookline.api import api
from hookline.api.schemas import JobIn, JobOut, JobPage, JobQuery
from hookline.errors import InvalidInput, NotFound
from hookline.jobs import enqueue, registry, request_cancel, retry_now
from hookline.models import Job
from hookline.web.context import db_session


@api.operation(
    "GET",
    "/jobs",
    summary="List jobs, newest first",
    permission="jobs.view",
    query=JobQuery,
    response=JobPage,
    tags=("jobs",),
)
def list_jobs(query: JobQuery) -> JobPage:
    statement = select(Job).order_by(col(Job.id).desc()).limit(query.limit)
    if query.status:
        statement = statement.where(Job.status == query.status)
    if query.kind:
        statement = statement.where(Job.kind == query.kind)
    if query.ids:
        statement = statement.where(col(Job.id).in_(_ids(query.ids)))
    if query.before_id:
        statement = statement.where(col(Job.id) < query.before_id)
    found = list(db_session().exec(statement))
    more = len(found) == query.limit
    return JobPage(jobs=found, next_before_id=found[-1].id if more and found else None)


@api.operation(
    "GET",
    "/jobs/<int:job_id>",
    summary="One job",
    permission="jobs.view",
    response=JobOut,
    tags=("jobs",),
)
def get_job(job_id: int) -> Job:
    job = db_session().get(Job, job_id)
    if job is None:
        raise NotFound(f"No job {job_id}.")
    return job


@api.operation(
    "POST",
    "/jobs",
    summary="Enqueue a job of a registered kind",
    permission="jobs.manage",
    body=JobIn,
    response=JobOut,
    status=201,
    tags=("jobs",),
)
def create_job(body: JobIn) -> Job:
    registry.get(body.kind)  # unknown kinds are refused with the list of known ones
    if body.run_at is not None and body.run_at.tzinfo is None:
        raise InvalidInput("run_at needs a time zone, e.g. 2026-11-21T19:00:00+01:00.")
    session = db_session()
    known = body.key is not None and session.exec(select(Job.id).where(Job.key == body.key)).first()
    job = enqueue(
        session, body.kind, body.payload, run_at=body.run_at, key=body.key, priority=body.priority
    )
    if known:
        return job  # the same key again: the job it already made, nothing new to record
    audit.record(
        session,
        actor=current_user.user,
        action="job.enqueue",
        entity_type="job",
        entity_id=job.id,
        after={"kind": job.kind, "key": job.key},
    )
    session.commit()
    return job


@api.operation(
    "POST",
    "/jobs/<int:job_id>/retry",
    summary="Run a dead or cancelled job again",
    permission="jobs.manage",
    response=JobOut,
    tags=("jobs",),
)
def retry_job(job_id: int) -> Job:
    session = db_session()
    job = retry_now(session, job_id, actor=current_user.user)
    session.commit()
    return job


@api.operation(
    "POST",
    "/jobs/<int:job_id>/cancel",
    summary="Cancel a queued job or stop a running one",
    permission="jobs.manage",
    response=JobOut,
    tags=("jobs",),
)
def cancel_job(job_id: int) -> Job:
    session = db_session()
    job = request_cancel(session, job_id, actor=current_user.user)
    session.commit()
    return job


def _ids(raw: str) -> list[int]:
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("ids must be comma-separated job numbers, e.g. ids=4,5,9.") from None
