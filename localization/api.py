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
from hookline.models import Localization
from hookline.web.context import db_session, services
from localization import status, workflow


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
