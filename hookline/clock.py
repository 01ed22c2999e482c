"""Time in Hookline is always timezone-aware UTC; local time exists only at the edges."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; a naive value is rejected rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give a timezone (Hookline stores UTC)")
    return value.astimezone(UTC)
