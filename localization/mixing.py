"""Mix the dub: lay lines on a stem, put it over the music, hit the platform's loudness.

With a music-and-effects stem the original dialogue is simply not there: the dub
replaces it. Without stems the original mix stays under the dub, ducked by a
sidechain compressor keyed on the dub, so the music plays on between lines (the
original voices are still faintly audible under the dub: the price of no stems).

Loudness is measured, not guessed: ffmpeg's EBU R128 scanner measures the mix, a
gain brings it to the target, and an oversampled limiter keeps the true peak under
its ceiling; the result is measured again and reported.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np

from hookline import ffmpeg as ffmpeg_tool
from localization.audio import SAMPLE_RATE, Clip, pan, read_audio, rms_db

log = logging.getLogger(__name__)

# Each dubbed line is levelled to this RMS (over its voiced frames): about where a
# dialogue stem sits under a -24 LUFS music bed, so the balance holds before the
# whole mix is brought to the platform's loudness.
LINE_LEVEL_DB = -20.0
# A line's peaks stay within this many dB above its level (speech's crest is ~12-15 dB).
LINE_CREST_DB = 11.0
# Ducking: with the dub at LINE_LEVEL_DB, a threshold near -34 dBFS and a 10:1 ratio
# pull the original down by about 12 dB under speech; it comes back within half a second.
DUCK_THRESHOLD = 0.02
DUCK_RATIO = 10
DUCK_ATTACK_MS = 20
DUCK_RELEASE_MS = 400
# Headroom under the true-peak ceiling: the limiter works at 4x oversampling, and
# resampling back to 48 kHz can overshoot by a fraction of a dB.
TRUE_PEAK_MARGIN_DB = 1.0  # room for the overshoot AAC encoding adds to true peaks
SILENT_LUFS = -69.0  # ebur128 reports -70 LUFS for digital silence
# A limited output this far off the target (half the +-1 LU platforms tolerate) is redone.
CORRECTION_LU = 0.5

_STEREO = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


@dataclass(frozen=True)
class Loudness:
    """EBU R128 measurements: integrated LUFS, true peak dBTP, loudness range LU."""

    integrated: float
    true_peak: float
    lra: float


@dataclass(frozen=True)
class Normalization:
    """What normalising did: the loudness before and after, the gain, whether it limited."""

    before: Loudness
    after: Loudness
    gain_db: float
    limited: bool
    makeup_db: float = 0.0  # what the limiter took back, given again on top of the gain


class Activity(NamedTuple):
    """Facts about a sound track, for the bad-input checks."""

    rms_db: float
    speech_likely: bool


def build_dub_stem(
    placed_clips: Sequence[tuple[float, Clip]],
    duration_s: float,
    sample_rate: int = SAMPLE_RATE,
    pans: Sequence[float] | None = None,
    *,
    level_db: float = LINE_LEVEL_DB,
) -> np.ndarray:
    """Lay ``(start_s, clip)`` pairs on a silent stereo stem ``duration_s`` long.

    Each line is resampled, levelled to ``level_db`` and panned (``pans[i]`` from -1
    left to 1 right; centre by default). Anything past the end is cut.
    """
    size = round(duration_s * sample_rate)
    stem = np.zeros((size, 2), dtype=np.float32)
    for number, (start_s, clip) in enumerate(placed_clips):
        begin = round(start_s * sample_rate)
        if begin >= size or len(clip.samples) == 0:
            continue
        mono = level_line(clip.resampled(sample_rate).samples, level_db)
        stereo = pan(mono, pans[number] if pans else 0.0)[: size - begin]
        stem[begin : begin + len(stereo)] += stereo
    return stem


def level_line(samples: np.ndarray, level_db: float = LINE_LEVEL_DB) -> np.ndarray:
    """Scale a line to ``level_db`` RMS over its voiced frames, its peak kept under -1 dBFS."""
    frame = 480
    usable = len(samples) - len(samples) % frame
    powers = np.mean(np.square(samples[:usable].reshape(-1, frame), dtype=np.float64), axis=1)
    if usable == 0 or powers.max() <= 0:
        return samples.astype(np.float32)
    voiced = powers[powers > powers.max() * 1e-3]  # within 30 dB of the loudest frame
    gain = 10 ** (level_db / 20) / np.sqrt(voiced.mean())
    return soft_limit(samples * gain, 10 ** ((level_db + LINE_CREST_DB) / 20))


def soft_limit(samples: np.ndarray, ceiling: float) -> np.ndarray:
    """Round peaks above half the ceiling smoothly towards it (a soft knee, no hard clip).

    Synthetic voices have spiky peaks; taming them per line keeps the final mix from
    needing the look-ahead limiter, which is the slow part of normalizing.
    """
    knee = ceiling / 2
    magnitude = np.abs(samples)
    over = magnitude > knee
    shaped = knee + (ceiling - knee) * np.tanh((magnitude[over] - knee) / (ceiling - knee))
    out = samples.astype(np.float32, copy=True)
    out[over] = np.sign(samples[over]) * shaped
    return out


def mix(
    dub_stem_path: Path,
    out_path: Path,
    *,
    music_effects: Path | None = None,
    original: Path | None = None,
    ffmpeg: str | None = None,
) -> Loudness:
    """Mix the dub over the music-and-effects stem, or over the ducked original mix.

    With neither, the dub alone is written. The output is 48 kHz stereo, as long as
    the dub stem; a ``.wav`` is 32-bit float so a sum past 0 dBFS survives until
    :func:`normalize_loudness`. Returns the mix's loudness, measured as it is written.
    """
    inputs = ["-i", dub_stem_path]
    if music_effects is not None:
        inputs += ["-i", music_effects]
        graph = _over_stem_graph()
    elif original is not None:
        inputs += ["-i", original]
        graph = _ducked_graph()
    else:
        graph = f"[0:a]{_STEREO},apad[mix]"
    # Every input is padded with endless silence and the mix cut at the dub stem's length
    # (the episode's): no filter then sees an input end early and drops what it buffered.
    # The mix is measured on its way to the file: one pass instead of two.
    graph += f";[mix]atrim=end_sample={_samples(dub_stem_path)},asplit[out][scan]"
    graph += ";[scan]ebur128=peak=true[scanned]"
    args = [*inputs, "-filter_complex", graph, "-map", "[out]", "-vn", "-sn", "-dn"]
    args += [*_encoding(out_path, float_wav=True), out_path, "-map", "[scanned]", "-f", "null", "-"]
    done = ffmpeg_tool.capture(args, binary=ffmpeg)
    return parse_ebur128_summary(done.stderr)


def mix_at_level(
    dub_stem_path: Path,
    out_path: Path,
    *,
    gain_db: float,
    ceiling_db: float | None,
    music_effects: Path | None = None,
    original: Path | None = None,
    ffmpeg: str | None = None,
) -> Loudness:
    """Mix as :func:`mix` does and bring the mix to a known level, in one ffmpeg run.

    For a re-dub: the level an earlier mix of nearly the same audio needed (its gain and
    limiter ceiling) is applied straight away, and the result is measured as it is
    encoded. The caller checks the measure and falls back to the two-step way when a
    changed line moved the loudness too far.
    """
    inputs = ["-i", dub_stem_path]
    if music_effects is not None:
        inputs += ["-i", music_effects]
        graph = _over_stem_graph()
    elif original is not None:
        inputs += ["-i", original]
        graph = _ducked_graph()
    else:
        graph = f"[0:a]{_STEREO},apad[mix]"
    soxr = has_soxr(ffmpeg or ffmpeg_tool.default_binary())
    level = _gain_chain(gain_db, ceiling_db, soxr=soxr)
    graph += f";[mix]atrim=end_sample={_samples(dub_stem_path)},{level},{_STEREO},asplit[out][scan]"
    graph += ";[scan]ebur128=peak=true[scanned]"
    # One process mixes, limits and measures; a second encodes, on the other core.
    raw = ["-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "2"]
    mixing = [*inputs, "-filter_complex", graph, "-map", "[out]", "-vn", "-sn", "-dn"]
    mixing += ["-c:a", "pcm_f32le", *raw, "pipe:1", "-map", "[scanned]", "-f", "null", "-"]
    encoding = [*raw, "-i", "pipe:0", *_encoding(out_path, float_wav=False), out_path]
    done = ffmpeg_tool.piped(mixing, encoding, binary=ffmpeg)
    return parse_ebur128_summary(done.stderr)


def _samples(path: Path) -> int:
    """Return how many 48 kHz samples ``path`` lasts, from its header where it has one."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / av.time_base
        else:  # a headerless stream: count what it holds
            seconds = sum(frame.samples for frame in container.decode(stream)) / stream.sample_rate
    return round(seconds * SAMPLE_RATE)


