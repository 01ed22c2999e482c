"""A reviewer's edits to a localization's lines: versioned, checked, audited, undoable.

Every save names the version it edited; a save against an older version is a conflict
that carries both versions, never an overwrite. Every change is an audit event on the
line (``line.edit`` or ``line.undo``) with the values before and after, and undo walks
those events back one at a time. QC is recomputed for the whole track on each save (a
line's timing moves its neighbours' cues), and an edit to an approved localization
withdraws the approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlmodel import Session, col, select

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.models import (
    AuditEvent,
    Episode,
    Localization,
    LocalizationStatus,
    MediaAsset,
    SubtitleLine,
    User,
)
from hookline.settings import Settings
from localization import qc
from localization.rules import SubtitleRules, rules_for
from localization.segmentation import Cue, segment
from localization.translation import LineRequest, choose_translator
from localization.workspace import DEFAULT_FPS, load_episode

# The longest text one line may hold: a line is at most a few seconds of speech, and more
# than this is a paste gone wrong (a whole scene, a document), not a subtitle.
MAX_LINE_CHARS = 300
MAX_SPEAKER_CHARS = 120
EDITABLE = ("text", "speaker", "start_s", "end_s")
EDIT, UNDO = "line.edit", "line.undo"


@dataclass(frozen=True)
class Change:
    """What a save changes; a field left as None is kept as it is."""

    text: str | None = None
    speaker: str | None = None
    start_s: float | None = None
    end_s: float | None = None

    def fields(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


class LineConflict(Conflict):
    """Someone saved the line since this edit began; both versions travel with the error."""

    def __init__(self, line: SubtitleLine, yours: dict[str, Any], by: str) -> None:
        super().__init__(
            f"Line {line.position + 1} was changed by {by} (now version {line.version}) "
            f"since you opened version {yours.get('version')}. Choose which to keep: "
            "save yours again over theirs, or take theirs.",
            detail={"current": snapshot(line, by), "yours": yours},
        )


def snapshot(line: SubtitleLine, by: str | None = None) -> dict[str, Any]:
    out = {name: getattr(line, name) for name in ("id", "position", "version", *EDITABLE)}
    out["updated_at"] = line.updated_at.isoformat() if line.updated_at else None
    if by is not None:
        out["updated_by"] = by
    return out


def edit_line(
    session: Session, line_id: int, version: int, change: Change, *, actor: User | None
) -> SubtitleLine:
    """Save ``change`` on a line last seen at ``version``; return the line as saved."""
    line = _line(session, line_id)
    if version != line.version:
        raise LineConflict(line, {**change.fields(), "version": version}, _who(session, line))
    return _apply(session, line, _clean(change), actor=actor, action=EDIT)


def undo_line(session: Session, line_id: int, version: int, *, actor: User | None) -> SubtitleLine:
    """Put back what the line held before its latest edit that is not undone yet."""
    line = _line(session, line_id)
    if version != line.version:
        raise LineConflict(line, {"version": version}, _who(session, line))
    events = history(session, line_id)
    undone = {e.after.get("undoes") for e in events if e.action == UNDO}
    target = next((e for e in events if e.action == EDIT and e.id not in undone), None)
    if target is None:
        raise Conflict(f"Line {line.position + 1} has no edit left to undo.")
    restore = Change(**{k: v for k, v in target.before.items() if k in EDITABLE})
    if restore.speaker is None and "speaker" in target.before:
        restore = Change(**{**restore.fields(), "speaker": ""})
    return _apply(session, line, restore, actor=actor, action=UNDO, undoes=target.id)


def history(session: Session, line_id: int) -> list[AuditEvent]:
    """Every audited change of one line, newest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "subtitle_line", AuditEvent.entity_id == str(line_id))
            .order_by(col(AuditEvent.id).desc())
        )
    )


