"""What the publishing pages list: approved cuts to schedule, publications with their context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hookline.models import (
    Channel,
    Episode,
    Localization,
    LocalizationStatus,
    LocalizedCut,
    Publication,
    Series,
)
from publisher.scheduling import VIDEO_KINDS, to_local


@dataclass(frozen=True)
class CutChoice:
    cut: LocalizedCut
    localization: Localization
    episode: Episode
    series: Series

    @property
    def label(self) -> str:
        kind = "social cut" if self.cut.kind == "burned_in" else "soft-subbed"
        return (
            f"{self.series.title} · {self.episode.number} · {self.localization.language} ({kind})"
        )


@dataclass(frozen=True)
class PublicationRow:
    publication: Publication
    channel: Channel
    local: datetime
    episode: Episode
    series: Series


def approved_cuts(session: Session) -> list[CutChoice]:
    rows = session.exec(
        select(LocalizedCut, Localization, Episode, Series)
        .join(Localization, col(Localization.id) == LocalizedCut.localization_id)
        .join(Episode, col(Episode.id) == Localization.episode_id)
        .join(Series, col(Series.id) == Episode.series_id)
        .where(
            Localization.status == LocalizationStatus.APPROVED,
            col(LocalizedCut.kind).in_([k.value for k in VIDEO_KINDS]),
        )
        .order_by(Series.title, Episode.number, Localization.language, LocalizedCut.kind)
    ).all()
    return [CutChoice(*row) for row in rows]


def publication_rows(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[PublicationRow]:
    statement = (
        select(Publication, Channel, Episode, Series)
        .join(Channel, col(Channel.id) == Publication.channel_id)
        .join(LocalizedCut, col(LocalizedCut.id) == Publication.cut_id)
        .join(Localization, col(Localization.id) == LocalizedCut.localization_id)
        .join(Episode, col(Episode.id) == Localization.episode_id)
        .join(Series, col(Series.id) == Episode.series_id)
        .order_by(col(Publication.scheduled_at))
    )
    if since is not None:
        statement = statement.where(col(Publication.scheduled_at) >= since)
    if until is not None:
        statement = statement.where(col(Publication.scheduled_at) < until)
    if limit is not None:
        statement = statement.limit(limit)
    return [
        PublicationRow(pub, channel, to_local(pub.scheduled_at, channel.timezone), episode, series)
        for pub, channel, episode, series in session.exec(statement)
    ]
