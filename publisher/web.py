"""Pages of the publishing domain: channels, scheduling, the calendar, each publication."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlmodel import col, select

from hookline.auth import requires
from hookline.clock import utcnow
from hookline.errors import HooklineError, InvalidInput
from hookline.models import (
    Channel,
    Localization,
    Publication,
    PublicationAttempt,
    Series,
)
from hookline.web.context import db_session, form_change, services
from publisher import channels, registry, scheduling
from publisher.calendar import Calendar
from publisher.views import approved_cuts, publication_rows

bp = Blueprint("publisher", __name__, url_prefix="/publishing")


@bp.get("/")
@requires("publish.view")
def index() -> Any:
    db = db_session()
    upcoming = publication_rows(db, since=utcnow() - timedelta(days=1), limit=50)
    every = db.exec(select(Channel).order_by(Channel.platform, Channel.name)).all()
    return render_template("publisher/index.html", channels=every, rows=upcoming)


# -- channels ------------------------------------------------------------------------------


@bp.route("/channels", methods=["GET", "POST"])
@requires("publish.manage")
def channel_list() -> Any:
    db = db_session()
    if request.method == "POST":
        try:
            channel = channels.create_channel(
                db,
                services().settings,
                platform=request.form.get("platform", ""),
                name=request.form.get("name", ""),
                language=request.form.get("language", ""),
                timezone=request.form.get("timezone", ""),
                region=request.form.get("region", ""),
                sandbox=request.form.get("sandbox") == "on",
                actor=current_user.user,
            )
        except HooklineError as error:
            db.rollback()
            flash(error.message, "error")
        else:
            db.commit()
            flash(f"Added {channel.name}. Connect it to its {channel.platform} account.", "success")
    every = db.exec(select(Channel).order_by(Channel.platform, Channel.name)).all()
    return render_template(
        "publisher/channels.html",
        channels=every,
        platforms=list(registry.PLATFORMS),
    )


@bp.post("/channels/<int:channel_id>/connect")
@requires("publish.manage")
def connect(channel_id: int) -> Any:
    channel = channels.get_channel(db_session(), channel_id)
    state = secrets.token_urlsafe(24)
    session["oauth"] = {"state": state, "channel_id": channel_id}
    url = channels.connect_url(
        channel, services().settings, state=state, redirect_uri=_callback_url()
    )
    return redirect(url)


@bp.get("/oauth/callback")
@requires("publish.manage")
def oauth_callback() -> Any:
    pending = session.pop("oauth", None)
    if not pending or not secrets.compare_digest(pending["state"], request.args.get("state", "")):
        flash(
            "That connection attempt cannot be trusted (its state did not match): start again.",
            "error",
        )
        return redirect(url_for("publisher.channel_list"))
    if request.args.get("error"):
        flash(
            f"The platform said: {request.args.get('error_description') or request.args['error']}",
            "error",
        )
        return redirect(url_for("publisher.channel_list"))
    db = db_session()
    channel = channels.get_channel(db, pending["channel_id"])
    with form_change(db) as change:
        channels.complete_connection(
            db,
            channel,
            services().settings,
            code=request.args.get("code", ""),
            redirect_uri=_callback_url(),
            actor=current_user.user,
        )
        change.message = f"{channel.name} is connected."
    return redirect(url_for("publisher.channel_list"))


def _callback_url() -> str:
    return services().settings.public_url.rstrip("/") + url_for("publisher.oauth_callback")


# -- scheduling ------------------------------------------------------------------------------


@bp.route("/schedule", methods=["GET", "POST"])
@requires("publish.manage")
def schedule() -> Any:
    db = db_session()
    form = request.form if request.method == "POST" else request.args
    reasons: list[str] = []
    if request.method == "POST":
        try:
            draft = _draft(form)
            publication = scheduling.schedule(
                db, services().settings, draft, actor=current_user.user
            )
        except HooklineError as error:
            db.rollback()
            reasons = error.detail.get("reasons") or [error.message]
        else:
            db.commit()
            flash("Scheduled.", "success")
            return redirect(url_for("publisher.publication", publication_id=publication.id))
    return render_template(
        "publisher/schedule.html",
        cuts=approved_cuts(db),
        channels=db.exec(select(Channel).order_by(Channel.name)).all(),
        form=form,
        reasons=reasons,
        status=422 if reasons else 200,
    ), (422 if reasons else 200)


def _draft(form: Any) -> scheduling.Draft:
    try:
        local = datetime.fromisoformat(f"{form.get('date')}T{form.get('time')}")
    except ValueError:
        raise InvalidInput("Give a date and a time, in the channel's time zone.") from None
    return scheduling.Draft(
        cut_id=int(form.get("cut_id") or 0),
        channel_id=int(form.get("channel_id") or 0),
        local_time=local,
        title=form.get("title", "").strip(),
        description=form.get("description", "").strip(),
        hashtags=tuple(t.strip() for t in form.get("hashtags", "").split() if t.strip()),
        privacy=form.get("privacy", "public"),
    )


@bp.route("/season", methods=["GET", "POST"])
@requires("publish.manage")
def season() -> Any:
    db = db_session()
    form = request.form
    slots: list[scheduling.Slot] = []
    if request.method == "POST":
        try:
            slots = scheduling.plan_season(
                db,
                services().settings,
                series_id=int(form.get("series_id") or 0),
                channel_ids=[int(i) for i in form.getlist("channel_ids")],
                cadence=_cadence(form),
                title=form.get("title") or "{series} · {number}",
                description=form.get("description", ""),
                hashtags=tuple(form.get("hashtags", "").split()),
            )
            if form.get("save"):
                saved = scheduling.save_plan(
                    db, services().settings, slots, actor=current_user.user
                )
                db.commit()
                flash(f"Scheduled {len(saved)} publication(s).", "success")
                return redirect(url_for("publisher.calendar"))
        except HooklineError as error:
            db.rollback()
            flash(error.message, "error")
    return render_template(
        "publisher/season.html",
        slots=slots,
        form=form,
        series=db.exec(select(Series).order_by(Series.title)).all(),
        channels=db.exec(select(Channel).order_by(Channel.name)).all(),
    )


def _cadence(form: Any) -> scheduling.Cadence:
    try:
        start = date.fromisoformat(form.get("start", ""))
        times = tuple(
            time.fromisoformat(t.strip()) for t in form.get("times", "").split(",") if t.strip()
        )
    except ValueError:
        raise InvalidInput("Give a start date and times like 19:00, 21:00.") from None
    if not times:
        raise InvalidInput("Give at least one time of day, e.g. 19:00.")
    return scheduling.Cadence(start, times)


# -- the calendar and each publication ---------------------------------------------------------


@bp.get("/calendar")
@requires("publish.view")
def calendar() -> Any:
    view = request.args.get("view", "week")
    if view not in ("week", "month"):
        abort(404)
    try:
        anchor = (
            date.fromisoformat(request.args["start"])
            if "start" in request.args
            else utcnow().date()
        )
    except ValueError:
        abort(404)
    grid = Calendar.build(db_session(), view=view, anchor=anchor)
    return render_template("publisher/calendar.html", grid=grid, view=view)


@bp.get("/publications/<int:publication_id>")
@requires("publish.view")
def publication(publication_id: int) -> Any:
    db = db_session()
    found = db.get(Publication, publication_id)
    if found is None:
        abort(404)
    channel = db.get_one(Channel, found.channel_id)
    attempts = db.exec(
        select(PublicationAttempt)
        .where(PublicationAttempt.publication_id == publication_id)
        .order_by(col(PublicationAttempt.id))
    ).all()
    local = scheduling.to_local(found.scheduled_at, channel.timezone)
    return render_template(
        "publisher/publication.html",
        publication=found,
        channel=channel,
        attempts=attempts,
        local=local,
        localization=_localization(found),
    )


def _localization(publication: Publication) -> Localization | None:
    from hookline.models import LocalizedCut

    cut = db_session().get(LocalizedCut, publication.cut_id)
    return db_session().get(Localization, cut.localization_id) if cut else None


@bp.post("/publications/<int:publication_id>/reschedule")
@requires("publish.manage")
def reschedule(publication_id: int) -> Any:
    db = db_session()
    try:
        local = datetime.fromisoformat(f"{request.form.get('date')}T{request.form.get('time')}")
        scheduling.reschedule(db, publication_id, local, actor=current_user.user)
    except ValueError:
        flash("Give a date and a time.", "error")
    except HooklineError as error:
        db.rollback()
        flash(error.message, "error")
    else:
        db.commit()
        flash("Rescheduled.", "success")
    return redirect(url_for("publisher.publication", publication_id=publication_id))


@bp.post("/publications/<int:publication_id>/cancel")
@requires("publish.manage")
def cancel(publication_id: int) -> Any:
    db = db_session()
    with form_change(db) as change:
        scheduling.cancel(db, publication_id, actor=current_user.user)
        change.message = "Cancelled."
    return redirect(url_for("publisher.publication", publication_id=publication_id))
