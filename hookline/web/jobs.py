"""Pages: the jobs list with live progress, one job, retry and cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import col, func, select

from hookline.auth import requires
from hookline.errors import NotFound
from hookline.jobs import request_cancel, retry_now
from hookline.models import Job, JobStatus
from hookline.web.context import db_session

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

PAGE_SIZE = 50


@bp.get("/")
@requires("jobs.view")
def index() -> Any:
    session = db_session()
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    statement = select(Job).order_by(col(Job.id).desc()).limit(PAGE_SIZE)
    if status in {s.value for s in JobStatus}:
        statement = statement.where(Job.status == status)
    if kind:
        statement = statement.where(Job.kind == kind)
    before = request.args.get("before", type=int)
    if before:
        statement = statement.where(col(Job.id) < before)
    jobs = session.exec(statement).all()
    totals = dict(session.exec(select(Job.status, func.count()).group_by(Job.status)).all())
    kinds = session.exec(select(Job.kind).distinct().order_by(Job.kind)).all()
    return render_template(
        "jobs/index.html",
        jobs=jobs,
        totals=totals,
        kinds=kinds,
        status=status,
        kind=kind,
        statuses=list(JobStatus),
        page_size=PAGE_SIZE,
    )


@bp.get("/<int:job_id>")
@requires("jobs.view")
def detail(job_id: int) -> Any:
    job = db_session().get(Job, job_id)
    if job is None:
        raise NotFound(f"No job {job_id}.")
    return render_template("jobs/detail.html", job=job)


@bp.post("/<int:job_id>/retry")
@requires("jobs.manage")
def retry(job_id: int) -> Any:
    session = db_session()
    retry_now(session, job_id, actor=current_user.user)
    session.commit()
    flash(f"Job {job_id} queued again.", "success")
    return redirect(url_for("jobs.detail", job_id=job_id))


@bp.post("/<int:job_id>/cancel")
@requires("jobs.manage")
def cancel(job_id: int) -> Any:
    session = db_session()
    job = request_cancel(session, job_id, actor=current_user.user)
    session.commit()
    flash(
        f"Job {job_id} {'cancelled' if job.status == JobStatus.CANCELLED else 'is stopping'}.",
        "success",
    )
    return redirect(url_for("jobs.detail", job_id=job_id))
