"""Speak text offline with espeak-ng, through the C library shipped in the espeakng-loader wheel.

espeak-ng keeps one global synthesizer per process and is not thread-safe, so every
call goes through one module lock, and the library is loaded and initialised on first
use rather than at import.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hookline.errors import HooklineError

log = logging.getLogger(__name__)

# Values from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of calling exit() on bad data
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE, _PITCH = 1, 3
_EE_OK = 0
_RANDOM_SEED = 1
_GENDERS = {1: "male", 2: "female"}

RATE_WPM_RANGE = (80, 450)
PITCH_RANGE = (0, 100)
# Speech quieter than this (about -40 dBFS) counts as silence when trimming.
_SILENCE_THRESHOLD = 330
# Kept either side of trimmed speech so plosives and breaths are not clipped.
_TRIM_MARGIN_S = 0.02


class TTSError(HooklineError):
    """Text could not be spoken: an unknown voice, a bad parameter, or a broken espeak-ng."""


@dataclass(frozen=True)
class Speech:
    """Mono 16-bit speech as espeak-ng produced it."""

    samples: np.ndarray  # int16, mono
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def write_wav(self, path: str | Path) -> None:
        """Write the speech as a mono 16-bit PCM WAV file."""
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(self.samples.astype("<i2").tobytes())


@dataclass(frozen=True)
class Voice:
    """A voice espeak-ng can speak with; ``identifier`` is what ``synthesize`` takes."""

    name: str
    identifier: str
    languages: tuple[str, ...]
    gender: str  # male | female | unknown


class _VoiceStruct(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated name) pairs, then NUL
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Engine:
    """The process's one espeak-ng synthesizer; use only while holding ``_lock``."""

    def __init__(self) -> None:
        import espeakng_loader

        self.data_path = Path(espeakng_loader.get_data_path())
        self.lib = _load_library(espeakng_loader.get_library_path())
        self.sample_rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise TTSError(f"espeak-ng failed to initialise with its data at {self.data_path}")
        variant_dir = self.data_path / "voices" / "!v"
        self.variants = sorted(p.name for p in variant_dir.iterdir() if p.is_file())
        self._chunks: list[bytes] = []
        # Kept on the instance: ctypes frees a callback whose Python object is collected.
        self._callback = _SynthCallback(self._collect)
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, count: int, _events) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # 0 = carry on synthesizing

    def speak(self, text: str, voice: str, rate_wpm: int, pitch: int) -> np.ndarray:
        self.select_voice(voice)
        self.lib.espeak_SetParameter(_RATE, rate_wpm, 0)
        self.lib.espeak_SetParameter(_PITCH, pitch, 0)
        data = text.encode("utf-8")
        self._chunks = []
        # espeak-ng seeds its noise generator from the clock; a fixed seed makes a run repeatable.
        self.lib.espeak_ng_SetRandSeed(_RANDOM_SEED)
        status = self.lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self.lib.espeak_Synchronize()
        if status != _EE_OK:
            raise TTSError(f"espeak-ng could not speak the text (error {status})")
        samples = np.frombuffer(b"".join(self._chunks), dtype=np.int16).copy()
        self._chunks = []
        return samples

    def select_voice(self, voice: str) -> None:
        # espeak-ng silently ignores an unknown "+variant", so variants are checked here.
        _, plus, variant = voice.partition("+")
        if plus and variant not in self.variants:
            raise TTSError(f"unknown espeak-ng voice variant {variant!r} in {voice!r}")
        if self.lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise TTSError(
                f"unknown espeak-ng voice {voice!r}: use a language code such as 'en-us' or"
                " 'es', optionally with a variant such as 'en-us+f3'"
            )

    def voices(self) -> list[Voice]:
        found = []
        table = self.lib.espeak_ListVoices(None)
        for entry in table:
            if not entry:  # the table ends with a NULL pointer
                break
            found.append(_voice(entry.contents))
        return found


def _load_library(path: str) -> ctypes.CDLL:
    lib = ctypes.CDLL(path)
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
    return lib


def _voice(entry: _VoiceStruct) -> Voice:
    return Voice(
        name=(entry.name or b"").decode("utf-8", "replace"),
        identifier=(entry.identifier or b"").decode("utf-8", "replace"),
        languages=_languages(entry.languages),
        gender=_GENDERS.get(entry.gender, "unknown"),
    )


def _languages(address: int | None) -> tuple[str, ...]:
    names = []
    while address and ctypes.c_ubyte.from_address(address).value:  # a zero priority ends it
        name = ctypes.string_at(address + 1)
        names.append(name.decode("ascii", "replace"))
        address += 1 + len(name) + 1
    return tuple(names)


_lock = threading.Lock()
_engine: _Engine | None = None


def _get_engine() -> _Engine:
    """Return the synthesizer, starting it on first use; call with ``_lock`` held."""
    global _engine
    if _engine is None:
        _engine = _Engine()
        log.debug("espeak-ng started at %d Hz", _engine.sample_rate)
    return _engine


def synthesize(
    text: str, *, voice: str, rate_wpm: int = 165, pitch: int = 50, trim_silence: bool = True
) -> Speech:
    """Speak ``text`` with an espeak-ng voice such as ``"en-us+f3"`` or ``"es"``.

    With ``trim_silence`` the silence espeak-ng leaves before and after the words is
    cut, so the speech's duration is the time the words take.

    The same text sounds the same every time, but the samples can differ by a few
    milliseconds between calls: espeak-ng keeps its pitch-flutter position in a static
    that nothing resets. A fresh process making the same calls gets the same samples.
    """
    _check_range("rate_wpm", rate_wpm, RATE_WPM_RANGE)
    _check_range("pitch", pitch, PITCH_RANGE)
    with _lock:
        engine = _get_engine()
        samples = engine.speak(text.replace("\x00", ""), voice, rate_wpm, pitch)
        rate = engine.sample_rate
    if trim_silence:
        samples = _trim(samples, rate)
    return Speech(samples=samples, sample_rate=rate)


def available_voices() -> list[Voice]:
    """List the voices espeak-ng has, each usable as ``synthesize(voice=identifier)``."""
    with _lock:
        return _get_engine().voices()


def available_variants() -> list[str]:
    """List the variants (``f3``, ``m1``, ...) that can follow a voice after a ``+``."""
    with _lock:
        return list(_get_engine().variants)


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise TTSError(f"{name} must be between {low} and {high}, not {value}")


def _trim(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_THRESHOLD)
    if loud.size == 0:
        return samples[:0]
    margin = int(_TRIM_MARGIN_S * sample_rate)
    start = max(0, loud[0] - margin)
    end = min(len(samples), loud[-1] + 1 + margin)
    return samples[start:end]
