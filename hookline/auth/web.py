"""Sign-in for people (session cookie) and machines (bearer token), and the role gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from hookline import audit
from hookline.auth import accounts
from hookline.auth.permissions import allowed
from hookline.models import User
from hookline.web.context import db_session

bp = Blueprint("auth", __name__)

# Endpoints anyone may reach; every other endpoint must declare a permission.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "health.healthz", "static"})


class Principal:
    """The signed-in user as Flask-Login sees it."""

    is_active = True
    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User, *, via: str) -> None:
        self.user = user
        self.via = via  # "session" or "token"

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def roles(self) -> list[str]:
        return list(self.user.roles)

    def get_id(self) -> str:
        # Part of the password hash rides along, so changing the password ends other sessions.
        return f"{self.user.id}:{self.user.password_hash[-12:]}"

    def can(self, permission: str) -> bool:
        return allowed(self.user.roles, permission)


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the permission a view needs; checked before the view runs."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def permission_of(endpoint: str | None) -> str | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "permission", None)


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.session_protection = "strong"
    manager.user_loader(_load_session_user)
    manager.request_loader(_load_token_user)
    manager.unauthorized_handler(_unauthorized)
    app.before_request(_enforce_permission)
    app.context_processor(lambda: {"can": _can})
    app.register_blueprint(bp)


def _load_session_user(user_id: str) -> Principal | None:
    if request.headers.get("Authorization"):
        return None  # a request that brings a token is judged by the token alone
    raw_id, _, fingerprint = user_id.partition(":")
    session = db_session()
    user = session.get(User, int(raw_id)) if raw_id.isdigit() else None
    # End the read at once: on SQLite every transaction holds the write lock, and the view
    # may spend a while (staging and probing an upload) before it touches the database.
    session.commit()
    if user is None or not user.active or user.password_hash[-12:] != fingerprint:
        return None
    return Principal(user, via="session")


def _load_token_user(req: Any) -> Principal | None:
    scheme, _, secret = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    session = db_session()
    user = accounts.user_for_token(session, secret.strip())
    if user is None:
        return None
    session.commit()  # records last_used_at
    return Principal(user, via="token")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _unauthorized() -> Any:
    if wants_json():
        response = jsonify(
            error="unauthorized", message="Sign in, or send 'Authorization: Bearer <token>'."
        )
        response.status_code = 401
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _enforce_permission() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    permission = permission_of(request.endpoint)
    if permission is None:
        abort(403)  # a route that forgot to declare its permission is closed to everyone
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.can(permission):
        abort(403)
    return None


def _can(permission: str) -> bool:
    return bool(current_user.is_authenticated and current_user.can(permission))


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        user = accounts.authenticate(session, form.username.data or "", form.password.data or "")
        if user is not None:
            principal = Principal(user, via="session")
            login_user(principal)
            audit.record(
                session, actor=user, action="user.login", entity_type="user", entity_id=user.id
            )
            session.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong username or password.", "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 401


@bp.route("/logout", methods=["POST"])
@requires("account")
def logout() -> Any:
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an absolute URL here would be an open redirect, and browsers
    # read "/\\host" as "//host".
    if (
        target
        and target.startswith("/")
        and "\\" not in target
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("library.home")
