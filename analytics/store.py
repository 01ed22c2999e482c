"""Writing collected metrics: append-only snapshots and curves, and the daily rollup.

Inserts never overwrite: a snapshot or curve for a (publication, as_of) already stored is
left as it is, so collecting the same period twice changes nothing. The daily rollup
keeps the latest snapshot of each publication and day, for the dashboards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from hookline.models import MetricDay, MetricSnapshot, RetentionCurve
from publisher.platforms.insights import METRICS

SNAPSHOT_FIELDS = METRICS  # a snapshot keeps every metric of the one schema
DAY_FIELDS = tuple(c for c in SNAPSHOT_FIELDS if c != "avg_view_duration_s")

Bind = Session | Connection


def add_snapshots(bind: Bind, rows: Sequence[dict[str, Any]]) -> None:
    """Insert snapshot rows (dicts of MetricSnapshot columns), skipping periods already stored."""
    table = MetricSnapshot.__table__  # type: ignore[attr-defined]
    bulk_insert(bind, table, rows, "ON CONFLICT (publication_id, as_of) DO NOTHING")
    roll_up(bind, rows)


def add_curves(bind: Bind, rows: Sequence[dict[str, Any]]) -> None:
    """Insert retention curve rows, skipping periods already stored."""
    table = RetentionCurve.__table__  # type: ignore[attr-defined]
    bulk_insert(bind, table, rows, "ON CONFLICT (publication_id, as_of) DO NOTHING")


def roll_up(bind: Bind, rows: Iterable[dict[str, Any]]) -> None:
    """Keep each publication's latest snapshot per UTC day in ``metric_days``."""
    latest: dict[tuple[int, Any], dict[str, Any]] = {}
    for row in rows:
        as_of: datetime = row["as_of"]
        key = (row["publication_id"], as_of.astimezone(UTC).date())
        found = latest.get(key)
        if found is None or found["as_of"] <= as_of:
            latest[key] = row
    if not latest:
        return
    table = MetricDay.__table__  # type: ignore[attr-defined]
    updates = ", ".join(f"{name} = excluded.{name}" for name in ("as_of", *DAY_FIELDS))
    days = [
        {
            "publication_id": pub,
            "day": day,
            "as_of": row["as_of"],
            **{name: row.get(name) for name in DAY_FIELDS},
        }
        for (pub, day), row in latest.items()
    ]
    bulk_insert(
        bind,
        table,
        days,
        f"ON CONFLICT (publication_id, day) DO UPDATE SET {updates} "
        "WHERE metric_days.as_of <= excluded.as_of",
    )
    conn = bind.connection() if isinstance(bind, Session) else bind
    ids = sorted({pub for pub, _ in latest})
    since = min(day for _, day in latest)
    for first in range(0, len(ids), 500):
        chunk = ids[first : first + 500]
        conn.execute(GAINS.where(table.c.publication_id.in_(chunk), table.c.day >= since))


def _previous(column: str) -> Any:
    """The same publication's ``column`` on its previous day row (0 when none)."""
    table = MetricDay.__table__  # type: ignore[attr-defined]
    before = table.alias("before")
    return func.coalesce(
        select(before.c[column])
        .where(before.c.publication_id == table.c.publication_id, before.c.day < table.c.day)
        .order_by(before.c.day.desc())
        .limit(1)
        .scalar_subquery(),
        0,
    )


_DAYS = MetricDay.__table__  # type: ignore[attr-defined]
# Recomputes the day-on-day gains of the rows it is narrowed to (and so the day after a
# changed day too, since the narrowing is "from the earliest changed day on").
GAINS = update(_DAYS).values(
    views_gained=_DAYS.c.views - _previous("views"),
    watch_time_gained_s=_DAYS.c.watch_time_s - _previous("watch_time_s"),
)


