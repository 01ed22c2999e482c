"""The audit log: who changed what, when, with the values before and after."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hookline.models import AuditEvent, User

SYSTEM_ACTOR = "system"


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session``; ``actor=None`` means Hookline itself (CLI, jobs)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else SYSTEM_ACTOR,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before or {},
        after=after or {},
    )
    session.add(event)
    return event
