"""Audio as numbers: clips, resampling, panning, and WAV or raw PCM in and out.

Everything here works on numpy arrays; the only I/O is reading and writing WAV
files and piping audio through ffmpeg (:func:`read_audio`). Stems are float32
arrays of shape (samples, 2); clips are float32 mono.
"""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookline import ffmpeg as ffmpeg_tool

SAMPLE_RATE = 48_000

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
# Streaming servers write 0 or 0xFFFFFFFF as the data size because they do not know it yet.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


class AudioFormatError(ValueError):
    """Bytes that were meant to be audio are not audio this module can read."""


@dataclass(frozen=True)
class Clip:
    """Mono speech as float32 samples in [-1, 1] at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def resampled(self, sample_rate: int) -> Clip:
        """Return the clip at ``sample_rate`` (itself when it already is)."""
        if sample_rate == self.sample_rate:
            return self
        return Clip(resample(self.samples, self.sample_rate, sample_rate), sample_rate)


def resample(signal: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample by zero-padding the spectrum: exact band-limited interpolation, no SciPy.

    The signal is padded with silence to a length whose FFTs are fast (a multiple of the
    rates' step with only small prime factors): a prime-sized FFT is many times slower.
    """
    size = round(len(signal) * target_rate / source_rate)
    if size == 0 or len(signal) == 0:
        return np.zeros(size, dtype=np.float32)
    common = math.gcd(source_rate, target_rate)
    step_in, step_out = source_rate // common, target_rate // common
    blocks = _smooth_at_least(-(-len(signal) // step_in))
    padded = np.zeros(blocks * step_in, dtype=np.float64)
    padded[: len(signal)] = signal
    out = np.fft.irfft(np.fft.rfft(padded), blocks * step_out) * (step_out / step_in)
    return out[:size].astype(np.float32)


def _smooth_at_least(n: int) -> int:
    """The smallest integer >= n with no prime factor above 7."""
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Place a mono signal between left (-1) and right (1) at constant power."""
    angle = (position + 1) * np.pi / 4
    return np.stack([mono * np.cos(angle), mono * np.sin(angle)], axis=1) * np.sqrt(2)


def rms_db(samples: np.ndarray) -> float:
    """Return the RMS level in dBFS (-120 for silence)."""
    power = float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0
    return float(10 * np.log10(max(power, 1e-12)))


def trim_silence(clip: Clip, *, threshold_db: float = -40.0, margin_s: float = 0.02) -> Clip:
    """Cut the silence before and after the words, keeping a margin for breaths and plosives.

    Speech servers pad their output unevenly; trimmed, a clip's duration is the time
    its words take, which is what fitting and rate measurement need.
    """
    loud = np.flatnonzero(np.abs(clip.samples) > 10 ** (threshold_db / 20))
    if loud.size == 0:
        return Clip(clip.samples[:0], clip.sample_rate)
    margin = int(margin_s * clip.sample_rate)
    start, end = max(0, loud[0] - margin), min(len(clip.samples), loud[-1] + 1 + margin)
    return Clip(clip.samples[start:end], clip.sample_rate)


def write_wav(path: Path, stem: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write a float stem, (samples,) or (samples, channels), as 16-bit PCM WAV."""
    frames = stem if stem.ndim == 2 else stem[:, None]
    pcm = np.clip(np.round(frames * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())


def read_audio(
    path: Path,
    *,
    sample_rate: int = SAMPLE_RATE,
    channels: int = 2,
    ffmpeg: str | None = None,
    seconds: float | None = None,
) -> np.ndarray:
    """Decode any audio (or a video's first audio stream) to float32 (samples, channels)."""
    limit = ["-t", f"{seconds:.3f}"] if seconds else []
    args = ["-i", path, *limit, "-map", "0:a:0", "-vn", "-sn", "-dn"]
    args += ["-ac", str(channels), "-ar", str(sample_rate), "-f", "f32le", "pipe:1"]
    data = ffmpeg_tool.capture(args, binary=ffmpeg).stdout
    return np.frombuffer(data, dtype="<f4").reshape(-1, channels).copy()


def decode_pcm(data: bytes, sample_rate: int) -> Clip:
    """Read raw signed 16-bit little-endian mono PCM."""
    usable = len(data) - len(data) % 2
    samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768
    return Clip(samples, sample_rate)


def decode_wav(data: bytes) -> Clip:
    """Read a WAV file's bytes (PCM 8/16/24/32-bit or float) as a mono clip.

    Written here rather than with :mod:`wave` because speech servers stream WAV
    with placeholder sizes and some send float samples, which :mod:`wave` refuses.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFormatError("not a WAV file (no RIFF/WAVE header)")
    fmt, body = _wav_chunks(data)
    if fmt is None or body is None:
        raise AudioFormatError("WAV file without a fmt or data chunk")
    code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if code == _EXTENSIBLE and len(fmt) >= 26:
        code = struct.unpack("<H", fmt[24:26])[0]  # the sub-format GUID starts with the code
    samples = _wav_samples(body, code, bits, channels)
    if not rate:
        raise AudioFormatError("WAV file with a sample rate of 0")
    return Clip(samples.mean(axis=1).astype(np.float32), rate)


def _wav_chunks(data: bytes) -> tuple[bytes | None, bytes | None]:
    fmt = body = None
    offset = 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4], _u32(data, offset + 4)
        start = offset + 8
        if name == b"data":
            end = len(data) if size in _UNKNOWN_SIZES else min(len(data), start + size)
            return fmt, data[start:end]
        if name == b"fmt ":
            fmt = data[start : start + size]
            if len(fmt) < 16:
                raise AudioFormatError("WAV fmt chunk too short")
        offset = start + size + size % 2  # chunks are padded to an even size
    return fmt, body


def _u32(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def _wav_samples(body: bytes, code: int, bits: int, channels: int) -> np.ndarray:
    if channels < 1:
        raise AudioFormatError("WAV file with no channels")
    width = bits // 8
    usable = len(body) - len(body) % (width * channels or 1)
    raw = body[:usable]
    if code == _FLOAT and bits in (32, 64):
        flat = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
    elif code == _PCM and bits == 8:
        flat = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) / 128
    elif code == _PCM and bits in (16, 32):
        flat = np.frombuffer(raw, dtype=f"<i{width}").astype(np.float32) / 2 ** (bits - 1)
    elif code == _PCM and bits == 24:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | triples[:, 1] << 8 | triples[:, 2] << 16
        flat = (np.where(values >= 1 << 23, values - (1 << 24), values) / 2**23).astype(np.float32)
    else:
        raise AudioFormatError(f"unsupported WAV encoding (format {code}, {bits}-bit)")
    return flat.reshape(-1, channels)
