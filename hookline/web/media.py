"""Serve stored media to signed-in users, with HTTP ranges so players can seek."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, send_file
from sqlmodel import select

from hookline.auth import requires
from hookline.errors import NotFound
from hookline.models import MediaAsset
from hookline.web.context import db_session, services

bp = Blueprint("media", __name__, url_prefix="/media")

SHA256 = re.compile(r"^[0-9a-f]{64}$")


@bp.get("/<sha256>")
@requires("library.view")
def asset(sha256: str) -> Any:
    if not SHA256.match(sha256):
        raise NotFound("No such media.")
    found = db_session().exec(select(MediaAsset).where(MediaAsset.sha256 == sha256)).first()
    store = services().store
    if found is None or not store.exists(sha256):
        raise NotFound("No such media.")
    name = found.original_name or f"{sha256[:12]}.{found.extension or 'bin'}"
    response = send_file(
        store.path_for(sha256),
        mimetype=found.mime_type,
        conditional=True,
        etag=sha256,
        download_name=name,
        max_age=3600,
    )
    # Content-addressed bytes never change, but they are not for shared caches.
    response.cache_control.public = False
    response.cache_control.private = True
    return response
