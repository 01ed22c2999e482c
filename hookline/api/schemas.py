"""The JSON shapes of the API: what it accepts and returns (and documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MeOut(Out):
    id: int
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str] = Field(description="Every permission the roles grant.")


class SeriesOut(Out):
    id: int
    title: str
    slug: str
    source_language: str
    logline: str
    created_at: datetime


class MediaAssetOut(Out):
    id: int
    sha256: str
    size_bytes: int
    kind: str
    container: str
    mime_type: str
    duration_s: float | None
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    url: str | None = Field(default=None, description="Where to download the file.")


class EpisodeOut(Out):
    id: int
    series_id: int
    number: int
    title: str
    hook_type: str | None
    tropes: list[str]
    status: str
    warnings: list[str]
    master: MediaAssetOut | None = None
    created_at: datetime


class SeriesDetailOut(SeriesOut):
    episodes: list[EpisodeOut]


class IngestQuery(BaseModel):
    series: str = Field(min_length=1, max_length=200, description="Series title; created if new.")
    episode: int = Field(ge=1, description="Episode number within the series.")
    filename: str = Field(
        min_length=1, max_length=400, description="Original file name; its extension is checked."
    )
    title: str | None = Field(default=None, max_length=300)
    hook: str | None = Field(default=None, max_length=64, description="Hook type of the opening.")
    tropes: str | None = Field(default=None, description="Comma-separated plot tropes.")
    replace: bool = Field(default=False, description="Replace a different master of this episode.")


class IngestOut(Out):
    created: bool = Field(description="True when this made a new episode.")
    replaced: bool = Field(description="True when this replaced the episode's previous master.")
    warnings: list[str]
    episode: EpisodeOut
    asset: MediaAssetOut


JobStatusName = Literal["queued", "running", "succeeded", "dead", "cancelled"]


class JobOut(Out):
    id: int
    kind: str
    status: str
    key: str | None
    payload: dict[str, Any]
    priority: int
    attempts: int
    max_attempts: int
    run_at: datetime
    progress: float = Field(description="0-100.")
    progress_message: str
    cancel_requested: bool
    last_error: str | None
    result: dict[str, Any]
    lease_owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobQuery(BaseModel):
    status: JobStatusName | None = None
    kind: str | None = Field(default=None, max_length=100)
    ids: str | None = Field(default=None, description="Comma-separated job ids to fetch.")
    before_id: int | None = Field(default=None, description="Page backwards from this id.")
    limit: int = Field(default=50, ge=1, le=500)


class JobPage(BaseModel):
    jobs: list[JobOut]
    next_before_id: int | None


class JobIn(BaseModel):
    kind: str = Field(min_length=1, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)
    run_at: datetime | None = Field(default=None, description="ISO 8601 with a time zone.")
    key: str | None = Field(default=None, max_length=200, description="Idempotency key.")
    priority: int = Field(default=100, ge=0, le=1000, description="Lower runs first.")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    migrations: str
    media_store: str
    scheduler: str | None
