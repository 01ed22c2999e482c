"""Retention math on plain values: curves, hazards, drop-off moments. No database, no I/O.

A retention curve is the share of a cut's views still watching at 101 evenly spaced
moments, from the start (index 0) to the end (index 100). Platforms report curves at
their own resolution; :func:`normalize` puts every one on that grid. Where the views'
durations are known, :func:`from_durations` gives the survival curve directly (what
Kaplan-Meier gives when every view is seen to its end or to the cut's end).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

POINTS = 101
OPENING_S = 3.0  # the hook: drops before this are the hook rate's business
REACTION_LAG_S = 1.5  # viewers leave a moment after what made them leave
MIN_EXCESS = 0.02  # a drop-off loses at least 2% more of the remaining viewers than usual
Z_THRESHOLD = 4.0


def grid(duration_s: float) -> np.ndarray:
    """The moments (seconds) of the 101 points of a cut ``duration_s`` long."""
    return np.linspace(0.0, duration_s, POINTS)


def normalize(xs: Sequence[float], ys: Sequence[float]) -> list[float]:
    """Resample a curve given at fractions ``xs`` of the cut (0-1) onto the 101-point grid."""
    x = np.asarray(xs, float)
    y = np.asarray(ys, float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if x[0] > 0:  # every view is watching at the very start
        x, y = np.insert(x, 0, 0.0), np.insert(y, 0, max(1.0, float(y[0])))
    return [round(float(v), 6) for v in np.interp(np.linspace(0, 1, POINTS), x, y)]


def from_durations(durations: Sequence[float], duration_s: float) -> list[float]:
    """The share of views still watching at each grid moment, from every view's duration.

    A view that lasted the whole cut counts as watching at its end (censored there).
    """
    d = np.sort(np.asarray(durations, float))
    if not len(d):
        return [0.0] * POINTS
    moments = grid(duration_s)
    left = np.searchsorted(d, moments, side="left")  # views that ended before each moment
    survived = (len(d) - left) / len(d)
    survived[-1] = float((d >= duration_s - 1e-9).mean())
    return [float(v) for v in survived]


def at(curve: Sequence[float], duration_s: float, second: float) -> float:
    """The curve's value at ``second`` (interpolated)."""
    return float(np.interp(second, grid(duration_s), np.asarray(curve, float)))


def hazard(curve: Sequence[float]) -> np.ndarray:
    """The share of remaining views lost in each of the 100 steps: 1 - R(i+1)/R(i).

    Looping can make a curve rise; a rise is no loss (0), never a negative one.
    """
    r = np.asarray(curve, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = 1.0 - r[1:] / r[:-1]
    return np.clip(np.nan_to_num(h, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)


def drop_per_second(curve: Sequence[float], duration_s: float) -> np.ndarray:
    """The share of remaining views lost per second over each of the 100 steps.

    A step lasting ``dt`` seconds that keeps ``1 - h`` of its views keeps ``(1 - h)**(1/dt)``
    of them each second, so curves of different lengths compare second for second.
    """
    step = max(duration_s, 1e-9) / (POINTS - 1)
    return 1.0 - np.power(1.0 - hazard(curve), 1.0 / step)


def average_viewed(curve: Sequence[float]) -> float:
    """The average share of the cut a view watched: the area under the curve (trapezoids).

    Looping can lift a curve above 1; the area counts it, as platforms' average percentage
    viewed does.
    """
    r = np.asarray(curve, float)
    if len(r) < 2:
        return 0.0
    return float(((r[:-1] + r[1:]) / 2).mean())


def percentile(score: float, others: Sequence[float]) -> float | None:
    """Where ``score`` ranks among ``others`` (0-100; ties count half); None with no others."""
    if not len(others):
        return None
    values = np.asarray(others, float)
    tied = np.isclose(values, score)
    below = float(((values < score) & ~tied).sum()) + 0.5 * float(tied.sum())
    return 100.0 * below / len(values)


def weighted_mean(curves: Sequence[Sequence[float]], weights: Sequence[float]) -> list[float]:
    """The views-weighted average of curves on the same grid."""
    w = np.asarray(weights, float)
    if not len(curves) or w.sum() <= 0:
        return []
    return [float(v) for v in np.average(np.asarray(curves, float), axis=0, weights=w)]


@dataclass(frozen=True)
class DropOff:
    """A moment where a curve falls significantly faster than its baseline."""

    second: float  # when the fall starts
    until: float  # when it ends
    loss: float  # share of the views watching at ``second`` lost there
    baseline_loss: float  # what the baseline loses over the same stretch
    z: float  # how many standard errors the loss stands above the baseline's

    @property
    def excess(self) -> float:
        return self.loss - self.baseline_loss

    @property
    def relative(self) -> float:
        """How much more is lost than the baseline loses (0.18: 18% more of the viewers)."""
        return self.excess


def drop_offs(
    curve: Sequence[float],
    baseline: Sequence[float],
    *,
    views: int,
    duration_s: float,
    min_excess: float = MIN_EXCESS,
    z_threshold: float = Z_THRESHOLD,
) -> list[DropOff]:
    """Find where ``curve`` loses significantly more of its remaining views than ``baseline``.

    Each step's loss is tested against the baseline's with a binomial standard error on
    the views still watching there; adjacent flagged steps make one drop-off. The
    opening (the hook) is left out.
    """
    h, hb = hazard(curve), hazard(baseline)
    r = np.asarray(curve, float)
    moments = grid(duration_s)
    at_risk = np.maximum(r[:-1] * max(views, 0), 1.0)
    se = np.sqrt(np.maximum(hb * (1 - hb), 1e-6) / at_risk)
    z = (h - hb) / se
    step_excess = h - hb
    flagged = (z > z_threshold) & (moments[:-1] >= OPENING_S) & (step_excess > min_excess / 4)
    found = []
    i = 0
    while i < len(flagged):
        if not flagged[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(flagged) and flagged[j + 1]:
            j += 1
        loss = 1.0 - r[j + 1] / r[i] if r[i] > 0 else 0.0
        base = float(np.asarray(baseline, float)[i])
        base_loss = 1.0 - float(np.asarray(baseline, float)[j + 1]) / base if base > 0 else 0.0
        if loss - base_loss >= min_excess:
            found.append(
                DropOff(
                    second=float(moments[i]),
                    until=float(moments[j + 1]),
                    loss=float(loss),
                    baseline_loss=float(base_loss),
                    z=float(z[i : j + 1].max()),
                )
            )
        i = j + 1
    return found


def line_at(
    lines: Sequence[tuple[float, float]], second: float, lag: float = REACTION_LAG_S
) -> int:
    """Index of the line on screen when viewers decided to leave (``lag`` before ``second``).

    ``lines`` are (start, end) in seconds, in order; -1 when no line was on screen or
    just before (within the lag).
    """
    moment = max(0.0, second - lag)
    best, best_gap = -1, math.inf
    for i, (start, end) in enumerate(lines):
        if start <= moment <= end:
            return i
        gap = min(abs(moment - end), abs(start - moment))
        if gap <= lag and gap < best_gap:
            best, best_gap = i, gap
    return best


def hook_rate(curve: Sequence[float], duration_s: float) -> float:
    """Share still watching at 3 s (the hook rate of platforms with a curve)."""
    return at(curve, duration_s, OPENING_S)
