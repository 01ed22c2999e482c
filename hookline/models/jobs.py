"""The job queue of record and the database locks that elect a scheduler."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from hookline.models.base import UTCDateTime, json_dict, timestamp


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.DEAD, JobStatus.CANCELLED)


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        # The claim query: due queued jobs in priority and time order.
        Index("ix_jobs_claim", "status", "priority", "run_at"),
        Index("ix_jobs_lease", "status", "lease_expires_at"),
    )

    # BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    kind: str = Field(max_length=100, index=True)
    payload: dict[str, Any] = json_dict()
    key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    priority: int = 100
    run_at: datetime = timestamp()
    attempts: int = 0
    max_attempts: int = 5
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_requested: bool = False
    progress: float = 0.0
    progress_message: str = Field(default="", max_length=500)
    last_error: str | None = Field(default=None, sa_type=Text)
    result: dict[str, Any] = json_dict()
    created_at: datetime = timestamp(index=True)
    started_at: datetime | None = timestamp(now=False)
    finished_at: datetime | None = timestamp(now=False)
    updated_at: datetime = timestamp()


class Lock(SQLModel, table=True):
    """A named lease in the database: whoever holds an unexpired row owns the role."""

    __tablename__ = "locks"

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    expires_at: datetime = timestamp()
    acquired_at: datetime = timestamp()
