"""Reviewing a localization: what the review page shows, and the verdict on it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.models import (
    Character,
    CutKind,
    Localization,
    LocalizationStatus,
    LocalizedCut,
    MediaAsset,
    SubtitleLine,
    Term,
    User,
)
from localization import cache, status
from localization.audio import read_audio
from localization.rules import SubtitleRules, rules_for

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


# -- the review page ----------------------------------------------------------------------


@dataclass
class LineView:
    """A line with what the reviewer measures it by."""

    line: SubtitleLine
    cps: float | None
    longest: float
    stale: bool

    @property
    def errors(self) -> int:
        return sum(1 for v in self.line.qc if v.get("severity") == "error")


@dataclass
class ReviewPage:
    view: status.LocalizationView
    siblings: list[status.LocalizationView]
    lines: list[LineView]
    rules: SubtitleRules
    master: MediaAsset | None
    characters: list[Character]
    terms: list[Term]
    rendered_at: datetime | None

    @property
    def stale_count(self) -> int:
        return sum(1 for line in self.lines if line.stale)


def page(session: Session, localization_id: int, default_profile: str) -> ReviewPage:
    """Everything the review page shows, read in a handful of queries."""
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    siblings = status.localizations(session, episode_id=loc.episode_id)
    view = next(v for v in siblings if v.localization.id == localization_id)
    rules = rules_for(loc.language, loc.profile or default_profile)
    rendered_at = session.exec(
        select(LocalizedCut.created_at).where(
            LocalizedCut.localization_id == localization_id,
            col(LocalizedCut.kind).in_([CutKind.SOFT_SUBBED, CutKind.BURNED_IN]),
        )
    ).first()
    lines = [_measure(row, rules, rendered_at) for row in status.lines(session, localization_id)]
    master = (
        session.get(MediaAsset, view.episode.master_asset_id)
        if view.episode.master_asset_id
        else None
    )
    series_id = view.series.id
    characters = session.exec(
        select(Character).where(Character.series_id == series_id).order_by(Character.name)
    ).all()
    terms = session.exec(select(Term).where(Term.series_id == series_id).order_by(Term.term)).all()
    return ReviewPage(
        view, siblings, lines, rules, master, list(characters), list(terms), rendered_at
    )


def _measure(row: SubtitleLine, rules: SubtitleRules, rendered_at: datetime | None) -> LineView:
    duration = row.end_s - row.start_s
    text = row.text.replace("\n", " ")
    cps = rules.length(text) / duration if duration > 0 and text else None
    longest = max(
        (rules.length(part) for cue in row.cues for part in cue.get("lines", [])), default=0.0
    )
    stale = (
        rendered_at is not None
        and row.updated_by_id is not None
        and _aware(row.updated_at) > _aware(rendered_at)
    )
    return LineView(row, round(cps, 1) if cps is not None else None, longest, stale)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the waveform under the player --------------------------------------------------------

WAVEFORM_POINTS = 1200
WAVEFORM_RATE = 8000


def waveform(session: Session, store: Any, asset: MediaAsset, *, episode_id: int) -> list[float]:
    """Peak level (0–1) of ``WAVEFORM_POINTS`` slices of the audio; computed once per file."""
    key = cache.stage_key("waveform", {"sha256": asset.sha256, "points": WAVEFORM_POINTS})
    found = cache.lookup(session, key)
    if found is not None:
        return found["peaks"]
    samples = read_audio(store.path_for(asset.sha256), sample_rate=WAVEFORM_RATE, channels=1)
    samples = np.abs(samples.reshape(-1))
    if samples.size == 0:
        peaks: list[float] = []
    else:
        edges = np.linspace(0, samples.size, WAVEFORM_POINTS + 1).astype(int)
        peaks = [
            round(float(samples[a:b].max()) if b > a else 0.0, 3)
            for a, b in itertools.pairwise(edges)
        ]
    cache.remember(session, key, "waveform", {"peaks": peaks}, episode_id=episode_id)
    return peaks
