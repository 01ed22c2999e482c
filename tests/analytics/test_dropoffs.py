"""Drop-off detection finds drops planted in simulated curves (precision and recall >= 0.9)."""

from __future__ import annotations

import numpy as np

from analytics import retention
from analytics.audience import Audience, Content, true_effects

DAY = 86400.0
TOLERANCE_S = 2.0


def test_planted_drops_are_found_with_precision_and_recall_of_at_least_0_9():
    rng = np.random.default_rng(11)
    audience = Audience(true_effects(5))
    plain = Content(duration_s=50.0, hook="slap", market="es")
    baseline_counts = []
    planted: dict[str, list[float]] = {}
    curves = {}
    for n in range(80):
        moments = ()
        if n % 2 == 0:
            second = float(rng.uniform(8, 45))
            moments = ((second, float(rng.uniform(0.08, 0.2))),)
            planted[f"p{n}"] = [second]
        else:
            planted[f"p{n}"] = []
        spec = Content(duration_s=50.0, hook="slap", market="es", weak_moments=moments)
        audience.describe(f"sha{n}", spec)
        seen = audience.observe("tiktok", f"p{n}", f"sha{n}", 0.0, 6 * DAY)
        curves[f"p{n}"] = (seen.curve(101), seen.views)
        if not moments:
            baseline_counts.append((seen.curve(101), seen.views))
    audience.describe("plain", plain)
    baseline = retention.weighted_mean(
        [c for c, _ in baseline_counts], [v for _, v in baseline_counts]
    )

    hits = misses = false = 0
    for key, (curve, views) in curves.items():
        found = retention.drop_offs(curve, baseline, views=views, duration_s=50.0)
        truth = planted[key]
        matched = [any(abs(d.second - t) <= TOLERANCE_S for d in found) for t in truth]
        hits += sum(matched)
        misses += len(matched) - sum(matched)
        false += sum(1 for d in found if not any(abs(d.second - t) <= TOLERANCE_S for t in truth))
    precision = hits / max(1, hits + false)
    recall = hits / max(1, hits + misses)
    assert precision >= 0.9, (precision, hits, false)
    assert recall >= 0.9, (recall, hits, misses)


def test_a_drop_is_tied_to_the_line_on_screen_a_moment_before():
    lines = [(0.0, 2.5), (3.0, 6.0), (6.5, 9.0)]
    assert retention.line_at(lines, 7.0) == 1  # viewers left 1.5 s after deciding
    assert retention.line_at(lines, 30.0) == -1
