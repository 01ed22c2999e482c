"""Retention math checked against an independent computation (lifelines' Kaplan-Meier)."""

from __future__ import annotations

import numpy as np
from lifelines import KaplanMeierFitter

from analytics import retention
from analytics.audience import Audience, Content, true_effects

DAY = 86400.0


def simulated(views_days: float = 4.0, **content: object) -> tuple[Audience, Content]:
    audience = Audience(true_effects(3))
    spec = Content(duration_s=42.0, hook="secret_reveal", market="es", **content)  # type: ignore[arg-type]
    audience.describe("sha-1", spec)
    return audience, spec


def test_curve_from_durations_equals_kaplan_meier_on_simulated_views():
    audience, spec = simulated()
    durations = audience.watch_durations("tiktok", "tiktok:1", "sha-1", 0.0, 4 * DAY)
    assert len(durations) > 1000
    finished = durations >= spec.duration_s
    fitter = KaplanMeierFitter().fit(durations, event_observed=~finished)
    moments = retention.grid(spec.duration_s)
    # Survival just before each moment (views that end exactly there still count as watching).
    expected = fitter.survival_function_at_times(np.maximum(moments - 1e-9, 0)).to_numpy()
    expected[-1] = finished.mean()
    ours = retention.from_durations(durations, spec.duration_s)
    assert np.allclose(ours, expected, atol=1e-9)


def test_the_emulators_curve_is_the_kaplan_meier_curve_of_its_simulated_views():
    audience, spec = simulated()
    seen = audience.observe("youtube", "youtube:2", "sha-1", 0.0, 5 * DAY)
    durations = audience.watch_durations("youtube", "youtube:2", "sha-1", 0.0, 5 * DAY)
    finished = durations >= spec.duration_s
    fitter = KaplanMeierFitter().fit(durations, event_observed=~finished)
    moments = np.arange(0.0, spec.duration_s, 0.5)  # the emulator counts in 0.1 s steps
    expected = fitter.survival_function_at_times(np.maximum(moments - 1e-9, 0)).to_numpy()
    reported = [seen.still_watching(m) for m in moments]
    assert np.allclose(reported, expected, atol=1e-9)
    assert abs(seen.completion - finished.mean()) < 1e-12


def test_normalize_puts_any_resolution_on_101_points():
    xs = [i / 40 for i in range(41)]
    ys = [1 - 0.5 * x for x in xs]
    curve = retention.normalize(xs, ys)
    assert len(curve) == retention.POINTS
    assert curve[0] == 1.0 and abs(curve[50] - 0.75) < 1e-9 and abs(curve[-1] - 0.5) < 1e-9


def test_hazard_never_counts_a_loop_as_a_loss():
    assert retention.hazard([1.0, 0.9, 0.95, 0.5]).tolist() == [
        retention.hazard([1.0, 0.9])[0],
        0.0,
        1 - 0.5 / 0.95,
    ]


def test_drop_per_second_is_the_same_rate_at_any_length():
    for duration in (20.0, 90.0):
        t = retention.grid(duration)
        curve = np.exp(-0.02 * t)  # loses 1 - e^-0.02 of those left every second
        rate = retention.drop_per_second(curve, duration)
        assert len(rate) == 100
        np.testing.assert_allclose(rate, 1 - np.exp(-0.02), rtol=1e-9)


def test_average_viewed_is_the_area_under_the_curve():
    assert retention.average_viewed(np.linspace(1, 0, 101)) == 0.5
    assert retention.average_viewed([1.0] * 101) == 1.0
    looping = retention.average_viewed([1.2] * 101)
    assert looping > 1.0  # a replayed cut is watched more than once over, as platforms count


def test_percentile_ranks_among_peers_with_ties_counted_half():
    assert retention.percentile(0.5, []) is None
    assert retention.percentile(0.9, [0.1, 0.2, 0.3, 0.4]) == 100.0
    assert retention.percentile(0.0, [0.1, 0.2]) == 0.0
    assert retention.percentile(0.3, [0.1, 0.3, 0.5, 0.7]) == 37.5
