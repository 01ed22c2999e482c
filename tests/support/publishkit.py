"""Helpers for publishing tests: approved cuts made from real videos, sandbox channels."""

from __future__ import annotations

import struct
from pathlib import Path

from sqlmodel import Session, col, func, select

from hookline.db import Database
from hookline.ingest import store_output
from hookline.models import (
    Channel,
    CutKind,
    Episode,
    Localization,
    LocalizationStatus,
    LocalizedCut,
    Publication,
    PublicationStatus,
    Series,
)
from hookline.settings import Settings
from hookline.storage import MediaStore
from publisher import channels
from publisher.sandbox.server import grant

CALLBACK = "http://127.0.0.1:5000/publishing/oauth/callback"
SERIES = "The Contract Bride"


def variant(video: Path, folder: Path, n: int) -> Path:
    """Return a copy of ``video`` made unique by a trailing MP4 ``free`` box holding ``n``.

    A ``free`` box is padding every MP4 reader skips: the copy plays exactly as the
    original but has its own bytes, so a platform sees a different upload.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{video.stem}-{n}{video.suffix}"
    payload = f"hookline test variant {n}".encode()
    with video.open("rb") as source, path.open("wb") as out:
        while block := source.read(1 << 20):
            out.write(block)
        out.write(struct.pack(">I4s", 8 + len(payload), b"free") + payload)
    return path


def approved_cut(
    session: Session,
    settings: Settings,
    video: Path,
    *,
    episode: int = 1,
    language: str = "es",
    status: str = LocalizationStatus.APPROVED,
    kind: str = CutKind.BURNED_IN,
    subtitles: str | None = None,
) -> LocalizedCut:
    """Make ``video`` the ``language`` cut of episode ``episode``; approved unless told.

    ``subtitles`` (SRT text) become the localization's SRT cut: the captions a post carries.
    """
    series = session.exec(select(Series).where(Series.title == SERIES)).first()
    if series is None:
        series = Series(title=SERIES, slug="the-contract-bride", source_language="en")
        session.add(series)
        session.flush()
    found = session.exec(
        select(Episode).where(Episode.series_id == series.id, Episode.number == episode)
    ).first()
    if found is None:
        found = Episode(series_id=series.id, number=episode, title=f"Episode {episode}")
        session.add(found)
        session.flush()
    localization = Localization(episode_id=found.id, language=language, status=status)
    session.add(localization)
    session.flush()
    asset = store_output(
        session, MediaStore(settings.media_root), video, kind="video", name=video.name
    )
    cut = LocalizedCut(localization_id=localization.id, kind=kind, asset_id=asset.id)
    session.add(cut)
    if subtitles is not None:
        srt = video.with_suffix(f".{language}.srt")
        srt.write_text(subtitles, encoding="utf-8")
        track = store_output(
            session, MediaStore(settings.media_root), srt, kind="subtitle", name=srt.name
        )
        session.add(
            LocalizedCut(
                localization_id=localization.id, kind=CutKind.SUBTITLES_SRT, asset_id=track.id
            )
        )
    session.flush()
    return cut


def sandbox_channel(
    session: Session,
    settings: Settings,
    platform: str,
    *,
    language: str = "es",
    timezone: str = "Europe/Madrid",
    account: str = "",
) -> Channel:
    """Create a sandbox channel and connect it through the platform's OAuth consent."""
    account = account or f"{platform}-{language}"
    channel = channels.create_channel(
        session,
        settings,
        platform=platform,
        name=f"{account} ({platform})",
        language=language,
        timezone=timezone,
        sandbox=True,
    )
    url = channels.connect_url(channel, settings, state="test", redirect_uri=CALLBACK)
    code = grant(url, account=account)
    return channels.complete_connection(
        session, channel, settings, code=code, redirect_uri=CALLBACK
    )


def finished(db: Database) -> int:
    """How many publications have ended, published or failed."""
    with db.session() as session:
        return session.exec(
            select(func.count())
            .select_from(Publication)
            .where(col(Publication.status).in_([PublicationStatus.PUBLISHED, "failed"]))
        ).one()
