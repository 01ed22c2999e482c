"""Pages: your password and your API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from sqlmodel import col, select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from hookline import audit
from hookline.auth import Principal, create_token, requires, revoke_token, set_password
from hookline.errors import HooklineError
from hookline.models import ApiToken
from hookline.web.context import db_session

bp = Blueprint("account", __name__, url_prefix="/account")


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField("New password", validators=[DataRequired()])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=120)])


@bp.get("/")
@requires("account")
def index(new_token: str | None = None, status: int = 200) -> Any:
    tokens = (
        db_session()
        .exec(
            select(ApiToken)
            .where(ApiToken.user_id == current_user.id)
            .order_by(col(ApiToken.id).desc())
        )
        .all()
    )
    return render_template(
        "account/index.html",
        password_form=PasswordForm(),
        token_form=TokenForm(),
        tokens=tokens,
        new_token=new_token,
    ), status


@bp.post("/password")
@requires("account")
def change_password() -> Any:
    form = PasswordForm()
    user = current_user.user
    if not form.validate_on_submit() or not check_password_hash(
        user.password_hash, form.current.data or ""
    ):
        flash("The current password is wrong.", "error")
        return index(status=400)
    session = db_session()
    try:
        set_password(session, user, form.new.data or "")
    except HooklineError as error:
        flash(error.message, "error")
        return index(status=400)
    audit.record(session, actor=user, action="user.password", entity_type="user", entity_id=user.id)
    session.commit()
    login_user(Principal(user, via="session"))  # other sessions end; this one continues
    flash("Password changed. Other sessions are signed out.", "success")
    return redirect(url_for("account.index"))


@bp.post("/tokens")
@requires("account")
def new_token() -> Any:
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Give the token a name.", "error")
        return index(status=400)
    session = db_session()
    token, secret = create_token(session, current_user.user, form.name.data or "")
    audit.record(
        session,
        actor=current_user.user,
        action="token.create",
        entity_type="api_token",
        entity_id=token.id,
        after={"name": token.name},
    )
    session.commit()
    return index(new_token=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@requires("account")
def revoke(token_id: int) -> Any:
    session = db_session()
    token = revoke_token(session, current_user.user, token_id)
    audit.record(
        session,
        actor=current_user.user,
        action="token.revoke",
        entity_type="api_token",
        entity_id=token.id,
    )
    session.commit()
    flash(f"Revoked {token.name}.", "success")
    return redirect(url_for("account.index"))