# amix sums as is with normalize=0 (it would otherwise scale each input down).
def _over_stem_graph() -> str:
    return (
        f"[0:a]{_STEREO},apad[dub];[1:a]{_STEREO},apad[bed];"
        "[dub][bed]amix=inputs=2:duration=longest:normalize=0[mix]"
    )


def _ducked_graph() -> str:
    duck = (
        f"sidechaincompress=threshold={DUCK_THRESHOLD}:ratio={DUCK_RATIO}"
        f":attack={DUCK_ATTACK_MS}:release={DUCK_RELEASE_MS}"
    )
    # sidechaincompress ends as soon as either input does, dropping the samples it holds
    # while waiting for the other: hence the padding (see mix).
    return (
        f"[0:a]{_STEREO},apad,asplit=2[key][dub];[1:a]{_STEREO},apad[orig];"
        f"[orig][key]{duck}[ducked];"
        "[dub][ducked]amix=inputs=2:duration=longest:normalize=0[mix]"
    )


def normalize_loudness(
    in_path: Path,
    out_path: Path,
    lufs: float = -14.0,
    true_peak: float = -1.0,
    *,
    ffmpeg: str | None = None,
    measured: Loudness | None = None,
    makeup_db: float = 0.0,
) -> Normalization:
    """Bring ``in_path`` to ``lufs`` integrated with its true peak at most ``true_peak``.

    A linear gain from the measured loudness; when that gain would push peaks past
    the ceiling, a limiter at 4x oversampling catches them. The output is measured:
    if the limiter took more loudness than the tolerance, the gain is corrected once.
    ``makeup_db`` is what the limiter took from an earlier mix of nearly the same audio
    (a re-dub): given up front, the correction pass is usually not needed.
    Silence is copied as it is.
    """
    before = measured or measure_loudness(in_path, ffmpeg=ffmpeg)
    if before.integrated <= SILENT_LUFS:
        log.warning("%s is silent; copied without gain", in_path)
        _apply(in_path, out_path, 0.0, None, ffmpeg)
        return Normalization(before, before, 0.0, limited=False)
    gain = lufs - before.integrated
    ceiling = None
    if before.true_peak + gain > true_peak - TRUE_PEAK_MARGIN_DB:
        ceiling = true_peak - TRUE_PEAK_MARGIN_DB
    plain_gain = gain
    if ceiling is not None:
        gain += makeup_db
    if ceiling is None:  # a plain gain moves every measure by exactly the gain
        _apply(in_path, out_path, gain, ceiling, ffmpeg)
        after = Loudness(before.integrated + gain, before.true_peak + gain, before.lra)
        log.info("loudness %.1f -> %.1f LUFS (gain %.1f dB)", before.integrated, lufs, gain)
        return Normalization(before, after, gain, limited=False)
    after = _limit(in_path, out_path, gain, ceiling, ffmpeg)
    if abs(after.integrated - lufs) > CORRECTION_LU:
        # The limiter took loudness with the peaks: make it up and apply again.
        gain += lufs - after.integrated
        after = _limit(in_path, out_path, gain, ceiling, ffmpeg)
    log.info(
        "loudness %.1f -> %.1f LUFS, peak %.1f dBTP",
        before.integrated,
        after.integrated,
        after.true_peak,
    )
    return Normalization(before, after, gain, limited=True, makeup_db=gain - plain_gain)


