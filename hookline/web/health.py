"""/healthz: is the database reachable and migrated, is the media store writable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from hookline import migrate
from hookline.api.schemas import HealthOut
from hookline.clock import utcnow
from hookline.jobs.scheduler import LOCK_NAME
from hookline.models import Lock
from hookline.web.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    svc = services()
    database, migrations, scheduler = _database(svc.db)
    media = "ok" if _writable(svc.store.root) else f"not writable: {svc.store.root}"
    healthy = database == "ok" and migrations.startswith("head") and media == "ok"
    body = HealthOut(
        status="ok" if healthy else "degraded",
        database=database,
        migrations=migrations,
        media_store=media,
        scheduler=scheduler,
    )
    response = jsonify(body.model_dump())
    response.status_code = 200 if healthy else 503
    return response


def _database(db: Any) -> tuple[str, str, str | None]:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            lock = conn.execute(
                select(Lock.holder, Lock.expires_at).where(Lock.name == LOCK_NAME)
            ).first()
        current = migrate.current_revision(db.engine)
    except SQLAlchemyError as exc:  # report, don't raise: this endpoint exists to say what is down
        return f"unreachable: {type(exc).__name__}", "unknown", None
    head = migrate.head_revision()
    migrations = (
        f"head ({head})"
        if current == head
        else f"behind: at {current}, head is {head}; run `hookline db upgrade`"
    )
    scheduler = lock[0] if lock and lock[1] > utcnow() else None
    return "ok", migrations, scheduler


def _writable(root: Path) -> bool:
    """Return whether files can be stored under ``root`` (created on first write if missing)."""
    existing = next((p for p in (root, *root.parents) if p.exists()), None)
    return existing is not None and os.access(existing, os.W_OK)
