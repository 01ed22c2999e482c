"""The Flask application factory."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

from flask import Flask

from hookline import api, security, wiring
from hookline.auth import web as auth_web
from hookline.db import Database
from hookline.jobs import registry
from hookline.settings import Settings, ensure_secret_key
from hookline.storage import MediaStore
from hookline.web import account, admin, errors, health, jobs, library, media
from hookline.web.context import Services
from hookline.web.context import init_app as init_services
from hookline.web.filters import init_app as init_filters

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT.parent / "templates"
MIB = 1024 * 1024


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> Flask:
    """Build the web app; settings come from HOOKLINE_* variables when not given."""
    settings = ensure_secret_key(settings or Settings.from_env())
    app = Flask("hookline", template_folder=str(TEMPLATES), static_folder=str(ROOT / "static"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="hookline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # Multipart framing adds a little to the file itself; the store enforces the exact limit.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + MIB,
        WTF_CSRF_TIME_LIMIT=settings.session_hours * 3600,
        JSON_SORT_KEYS=False,
    )
    services = Services(
        settings=settings,
        db=db or Database.from_url(settings.database_url),
        store=MediaStore(settings.media_root),
    )
    registry.load((*wiring.JOB_MODULES, *settings.plugins))
    init_services(app, services)
    auth_web.init_app(app)  # the role gate runs first: strangers get 401, not a CSRF error
    security.init_app(app, https=settings.secure_cookies)
    errors.init_app(app)
    init_filters(app)
    for blueprint in (library.bp, jobs.bp, admin.bp, account.bp, media.bp, health.bp):
        app.register_blueprint(blueprint)
    for target in wiring.BLUEPRINTS:
        module, _, attribute = target.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module), attribute))
    api.init_app(app, wiring.API_MODULES)
    return app
