"""What every pipeline stage works with: the episode's media, the bible, a scratch folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from hookline.db import Database
from hookline.errors import NotFound
from hookline.models import AssetRole, Character, Episode, EpisodeAsset, MediaAsset, Series, Term
from hookline.settings import Settings
from hookline.storage import MediaStore
from localization.translation import Bible
from localization.translation import Character as BibleCharacter
from localization.translation import Term as BibleTerm

Report = Callable[[float, str], None]
DEFAULT_FPS = 30.0


@dataclass
class Workspace:
    db: Database
    settings: Settings
    store: MediaStore
    folder: Path
    report: Report = field(default=lambda fraction, stage: None)

    def path(self, asset: MediaAsset) -> Path:
        return self.store.path_for(asset.sha256)


@dataclass(frozen=True)
class EpisodeMedia:
    """An episode with its series, bible and attached files, read once per job."""

    episode: Episode
    series: Series
    master: MediaAsset
    dialogue: MediaAsset | None
    music_effects: MediaAsset | None
    script: MediaAsset | None
    characters: tuple[Character, ...]
    terms: tuple[Term, ...]

    @property
    def fps(self) -> float:
        return self.master.fps or DEFAULT_FPS

    @property
    def duration_s(self) -> float:
        return self.master.duration_s or 0.0

    @property
    def bible(self) -> Bible:
        return Bible(
            characters=tuple(BibleCharacter(c.name, _gender(c.gender)) for c in self.characters),
            terms=tuple(BibleTerm(t.term, dict(t.translations), t.note) for t in self.terms),
        )

    @property
    def hotwords(self) -> list[str]:
        """Names and terms Whisper should expect: the bible, spelled as the studio spells it."""
        return [c.name for c in self.characters] + [t.term for t in self.terms]


def load_episode(session: Session, episode_id: int) -> EpisodeMedia:
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"No episode {episode_id}.")
    series = session.get_one(Series, episode.series_id)
    if episode.master_asset_id is None:
        raise NotFound(f"Episode {episode.number} of {series.title!r} has no master; ingest one.")
    files = dict(
        session.exec(
            select(EpisodeAsset.role, MediaAsset)
            .join(MediaAsset, col(MediaAsset.id) == EpisodeAsset.asset_id)
            .where(EpisodeAsset.episode_id == episode_id)
        ).all()
    )
    return EpisodeMedia(
        episode=episode,
        series=series,
        master=session.get_one(MediaAsset, episode.master_asset_id),
        dialogue=files.get(AssetRole.DIALOGUE_STEM),
        music_effects=files.get(AssetRole.MUSIC_EFFECTS_STEM),
        script=files.get(AssetRole.SCRIPT),
        characters=tuple(
            session.exec(select(Character).where(Character.series_id == series.id)).all()
        ),
        terms=tuple(session.exec(select(Term).where(Term.series_id == series.id)).all()),
    )


def _gender(value: str) -> str:
    return value if value in ("female", "male", "nonbinary") else "unknown"
