"""Collected analytics: append-only metric snapshots and retention curves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class MetricSnapshot(SQLModel, table=True):
    """Cumulative metrics of one publication as of ``as_of``; a missing metric is NULL, not 0."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (UniqueConstraint("publication_id", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id", index=True, ondelete="CASCADE")
    as_of: datetime = timestamp(index=True)
    collected_at: datetime = timestamp()
    views: int | None = None
    reach: int | None = None
    watch_time_s: float | None = None
    avg_view_duration_s: float | None = None
    avg_percent_viewed: float | None = None
    completion_rate: float | None = None
    hook_rate: float | None = None
    hook_rate_definition: str | None = Field(default=None, max_length=64)
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    follows: int | None = None
    raw: dict[str, Any] = json_dict()


class RetentionCurve(SQLModel, table=True):
    """Share of viewers still watching at 101 evenly spaced points of the cut."""

    __tablename__ = "retention_curves"
    __table_args__ = (UniqueConstraint("publication_id", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id", index=True, ondelete="CASCADE")
    as_of: datetime = timestamp(index=True)
    collected_at: datetime = timestamp()
    duration_s: float
    views_basis: int | None = None
    points: list[float] = json_list()
    source_resolution: str = Field(default="", max_length=64)
