"""Pages for admins: users and their roles, and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import col, select
from wtforms import PasswordField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from hookline import audit
from hookline.auth import ROLE_HELP, create_user, requires
from hookline.auth.accounts import validate_roles
from hookline.errors import HooklineError, InvalidInput, NotFound
from hookline.models import AuditEvent, Role, User
from hookline.web.context import db_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


class RolesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(r.value, f"{r.value} — {ROLE_HELP[r]}") for r in Role]


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    display_name = StringField("Display name", validators=[Length(max=200)])
    password = PasswordField("Initial password", validators=[DataRequired()])
    roles = RolesField("Roles", choices=_role_choices())


class RolesForm(FlaskForm):
    roles = RolesField("Roles", choices=_role_choices())


@bp.route("/users", methods=["GET", "POST"])
@requires("users.manage")
def users() -> Any:
    form = UserForm()
    session = db_session()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_user(
                session,
                form.username.data or "",
                form.password.data or "",
                form.roles.data or [],
                display_name=form.display_name.data or "",
            )
        except HooklineError as error:
            form.username.errors = [error.message]
            status = error.status
        else:
            audit.record(
                session,
                actor=current_user.user,
                action="user.create",
                entity_type="user",
                entity_id=user.id,
                after={"username": user.username, "roles": user.roles},
            )
            session.commit()
            flash(f"Created {user.username}.", "success")
            return redirect(url_for("admin.users"))
    everyone = session.exec(select(User).order_by(User.username)).all()
    return render_template(
        "admin/users.html", form=form, users=everyone, roles_form=RolesForm()
    ), status


@bp.post("/users/<int:user_id>")
@requires("users.manage")
def update_user(user_id: int) -> Any:
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    before = {"roles": list(user.roles), "active": user.active}
    form = RolesForm()
    if not form.validate_on_submit():
        raise InvalidInput("The form expired; reload the page and try again.")
    if "active" in request.form:
        user.active = request.form["active"] == "1"
    else:
        user.roles = validate_roles(form.roles.data or [])
    if user.id == current_user.id and (not user.active or Role.ADMIN not in user.roles):
        raise InvalidInput("You cannot remove your own admin role or deactivate yourself.")
    session.add(user)
    audit.record(
        session,
        actor=current_user.user,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={"roles": user.roles, "active": user.active},
    )
    session.commit()
    flash(f"Updated {user.username}.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@requires("audit.view")
def audit_log() -> Any:
    before = request.args.get("before", type=int)
    statement = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(100)
    if before:
        statement = statement.where(col(AuditEvent.id) < before)
    events = db_session().exec(statement).all()
    return render_template("admin/audit.html", events=events)
