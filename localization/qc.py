"""Check a subtitle track against its rules and list every violation with its numbers.

Times are judged on the episode's frame grid, the way a subtitle editor shows them:
durations and gaps are whole frames (the nearest), so a track that went through SRT or
ASS (milliseconds, centiseconds) is judged as before. A violation is ``forced_by_speech``
when no retiming could fix it: the cue already uses all the time the next cue and the
episode's end leave it, or a line holds a word longer than the line limit. Those need a
shorter text (or a human), not a better segmenter.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from hookline.errors import InvalidInput
from localization.breakpoints import unbreakable_units
from localization.rules import JAPANESE, KOREAN, SubtitleRules, frames
from localization.segmentation import Cue

ERROR, WARNING = "error", "warning"
# Rules in the order a report lists them for one cue, with their severity.
SEVERITIES = {
    "empty": ERROR,
    "max_lines": ERROR,
    "max_chars": ERROR,
    "unneeded_break": WARNING,
    "outside_episode": ERROR,
    "overlap": ERROR,
    "min_gap": ERROR,
    "short_gap": WARNING,
    "max_duration": ERROR,
    "min_duration": WARNING,
    "max_cps": WARNING,
}
TIME_TOLERANCE = 0.005  # half a centisecond: ASS keeps times to the centisecond
CPS_TOLERANCE = 0.05  # characters per second: below anyone's reading, above rounding


@dataclass(frozen=True)
class Violation:
    """One broken rule: which cue (1-based, in track order), by how much, and whether forced."""

    rule: str
    cue: int
    line_index: int
    severity: str
    message: str
    value: float
    limit: float
    forced_by_speech: bool = False


def check(
    cues: Sequence[Cue],
    rules: SubtitleRules,
    *,
    fps: float,
    duration_s: float | None = None,
) -> list[Violation]:
    """Return every violation of the rules in a track, ordered by cue then rule."""
    if fps <= 0:
        raise InvalidInput("The frame rate must be positive.")
    order = sorted(range(len(cues)), key=lambda k: cues[k].start)
    following = dict(pairwise(order))
    found: list[Violation] = []
    for k, cue in enumerate(cues):
        upcoming = cues[following[k]] if k in following else None
        found += _text_violations(k, cue, rules)
        found += _episode_violations(k, cue, duration_s)
        found += _gap_violations(k, cue, following.get(k), upcoming, rules, fps)
        found += _time_violations(k, cue, upcoming, rules, fps, duration_s)
    found += _overlaps(cues, order)
    rank = list(SEVERITIES)
    return sorted(found, key=lambda v: (v.cue, rank.index(v.rule)))


def summary(violations: Sequence[Violation]) -> dict:
    """Return counts by rule and severity, for storing as JSON beside the track."""
    severities = Counter(v.severity for v in violations)
    return {
        "total": len(violations),
        "errors": severities[ERROR],
        "warnings": severities[WARNING],
        "forced_by_speech": sum(v.forced_by_speech for v in violations),
        "by_rule": dict(sorted(Counter(v.rule for v in violations).items())),
        "by_severity": {ERROR: severities[ERROR], WARNING: severities[WARNING]},
    }


def report_text(violations: Sequence[Violation], rules: SubtitleRules) -> str:
    """Return a readable QC report that states the profile's numbers, then each violation."""
    counts = summary(violations)
    lines = [
        f"Subtitle QC: {rules.language}, {rules.profile} profile",
        f"Rules: {_describe(rules)}",
        f"Result: {_plural(counts['errors'], 'error')}, {_plural(counts['warnings'], 'warning')}"
        + (f" ({counts['forced_by_speech']} forced by the speech)." if violations else "."),
    ]
    for v in violations:
        forced = " [forced by the speech]" if v.forced_by_speech else ""
        where = f"cue {v.cue} (dialogue line {v.line_index + 1})"
        lines.append(f"  {where:<28} {v.severity:<8} {v.rule:<16} {v.message}{forced}")
    return "\n".join(lines) + "\n"


def _text_violations(k: int, cue: Cue, rules: SubtitleRules) -> list[Violation]:
    if not any(line.strip() for line in cue.lines):
        return [_violation("empty", k, cue, f"Cue {k + 1} has no text.", 0, 1)]
    found = [
        _violation("empty", k, cue, f"Line {row} of cue {k + 1} is empty.", 0, 1)
        for row, line in enumerate(cue.lines, 1)
        if not line.strip()
    ]
    if len(cue.lines) > rules.max_lines:
        message = f"Cue {k + 1} has {len(cue.lines)} lines; the limit is {rules.max_lines}."
        found.append(_violation("max_lines", k, cue, message, len(cue.lines), rules.max_lines))
    for row, line in enumerate(cue.lines, 1):
        length = rules.length(line)
        if length > rules.max_chars + 1e-9:
            forced = any(
                rules.length(unit) > rules.max_chars for unit in unbreakable_units(line, rules)
            )
            message = (
                f"Line {row} of cue {k + 1} has {_characters(length)}; "
                f"the limit is {_number(rules.max_chars)}."
            )
            found.append(_violation("max_chars", k, cue, message, length, rules.max_chars, forced))
    words = [line.strip() for line in cue.lines if line.strip()]
    joined = ("" if rules.cjk else " ").join(words)
    if len(cue.lines) > 1 and rules.length(joined) <= rules.max_chars:
        length = rules.length(joined)
        message = (
            f"Cue {k + 1} is broken into {len(cue.lines)} lines but fits on one "
            f"({_characters(length)} of {_number(rules.max_chars)})."
        )
        found.append(_violation("unneeded_break", k, cue, message, len(cue.lines), 1))
    return found


