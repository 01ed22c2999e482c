"""What was said in an episode: transcript -> segments -> words, with timings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, timestamp


class Transcript(SQLModel, table=True):
    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("episode_id", "inputs_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episodes.id", index=True, ondelete="CASCADE")
    language: str = Field(max_length=16)
    source: str = Field(default="asr", max_length=16)  # asr | script
    model: str = Field(default="", max_length=200)
    # Hash of the audio, model and parameters: the same inputs reuse this transcript.
    inputs_hash: str = Field(max_length=64)
    params: dict[str, Any] = json_dict()
    created_at: datetime = timestamp()


class TranscriptSegment(SQLModel, table=True):
    __tablename__ = "transcript_segments"
    __table_args__ = (UniqueConstraint("transcript_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="transcripts.id", index=True, ondelete="CASCADE")
    position: int
    start_s: float
    end_s: float
    text: str = Field(sa_type=Text)
    speaker: str | None = Field(default=None, max_length=120)
    confidence: float | None = None


class TranscriptWord(SQLModel, table=True):
    __tablename__ = "transcript_words"
    __table_args__ = (UniqueConstraint("segment_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="transcript_segments.id", index=True, ondelete="CASCADE")
    position: int
    start_s: float
    end_s: float
    text: str = Field(max_length=200)
    probability: float | None = None