def bulk_insert(bind: Bind, table: Table, rows: Sequence[dict[str, Any]], conflict: str) -> None:
    """Insert many rows at DB-API speed, ending the statement with ``conflict``.

    Values go through the columns' own bind processors, so they are stored exactly as an
    ORM insert would store them (UTC timestamps, JSON). PostgreSQL copies the rows into a
    temporary table and inserts from it in one statement; SQLite runs one prepared
    statement over all of them. Every row must have the same keys.
    """
    if not rows:
        return
    conn = bind.connection() if isinstance(bind, Session) else bind
    dialect = conn.dialect
    names = list(rows[0])
    processors = [_processor(table.c[name].type, dialect) for name in names]
    # Collected rows repeat timestamps (the hour, the collection time) and JSON (an empty
    # answer): each distinct one is converted once. Plain numbers are converted directly.
    cached = [
        (i, p, {})
        for i, p in enumerate(processors)
        if p is not None and isinstance(table.c[names[i]].type, (TypeDecorator, JSON))
    ]
    memoized = {i for i, _, _ in cached}
    direct = [(i, p) for i, p in enumerate(processors) if p is not None and i not in memoized]

    def values(row: dict[str, Any]) -> list[Any]:
        out = [row[name] for name in names]
        for i, process in direct:
            out[i] = process(out[i])
        for i, process, memo in cached:
            value = out[i]
            key = _memo_key(value)
            if key is None:
                out[i] = process(value)
            else:
                done = memo.get(key)
                if done is None:
                    done = memo[key] = process(value)
                out[i] = done
        return out

    columns = ", ".join(names)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if dialect.name == "postgresql":
            types = [_copy_type(table.c[name].type) for name in names]
            converted = [values(row) for row in rows]
            _copy_into_postgresql(cursor, table.name, columns, types, converted, conflict)
        else:
            marks = ", ".join("?" for _ in names)
            cursor.executemany(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks}) {conflict}",
                [values(row) for row in rows],
            )
    finally:
        cursor.close()


def _memo_key(value: Any) -> Any:
    """A key equal values share (type included), or None when the value is not cacheable."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return (type(value), "empty") if not value else None
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value)


def _processor(kind: Any, dialect: Any) -> Any:
    """The column type's bind processor; JSON copied into PostgreSQL goes as its text."""
    if dialect.name == "postgresql" and isinstance(kind, JSON):
        serialize = dialect._json_serializer or json.dumps
        return lambda value: None if value is None else serialize(value)
    return kind._cached_bind_processor(dialect)


def _copy_into_postgresql(
    cursor: Any, name: str, columns: str, types: list[str], values: list[list[Any]], conflict: str
) -> None:
    """COPY the rows in; where some may already be there, through a staging table.

    Rows that only skip what is stored (``DO NOTHING``) are copied straight into the
    table under a savepoint: a stored period is rare (collecting one twice), and only
    then are the rows copied again through staging, where ``conflict`` applies.
    """
    if conflict.endswith("DO NOTHING"):
        cursor.execute("SAVEPOINT bulk_copy")
        try:
            with cursor.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in values:
                    copy.write_row(row)
        except UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT bulk_copy")
        else:
            cursor.execute("RELEASE SAVEPOINT bulk_copy")
            return
    staging = f"_bulk_{name}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
        f"SELECT {columns} FROM {name} WITH NO DATA"
    )
    with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in values:
            copy.write_row(row)
    cursor.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {staging} {conflict}")
    cursor.execute(f"DROP TABLE {staging}")


def _copy_type(kind: Any) -> str:
    """The PostgreSQL type a column's values are sent as in a binary COPY.

    JSON goes as text: the serializer has already made it text, and json's binary input is
    its text.
    """
    kind = getattr(kind, "impl_instance", kind)
    if isinstance(kind, (JSON, String)):
        return "text"
    if isinstance(kind, BigInteger):
        return "int8"
    if isinstance(kind, Integer):
        return "int4"
    if isinstance(kind, Float):
        return "float8"
    if isinstance(kind, DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Boolean):
        return "bool"
    raise TypeError(f"no COPY type for {kind!r}")