def _gain_chain(gain_db: float, ceiling_db: float | None, *, soxr: bool = False) -> str:
    chain = f"volume={gain_db:.3f}dB"
    if ceiling_db is None:
        return chain
    limit = max(10 ** (ceiling_db / 20), 0.0625)  # alimiter's floor, -24 dBFS
    # latency=true compensates the lookahead so the dub stays in sync with the picture.
    limiter = f"alimiter=limit={limit:.5f}:attack=5:release=50:level=false:latency=true"
    # SoX's resampler, where ffmpeg has it, oversamples as cleanly in two thirds the time.
    how = ":resampler=soxr" if soxr else ""
    return f"{chain},aresample={4 * SAMPLE_RATE}{how},{limiter},aresample={SAMPLE_RATE}{how}"


@functools.cache
def has_soxr(binary: str) -> bool:
    """Say whether this ffmpeg was built with libsoxr."""
    return b"--enable-libsoxr" in ffmpeg_tool.capture(["-buildconf"], binary=binary).stdout


def _apply(
    in_path: Path,
    out_path: Path,
    gain_db: float,
    ceiling,
    ffmpeg: str | None,
    *,
    float_wav: bool = False,
) -> None:
    soxr = has_soxr(ffmpeg or ffmpeg_tool.default_binary())
    chain = f"{_gain_chain(gain_db, ceiling, soxr=soxr)},{_STEREO}"
    args = ["-i", in_path, "-map", "0:a:0", "-af", chain, "-vn", "-sn", "-dn"]
    encoding = _encoding(out_path, float_wav=float_wav)
    ffmpeg_tool.run([*args, *encoding, out_path], binary=ffmpeg)


