"""The JSON API under /api/v1, described by an OpenAPI document built from its code."""

from __future__ import annotations

import importlib

from flask import Blueprint, Flask, jsonify

from hookline.api.spec import Api
from hookline.auth import requires

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
api = Api(bp, title="Hookline API", version="1")


@bp.get("/openapi.json")
@requires("account")
def openapi() -> object:
    return jsonify(api.openapi(PREFIX))


def init_app(app: Flask, modules: tuple[str, ...] = ()) -> None:
    # Importing the route modules declares their operations on ``api``.
    from hookline.api import jobs, library  # noqa: F401

    for module in modules:
        importlib.import_module(module)
    app.register_blueprint(bp)
