"""The feedback loop's tables: the hook and trope vocabularies, saved briefs and their picks.

Episodes carry their tags as plain names (``Episode.hook_type``, ``Episode.tropes``); the
vocabulary says which names exist, which are retired, and the keywords that suggest them
from a transcript. A saved brief keeps its slates as rows so later briefs can say how the
hooks it recommended then performed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hookline.models.base import json_dict, json_list, timestamp


class TermKind:
    HOOK = "hook"
    TROPE = "trope"
    ALL = (HOOK, TROPE)


class FeedbackTerm(SQLModel, table=True):
    """One hook or trope a person can tag an episode with."""

    __tablename__ = "feedback_terms"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # hook | trope
    name: str = Field(max_length=64)  # what episodes store: lower_snake_case
    label: str = Field(default="", max_length=200)
    # Words or phrases whose presence in a transcript suggests this term.
    keywords: list[str] = json_list()
    retired: bool = False
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class FeedbackBrief(SQLModel, table=True):
    """A production brief as it was saved: the rules it used and its exports."""

    __tablename__ = "feedback_briefs"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp(index=True)
    created_by: str = Field(default="", max_length=120)
    kpi: str = Field(default="", max_length=64)
    rules: dict[str, Any] = json_dict()
    untagged: int = 0
    note: str = Field(default="", sa_type=Text)
    markdown: str = Field(default="", sa_type=Text)
    csv: str = Field(default="", sa_type=Text)


class FeedbackPick(SQLModel, table=True):
    """Episodes of one hook in one market's slate of a saved brief, with why."""

    __tablename__ = "feedback_picks"

    id: int | None = Field(default=None, primary_key=True)
    brief_id: int = Field(foreign_key="feedback_briefs.id", index=True, ondelete="CASCADE")
    market: str = Field(max_length=64)
    hook: str = Field(max_length=64)
    role: str = Field(max_length=16)
    count: int
    posts: int
    rate: float
    rate_low: float
    rate_high: float
    chance_best: float
    reason: str = Field(default="", sa_type=Text)
