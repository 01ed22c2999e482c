"""Who may do what: permissions per role, as data.

Every route names one permission (``@requires``); a route without one is refused
(see hookline.auth.web), so a forgotten decorator fails closed.
"""

from __future__ import annotations

from hookline.models import Role

ADMIN, REVIEWER, PUBLISHER, ANALYST = Role.ADMIN, Role.REVIEWER, Role.PUBLISHER, Role.ANALYST
EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[Role]] = {
    # The library (series, episodes, media) is everyone's working material.
    "library.view": EVERYONE,
    "library.ingest": frozenset({ADMIN, PUBLISHER}),
    # Jobs: everyone sees progress; the roles that start jobs may retry or cancel them.
    "jobs.view": EVERYONE,
    "jobs.manage": frozenset({ADMIN, REVIEWER, PUBLISHER}),
    "localize.start": frozenset({ADMIN, REVIEWER, PUBLISHER}),
    # Analysts read the lines their drop-offs point at; only reviewers change them.
    "review.view": frozenset({ADMIN, REVIEWER, ANALYST}),
    "review.edit": frozenset({ADMIN, REVIEWER}),
    "publish.view": frozenset({ADMIN, PUBLISHER}),
    "publish.manage": frozenset({ADMIN, PUBLISHER}),
    "analytics.view": frozenset({ADMIN, ANALYST, PUBLISHER}),
    # The production brief informs what gets made; analysts curate the tags behind it.
    "feedback.view": frozenset({ADMIN, ANALYST, PUBLISHER}),
    "feedback.edit": frozenset({ADMIN, ANALYST}),
    "users.manage": frozenset({ADMIN}),
    "audit.view": frozenset({ADMIN}),
    # Any signed-in user: their own account, tokens and the API description.
    "account": EVERYONE,
}

ROLE_HELP: dict[Role, str] = {
    ADMIN: "everything, including users and the audit log",
    REVIEWER: "checks, edits and approves localized cuts",
    PUBLISHER: "ingests episodes, connects channels, schedules and publishes",
    ANALYST: "reads dashboards and production briefs",
}


def allowed(roles: list[str] | frozenset[str], permission: str) -> bool:
    """Return whether any of ``roles`` grants ``permission`` (unknown permissions grant nothing)."""
    granted = PERMISSIONS.get(permission, frozenset())
    return any(role in granted for role in roles)
