"""Collected analytics: append-only metric snapshots and retention curves.

``metric_snapshots`` and ``retention_curves`` are the history, one row per publication
and collection period, never updated. ``metric_days`` is derived from them (the last
snapshot of each day per publication) so dashboards aggregate thousands of rows, not
millions. ``metric_collections`` says where collecting stands for each publication.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class MetricSnapshot(SQLModel, table=True):
    """Cumulative metrics of one publication as of ``as_of``; a missing metric is NULL, not 0."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (UniqueConstraint("publication_id", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    # The unique (publication_id, as_of) index serves every lookup, by publication alone too.
    publication_id: int = Field(foreign_key="publications.id", ondelete="CASCADE")
    as_of: datetime = timestamp()
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
    # The unique (publication_id, as_of) index serves every lookup, by publication alone too.
    publication_id: int = Field(foreign_key="publications.id", ondelete="CASCADE")
    as_of: datetime = timestamp()
    collected_at: datetime = timestamp()
    duration_s: float
    views_basis: int | None = None
    points: list[float] = json_list()
    source_resolution: str = Field(default="", max_length=64)
    # YouTube's relativeRetentionPerformance (0-1, 0.5 = median of similar videos), averaged.
    relative_performance: float | None = None


class MetricDay(SQLModel, table=True):
    """The last snapshot of a publication on one UTC day: what dashboards aggregate."""

    __tablename__ = "metric_days"
    # Covers the views-per-day sums: a period's rows are read from the index alone.
    __table_args__ = (
        Index(
            "ix_metric_days_day_gains",
            "day",
            "publication_id",
            "views_gained",
            "watch_time_gained_s",
        ),
    )

    publication_id: int = Field(foreign_key="publications.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    as_of: datetime = timestamp()
    views: int | None = None
    reach: int | None = None
    watch_time_s: float | None = None
    avg_percent_viewed: float | None = None
    completion_rate: float | None = None
    hook_rate: float | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    follows: int | None = None
    # Gained since the publication's previous day row: what views-per-day charts sum.
    views_gained: int | None = None
    watch_time_gained_s: float | None = None


class CollectionStatus:
    ACTIVE = "active"
    PAUSED = "paused"  # the channel needs reconnecting
    DONE = "done"  # past the collection window


class MetricCollection(SQLModel, table=True):
    """Where collecting a publication's metrics stands: when next, how the last went."""

    __tablename__ = "metric_collections"

    publication_id: int = Field(foreign_key="publications.id", primary_key=True, ondelete="CASCADE")
    status: str = Field(default=CollectionStatus.ACTIVE, max_length=16, index=True)
    next_at: datetime = timestamp(index=True)
    last_at: datetime | None = timestamp(now=False)
    last_outcome: str = Field(default="", max_length=16)  # ok | missing | rejected | error
    message: str = Field(default="", sa_type=Text)
    collections: int = 0
    latest_curve_id: int | None = Field(default=None, foreign_key="retention_curves.id")