def recheck(session: Session, loc: Localization) -> list[Cue]:
    """Cut the track into cues again and run QC over it; store both; return the cues."""
    rows = _rows(session, loc.id)  # type: ignore[arg-type]
    fps, duration = episode_timing(session, loc.episode_id)
    rules = rules_for(loc.language, loc.profile or "vertical")
    cues, violations = check_track(rows, rules, fps=fps, duration_s=duration)
    by_line: dict[int, list[dict[str, Any]]] = {}
    for number, cue in enumerate(cues, start=1):
        by_line.setdefault(cue.line_index, []).append(
            {
                "n": number,
                "start": round(cue.start, 3),
                "end": round(cue.end, 3),
                "lines": list(cue.lines),
            }
        )
    problems: dict[int, list[dict[str, Any]]] = {}
    for v in violations:
        problems.setdefault(v.line_index, []).append(
            {
                "rule": v.rule,
                "cue": v.cue,
                "severity": v.severity,
                "message": v.message,
                "value": v.value,
                "limit": v.limit,
                "forced_by_speech": v.forced_by_speech,
            }
        )
    for row in rows:
        cues_now, qc_now = by_line.get(row.position, []), problems.get(row.position, [])
        if row.cues != cues_now or row.qc != qc_now:
            row.cues, row.qc = cues_now, qc_now
            session.add(row)
    summary = {
        **{k: v for k, v in loc.qc_summary.items() if k == "notes"},
        **qc.summary(violations),
        "profile": rules.profile,
        "report": qc.report_text(violations, rules),
        "flagged_lines": sum(1 for row in rows if row.needs_human or row.qc),
    }
    loc.qc_summary = summary
    session.add(loc)
    return cues


def check_track(
    rows: Sequence[SubtitleLine], rules: SubtitleRules, *, fps: float, duration_s: float | None
) -> tuple[list[Cue], list[qc.Violation]]:
    """Segment the spoken lines into cues (numbered by line position) and QC them."""
    spoken = [row for row in rows if row.text.strip()]
    cues = segment(
        [(row.text, row.start_s, row.end_s, row.speaker) for row in spoken],
        rules,
        fps=fps,
        duration_s=duration_s,
    )
    cues = [replace(cue, line_index=spoken[cue.line_index].position) for cue in cues]
    return cues, qc.check(cues, rules, fps=fps, duration_s=duration_s)


def episode_timing(session: Session, episode_id: int) -> tuple[float, float | None]:
    """The master's frame rate and duration (what timings are checked against)."""
    row = session.exec(
        select(MediaAsset.fps, MediaAsset.duration_s)
        .join(Episode, col(Episode.master_asset_id) == MediaAsset.id)
        .where(Episode.id == episode_id)
    ).first()
    if row is None:
        return DEFAULT_FPS, None
    return row[0] or DEFAULT_FPS, row[1]


# -- inside ---------------------------------------------------------------------------


def _line(session: Session, line_id: int) -> SubtitleLine:
    line = session.get(SubtitleLine, line_id)
    if line is None:
        raise NotFound(f"No line {line_id}: reload the page to see the localization's lines.")
    return line


def _who(session: Session, line: SubtitleLine) -> str:
    if line.updated_by_id is None:
        return "the pipeline"
    user = session.get(User, line.updated_by_id)
    return user.username if user else "someone"


def _clean(change: Change) -> Change:
    fields = change.fields()
    if "text" in fields:
        text = "\n".join(part.strip() for part in fields["text"].replace("\r\n", "\n").split("\n"))
        fields["text"] = text.strip()
        if len(fields["text"]) > MAX_LINE_CHARS:
            raise InvalidInput(
                f"The text is {len(fields['text'])} characters; a line holds at most "
                f"{MAX_LINE_CHARS}. Split it over several lines or shorten it."
            )
    if "speaker" in fields:
        fields["speaker"] = fields["speaker"].strip()
        if len(fields["speaker"]) > MAX_SPEAKER_CHARS:
            raise InvalidInput(f"A speaker's name is at most {MAX_SPEAKER_CHARS} characters.")
    for name in ("start_s", "end_s"):
        if name in fields:
            try:
                fields[name] = round(float(fields[name]), 3)
            except (TypeError, ValueError):
                raise InvalidInput(f"{name} must be a number of seconds.") from None
    return Change(**fields)


