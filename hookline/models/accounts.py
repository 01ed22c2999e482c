"""People and machines that use Hookline, and the audit log of what they changed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"
    ANALYST = "analyst"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    roles: list[str] = json_list()
    active: bool = True
    created_at: datetime = timestamp()
    last_login_at: datetime | None = timestamp(now=False)

    def has_role(self, role: str) -> bool:
        return role in self.roles


class ApiToken(SQLModel, table=True):
    """A bearer token for machine clients; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = timestamp()
    last_used_at: datetime | None = timestamp(now=False)
    revoked_at: datetime | None = timestamp(now=False)


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp(index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    actor: str = Field(default="system", max_length=120)
    action: str = Field(max_length=100, index=True)
    entity_type: str = Field(max_length=64)
    entity_id: str = Field(default="", max_length=64)
    before: dict[str, Any] = json_dict()
    after: dict[str, Any] = json_dict()
    remote_addr: str | None = Field(default=None, max_length=64)
