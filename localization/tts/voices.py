"""Voices as the series bible keeps them, and a stable default when it keeps none.

The bible stores one voice per character per language as a plain dict, e.g.
``{"backend": "espeak", "voice": "es+f3", "rate_wpm": 160, "pitch": 55}`` or
``{"backend": "endpoint", "voice": "af_bella", "speed": 1.0}``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from hookline.errors import InvalidInput
from localization import espeak
from localization.errors import UnsupportedLanguage

BACKENDS = ("espeak", "endpoint")
SPEED_RANGE = (0.25, 4.0)  # what OpenAI's /audio/speech accepts
_KEYS = {
    "espeak": {"backend", "voice", "rate_wpm", "pitch"},
    "endpoint": {"backend", "voice", "speed"},
}
# Language tags whose espeak-ng voice is not the tag itself.
_ESPEAK_VOICE = {
    "en": "en-us",
    "pt": "pt-br",  # Hookline's Portuguese is Brazilian unless the tag says pt-PT
    "zh": "cmn",
    "zh-cn": "cmn",
    "zh-hans": "cmn",
    "zh-tw": "cmn",
    "zh-hant": "cmn",
    "zh-hk": "yue",
    "es-mx": "es-419",
    "fil": "tl",
}
# Variants in order of preference: the first is what a character without a name gets.
_VARIANTS = {"female": ("f3", "f1", "f2", "f4", "f5"), "male": ("m3", "m1", "m2", "m4", "m6")}
_PITCH = {"female": (55, 60, 50), "male": (45, 40, 50)}


@dataclass(frozen=True)
class Voice:
    """One character's voice in one language.

    ``rate_wpm`` and ``pitch`` are espeak-ng's; ``speed`` is the endpoint's
    (OpenAI's ``speed``, 1.0 = natural). Each backend ignores the other's options.
    """

    backend: str
    voice: str
    language: str = ""
    rate_wpm: int = 165
    pitch: int = 50
    speed: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        """Return the form the series bible keeps (without the language, its key there)."""
        if self.backend == "espeak":
            return {
                "backend": "espeak",
                "voice": self.voice,
                "rate_wpm": self.rate_wpm,
                "pitch": self.pitch,
            }
        return {"backend": self.backend, "voice": self.voice, "speed": self.speed}


def voice_from_dict(data: dict[str, Any], language: str = "") -> Voice:
    """Read a bible voice; raise InvalidInput saying which field is wrong."""
    backend = data.get("backend", "espeak")
    if backend not in BACKENDS:
        raise InvalidInput(f"unknown voice backend {backend!r}: use one of {', '.join(BACKENDS)}")
    unknown = set(data) - _KEYS[backend]
    if unknown:
        allowed = ", ".join(sorted(_KEYS[backend]))
        raise InvalidInput(f"unknown {backend} voice fields {sorted(unknown)}: use {allowed}")
    name = data.get("voice")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"a {backend} voice needs a 'voice' name, got {name!r}")
    if backend == "endpoint":
        speed = float(_number(data, "speed", 1.0, SPEED_RANGE))
        return Voice("endpoint", name.strip(), language, speed=speed)
    rate = int(_number(data, "rate_wpm", 165, espeak.RATE_WPM_RANGE))
    pitch = int(_number(data, "pitch", 50, espeak.PITCH_RANGE))
    return Voice("espeak", name.strip(), language, rate_wpm=rate, pitch=pitch)


def _number(data: dict[str, Any], key: str, default: float, bounds: tuple[float, float]) -> float:
    value = data.get(key, default)
    low, high = bounds
    # bool is an int to Python, but True is not a speaking rate.
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInput(f"voice field {key!r} must be from {low} to {high}, not {value!r}")
    return value


def default_voice(language: str, gender: str = "unknown", *, character: str = "") -> Voice:
    """Choose an espeak-ng voice for a character the bible gives no voice in ``language``.

    The choice depends only on its arguments, so a character keeps the same voice on
    every line and episode; different characters of one gender usually get different
    variants (picked by a hash of the name, not Python's per-process ``hash``).
    """
    base = espeak_voice_for(language)
    pick = int.from_bytes(hashlib.sha256(character.encode()).digest()[:4], "big")
    kind = gender if gender in _VARIANTS else ("female", "male")[pick % 2]
    variants, pitches = _VARIANTS[kind], _PITCH[kind]
    variant = variants[pick % len(variants)] if character else variants[0]
    pitch = pitches[pick // len(variants) % len(pitches)] if character else pitches[0]
    return Voice("espeak", f"{base}+{variant}", language, rate_wpm=165, pitch=pitch)


def espeak_voice_for(language: str) -> str:
    """Return the espeak-ng voice name that speaks ``language`` (a BCP 47 tag)."""
    tag = language.strip().lower().replace("_", "-")
    known = _espeak_languages()
    for candidate in (_ESPEAK_VOICE.get(tag), tag, _ESPEAK_VOICE.get(tag.split("-")[0])):
        if candidate and candidate in known:
            return candidate
    base = tag.split("-")[0]
    if base in known:
        return base
    raise UnsupportedLanguage(
        f"espeak-ng has no voice for {language!r}; give the character a voice on the speech "
        "endpoint in the series bible, or use one of: " + ", ".join(sorted(known))
    )


@functools.cache
def _espeak_languages() -> frozenset[str]:
    return frozenset(lang for v in espeak.available_voices() for lang in v.languages)
