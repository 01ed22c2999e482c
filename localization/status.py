"""Where each localization stands: its row, the job working on it, and what it has made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from hookline.errors import NotFound
from hookline.models import (
    Episode,
    Job,
    JobStatus,
    Localization,
    LocalizedCut,
    MediaAsset,
    Series,
    SubtitleLine,
)
from localization.jobs import LOCALIZE

# How many recent localization jobs to look through for the one behind each row.
RECENT_JOBS = 500


@dataclass
class LocalizationView:
    localization: Localization
    episode: Episode
    series: Series
    job: Job | None = None
    cuts: dict[str, MediaAsset] = field(default_factory=dict)

    @property
    def flagged_lines(self) -> int:
        return int(self.localization.qc_summary.get("flagged_lines", 0))


def localizations(
    session: Session, *, episode_id: int | None = None, series_id: int | None = None
) -> list[LocalizationView]:
    """Return localizations (of an episode, a series, or all), source first, with jobs and cuts."""
    statement = (
        select(Localization, Episode, Series)
        .join(Episode, col(Episode.id) == Localization.episode_id)
        .join(Series, col(Series.id) == Episode.series_id)
        .order_by(
            Series.title, Episode.number, col(Localization.is_source).desc(), Localization.language
        )
    )
    if episode_id is not None:
        statement = statement.where(Localization.episode_id == episode_id)
    if series_id is not None:
        statement = statement.where(Episode.series_id == series_id)
    views = [LocalizationView(loc, ep, series) for loc, ep, series in session.exec(statement)]
    _attach_jobs(session, views)
    _attach_cuts(session, views)
    return views


def _attach_jobs(session: Session, views: Sequence[LocalizationView]) -> None:
    recent = session.exec(
        select(Job).where(Job.kind == LOCALIZE).order_by(col(Job.id).desc()).limit(RECENT_JOBS)
    ).all()
    latest: dict[tuple[int, str], Job] = {}
    for job in recent:  # newest first: the first seen for a pair is its latest
        latest.setdefault((job.payload.get("episode_id"), job.payload.get("language")), job)
    for view in views:
        view.job = latest.get((view.episode.id, view.localization.language))


def _attach_cuts(session: Session, views: Sequence[LocalizationView]) -> None:
    by_id = {view.localization.id: view for view in views}
    if not by_id:
        return
    rows = session.exec(
        select(LocalizedCut, MediaAsset)
        .join(MediaAsset, col(MediaAsset.id) == LocalizedCut.asset_id)
        .where(col(LocalizedCut.localization_id).in_(list(by_id)))
    ).all()
    for cut, asset in rows:
        by_id[cut.localization_id].cuts[cut.kind] = asset


def lines(session: Session, localization_id: int) -> list[SubtitleLine]:
    return list(
        session.exec(
            select(SubtitleLine)
            .where(SubtitleLine.localization_id == localization_id)
            .order_by(col(SubtitleLine.position))
        )
    )


def is_active(view: LocalizationView) -> bool:
    return view.job is not None and view.job.status in (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass
class MatrixRow:
    episode: Episode
    cells: dict[str, LocalizationView] = field(default_factory=dict)


@dataclass
class Matrix:
    series: Series
    languages: list[str]
    rows: list[MatrixRow]


def matrix(session: Session, series_id: int, *, state: str = "", language: str = "") -> Matrix:
    """Episodes × languages of a series; ``state`` and ``language`` narrow it down."""
    series = session.get(Series, series_id)
    if series is None:
        raise NotFound(f"No series {series_id}.")
    episodes = session.exec(
        select(Episode).where(Episode.series_id == series_id).order_by(Episode.number)
    ).all()
    rows = {episode.id: MatrixRow(episode) for episode in episodes}
    views = [
        view
        for view in localizations(session, series_id=series_id)
        if (not language or view.localization.language == language)
        and (not state or view.localization.status == state)
    ]
    for view in views:
        rows[view.episode.id].cells[view.localization.language] = view
    source = series.source_language
    languages = sorted({v.localization.language for v in views}, key=lambda t: (t != source, t))
    shown = [row for row in rows.values() if row.cells or not (state or language)]
    return Matrix(series, languages, shown)
