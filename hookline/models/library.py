"""The studio's library: series with their bible, episodes, and media assets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class Series(SQLModel, table=True):
    __tablename__ = "series"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200, unique=True)
    slug: str = Field(max_length=200, unique=True)
    source_language: str = Field(default="en", max_length=16)
    logline: str = Field(default="", max_length=2000)
    created_at: datetime = timestamp()


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Character(SQLModel, table=True):
    """A character of the series bible; keeps one voice per language for the whole series."""

    __tablename__ = "characters"
    __table_args__ = (UniqueConstraint("series_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="series.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    gender: str = Field(default=Gender.UNKNOWN, max_length=16)
    description: str = Field(default="", max_length=2000)
    # {"es": {"backend": "espeak", "voice": "es+f3", "rate_cps": 14.2}, ...}
    voices: dict[str, Any] = json_dict()


class Term(SQLModel, table=True):
    """A glossary entry of the series bible: a name, place, organisation or form of address."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("series_id", "term"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="series.id", index=True, ondelete="CASCADE")
    term: str = Field(max_length=200)
    kind: str = Field(default="term", max_length=32)
    note: str = Field(default="", max_length=1000)
    # {"es": "el contrato", "zh-Hans": "合约"}; a missing language means "keep as is".
    translations: dict[str, str] = json_dict()


class EpisodeStatus(StrEnum):
    INGESTED = "ingested"
    LOCALIZING = "localizing"
    READY = "ready"
    ARCHIVED = "archived"


class Episode(SQLModel, table=True):
    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("series_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="series.id", index=True, ondelete="CASCADE")
    number: int = Field(ge=1)
    title: str = Field(default="", max_length=300)
    hook_type: str | None = Field(default=None, max_length=64, index=True)
    tropes: list[str] = json_list()
    master_asset_id: int | None = Field(default=None, foreign_key="media_assets.id")
    status: str = Field(default=EpisodeStatus.INGESTED, max_length=32)
    # Warnings from ingest that a platform will act on later (aspect, duration, audio).
    warnings: list[str] = json_list()
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class MediaAsset(SQLModel, table=True):
    """A file in the content-addressed store; the same bytes are always the same asset."""

    __tablename__ = "media_assets"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    size_bytes: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=16)  # video | audio | subtitle | text | image
    container: str = Field(default="", max_length=64)
    extension: str = Field(default="", max_length=16)
    mime_type: str = Field(default="application/octet-stream", max_length=100)
    original_name: str = Field(default="", max_length=400)
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = Field(default=None, max_length=32)
    audio_codec: str | None = Field(default=None, max_length=32)
    audio_channels: int | None = None
    sample_rate: int | None = None
    probe: dict[str, Any] = json_dict()
    created_at: datetime = timestamp()

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


class AssetRole(StrEnum):
    MASTER = "master"
    DIALOGUE_STEM = "dialogue_stem"
    MUSIC_EFFECTS_STEM = "music_effects_stem"
    SCRIPT = "script"
    THUMBNAIL = "thumbnail"


class EpisodeAsset(SQLModel, table=True):
    """Attaches an asset to an episode in a role: master, a stem, the studio's script."""

    __tablename__ = "episode_assets"
    __table_args__ = (UniqueConstraint("episode_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episodes.id", index=True, ondelete="CASCADE")
    asset_id: int = Field(foreign_key="media_assets.id", index=True)
    role: str = Field(max_length=32)
    created_at: datetime = timestamp()
