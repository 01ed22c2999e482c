"""A reviewer's verdict on a localization: approve it (for publishing), or ask for changes."""

from __future__ import annotations

from sqlmodel import Session

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.models import Localization, LocalizationStatus, User

REVIEWABLE = (
    LocalizationStatus.NEEDS_REVIEW,
    LocalizationStatus.CHANGES_REQUESTED,
    LocalizationStatus.APPROVED,
)


def approve(
    session: Session, localization_id: int, *, actor: User | None, override: str = ""
) -> Localization:
    """Approve a localization; blocking QC errors need a written reason to override them."""
    loc = _reviewable(session, localization_id)
    errors = int(loc.qc_summary.get("errors", 0))
    if errors and not override.strip():
        raise InvalidInput(
            f"{errors} blocking QC error(s) remain in the {loc.language} localization: fix them, "
            "or approve with a reason for overriding them."
        )
    before = loc.status
    loc.status = LocalizationStatus.APPROVED
    loc.approved_by_id = actor.id if actor else None
    loc.approved_at = loc.updated_at = utcnow()
    session.add(loc)
    audit.record(
        session,
        actor=actor,
        action="localization.approve",
        entity_type="localization",
        entity_id=loc.id,
        before={"status": before},
        after={"status": loc.status, "override": override.strip() or None},
    )
    return loc


def request_changes(
    session: Session, localization_id: int, *, actor: User | None, comment: str
) -> Localization:
    if not comment.strip():
        raise InvalidInput("Say what should change.")
    loc = _reviewable(session, localization_id)
    before = loc.status
    loc.status = LocalizationStatus.CHANGES_REQUESTED
    loc.approved_by_id, loc.approved_at, loc.updated_at = None, None, utcnow()
    session.add(loc)
    audit.record(
        session,
        actor=actor,
        action="localization.request_changes",
        entity_type="localization",
        entity_id=loc.id,
        before={"status": before},
        after={"status": loc.status, "comment": comment},
    )
    return loc


def _reviewable(session: Session, localization_id: int) -> Localization:
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    if loc.status not in REVIEWABLE:
        raise Conflict(
            f"The {loc.language} localization is {loc.status.replace('_', ' ')}; it can be "
            "reviewed once it is ready."
        )
    return loc