def _limit(
    in_path: Path, out_path: Path, gain_db: float, ceiling: float, ffmpeg: str | None
) -> Loudness:
    """Apply gain and limiter; return the loudness of what comes out.

    For a lossy output (AAC), the limited audio is measured while the encoder runs, on
    the other core: the encoder leaves loudness as it is, and the true-peak margin is
    there for its overshoot.
    """
    if Path(out_path).suffix.lower() not in (".m4a", ".aac", ".mp4"):
        _apply(in_path, out_path, gain_db, ceiling, ffmpeg)
        return measure_loudness(out_path, ffmpeg=ffmpeg)
    limited = Path(out_path).with_name(Path(out_path).stem + ".limited.wav")
    try:
        _apply(in_path, limited, gain_db, ceiling, ffmpeg, float_wav=True)
        encode = ["-i", limited, "-map", "0:a:0", *_encoding(out_path, float_wav=False)]
        with ThreadPoolExecutor(max_workers=1) as pool:
            encoding = pool.submit(ffmpeg_tool.run, [*encode, out_path], binary=ffmpeg)
            loudness = measure_loudness(limited, ffmpeg=ffmpeg)
            encoding.result()
        return loudness
    finally:
        limited.unlink(missing_ok=True)


def _encoding(path: Path, *, float_wav: bool) -> list[str]:
    suffix = Path(path).suffix.lower()
    rate = ["-ar", str(SAMPLE_RATE), "-ac", "2"]
    if suffix == ".flac":
        return ["-c:a", "flac", "-sample_fmt", "s32", *rate]  # 24-bit FLAC
    if suffix in (".m4a", ".aac", ".mp4"):
        # The fast coder encodes in half the time of the default two-loop search; at
        # 192 kb/s stereo its output is transparent for dialogue over music.
        return ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k", *rate]
    return ["-c:a", "pcm_f32le" if float_wav else "pcm_s16le", *rate]


def measure_loudness(path: Path, *, ffmpeg: str | None = None, effect: str = "") -> Loudness:
    """Measure EBU R128 loudness with ffmpeg's ebur128 scanner (true peak at 4x)."""
    chain = f"{effect}," if effect else ""
    args = ["-i", path, "-map", "0:a:0", "-af", f"{chain}ebur128=peak=true:framelog=verbose"]
    done = ffmpeg_tool.capture([*args, "-f", "null", "-"], binary=ffmpeg)
    return parse_ebur128_summary(done.stderr)


_SUMMARY_FIELDS = {
    "integrated": r"I:\s+(-?inf|-?[\d.]+) LUFS",
    "lra": r"LRA:\s+(-?inf|-?[\d.]+) LU\b",
    "true_peak": r"Peak:\s+(-?inf|-?[\d.]+) dBFS",
}


