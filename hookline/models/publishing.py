"""Channels (platform accounts in a market) and publications of localized cuts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class ChannelStatus(StrEnum):
    CONNECTED = "connected"
    RECONNECT_NEEDED = "reconnect_needed"
    DISCONNECTED = "disconnected"


class Channel(SQLModel, table=True):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32, index=True)
    name: str = Field(max_length=200)
    language: str = Field(max_length=16)
    region: str = Field(default="", max_length=8)
    timezone: str = Field(default="UTC", max_length=64)
    external_id: str = Field(default="", max_length=200)
    status: str = Field(default=ChannelStatus.DISCONNECTED, max_length=32)
    # Why the channel needs a reconnect (the platform's words when a refresh failed).
    reconnect_reason: str = Field(default="", sa_type=Text)
    account_name: str = Field(default="", max_length=200)
    sandbox: bool = False
    # OAuth tokens, encrypted with the key from settings; never stored in clear.
    token_ciphertext: str | None = Field(default=None, sa_type=Text)
    token_expires_at: datetime | None = timestamp(now=False)
    settings: dict[str, Any] = json_dict()
    created_at: datetime = timestamp()


class PublicationStatus(StrEnum):
    SCHEDULED = "scheduled"
    UPLOADING = "uploading"
    PROCESSING = "processing"
    PUBLISHED = "published"
    HELD = "held"  # the channel needs a reconnect; nothing failed
    DEFERRED = "deferred"  # waiting for a quota or cap window to reopen
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    CANCELLED = "cancelled"


class Publication(SQLModel, table=True):
    """A localized cut on a channel at a time; its key guarantees it is posted at most once."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("cut_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cut_id: int = Field(foreign_key="localized_cuts.id", index=True)
    channel_id: int = Field(foreign_key="channels.id", index=True)
    scheduled_at: datetime = timestamp(index=True)
    status: str = Field(default=PublicationStatus.SCHEDULED, max_length=32, index=True)
    title: str = Field(default="", max_length=500)
    description: str = Field(default="", sa_type=Text)
    hashtags: list[str] = json_list()
    language: str = Field(default="", max_length=16)
    privacy: str = Field(default="public", max_length=32)
    idempotency_key: str = Field(max_length=100, unique=True)
    # Where the publishing steps stand: new, uploading, uploaded, finishing, submitted, done.
    phase: str = Field(default="new", max_length=32)
    job_id: int | None = Field(default=None, sa_type=BigInteger)
    # The platform's resumable-upload state: session URL, bytes acknowledged, ids.
    upload_state: dict[str, Any] = json_dict()
    bytes_sent: int = Field(default=0, sa_type=BigInteger)
    remote_id: str | None = Field(default=None, max_length=200)
    remote_url: str | None = Field(default=None, max_length=1000)
    error_code: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_type=Text)
    published_at: datetime | None = timestamp(now=False)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class PublicationAttempt(SQLModel, table=True):
    """One step of publishing and how it went: the publication's timeline."""

    __tablename__ = "publication_attempts"

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id", index=True, ondelete="CASCADE")
    at: datetime = timestamp()
    step: str = Field(max_length=32)
    outcome: str = Field(max_length=16)  # ok | error | retry | deferred | held | info
    bytes_sent: int = Field(default=0, sa_type=BigInteger)
    http_status: int | None = None
    code: str = Field(default="", max_length=100)
    message: str = Field(default="", sa_type=Text)


class QuotaSpend(SQLModel, table=True):
    """What a channel spent of a platform allowance, and when: buckets that survive restarts."""

    __tablename__ = "quota_spends"
    __table_args__ = (Index("ix_quota_spends_window", "channel_id", "bucket", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channels.id", ondelete="CASCADE")
    bucket: str = Field(max_length=64)
    cost: int
    at: datetime = timestamp()
    publication_id: int | None = Field(
        default=None, foreign_key="publications.id", ondelete="SET NULL"
    )
