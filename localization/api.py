"""API: start localizing an episode, see where its localizations stand, read their lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from flask_login import current_user
from pydantic import BaseModel, Field

from hookline.api import api
from hookline.api.schemas import JobOut, Out
from hookline.errors import NotFound
from hookline.models import Localization, SubtitleLine
from hookline.web.context import db_session, services
from localization import bible, editing, review, status, workflow


class LocalizeIn(BaseModel):
    languages: list[str] = Field(min_length=1, description='BCP-47 tags, e.g. ["es", "pt-BR"].')
    dub: bool = Field(default=True, description="Voice the translation over the music.")
    burn: bool = Field(default=False, description="Also render a cut with burned-in subtitles.")


class LocalizeOut(BaseModel):
    languages: list[str] = Field(description="The source language first, then the targets.")
    jobs: list[JobOut]


class LocalizationOut(Out):
    id: int
    episode_id: int
    language: str
    is_source: bool
    status: str
    stage: str
    progress: float
    profile: str
    error: str | None
    qc: dict[str, Any] = Field(description="Counts by rule and severity, and notes.")
    cuts: dict[str, str] = Field(description="Download address of each rendered file by kind.")
    job_id: int | None
    updated_at: datetime


class LineOut(Out):
    id: int
    position: int
    start_s: float
    end_s: float
    speaker: str | None
    source_text: str
    text: str
    version: int
    needs_human: bool
    note: str
    cues: list[dict[str, Any]]
    qc: list[dict[str, Any]]
    dub_stretch: float | None
    dub_overflow_s: float | None


@api.operation(
    "POST",
    "/episodes/<int:episode_id>/localize",
    summary="Localize an episode into languages",
    permission="localize.start",
    body=LocalizeIn,
    response=LocalizeOut,
    status=201,
    tags=("localization",),
)
def localize(episode_id: int, body: LocalizeIn) -> LocalizeOut:
    session = db_session()
    started = workflow.start(
        session,
        services().settings,
        episode_id,
        body.languages,
        dub=body.dub,
        burn=body.burn,
        actor=current_user.user,
    )
    session.commit()
    return LocalizeOut(
        languages=list(started.languages),
        jobs=[JobOut.model_validate(job) for job in started.jobs],
    )


@api.operation(
    "GET",
    "/episodes/<int:episode_id>/localizations",
    summary="An episode's localizations",
    permission="review.view",
    response=list[LocalizationOut],
    tags=("localization",),
)
def episode_localizations(episode_id: int) -> list[LocalizationOut]:
    return [_out(view) for view in status.localizations(db_session(), episode_id=episode_id)]


@api.operation(
    "GET",
    "/localizations/<int:localization_id>/lines",
    summary="A localization's lines",
    permission="review.view",
    response=list[LineOut],
    tags=("localization",),
)
def localization_lines(localization_id: int) -> list[Any]:
    session = db_session()
    if session.get(Localization, localization_id) is None:
        raise NotFound(f"No localization {localization_id}.")
    return status.lines(session, localization_id)


def _out(view: status.LocalizationView) -> LocalizationOut:
    loc = view.localization
    qc = {k: v for k, v in loc.qc_summary.items() if k != "report"}
    cuts = {kind: url_for("media.asset", sha256=asset.sha256) for kind, asset in view.cuts.items()}
    return LocalizationOut(
        **{
            name: getattr(loc, name)
            for name in (
                "id",
                "episode_id",
                "language",
                "is_source",
                "status",
                "stage",
                "progress",
                "profile",
                "error",
                "updated_at",
            )
        },
        qc=qc,
        cuts=cuts,
        job_id=view.job.id if view.job else None,
    )


# -- review: lines, their history, re-dub, verdict, the bible ------------------------------


class LineEditIn(BaseModel):
    version: int = Field(description="The version the edit was made on (from the line).")
    text: str | None = Field(default=None, description="The target text; \\n breaks a line.")
    speaker: str | None = Field(default=None, description="The speaker; empty for none.")
    start_s: float | None = None
    end_s: float | None = None


class VersionIn(BaseModel):
    version: int = Field(description="The line's version as last seen.")


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


class ApproveIn(BaseModel):
    override: str = Field(default="", description="Why blocking QC errors may stand.")


class RequestChangesIn(BaseModel):
    comment: str = Field(description="What should change.")


class MatrixCell(BaseModel):
    localization_id: int
    status: str
    progress: float | None
    stage: str
    qc_errors: int
    qc_total: int
    flagged_lines: int
    error: str | None


class MatrixRow(BaseModel):
    episode_id: int
    number: int
    title: str
    languages: dict[str, MatrixCell]


class MatrixOut(BaseModel):
    series_id: int
    languages: list[str]
    episodes: list[MatrixRow]


class TermIn(BaseModel):
    term: str
    kind: str = "term"
    note: str = ""
    translations: dict[str, str] = Field(default_factory=dict)


class TermOut(Out):
    id: int
    term: str
    kind: str
    note: str
    translations: dict[str, str]


class CharacterIn(BaseModel):
    gender: str | None = None
    description: str | None = None
    language: str | None = Field(default=None, description="The language of ``voice``.")
    voice: str | None = Field(default=None, description="An espeak-ng voice, e.g. es+f3.")


class CharacterOut(Out):
    id: int
    name: str
    gender: str
    description: str
    voices: dict[str, Any]


@api.operation(
    "GET",
    "/localizations/<int:localization_id>",
    summary="One localization: state, QC and cuts",
    permission="review.view",
    response=LocalizationOut,
    tags=("review",),
)
def localization_detail(localization_id: int) -> LocalizationOut:
    return _out(review.page(db_session(), localization_id, "vertical").view)


@api.operation(
    "PATCH",
    "/lines/<int:line_id>",
    summary="Edit a line (409 with both versions if someone saved it first)",
    permission="review.edit",
    body=LineEditIn,
    response=LineOut,
    tags=("review",),
)
def edit_line(line_id: int, body: LineEditIn) -> Any:
    session = db_session()
    change = editing.Change(
        text=body.text, speaker=body.speaker, start_s=body.start_s, end_s=body.end_s
    )
    line = editing.edit_line(session, line_id, body.version, change, actor=current_user.user)
    session.commit()
    return line


@api.operation(
    "POST",
    "/lines/<int:line_id>/undo",
    summary="Undo a line's latest edit",
    permission="review.edit",
    body=VersionIn,
    response=LineOut,
    tags=("review",),
)
def undo_line(line_id: int, body: VersionIn) -> Any:
    session = db_session()
    line = editing.undo_line(session, line_id, body.version, actor=current_user.user)
    session.commit()
    return line


@api.operation(
    "POST",
    "/lines/<int:line_id>/retranslate",
    summary="Machine-translate a line's source again and save it as an edit",
    permission="review.edit",
    body=VersionIn,
    response=LineOut,
    tags=("review",),
)
def retranslate_line(line_id: int, body: VersionIn) -> Any:
    session = db_session()
    line = editing.retranslate_line(
        session, services().settings, line_id, body.version, actor=current_user.user
    )
    session.commit()
    return line


@api.operation(
    "GET",
    "/lines/<int:line_id>/history",
    summary="Every change of a line: who, what, when, before and after",
    permission="review.view",
    response=list[AuditOut],
    tags=("review",),
)
def line_history(line_id: int) -> list[Any]:
    session = db_session()
    if session.get(SubtitleLine, line_id) is None:
        raise NotFound(f"No line {line_id}.")
    return editing.history(session, line_id)


@api.operation(
    "POST",
    "/localizations/<int:localization_id>/redub",
    summary="Re-dub and re-render after edits, reusing everything unchanged",
    permission="review.edit",
    response=JobOut,
    status=202,
    tags=("review",),
)
def redub(localization_id: int) -> JobOut:
    session = db_session()
    job = workflow.redub(session, localization_id, actor=current_user.user)
    session.commit()
    return JobOut.model_validate(job)


@api.operation(
    "POST",
    "/localizations/<int:localization_id>/approve",
    summary="Approve a localization (blocking QC errors need an override reason)",
    permission="review.edit",
    body=ApproveIn,
    response=LocalizationOut,
    tags=("review",),
)
def approve(localization_id: int, body: ApproveIn) -> LocalizationOut:
    session = db_session()
    review.approve(session, localization_id, actor=current_user.user, override=body.override)
    session.commit()
    return localization_detail(localization_id)


@api.operation(
    "POST",
    "/localizations/<int:localization_id>/request-changes",
    summary="Send a localization back with a comment",
    permission="review.edit",
    body=RequestChangesIn,
    response=LocalizationOut,
    tags=("review",),
)
def request_changes(localization_id: int, body: RequestChangesIn) -> LocalizationOut:
    session = db_session()
    review.request_changes(session, localization_id, actor=current_user.user, comment=body.comment)
    session.commit()
    return localization_detail(localization_id)


@api.operation(
    "GET",
    "/series/<int:series_id>/localizations",
    summary="Episodes × languages of a series, each with its state",
    permission="review.view",
    response=MatrixOut,
    tags=("review",),
)
def series_matrix(series_id: int) -> MatrixOut:
    grid = status.matrix(db_session(), series_id)
    return MatrixOut(
        series_id=series_id,
        languages=grid.languages,
        episodes=[
            MatrixRow(
                episode_id=row.episode.id,
                number=row.episode.number,
                title=row.episode.title,
                languages={
                    language: MatrixCell(
                        localization_id=view.localization.id,
                        status=view.localization.status,
                        progress=view.job.progress if status.is_active(view) else None,
                        stage=view.localization.stage,
                        qc_errors=int(view.localization.qc_summary.get("errors", 0)),
                        qc_total=int(view.localization.qc_summary.get("total", 0)),
                        flagged_lines=view.flagged_lines,
                        error=view.localization.error,
                    )
                    for language, view in row.cells.items()
                },
            )
            for row in grid.rows
        ],
    )


@api.operation(
    "POST",
    "/series/<int:series_id>/terms",
    summary="Add or change a glossary term of the series bible",
    permission="review.edit",
    body=TermIn,
    response=TermOut,
    tags=("review",),
)
def save_term(series_id: int, body: TermIn) -> Any:
    session = db_session()
    term = bible.save_term(
        session,
        series_id,
        body.term,
        kind=body.kind,
        note=body.note,
        translations=body.translations,
        actor=current_user.user,
    )
    session.commit()
    return term


@api.operation(
    "PATCH",
    "/characters/<int:character_id>",
    summary="Change a character of the series bible (gender, description, voice)",
    permission="review.edit",
    body=CharacterIn,
    response=CharacterOut,
    tags=("review",),
)
def save_character(character_id: int, body: CharacterIn) -> Any:
    session = db_session()
    character = bible.save_character(
        session,
        character_id,
        gender=body.gender,
        description=body.description,
        language=body.language,
        voice=body.voice,
        actor=current_user.user,
    )
    session.commit()
    return character
