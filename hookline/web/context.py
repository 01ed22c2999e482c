"""Per-app services and per-request state for views (never used by domain code)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, flash, g
from sqlmodel import Session

from hookline.db import Database
from hookline.errors import HooklineError
from hookline.settings import Settings
from hookline.storage import MediaStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    store: MediaStore


def init_app(app: Flask, services: Services) -> None:
    app.extensions["hookline"] = services
    app.teardown_appcontext(_close_session)


def services() -> Services:
    return current_app.extensions["hookline"]


def db_session() -> Session:
    """Return this request's session; it is closed (and rolled back if uncommitted) at teardown."""
    if "db_session" not in g:
        g.db_session = services().db.session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@dataclass
class FormChange:
    """What a form's change says once it is saved (set ``message`` inside the block)."""

    message: str = ""


@contextmanager
def form_change(session: Session) -> Iterator[FormChange]:
    """Save a form's change and flash its message, or roll it back and flash the error.

    A refused change (a HooklineError) ends the block quietly: the page it redirects to
    shows why, and nothing of the change is kept.
    """
    change = FormChange()
    try:
        yield change
    except HooklineError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(change.message, "success")
