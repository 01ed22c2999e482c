"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.models import ApiToken, Role, User

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "hl_"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")

# Checked against when the username is unknown, so a login costs the same either way.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: Iterable[str],
    *,
    display_name: str = "",
) -> User:
    """Create a user; the username is lower-cased and must be new."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(
            "A username is 2-80 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"User {username!r} already exists.")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=validate_roles(roles),
    )
    session.add(user)
    session.flush()
    return user


def validate_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted({r.strip().lower() for r in roles if r.strip()})
    unknown = [r for r in chosen if r not in {role.value for role in Role}]
    if unknown or not chosen:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"Give one or more roles from: {names} (got {', '.join(unknown) or 'none'})."
        )
    return chosen


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return generate_password_hash(password, method="scrypt")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    session.add(user)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.add(user)


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(f"No user {username!r}; `hookline user list` shows who exists.")
    return user


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token; return it and the secret, which is shown only this once."""
    if not name.strip():
        raise InvalidInput("Give the token a name that says which machine uses it.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name.strip()[:120], token_hash=_digest(secret), prefix=secret[:10]
    )
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(session: Session, secret: str) -> User | None:
    """Return the active user owning a live token ``secret``, or None."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    token.last_used_at = utcnow()
    session.add(token)
    return user


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"No token {token_id} of yours.")
    token.revoked_at = token.revoked_at or utcnow()
    session.add(token)
    return token


def _digest(secret: str) -> str:
    # Tokens are long random strings, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()
