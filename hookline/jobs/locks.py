"""Named leases in the database: at most one holder at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from hookline.models import Lock

locks = Lock.__table__
c = locks.c


def acquire(conn: Connection, name: str, holder: str, *, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease ``name``; True when ``holder`` holds it until ``now + ttl``."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(locks)
        .values(name=name, holder=holder, expires_at=now + ttl, acquired_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    # Renew our own lease, or take over one whose holder stopped renewing it.
    taken = conn.execute(
        update(locks)
        .where(c.name == name, or_(c.holder == holder, c.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    ).rowcount
    return bool(taken)


def release(conn: Connection, name: str, holder: str) -> None:
    conn.execute(delete(locks).where(c.name == name, c.holder == holder))
