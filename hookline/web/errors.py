"""Errors as users see them: a page with what went wrong, or JSON for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from hookline.auth.web import wants_json
from hookline.errors import HooklineError, MediaRejected

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(HooklineError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def error_response(status: int, code: str, message: str, **extra: Any) -> Any:
    if wants_json():
        response = jsonify(error=code, message=message, **extra)
        response.status_code = status
        return response
    return render_template("error.html", status=status, code=code, message=message), status


def _domain_error(error: HooklineError) -> Any:
    if error.status >= 500:
        log.exception("internal error: %s", error)
    code = error.code if isinstance(error, MediaRejected) else type(error).__name__
    return error_response(error.status, _snake(code), error.message, detail=error.detail or None)


def _csrf_error(error: CSRFError) -> Any:
    return error_response(
        400, "csrf_failed", f"{error.description} Reload the page and submit the form again."
    )


def _http_error(error: HTTPException) -> Any:
    messages = {
        403: "Your roles do not allow this. Ask an admin for the role you need.",
        404: "There is nothing here. Check the address.",
        413: "The upload is larger than this server accepts (HOOKLINE_MAX_UPLOAD_MB).",
    }
    # An upload over the limit is too_large whether the store or the request size caught it.
    codes = {413: "too_large"}
    status = error.code or 500
    message = messages.get(status, error.description or error.name)
    return error_response(status, codes.get(status, _snake(error.name)), message)


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name.replace(" ", "")):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)
