"""Accounts, roles and sign-in.

Public surface: :func:`requires` (declare a view's permission), :class:`Principal`,
the account functions, and the permission table.
"""

from hookline.auth.accounts import (
    authenticate,
    create_token,
    create_user,
    get_user,
    revoke_token,
    set_password,
    user_for_token,
)
from hookline.auth.permissions import PERMISSIONS, ROLE_HELP, allowed
from hookline.auth.web import Principal, requires

__all__ = [
    "PERMISSIONS",
    "ROLE_HELP",
    "Principal",
    "allowed",
    "authenticate",
    "create_token",
    "create_user",
    "get_user",
    "requires",
    "revoke_token",
    "set_password",
    "user_for_token",
]