def _apply(
    session: Session,
    line: SubtitleLine,
    change: Change,
    *,
    actor: User | None,
    action: str,
    undoes: int | None = None,
) -> SubtitleLine:
    fields = change.fields()
    if "speaker" in fields:
        fields["speaker"] = fields["speaker"] or None
    changed = {k: v for k, v in fields.items() if getattr(line, k) != v}
    if not changed:
        return line
    loc = session.get_one(Localization, line.localization_id)
    if "start_s" in changed or "end_s" in changed:
        _check_timing(
            session,
            loc,
            line,
            changed.get("start_s", line.start_s),
            changed.get("end_s", line.end_s),
        )
    before = {k: getattr(line, k) for k in changed}
    before["version"] = line.version
    for name, value in changed.items():
        setattr(line, name, value)
    line.version += 1
    if "text" in changed:
        line.needs_human = False  # a person has read and written it
    line.updated_by_id = actor.id if actor else line.updated_by_id
    line.updated_at = utcnow()
    session.add(line)
    session.flush()
    after: dict[str, Any] = {**changed, "version": line.version, "position": line.position}
    after["localization_id"] = loc.id
    if undoes is not None:
        after["undoes"] = undoes
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="subtitle_line",
        entity_id=line.id,
        before=before,
        after=after,
    )
    recheck(session, loc)
    if loc.status == LocalizationStatus.APPROVED:
        loc.status, loc.approved_at, loc.approved_by_id = (
            LocalizationStatus.NEEDS_REVIEW,
            None,
            None,
        )
        audit.record(
            session,
            actor=actor,
            action="localization.reopen",
            entity_type="localization",
            entity_id=loc.id,
            before={"status": LocalizationStatus.APPROVED},
            after={"status": loc.status, "reason": f"line {line.position + 1} edited"},
        )
    loc.updated_at = utcnow()
    session.add(loc)
    return line


def _check_timing(
    session: Session, loc: Localization, line: SubtitleLine, start: float, end: float
) -> None:
    where = f"Line {line.position + 1}"
    if start < 0:
        raise InvalidInput(f"{where} cannot start before 0:00.")
    if end <= start:
        raise InvalidInput(f"{where} must end after it starts ({_clock(start)}).")
    _, duration = episode_timing(session, loc.episode_id)
    if duration is not None and end > duration + 0.001:
        raise InvalidInput(f"{where} ends after the episode does ({_clock(duration)}).")
    neighbours = session.exec(
        select(SubtitleLine).where(
            SubtitleLine.localization_id == loc.id,
            col(SubtitleLine.position).in_([line.position - 1, line.position + 1]),
        )
    ).all()
    for other in neighbours:
        if other.position < line.position and start < other.end_s - 0.0005:
            raise InvalidInput(
                f"{where} would start at {_clock(start)}, before line {other.position + 1} "
                f"ends ({_clock(other.end_s)}): move that line first, or start later."
            )
        if other.position > line.position and end > other.start_s + 0.0005:
            raise InvalidInput(
                f"{where} would end at {_clock(end)}, after line {other.position + 1} "
                f"starts ({_clock(other.start_s)}): move that line first, or end earlier."
            )


def _rows(session: Session, localization_id: int) -> list[SubtitleLine]:
    return list(
        session.exec(
            select(SubtitleLine)
            .where(SubtitleLine.localization_id == localization_id)
            .order_by(col(SubtitleLine.position))
        )
    )


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:06.3f}"


def retranslate_line(
    session: Session, settings: Settings, line_id: int, version: int, *, actor: User | None
) -> SubtitleLine:
    """Machine-translate the line's source text again (with the bible) and save it as an edit."""
    line = _line(session, line_id)
    loc = session.get_one(Localization, line.localization_id)
    if loc.is_source:
        raise InvalidInput("The source track is not translated; edit its text instead.")
    media = load_episode(session, loc.episode_id)
    source = media.series.source_language
    request = LineRequest(0, line.source_text, line.speaker, None)
    with choose_translator(settings, source, loc.language) as translator:
        [result] = translator.translate(
            [request], source=source, target=loc.language, bible=media.bible
        )
    return edit_line(session, line_id, version, Change(text=result.text), actor=actor)
