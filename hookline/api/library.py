"""API: who am I, series, episodes, and ingest of episode masters."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from sqlmodel import Session, select

from hookline import ingest
from hookline.api import api
from hookline.api.schemas import (
    EpisodeOut,
    IngestOut,
    IngestQuery,
    MediaAssetOut,
    MeOut,
    SeriesDetailOut,
    SeriesOut,
)
from hookline.auth import PERMISSIONS
from hookline.errors import NotFound
from hookline.models import Episode, MediaAsset, Series
from hookline.web.context import db_session, services


@api.operation(
    "GET",
    "/me",
    summary="Who the caller is",
    permission="account",
    response=MeOut,
    tags=("account",),
)
def me() -> MeOut:
    user = current_user.user
    granted = [name for name in PERMISSIONS if current_user.can(name)]
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.roles,
        permissions=granted,
    )


@api.operation(
    "GET",
    "/series",
    summary="List series",
    permission="library.view",
    response=list[SeriesOut],
    tags=("library",),
)
def list_series() -> list[Series]:
    return list(db_session().exec(select(Series).order_by(Series.title)))


@api.operation(
    "GET",
    "/series/<int:series_id>",
    summary="A series with its episodes",
    permission="library.view",
    response=SeriesDetailOut,
    tags=("library",),
)
def get_series(series_id: int) -> SeriesDetailOut:
    session = db_session()
    series = session.get(Series, series_id)
    if series is None:
        raise NotFound(f"No series {series_id}.")
    episodes = session.exec(
        select(Episode).where(Episode.series_id == series_id).order_by(Episode.number)
    )
    return SeriesDetailOut(
        **SeriesOut.model_validate(series).model_dump(),
        episodes=[episode_out(session, e) for e in episodes],
    )


@api.operation(
    "GET",
    "/episodes/<int:episode_id>",
    summary="An episode with its master",
    permission="library.view",
    response=EpisodeOut,
    tags=("library",),
)
def get_episode(episode_id: int) -> EpisodeOut:
    session = db_session()
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"No episode {episode_id}.")
    return episode_out(session, episode)


@api.operation(
    "POST",
    "/episodes/ingest",
    summary="Upload an episode master (the raw file as the body, streamed)",
    permission="library.ingest",
    query=IngestQuery,
    raw_body="application/octet-stream",
    response=IngestOut,
    status=201,
    tags=("library",),
)
def ingest_episode(query: IngestQuery) -> IngestOut:
    svc = services()
    session = db_session()
    result = ingest.ingest_upload(
        session,
        svc.store,
        request.stream,
        limit_bytes=svc.settings.max_upload_bytes,
        filename=query.filename,
        series_title=query.series,
        episode_number=query.episode,
        hook_type=query.hook,
        tropes=ingest.split_tropes(query.tropes),
        title=query.title,
        replace=query.replace,
        actor=current_user.user,
    )
    session.commit()
    return IngestOut(
        created=result.created,
        replaced=result.replaced,
        warnings=list(result.warnings),
        episode=episode_out(session, result.episode),
        asset=asset_out(result.asset),
    )


def episode_out(session: Session, episode: Episode) -> EpisodeOut:
    master = session.get(MediaAsset, episode.master_asset_id) if episode.master_asset_id else None
    out = EpisodeOut.model_validate(episode)
    out.master = asset_out(master) if master else None
    return out


def asset_out(asset: MediaAsset) -> MediaAssetOut:
    out = MediaAssetOut.model_validate(asset)
    out.url = url_for("media.asset", sha256=asset.sha256)
    return out
