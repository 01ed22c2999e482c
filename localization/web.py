"""Pages of the localization domain: every localization, one in detail, and starting them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from hookline.auth import requires
from hookline.errors import HooklineError, NotFound
from hookline.models import Localization
from hookline.web.context import db_session, services
from localization import review, status, workflow
from localization.rules import rules_for

bp = Blueprint("localization", __name__, url_prefix="/localizations")


@bp.get("/")
@requires("review.view")
def index() -> Any:
    views = status.localizations(db_session())
    return render_template("localization/index.html", views=views)


@bp.get("/<int:localization_id>")
@requires("review.view")
def detail(localization_id: int) -> Any:
    session = db_session()
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    views = status.localizations(session, episode_id=loc.episode_id)
    view = next(v for v in views if v.localization.id == localization_id)
    rules = rules_for(loc.language, loc.profile or services().settings.subtitle_profile)
    return render_template(
        "localization/detail.html",
        view=view,
        lines=status.lines(session, localization_id),
        rules=rules,
    )


@bp.post("/episodes/<int:episode_id>")
@requires("localize.start")
def start(episode_id: int) -> Any:
    session = db_session()
    try:
        started = workflow.start(
            session,
            services().settings,
            episode_id,
            request.form.get("languages", ""),
            dub=request.form.get("dub") == "on",
            burn=request.form.get("burn") == "on",
            actor=current_user.user,
        )
    except HooklineError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(
            f"Localizing into {', '.join(started.languages[1:])}: {len(started.jobs)} jobs queued.",
            "success",
        )
    return redirect(url_for("library.episode_page", episode_id=episode_id))


@bp.post("/<int:localization_id>/approve")
@requires("review.edit")
def approve(localization_id: int) -> Any:
    session = db_session()
    try:
        review.approve(
            session,
            localization_id,
            actor=current_user.user,
            override=request.form.get("override", ""),
        )
    except HooklineError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash("Approved: it can be scheduled for publishing.", "success")
    return redirect(url_for("localization.detail", localization_id=localization_id))


@bp.post("/<int:localization_id>/request-changes")
@requires("review.edit")
def request_changes(localization_id: int) -> Any:
    session = db_session()
    try:
        review.request_changes(
            session,
            localization_id,
            actor=current_user.user,
            comment=request.form.get("comment", ""),
        )
    except HooklineError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash("Changes requested.", "success")
    return redirect(url_for("localization.detail", localization_id=localization_id))
