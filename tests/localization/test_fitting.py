"""Fitting dubbed lines into their slots: the plan's rules, its invariants, the stretch."""

from __future__ import annotations

import itertools
import math
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hookline import ffmpeg
from localization import tts
from localization.audio import Clip, rms_db
from localization.fitting import (
    GUARD_S,
    MAX_BORROW_S,
    Fit,
    Slot,
    apply_fit,
    fit_clip,
    has_rubberband,
    plan_fits,
    trim_clip,
)
from localization.mixing import build_dub_stem

EPS = 1e-9


def plan_one(start, end, duration, *, next_start=None, episode_s=60.0, max_stretch=1.2) -> Fit:
    slots = [Slot(0, start, end)]
    durations = [duration]
    if next_start is not None:
        slots.append(Slot(1, next_start, next_start + 1))
        durations.append(0.5)
    return plan_fits(slots, durations, episode_s=episode_s, max_stretch=max_stretch)[0]


def test_a_line_that_fits_its_slot_is_left_alone():
    fit = plan_one(1.0, 3.0, 1.6, next_start=5.0)

    assert fit == Fit(0, 1.0, 1.0, 1.6)
    assert not fit.flagged


def test_a_long_line_borrows_the_silence_after_its_slot_before_speeding_up():
    fit = plan_one(1.0, 3.0, 2.8, next_start=5.0)

    assert fit.stretch == 1.0
    assert fit.end == pytest.approx(3.8)
    assert "borrows 0.80 s" in fit.note


def test_borrowing_stops_a_guard_short_of_the_next_line_then_the_line_speeds_up():
    fit = plan_one(1.0, 3.0, 3.4, next_start=4.0)

    assert fit.end == pytest.approx(4.0 - GUARD_S)
    assert fit.stretch == pytest.approx(3.4 / 2.9)
    assert not fit.flagged


def test_borrowing_is_limited_even_when_the_next_line_is_far():
    fit = plan_one(1.0, 2.0, 3.0, next_start=10.0)

    assert fit.end == pytest.approx(2.0 + MAX_BORROW_S)
    assert fit.stretch == pytest.approx(3.0 / 2.5)


def test_a_line_too_long_even_at_max_stretch_is_flagged_with_its_numbers():
    fit = plan_one(1.0, 2.0, 4.0, next_start=2.5)

    assert fit.flagged
    assert fit.stretch == 1.2
    assert fit.end == pytest.approx(2.4)
    assert fit.needed_stretch == pytest.approx(4.0 / 1.4)
    assert fit.overflow_s == pytest.approx(4.0 / 1.2 - 1.4)
    assert "needs 2.86× to fit 1.40 s (limit 1.20×): 1.93 s cut from the end" in fit.note
    assert fit.as_dict()["needed_stretch"] == 2.857


def test_the_last_line_never_runs_past_the_episode():
    fit = plan_one(58.0, 59.0, 3.0, episode_s=59.5)

    assert fit.end == pytest.approx(59.5)
    assert fit.flagged


def test_a_line_with_no_room_at_all_is_flagged_not_a_crash():
    fits = plan_fits([(0, 1.0, 2.0), (1, 1.0, 2.0)], [1.0, 1.0], episode_s=10)

    assert fits[0].duration == 0
    assert fits[0].flagged
    assert math.isinf(fits[0].needed_stretch)
    assert fits[0].as_dict()["needed_stretch"] is None
    assert "no room" in fits[0].note
    assert not fits[1].flagged


def test_overlapping_slots_never_overlap_in_the_dub():
    # The original actors talk over each other; the dub takes turns.
    fits = plan_fits([(0, 1.0, 3.0), (1, 2.5, 4.0)], [2.0, 1.5], episode_s=10, max_stretch=1.5)

    assert fits[0].end == 2.5
    assert fits[0].stretch == pytest.approx(2.0 / 1.5)


def test_slots_given_out_of_order_are_fitted_in_time_order():
    fits = plan_fits([(1, 5.0, 6.0), (0, 1.0, 2.0)], [3.0, 1.0], episode_s=10)

    assert [f.index for f in fits] == [0, 1]


def test_lines_are_never_slowed_down():
    assert plan_one(0.0, 5.0, 1.0).stretch == 1.0


def test_mismatched_inputs_are_a_programming_error():
    with pytest.raises(ValueError, match="2 slots but 1 clip durations"):
        plan_fits([(0, 0, 1), (1, 1, 2)], [1.0], episode_s=5)


@st.composite
def episodes(draw):
    """Random slots (sorted, possibly overlapping or past the end) and clip durations."""
    count = draw(st.integers(0, 12))
    starts = sorted(draw(st.lists(st.floats(0, 60), min_size=count, max_size=count)))
    lengths = draw(st.lists(st.floats(0, 8), min_size=count, max_size=count))
    durations = draw(st.lists(st.floats(0, 12), min_size=count, max_size=count))
    episode_s = draw(st.floats(0.5, 70))
    max_stretch = draw(st.floats(1.0, 2.0))
    slots = [Slot(i, s, s + n) for i, (s, n) in enumerate(zip(starts, lengths, strict=True))]
    return slots, durations, episode_s, max_stretch