def parse_ebur128_summary(stderr: str) -> Loudness:
    """Read the summary the ebur128 filter logs when it finishes."""
    summary = stderr[stderr.rfind("Summary:") :]
    values = {}
    for name, pattern in _SUMMARY_FIELDS.items():
        found = re.search(pattern, summary)
        if not found:
            raise ValueError(f"no {name} in ffmpeg's ebur128 summary: {summary[:300]!r}")
        values[name] = float(found.group(1))
    return Loudness(**values)


def audio_activity(path: Path, *, ffmpeg: str | None = None, seconds: float = 600) -> Activity:
    """Say how loud a track is and whether it likely holds speech; never raises on content.

    A cheap heuristic over the voice band (300-3400 Hz) of the first ``seconds``:
    speech has syllable-rate loudness modulation (2-8 Hz), a spectrum that keeps
    changing (formants and pitch glide), and is not noise-like. Limits: singing and
    rap pass as speech; speech buried more than about 10 dB under music, whispers
    and very slow speech can be missed; a strong steady beat with changing timbre
    may pass. It decides "is there anything to dub?", not what is said.
    """
    samples = read_audio(
        path, sample_rate=_ANALYSIS_RATE, channels=1, ffmpeg=ffmpeg, seconds=seconds
    )
    mono = samples[:, 0]
    level = rms_db(mono)
    if level < -60 or len(mono) < _ANALYSIS_RATE:
        return Activity(level, False)
    return Activity(level, _speech_likely(_band_spectra(mono)))


_ANALYSIS_RATE = 16_000
_WINDOW, _HOP = 512, 320  # 32 ms windows every 20 ms: 50 frames a second
_VOICE_BAND = (300.0, 3400.0)


def _band_spectra(mono: np.ndarray) -> np.ndarray:
    """Return the voice band's power spectra, one row per frame, computed in blocks."""
    freqs = np.fft.rfftfreq(_WINDOW, 1 / _ANALYSIS_RATE)
    band = (freqs >= _VOICE_BAND[0]) & (freqs <= _VOICE_BAND[1])
    window = np.hanning(_WINDOW).astype(np.float32)
    starts = np.arange(0, len(mono) - _WINDOW, _HOP)
    rows = []
    for block in np.array_split(starts, max(1, len(starts) // 2000)):  # bounded memory
        frames = mono[block[:, None] + np.arange(_WINDOW)] * window
        rows.append((np.abs(np.fft.rfft(frames, axis=1)) ** 2)[:, band].astype(np.float32))
    return np.concatenate(rows)


def _speech_likely(spectra: np.ndarray) -> bool:
    energy = spectra.sum(axis=1).astype(np.float64)
    active = energy > max(energy.max() * 1e-3, 1e-6)
    if active.mean() < 0.05:
        return False
    modulation = _syllabic_modulation(energy)
    flux = _spectral_flux(spectra, active)
    flatness = _flatness(spectra[active])
    log.debug("activity: modulation %.2f flux %.3f flatness %.3f", modulation, flux, flatness)
    return modulation >= 0.3 and flux >= 0.12 and flatness < 0.3


def _syllabic_modulation(energy: np.ndarray) -> float:
    """Share of the loudness envelope's modulation that falls at syllable rate (2-8 Hz)."""
    envelope = np.sqrt(energy)
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2
    rates = np.fft.rfftfreq(len(envelope), _HOP / _ANALYSIS_RATE)
    total = spectrum[(rates > 0.2) & (rates <= 20)].sum()
    return float(spectrum[(rates >= 2) & (rates <= 8)].sum() / total) if total > 0 else 0.0


def _spectral_flux(spectra: np.ndarray, active: np.ndarray) -> float:
    """Median change of the normalised spectrum between frames (0 = frozen, 1 = disjoint)."""
    shares = spectra / np.maximum(spectra.sum(axis=1, keepdims=True), 1e-12)
    change = 0.5 * np.abs(np.diff(shares, axis=0)).sum(axis=1)
    both = active[1:] & active[:-1]
    return float(np.median(change[both])) if both.any() else 0.0


def _flatness(spectra: np.ndarray) -> float:
    """Median spectral flatness: near 1 for noise, near 0 for tones and voices."""
    geometric = np.exp(np.mean(np.log(spectra + 1e-12), axis=1))
    return float(np.median(geometric / (spectra.mean(axis=1) + 1e-12)))
