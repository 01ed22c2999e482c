"""The demo's sound: the dialogue voiced line by line with espeak-ng, and a music bed.

Both stems are float32 arrays of shape (samples, 2) at ``SAMPLE_RATE``; this module
does no file I/O except ``write_wav``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookline.demo.script import EpisodeScript, Line
from localization import audio, espeak
from localization.audio import SAMPLE_RATE, pan, resample

LEAD_IN_S = 1.0
GAP_S = (0.3, 0.7)
TAIL_S = 2.5  # after the cliffhanger, room for the boom to ring out
LINE_PEAK = 10 ** (-3 / 20)
# About -24 LUFS for the stereo bed: a pad's K-weighted loudness is close to its RMS + 3 dB.
MUSIC_RMS = 10 ** (-27 / 20)
BOOM_PEAK = 10 ** (-8 / 20)
CHORD_S = 3.0
CROSSFADE_S = 0.8
# A minor, i-VI-III-VII: the progression of half the melodramas on earth.
PROGRESSION = (
    (45, 57, 60, 64),  # Am: A2 | A3 C4 E4
    (41, 57, 60, 65),  # F:  F2 | A3 C4 F4
    (48, 55, 60, 64),  # C:  C3 | G3 C4 E4
    (43, 55, 59, 62),  # G:  G2 | G3 B3 D4
)


@dataclass(frozen=True)
class TimedLine:
    """Where a line of dialogue sits in the episode, in seconds from the start."""

    index: int
    speaker: str
    text: str
    start_s: float
    end_s: float

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "speaker": self.speaker,
            "text": self.text,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
        }


def voice_dialogue(
    episode: EpisodeScript, *, progress: Callable[[float], None] = lambda _f: None
) -> tuple[np.ndarray, tuple[TimedLine, ...]]:
    """Voice every line and place them one after another; return the stem and the timings."""
    # Seeded by the episode so the gaps vary like real speech yet repeat on every render.
    rng = np.random.default_rng(episode.number)
    clips, starts = [], []
    position = round(LEAD_IN_S * SAMPLE_RATE)
    for done, line in enumerate(episode.lines, start=1):
        clip = voice_line(line, episode.language)
        clips.append(clip)
        starts.append(position)
        position += len(clip) + round(rng.uniform(*GAP_S) * SAMPLE_RATE)
        progress(done / len(episode.lines))
    total = starts[-1] + len(clips[-1]) + round(TAIL_S * SAMPLE_RATE)
    stem = np.zeros((total, 2), dtype=np.float32)
    for clip, start in zip(clips, starts, strict=True):
        stem[start : start + len(clip)] = clip
    return stem, _timings(episode.lines, clips, starts)


def voice_line(line: Line, language: str) -> np.ndarray:
    """Speak one line in its character's voice, resampled, levelled and panned to stereo."""
    spec = line.speaker.voice(language)
    speech = espeak.synthesize(
        line.text, voice=spec.voice, rate_wpm=spec.rate_wpm, pitch=spec.pitch
    )
    mono = resample(speech.samples.astype(np.float32) / 32768, speech.sample_rate, SAMPLE_RATE)
    mono *= LINE_PEAK / max(float(np.abs(mono).max()), 1e-6)
    return pan(mono, line.speaker.pan)


def _timings(lines, clips, starts) -> tuple[TimedLine, ...]:
    return tuple(
        TimedLine(
            i, line.speaker.name, line.text, start / SAMPLE_RATE, (start + len(clip)) / SAMPLE_RATE
        )
        for i, (line, clip, start) in enumerate(zip(lines, clips, starts, strict=True))
    )


def music_bed(duration_s: float, *, hit_at_s: float) -> np.ndarray:
    """Return a chord pad that drops out at ``hit_at_s`` where a low boom lands."""
    size = round(duration_s * SAMPLE_RATE)
    bed = _pad(size)
    bed *= MUSIC_RMS / float(np.sqrt(np.mean(bed**2)))
    bed *= _fades(size, fade_in_s=1.5, stop_at_s=hit_at_s)[:, None]
    hit = round(hit_at_s * SAMPLE_RATE)
    boom = _boom(size - hit)
    bed[hit:] += boom[:, None]
    return bed.astype(np.float32)


def _pad(size: int) -> np.ndarray:
    pad = np.zeros((size, 2), dtype=np.float64)
    chord_len = round(CHORD_S * SAMPLE_RATE)
    fade = round(CROSSFADE_S * SAMPLE_RATE)
    for number, start in enumerate(range(0, size, chord_len)):
        begin, end = max(0, start - fade // 2), min(size, start + chord_len + fade // 2)
        notes = PROGRESSION[number % len(PROGRESSION)]
        chord = sum(_note(note, begin, end - begin) for note in notes)
        pad[begin:end] += chord * _envelope(end - begin, fade)[:, None]
    return pad


def _note(midi: int, start: int, size: int) -> np.ndarray:
    """A soft organ-like tone; the right channel is detuned a little to make the pad wide."""
    t = (start + np.arange(size)) / SAMPLE_RATE
    frequency = 440.0 * 2 ** ((midi - 69) / 12)
    channels = []
    for detune in (1.0, 1.0025):
        phase = 2 * np.pi * frequency * detune * t
        channels.append(np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.1 * np.sin(3 * phase))
    # Bass notes sit lower in the mix so the pad stays out of the voices' way.
    weight = 0.6 if midi < 50 else 1.0
    return np.stack(channels, axis=1) * weight


def _envelope(size: int, fade: int) -> np.ndarray:
    envelope = np.ones(size)
    ramp = np.sin(np.linspace(0, np.pi / 2, min(fade, size // 2))) ** 2
    envelope[: len(ramp)] = ramp
    envelope[size - len(ramp) :] = ramp[::-1]
    return envelope


def _fades(size: int, *, fade_in_s: float, stop_at_s: float) -> np.ndarray:
    t = np.arange(size) / SAMPLE_RATE
    rise = np.clip(t / fade_in_s, 0, 1)
    drop = np.clip((stop_at_s - t) / 0.3, 0, 1)  # a fast dip so the boom hits in silence
    return rise * drop


def _boom(size: int) -> np.ndarray:
    """A cinematic low hit: a sine falling from 90 to 38 Hz with a short noise thump."""
    t = np.arange(size) / SAMPLE_RATE
    frequency = 38 + 52 * np.exp(-t / 0.12)
    body = np.sin(2 * np.pi * np.cumsum(frequency) / SAMPLE_RATE) * np.exp(-t / 0.7)
    noise = np.random.default_rng(7).standard_normal(size) * np.exp(-t / 0.03)
    thump = np.convolve(noise, np.ones(48) / 48, mode="same")  # crude low-pass
    boom = body + 2 * thump
    return boom * BOOM_PEAK / float(np.abs(boom).max())


def mix(*stems: np.ndarray, ceiling_db: float = -1.0) -> np.ndarray:
    """Sum stems of equal length, turning the sum down only if it would pass the ceiling."""
    total = np.sum(stems, axis=0)
    ceiling = 10 ** (ceiling_db / 20)
    peak = float(np.abs(total).max())
    return (total * min(1.0, ceiling / peak) if peak else total).astype(np.float32)


def write_wav(path: Path, stem: np.ndarray) -> None:
    """Write a float stereo stem as 16-bit PCM WAV at the demo's rate."""
    audio.write_wav(path, stem, SAMPLE_RATE)
