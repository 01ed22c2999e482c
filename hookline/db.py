"""Database engines and sessions for SQLite (embedded) and PostgreSQL (teams).

SQLite runs in WAL mode and every transaction starts with ``BEGIN IMMEDIATE``:
several processes (web, workers) write to the same file, and a deferred
transaction that reads first and writes later fails at once with "database is
locked" instead of waiting. Our transactions are short, so taking the write lock
up front costs little and never loses work.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000


class NestedTransaction(RuntimeError):
    """Code opened a second SQLite transaction in a thread that holds one (a self-deadlock)."""


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine with the pragmas and pool Hookline needs for ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Take transaction control away from pysqlite so "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    open_here = threading.local()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A second write transaction in the same thread would wait on the first until
        # busy_timeout runs out: fail at once, with the stack that says where.
        if getattr(open_here, "count", 0):
            raise NestedTransaction(
                "a SQLite transaction was opened while this thread already has one open; "
                "commit or close the first before starting another"
            )
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        open_here.count = 1

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(connection):
        open_here.count = 0

    return engine


@dataclass
class Database:
    """An engine plus the session factory every entry point uses."""

    engine: Engine

    @classmethod
    def from_url(cls, url: str, **kwargs) -> Database:
        return cls(create_db_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self, *, checkpoint: bool = False) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on error.

        ``checkpoint`` is for progress a crash may lose without harm (an upload's offset,
        which the platform is asked for again on resume): on PostgreSQL its commit does
        not wait for the WAL flush, as SQLite's WAL with synchronous=NORMAL never does.
        """
        with self.session() as session:
            try:
                if checkpoint and self.engine.dialect.name == "postgresql":
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
