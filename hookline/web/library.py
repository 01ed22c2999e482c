"""Pages: the library home, a series, an episode, and the upload form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlmodel import col, func, select
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from hookline import ingest
from hookline.auth import requires
from hookline.errors import HooklineError, NotFound
from hookline.models import Episode, EpisodeAsset, Job, MediaAsset, Series
from hookline.web.context import db_session, services
from localization import status

bp = Blueprint("library", __name__)


@bp.get("/")
@requires("library.view")
def home() -> Any:
    session = db_session()
    counts = dict(
        session.exec(select(Episode.series_id, func.count()).group_by(Episode.series_id)).all()
    )
    series = session.exec(select(Series).order_by(Series.title)).all()
    recent_jobs = session.exec(select(Job).order_by(col(Job.id).desc()).limit(8)).all()
    return render_template(
        "library/home.html", series=series, counts=counts, recent_jobs=recent_jobs
    )


@bp.get("/series/<int:series_id>")
@requires("library.view")
def series_page(series_id: int) -> Any:
    session = db_session()
    series = _get(Series, series_id)
    episodes = session.exec(
        select(Episode).where(Episode.series_id == series_id).order_by(Episode.number)
    ).all()
    masters = _masters(episodes)
    return render_template("library/series.html", series=series, episodes=episodes, masters=masters)


@bp.get("/episodes/<int:episode_id>")
@requires("library.view")
def episode_page(episode_id: int) -> Any:
    session = db_session()
    episode = _get(Episode, episode_id)
    series = _get(Series, episode.series_id)
    attached = session.exec(
        select(EpisodeAsset, MediaAsset)
        .join(MediaAsset, col(MediaAsset.id) == EpisodeAsset.asset_id)
        .where(EpisodeAsset.episode_id == episode_id)
        .order_by(EpisodeAsset.role)
    ).all()
    localized = status.localizations(session, episode_id=episode_id)
    return render_template(
        "library/episode.html",
        episode=episode,
        series=series,
        attached=attached,
        localized=localized,
        languages=_suggested_languages(localized),
    )


def _suggested_languages(localized: list) -> str:
    """Prefill the localize form with the languages the episode already has, or a start."""
    done = [v.localization.language for v in localized if not v.localization.is_source]
    return ", ".join(done) or "es, ca"


class IngestForm(FlaskForm):
    file = FileField("Episode master", validators=[FileRequired("Choose a video file.")])
    series = StringField("Series", validators=[DataRequired(), Length(max=200)])
    episode = IntegerField("Episode number", validators=[DataRequired(), NumberRange(min=1)])
    title = StringField("Episode title", validators=[Optional(), Length(max=300)])
    hook = StringField("Hook type", validators=[Optional(), Length(max=64)])
    tropes = StringField("Plot tropes (comma-separated)", validators=[Optional(), Length(max=1000)])
    replace = BooleanField("Replace a different master of this episode")


@bp.route("/ingest", methods=["GET", "POST"])
@requires("library.ingest")
def ingest_page() -> Any:
    form = IngestForm(series=request.args.get("series", ""))
    status = 200
    if form.validate_on_submit():
        try:
            return _ingest_upload(form)
        except HooklineError as error:
            # Shown on the form, which keeps what was typed; nothing was stored.
            form.file.errors = [error.message]
            status = error.status
    elif request.method == "POST":
        status = 400
    titles = db_session().exec(select(Series.title).order_by(Series.title)).all()
    return render_template("library/ingest.html", form=form, titles=titles), status


def _ingest_upload(form: IngestForm) -> Any:
    svc = services()
    session = db_session()
    upload = form.file.data
    result = ingest.ingest_upload(
        session,
        svc.store,
        upload.stream,
        limit_bytes=svc.settings.max_upload_bytes,
        filename=upload.filename,
        series_title=form.series.data or "",
        episode_number=form.episode.data or 0,
        hook_type=form.hook.data or None,
        tropes=ingest.split_tropes(form.tropes.data),
        title=form.title.data or None,
        replace=form.replace.data,
        actor=current_user.user,
    )
    session.commit()
    if result.created:
        verb = "Ingested"
    elif result.replaced:
        verb = "Replaced the master of"
    else:
        verb = "Already had"
    flash(f"{verb} episode {result.episode.number}.", "success")
    for warning in result.warnings:
        flash(warning, "warning")
    return redirect(url_for("library.episode_page", episode_id=result.episode.id))


def _masters(episodes: list[Episode]) -> dict[int, MediaAsset]:
    ids = [e.master_asset_id for e in episodes if e.master_asset_id]
    if not ids:
        return {}
    assets = db_session().exec(select(MediaAsset).where(col(MediaAsset.id).in_(ids))).all()
    return {a.id: a for a in assets if a.id is not None}


def _get(model: Any, ident: int) -> Any:
    row = db_session().get(model, ident)
    if row is None:
        raise NotFound(f"No {model.__name__.lower()} {ident}.")
    return row
