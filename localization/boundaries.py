"""Snap utterance edges to where speech really starts and stops.

Whisper's word times are good to a few tenths of a second; subtitles should sit
within a few frames of the voice. Silero VAD (shipped inside faster-whisper) finds
speech regions to within a few hundredths of a second, music bed or not. An
utterance starts where the speech region holding its first word starts, and ends
where the region holding its last word ends, never across a neighbour; a line whose
first or last words went unheard takes in the speech regions next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from localization.speech import Utterance

SAMPLE_RATE = 16_000  # what Silero VAD and Whisper listen at
REACH_S = 1.0  # the farthest an edge moves
MIN_SPEECH_S = 0.08

Region = tuple[float, float]


@dataclass(frozen=True)
class Edges:
    """Which edges of an utterance may have speech the words did not account for."""

    open_start: bool = False
    open_end: bool = False


def speech_regions(audio: np.ndarray) -> list[Region]:
    """Return (start, end) seconds of speech in 16 kHz mono ``audio``, tightly padded."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=150, speech_pad_ms=30, min_speech_duration_ms=80)
    found = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in found]


def snap(
    utterances: Sequence[Utterance],
    regions: Sequence[Region],
    edges: Sequence[Edges] | None = None,
) -> list[Utterance]:
    """Move each utterance's edges to the edges of the speech regions its words fall in."""
    edges = edges or [Edges()] * len(utterances)
    out: list[Utterance] = []
    for index, utterance in enumerate(utterances):
        floor = out[-1].end if out else 0.0
        ceiling = utterances[index + 1].start if index + 1 < len(utterances) else np.inf
        start = _start(utterance, regions, floor, edges[index].open_start)
        end = _end(utterance, regions, ceiling, edges[index].open_end)
        start = min(max(start, floor), end - MIN_SPEECH_S)
        end = max(min(end, ceiling), start + MIN_SPEECH_S)
        out.append(replace(utterance, start=start, end=end))
    return out


def _start(
    utterance: Utterance, regions: Sequence[Region], floor: float, open_start: bool
) -> float:
    first = utterance.words[0] if utterance.words else None
    at = first.start if first else utterance.start
    holding = [r for r in regions if r[0] - 0.05 <= (first.end if first else at) and r[1] >= at]
    candidates = [r[0] for r in holding]
    if open_start:  # unheard first words: take in the speech just before, up to the neighbour
        candidates += [r[0] for r in regions if floor <= r[0] < at and r[1] > floor]
    return _closest_within(candidates, at, low=floor, pick=min if open_start else None)


def _end(utterance: Utterance, regions: Sequence[Region], ceiling: float, open_end: bool) -> float:
    last = utterance.words[-1] if utterance.words else None
    at = last.end if last else utterance.end
    holding = [r for r in regions if r[0] <= at and r[1] + 0.05 >= (last.start if last else at)]
    candidates = [r[1] for r in holding]
    if open_end:  # unheard last words: take in the speech just after, up to the neighbour
        candidates += [r[1] for r in regions if at < r[1] <= ceiling and r[0] < ceiling]
    return _closest_within(candidates, at, high=ceiling, pick=max if open_end else None)


def _closest_within(
    candidates: list[float], at: float, *, low: float = 0.0, high: float = np.inf, pick=None
) -> float:
    usable = [c for c in candidates if abs(c - at) <= REACH_S and low <= c <= high]
    if not usable:
        return at
    if pick is not None:
        return float(pick(usable))
    return float(min(usable, key=lambda c: abs(c - at)))
