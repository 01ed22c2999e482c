"""Fit dubbed lines into the original's timing: plan (pure), then stretch (ffmpeg).

The plan places every line at its slot's start. A line longer than its slot first
borrows the silence after it (up to ``max_borrow_s``, stopping ``guard_s`` short of
the next line), and only then is sped up, by at most ``max_stretch``. A line that
still does not fit is flagged with its numbers and its tail is cut with a short
fade: it never overlaps the next line or runs past the episode, and nothing raises.

Lines are never slowed down. A dub shorter than its slot leaves silence where the
original actor paused longer, which sounds natural; a slowed-down voice sounds drunk,
time-stretching artefacts are worse when slowing, and it would push the translation
budget the wrong way (padding short lines instead of asking for fuller ones).
Borrowing silence before stretching follows the same reasoning: a later end costs
nothing audible, a faster voice does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hookline import ffmpeg as ffmpeg_tool
from localization.audio import Clip

GUARD_S = 0.1  # silence kept before the next line when borrowing, so two voices never touch
MAX_BORROW_S = 1.5
FADE_S = 0.03  # long enough to avoid a click, short enough not to eat a syllable
# A clip shorter than this holds no speech (and would underflow the overflow arithmetic).
_NO_SPEECH_S = 1e-6
# Below this the speed-up is inaudible and not worth an ffmpeg run.
_NO_STRETCH = 1.002


class Slot(NamedTuple):
    """Where the original line sits, in seconds from the start of the episode."""

    index: int
    start: float
    end: float


@dataclass(frozen=True)
class Fit:
    """Where a dubbed line goes and how it is changed to get there.

    ``stretch`` is the speed-up applied (1.0 to max_stretch); ``duration`` is how long
    the placed line lasts; ``overflow_s`` is how much of the stretched line is cut off
    (0 unless flagged); ``needed_stretch`` is the speed-up the whole line would have
    needed (``inf`` when there is no room at all).
    """

    index: int
    start: float
    stretch: float
    duration: float
    overflow_s: float = 0.0
    flagged: bool = False
    note: str = ""
    needed_stretch: float = 1.0

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def stretches(self) -> bool:
        """Whether applying the fit runs a time stretch (not just a trim)."""
        return self.stretch >= _NO_STRETCH

    def as_dict(self) -> dict:
        """Return the fit for a QC report or JSON (``needed_stretch`` None when infinite)."""
        needed = None if math.isinf(self.needed_stretch) else round(self.needed_stretch, 3)
        return {
            "index": self.index,
            "start": round(self.start, 3),
            "stretch": round(self.stretch, 3),
            "duration": round(self.duration, 3),
            "overflow_s": round(self.overflow_s, 3),
            "flagged": self.flagged,
            "note": self.note,
            "needed_stretch": needed,
        }


def plan_fits(
    slots: Sequence[Slot | tuple[int, float, float]],
    clip_durations: Sequence[float],
    *,
    episode_s: float,
    max_stretch: float = 1.2,
    guard_s: float = GUARD_S,
    max_borrow_s: float = MAX_BORROW_S,
) -> list[Fit]:
    """Plan every line's placement; return the fits in order of start time.

    ``clip_durations[i]`` is how long the dub of ``slots[i]`` lasts unstretched.
    """
    if len(slots) != len(clip_durations):
        raise ValueError(f"{len(slots)} slots but {len(clip_durations)} clip durations")
    lines = sorted(
        zip(map(Slot._make, slots), clip_durations, strict=True), key=lambda p: p[0].start
    )
    fits = []
    for position, (slot, duration) in enumerate(lines):
        following = lines[position + 1][0].start if position + 1 < len(lines) else None
        end = _latest_end(slot, following, episode_s, guard_s, max_borrow_s)
        fits.append(_fit(slot, duration if duration > _NO_SPEECH_S else 0.0, end, max_stretch))
    return fits


def _latest_end(
    slot: Slot, following: float | None, episode_s: float, guard_s: float, max_borrow_s: float
) -> float:
    """Return the latest time the line may end: its own slot, plus borrowed silence."""
    borrowed = slot.end + max_borrow_s
    if following is not None:
        borrowed = min(borrowed, following - guard_s)
    # The slot itself is always usable, even when it ends within the guard of the next line;
    # but nothing may pass the next line's start or the end of the episode.
    end = max(slot.end, borrowed)
    hard = episode_s if following is None else min(following, episode_s)
    return min(end, hard)


def _fit(slot: Slot, duration: float, end: float, max_stretch: float) -> Fit:
    window = max(0.0, end - slot.start)
    if duration <= window:
        return Fit(slot.index, slot.start, 1.0, duration, note=_borrow_note(slot, duration))
    needed = duration / window if window > 0 else math.inf
    if needed <= max_stretch:
        return Fit(slot.index, slot.start, needed, window, needed_stretch=needed)
    overflow = duration / max_stretch - window
    return Fit(
        slot.index,
        slot.start,
        max_stretch,
        window,
        overflow_s=overflow,
        flagged=True,
        note=_overflow_note(window, needed, max_stretch, overflow),
        needed_stretch=needed,
    )


def _borrow_note(slot: Slot, duration: float) -> str:
    borrowed = slot.start + duration - max(slot.end, slot.start)
    return f"borrows {borrowed:.2f} s of the silence after its slot" if borrowed > 0.005 else ""


def _overflow_note(window: float, needed: float, max_stretch: float, overflow: float) -> str:
    if window <= 0:
        return "no room: the next line or the end of the episode leaves none; shorten or cut it"
    return (
        f"needs {needed:.2f}× to fit {window:.2f} s (limit {max_stretch:.2f}×): "
        f"{overflow:.2f} s cut from the end; shorten the translation"
    )


def apply_fit(clip: Clip, fit: Fit, *, ffmpeg: str | None = None) -> Clip:
    """Return ``clip`` stretched and trimmed as ``fit`` plans."""
    return trim_clip(fit_clip(clip, fit.stretch, ffmpeg=ffmpeg), fit.duration)


def fit_clip(clip: Clip, stretch: float, *, ffmpeg: str | None = None) -> Clip:
    """Speed ``clip`` up by ``stretch`` keeping its pitch.

    Uses ffmpeg's rubberband filter, or atempo on an ffmpeg built without it; the
    clip goes through pipes as raw float samples, so no file is written.
    """
    if stretch < _NO_STRETCH or len(clip.samples) == 0:
        return clip
    binary = ffmpeg or ffmpeg_tool.default_binary()
    tempo = f"{stretch:.6f}"
    effect = f"rubberband=tempo={tempo}" if has_rubberband(binary) else f"atempo={tempo}"
    raw = ["-f", "f32le", "-ar", str(clip.sample_rate), "-ac", "1"]
    done = ffmpeg_tool.capture(
        [*raw, "-i", "pipe:0", "-af", effect, *raw, "pipe:1"],
        binary=binary,
        input=clip.samples.astype("<f4").tobytes(),
        timeout=120,
    )
    return Clip(np.frombuffer(done.stdout, dtype="<f4").copy(), clip.sample_rate)


def trim_clip(clip: Clip, duration_s: float, *, fade_s: float = FADE_S) -> Clip:
    """Cut ``clip`` to ``duration_s``, fading out the cut so it does not click."""
    keep = max(0, math.floor(duration_s * clip.sample_rate))
    if keep >= len(clip.samples):
        return clip
    samples = clip.samples[:keep].copy()
    ramp = min(keep, round(fade_s * clip.sample_rate))
    if ramp:
        samples[keep - ramp :] *= np.cos(np.linspace(0, np.pi / 2, ramp)) ** 2
    return Clip(samples, clip.sample_rate)


@functools.cache
def has_rubberband(binary: str) -> bool:
    """Say whether this ffmpeg was built with librubberband."""
    filters = ffmpeg_tool.capture(["-filters"], binary=binary, timeout=30).stdout
    return b" rubberband " in filters