@settings(max_examples=400, deadline=None, database=None)
@given(episodes())
@example(([Slot(0, 0.0, 0.0), Slot(1, 0.0, 0.0)], [5e-324, 1.0], 1.0, 2.0))
def test_fits_keep_their_invariants(episode):
    slots, durations, episode_s, max_stretch = episode

    fits = plan_fits(slots, durations, episode_s=episode_s, max_stretch=max_stretch)

    assert [f.index for f in fits] == [s.index for s in slots]
    for position, (fit, slot, duration) in enumerate(zip(fits, slots, durations, strict=True)):
        assert fit.start == slot.start
        assert 1.0 <= fit.stretch <= max_stretch
        assert fit.duration >= 0
        assert fit.duration * fit.stretch <= duration + EPS  # never more speech than there is
        if position + 1 < len(slots):
            assert fit.end <= slots[position + 1].start + EPS  # never overlaps the next line
        assert fit.end <= max(episode_s, fit.start) + EPS  # never runs past the episode
        assert fit.end <= max(slot.end, slot.start) + MAX_BORROW_S + EPS
        if fit.flagged:
            assert fit.overflow_s > 0
            assert fit.stretch == max_stretch
            assert fit.overflow_s == pytest.approx(duration / max_stretch - fit.duration)
            assert fit.note
        else:
            assert fit.overflow_s == 0
            # The whole line plays (a clip under a microsecond is no speech at all).
            assert fit.duration * fit.stretch == pytest.approx(duration, abs=1e-6)


# --- the executor ----------------------------------------------------------------------


def harmonic_tone(seconds: float, rate: int = 22_050, f0: float = 200.0) -> Clip:
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3))
    return Clip((0.3 * wave).astype(np.float32), rate)


def peak_hz(clip: Clip) -> float:
    spectrum = np.abs(np.fft.rfft(clip.samples * np.hanning(len(clip.samples))))
    return float(np.argmax(spectrum) * clip.sample_rate / len(clip.samples))


def test_fit_clip_speeds_up_keeping_the_pitch():
    clip = harmonic_tone(2.0)

    faster = fit_clip(clip, 1.2)

    assert faster.sample_rate == clip.sample_rate
    assert faster.duration_s == pytest.approx(2.0 / 1.2, rel=0.01)
    assert peak_hz(faster) == pytest.approx(200, abs=3)
    assert rms_db(faster.samples) == pytest.approx(rms_db(clip.samples), abs=1.5)


def test_fit_clip_without_a_stretch_runs_nothing():
    clip = harmonic_tone(0.5)

    assert fit_clip(clip, 1.0, ffmpeg="/nonexistent/ffmpeg") is clip


def test_fit_clip_falls_back_to_atempo_without_rubberband(tmp_path: Path):
    # An ffmpeg that hides rubberband from its filter list, as a build without it would.
    wrapper = tmp_path / "ffmpeg-without-rubberband"
    real = ffmpeg.default_binary()
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *-filters*) "{real}" "$@" | grep -v rubberband;;\n'
        '*rubberband*) echo "No such filter: rubberband" >&2; exit 1;;\n'
        f'*) exec "{real}" "$@";;\nesac\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    assert not has_rubberband(str(wrapper))

    faster = fit_clip(harmonic_tone(2.0), 1.2, ffmpeg=str(wrapper))

    assert faster.duration_s == pytest.approx(2.0 / 1.2, rel=0.01)
    assert peak_hz(faster) == pytest.approx(200, abs=3)


def test_trim_clip_cuts_to_the_planned_duration_with_a_fade():
    clip = harmonic_tone(1.0)

    trimmed = trim_clip(clip, 0.5)

    assert len(trimmed.samples) == int(0.5 * clip.sample_rate)
    assert abs(float(trimmed.samples[-1])) < 1e-4
    assert trim_clip(clip, 2.0) is clip


def test_planted_long_lines_are_shortened_or_flagged_and_never_overlap():
    synth = tts.EspeakSynthesizer()
    voice = tts.default_voice("es", "female")
    texts = [
        "Firma aquí.",
        "Si firmas este contrato, serás mi esposa durante un año entero, sin preguntas.",
        "¿Y si me niego?",
        "Entonces tu hermano pierde la casa, el negocio y todo lo que tu padre construyó.",
    ]
    slots = [Slot(0, 0.5, 1.5), Slot(1, 2.0, 4.0), Slot(2, 5.0, 6.0), Slot(3, 6.5, 8.0)]
    clips = [synth.synthesize(text, voice) for text in texts]

    fits = plan_fits(slots, [c.duration_s for c in clips], episode_s=9.0, max_stretch=1.2)
    placed = [apply_fit(clip, fit) for clip, fit in zip(clips, fits, strict=True)]

    assert fits[1].stretch > 1.0 or fits[1].flagged
    assert fits[3].flagged and fits[3].overflow_s > 0.5
    for fit, clip in zip(fits, placed, strict=True):
        assert clip.duration_s <= fit.duration + 1e-6
    stem = build_dub_stem([(f.start, c) for f, c in zip(fits, placed, strict=True)], 9.0)
    # Silence between every pair of lines, and nothing after the episode's last second.
    for fit, following in itertools.pairwise(fits):
        if fit.end < following.start - 0.01:
            gap = stem[int((fit.end + 0.002) * 48_000) : int(following.start * 48_000)]
            assert float(np.abs(gap).max(initial=0)) < 1e-6
    assert len(stem) == 9 * 48_000
