"""Localizations: one per episode x language, with subtitle lines and rendered cuts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class LocalizationStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    NEEDS_REVIEW = "needs_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    FAILED = "failed"


class Localization(SQLModel, table=True):
    __tablename__ = "localizations"
    __table_args__ = (UniqueConstraint("episode_id", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episodes.id", index=True, ondelete="CASCADE")
    language: str = Field(max_length=16)
    # The source track has language == the series' source language and is_source set.
    is_source: bool = False
    status: str = Field(default=LocalizationStatus.PENDING, max_length=32, index=True)
    profile: str = Field(default="vertical", max_length=32)  # vertical | broadcast
    translator: str = Field(default="", max_length=64)
    transcript_id: int | None = Field(default=None, foreign_key="transcripts.id")
    # What was asked for: {"dub": true, "burn": false}; and how it went, stage by stage.
    options: dict[str, Any] = json_dict()
    stage: str = Field(default="", max_length=32)
    progress: float = 0.0
    qc_summary: dict[str, Any] = json_dict()
    error: str | None = Field(default=None, sa_type=Text)
    approved_by_id: int | None = Field(default=None, foreign_key="users.id")
    approved_at: datetime | None = timestamp(now=False)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class SubtitleLine(SQLModel, table=True):
    """One subtitle event; also the unit of translation, dubbing and review."""

    __tablename__ = "subtitle_lines"
    __table_args__ = (UniqueConstraint("localization_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    localization_id: int = Field(foreign_key="localizations.id", index=True, ondelete="CASCADE")
    position: int
    start_s: float
    end_s: float
    speaker: str | None = Field(default=None, max_length=120)
    source_text: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    # Optimistic concurrency: a save names the version it edited.
    version: int = 1
    needs_human: bool = False
    # Why a human should look: a refused translation, a term off the glossary, a dub overflow.
    note: str = Field(default="", sa_type=Text)
    # The subtitle cues this line is shown as, cut by the language's own rules.
    cues: list[dict[str, Any]] = json_list()
    qc: list[dict[str, Any]] = json_list()
    dub_asset_id: int | None = Field(default=None, foreign_key="media_assets.id")
    dub_stretch: float | None = None
    dub_overflow_s: float | None = None
    updated_at: datetime = timestamp()
    updated_by_id: int | None = Field(default=None, foreign_key="users.id")


class CutKind(StrEnum):
    SOFT_SUBBED = "soft_subbed"
    BURNED_IN = "burned_in"
    SUBTITLES_SRT = "subtitles_srt"
    SUBTITLES_VTT = "subtitles_vtt"
    SUBTITLES_ASS = "subtitles_ass"
    DUB_STEM = "dub_stem"


class LocalizedCut(SQLModel, table=True):
    """A rendered output of a localization: a video cut, a subtitle file, a dub stem."""

    __tablename__ = "localized_cuts"
    __table_args__ = (UniqueConstraint("localization_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    localization_id: int = Field(foreign_key="localizations.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    asset_id: int = Field(foreign_key="media_assets.id")
    inputs_hash: str = Field(default="", max_length=64)
    created_at: datetime = timestamp()


class StageOutput(SQLModel, table=True):
    """The result of one pipeline stage, found again by the hash of its inputs and settings.

    A rerun (or a resume after a crash) looks a stage up by its key and skips the work
    when it is there; ``data`` names the outputs (asset hashes, numbers).
    """

    __tablename__ = "stage_outputs"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    stage: str = Field(max_length=64)
    episode_id: int = Field(foreign_key="episodes.id", index=True, ondelete="CASCADE")
    language: str | None = Field(default=None, max_length=16)
    data: dict[str, Any] = json_dict()
    created_at: datetime = timestamp()
