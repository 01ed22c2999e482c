"""Pages of the localization domain: every localization, one in detail, and starting them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import col, select

from hookline.auth import requires
from hookline.errors import NotFound
from hookline.models import CutKind, Episode, Localization, LocalizedCut, MediaAsset, Series
from hookline.web.context import db_session, form_change, services
from localization import bible, review, status, workflow
from localization.editing import MAX_LINE_CHARS
from localization.segmentation import Cue
from localization.subtitles import dumps

bp = Blueprint("localization", __name__, url_prefix="/localizations")


STATES = ("running", "needs_review", "changes_requested", "approved", "failed", "pending")


@bp.get("/")
@requires("review.view")
def index() -> Any:
    """Episodes × languages of a series, filterable by state and language."""
    session = db_session()
    all_series = session.exec(select(Series).order_by(Series.title)).all()
    series_id = request.args.get("series", type=int) or (all_series[0].id if all_series else None)
    state = request.args.get("state", "") if request.args.get("state") in STATES else ""
    language = request.args.get("language", "").strip()[:16]
    grid = status.matrix(session, series_id, state=state, language=language) if series_id else None
    return render_template(
        "localization/index.html",
        grid=grid,
        all_series=all_series,
        states=STATES,
        state=state,
        language=language,
    )


@bp.get("/<int:localization_id>")
@requires("review.view")
def detail(localization_id: int) -> Any:
    page = review.page(db_session(), localization_id, services().settings.subtitle_profile)
    return render_template("localization/review.html", page=page, max_chars=MAX_LINE_CHARS)


@bp.get("/<int:localization_id>/subtitles.vtt")
@requires("review.view")
def subtitles(localization_id: int) -> Any:
    """The track as it stands now (edits included), for the player."""
    session = db_session()
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    cues = [
        Cue(cue["start"], cue["end"], tuple(cue["lines"]), line.speaker, line.position)
        for line in status.lines(session, localization_id)
        for cue in line.cues
    ]
    text = dumps(sorted(cues, key=lambda c: c.start), "vtt", language=loc.language)
    response = Response(text, mimetype="text/vtt")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:localization_id>/waveform.json")
@requires("review.view")
def waveform(localization_id: int) -> Any:
    """Peaks of the dub (or the original) for the waveform under the player."""
    session = db_session()
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    episode = session.get_one(Episode, loc.episode_id)
    master = session.get(MediaAsset, episode.master_asset_id) if episode.master_asset_id else None
    dub = None
    if request.args.get("audio", "dub") == "dub":
        dub = session.exec(
            select(MediaAsset)
            .join(LocalizedCut, col(LocalizedCut.asset_id) == MediaAsset.id)
            .where(
                LocalizedCut.localization_id == localization_id,
                LocalizedCut.kind == CutKind.DUB_STEM,
            )
        ).first()
    asset = dub or master
    if asset is None:  # nothing to draw: the page still shows the line boundaries
        return jsonify(audio=None, peaks=[], duration_s=None, message="No audio to draw yet.")
    peaks = review.waveform(session, services().store, asset, episode_id=episode.id)
    session.commit()
    duration = asset.duration_s or (master.duration_s if master else None)
    audio = "original" if asset is master else "dub"
    return jsonify(audio=audio, peaks=peaks, duration_s=duration)


@bp.post("/<int:localization_id>/redub")
@requires("review.edit")
def redub(localization_id: int) -> Any:
    session = db_session()
    with form_change(session) as change:
        job = workflow.redub(session, localization_id, actor=current_user.user)
        change.message = f"Re-dubbing the changed lines (job {job.id})."
    return redirect(url_for("localization.detail", localization_id=localization_id))


@bp.post("/<int:localization_id>/terms")
@requires("review.edit")
def save_term(localization_id: int) -> Any:
    session = db_session()
    page = review.page(session, localization_id, services().settings.subtitle_profile)
    language = page.view.localization.language
    with form_change(session) as change:
        bible.save_term(
            session,
            page.view.series.id,
            request.form.get("term", ""),
            kind=request.form.get("kind", "term"),
            note=request.form.get("note", ""),
            translations={language: request.form.get("translation", "")},
            actor=current_user.user,
        )
        change.message = "Saved to the series bible; re-dub to apply it."
    return redirect(url_for("localization.detail", localization_id=localization_id) + "#bible")


@bp.post("/<int:localization_id>/characters/<int:character_id>")
@requires("review.edit")
def save_character(localization_id: int, character_id: int) -> Any:
    session = db_session()
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    with form_change(session) as change:
        bible.save_character(
            session,
            character_id,
            gender=request.form.get("gender") or None,
            description=request.form.get("description"),
            language=loc.language,
            voice=request.form.get("voice") or None,
            actor=current_user.user,
        )
        change.message = "Saved to the series bible; re-dub to apply it."
    return redirect(url_for("localization.detail", localization_id=localization_id) + "#bible")


@bp.post("/episodes/<int:episode_id>")
@requires("localize.start")
def start(episode_id: int) -> Any:
    session = db_session()
    with form_change(session) as change:
        started = workflow.start(
            session,
            services().settings,
            episode_id,
            request.form.get("languages", ""),
            dub=request.form.get("dub") == "on",
            burn=request.form.get("burn") == "on",
            actor=current_user.user,
        )
        languages = ", ".join(started.languages[1:])
        change.message = f"Localizing into {languages}: {len(started.jobs)} jobs queued."
    return redirect(url_for("library.episode_page", episode_id=episode_id))


@bp.post("/<int:localization_id>/approve")
@requires("review.edit")
def approve(localization_id: int) -> Any:
    session = db_session()
    with form_change(session) as change:
        review.approve(
            session,
            localization_id,
            actor=current_user.user,
            override=request.form.get("override", ""),
        )
        change.message = "Approved: it can be scheduled for publishing."
    return redirect(url_for("localization.detail", localization_id=localization_id))


@bp.post("/<int:localization_id>/request-changes")
@requires("review.edit")
def request_changes(localization_id: int) -> Any:
    session = db_session()
    with form_change(session) as change:
        review.request_changes(
            session,
            localization_id,
            actor=current_user.user,
            comment=request.form.get("comment", ""),
        )
        change.message = "Changes requested."
    return redirect(url_for("localization.detail", localization_id=localization_id))