def _episode_violations(k: int, cue: Cue, duration_s: float | None) -> list[Violation]:
    if cue.start < -TIME_TOLERANCE:
        message = f"Cue {k + 1} starts at {cue.start:.3f} s, before the episode starts."
        return [_violation("outside_episode", k, cue, message, cue.start, 0.0)]
    if duration_s is not None and cue.end > duration_s + TIME_TOLERANCE:
        message = (
            f"Cue {k + 1} ends at {cue.end:.3f} s, after the episode ends at {duration_s:.3f} s."
        )
        return [_violation("outside_episode", k, cue, message, cue.end, duration_s)]
    return []


def _gap_violations(
    k: int, cue: Cue, j: int | None, upcoming: Cue | None, rules: SubtitleRules, fps: float
) -> list[Violation]:
    if upcoming is None or j is None or upcoming.start < cue.end - TIME_TOLERANCE:
        return []  # overlaps are reported by _overlaps
    gap = frames(upcoming.start - cue.end, fps)
    need = rules.min_gap_frames
    if gap < need:
        message = (
            f"Cue {k + 1} ends {_plural(gap, 'frame')} before cue {j + 1} starts; "
            f"the minimum gap is {_plural(need, 'frame')}."
        )
        return [_violation("min_gap", k, cue, message, gap, need)]
    if rules.closes_gap(gap, fps):
        longest = rules.max_duration_frames(fps)
        forced = frames(upcoming.start - cue.start, fps) - need > longest
        message = (
            f"The {gap}-frame gap after cue {k + 1} should be closed to {need} frames "
            f"(gaps under {_number(rules.close_gap_s)} s are closed)."
        )
        return [_violation("short_gap", k, cue, message, gap, need, forced)]
    return []


def _time_violations(
    k: int,
    cue: Cue,
    upcoming: Cue | None,
    rules: SubtitleRules,
    fps: float,
    duration_s: float | None,
) -> list[Violation]:
    found = []
    length = frames(cue.duration, fps)
    room = _room(cue, upcoming, rules, fps, duration_s)
    if length > rules.max_duration_frames(fps):
        limit = _seconds(rules.max_duration)
        message = f"Cue {k + 1} lasts {cue.duration:.2f} s; the maximum is {limit}."
        found.append(_violation("max_duration", k, cue, message, cue.duration, rules.max_duration))
    shortest = rules.min_duration_frames(fps)
    if length < shortest:
        forced = room < shortest
        message = (
            f"Cue {k + 1} lasts {cue.duration:.2f} s; the minimum is "
            f"{_seconds(rules.min_duration)} ({shortest} frames at {_number(fps)} fps)."
        )
        found.append(
            _violation("min_duration", k, cue, message, cue.duration, rules.min_duration, forced)
        )
    cps = cue.cps(rules)
    if cps > rules.max_cps + CPS_TOLERANCE:
        text = sum(rules.length(line) for line in cue.lines)
        forced = room <= max(length, 0) or text * fps / room > rules.max_cps + CPS_TOLERANCE
        shown = "instantly" if cps == float("inf") else f"at {cps:.1f} characters per second"
        message = f"Cue {k + 1} must be read {shown}; the limit is {_number(rules.max_cps)}."
        found.append(_violation("max_cps", k, cue, message, cps, rules.max_cps, forced))
    return found


def _room(
    cue: Cue, upcoming: Cue | None, rules: SubtitleRules, fps: float, duration_s: float | None
) -> int:
    """Return the most frames the cue could last: short of the next cue, inside the episode."""
    start = frames(cue.start, fps)
    end = start + rules.max_duration_frames(fps)
    if upcoming is not None:
        end = min(end, frames(upcoming.start, fps) - rules.min_gap_frames)
    if duration_s is not None:
        end = min(end, math.floor(duration_s * fps + 1e-6))  # the episode's last whole frame
    return end - start


def _overlaps(cues: Sequence[Cue], order: list[int]) -> list[Violation]:
    found = []
    for position, k in enumerate(order):
        for j in order[position + 1 :]:
            if cues[j].start >= cues[k].end - TIME_TOLERANCE:
                break
            overlap = min(cues[k].end, cues[j].end) - cues[j].start
            message = f"Cue {k + 1} overlaps cue {j + 1} by {overlap:.3f} s."
            found.append(_violation("overlap", k, cues[k], message, overlap, 0.0))
    return found


def _violation(
    rule: str,
    k: int,
    cue: Cue,
    message: str,
    value: float,
    limit: float,
    forced: bool = False,
) -> Violation:
    return Violation(
        rule, k + 1, cue.line_index, SEVERITIES[rule], message, float(value), float(limit), forced
    )


def _describe(rules: SubtitleRules) -> str:
    lines = (
        f"1 line preferred, {rules.max_lines} at most"
        if rules.preferred_lines == 1
        else f"{rules.max_lines} lines at most, 1 when the text fits"
    )
    counting = {
        JAPANESE: " (half-width characters count 0.5)",
        KOREAN: " (Latin letters, spaces and punctuation count 0.5)",
    }.get(rules.script, "")
    return (
        f"{_number(rules.max_chars)} characters per line{counting}; {lines}; "
        f"{_number(rules.max_cps)} characters per second; "
        f"{_seconds(rules.min_duration)} to {_seconds(rules.max_duration)} per cue; "
        f"at least {_plural(rules.min_gap_frames, 'frame')} between cues, "
        f"gaps under {_number(rules.close_gap_s)} s closed to {rules.min_gap_frames}."
    )


def _characters(length: float) -> str:
    return f"{_number(length)} characters"


def _number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def _seconds(value: float) -> str:
    return f"{value:g} s" if float(value).is_integer() else f"{value:.2f} s"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
