"""Subtitle rules per language and profile: line length, reading speed, timing.

Two profiles. ``broadcast`` carries the Netflix Timed Text Style Guide numbers (see
shared/localization.md). ``vertical`` is Hookline's default for 9:16 social cuts: one
short line preferred so the text stays large on a phone and clear of the platform's
buttons, and a somewhat faster reading speed, which social viewers tolerate.

Every limit is a field, so a setting (or a reviewer) can change one with
``dataclasses.replace(rules, max_chars=30)``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from hookline.errors import InvalidInput
from localization.languages import canonical

PROFILES = ("vertical", "broadcast")

# Scripts decide how a line is measured, where it may break and which font draws it.
LATIN, CHINESE, JAPANESE, KOREAN, THAI = "latin", "chinese", "japanese", "korean", "thai"


@dataclass(frozen=True)
class SubtitleRules:
    """The limits one subtitle track must meet, and how to measure its text."""

    language: str
    profile: str
    max_chars: float
    max_cps: float
    max_lines: int = 2
    preferred_lines: int = 1
    min_duration: float = 5 / 6
    max_duration: float = 7.0
    min_gap_frames: int = 2
    close_gap_s: float = 0.5
    script: str = LATIN
    dialogue_dash: str = "-"

    def __post_init__(self) -> None:
        if self.max_chars <= 0 or self.max_cps <= 0:
            raise InvalidInput("Subtitle line length and reading speed must be positive.")
        if not 1 <= self.preferred_lines <= self.max_lines:
            raise InvalidInput("Preferred lines per cue must be between 1 and the maximum.")
        if not 0 < self.min_duration < self.max_duration:
            raise InvalidInput("A cue's minimum duration must be positive and below its maximum.")
        if self.min_gap_frames < 0:
            raise InvalidInput("The minimum gap between cues cannot be negative.")

    @property
    def cjk(self) -> bool:
        """Whether words run together without spaces (Chinese, Japanese)."""
        return self.script in (CHINESE, JAPANESE)

    def length(self, text: str) -> float:
        """Measure text the way this language's line limit counts it (line breaks excluded)."""
        return sum(_width(char, self.script) for char in text if char != "\n")

    def min_duration_frames(self, fps: float) -> int:
        return math.ceil(self.min_duration * fps - 1e-6)

    def max_duration_frames(self, fps: float) -> int:
        return math.floor(self.max_duration * fps + 1e-6)

    def closes_gap(self, gap_frames: int, fps: float) -> bool:
        """Whether a gap this long is one to close to the minimum gap (over it, under 0.5 s)."""
        return self.min_gap_frames < gap_frames < self.close_gap_s * fps - 1e-6


def frames(seconds: float, fps: float) -> int:
    """Return the whole number of frames nearest to a span of seconds (halves round up)."""
    return math.floor(seconds * fps + 0.5 + 1e-9)


def rules_for(language: str, profile: str = "vertical") -> SubtitleRules:
    """Return the subtitle rules for a BCP-47 language tag under a profile."""
    if profile not in PROFILES:
        raise InvalidInput(f"Unknown subtitle profile {profile!r}; use vertical or broadcast.")
    tag = normalize_language(language)
    key = _rules_key(tag)
    chars, cps = (_VERTICAL if profile == "vertical" else _BROADCAST).get(key, _DEFAULT[profile])
    return SubtitleRules(
        language=tag,
        profile=profile,
        max_chars=chars,
        max_cps=cps,
        # Vertical fills a cue with one line, broadcast with two; both use one line
        # whenever the text fits on it.
        preferred_lines=1 if profile == "vertical" else 2,
        min_duration=0.5 if key == "ja" else 5 / 6,
        script=_SCRIPTS.get(key.split("-")[0], LATIN),
        dialogue_dash=_DIALOGUE_DASHES.get(key, "-"),
    )


def normalize_language(language: str) -> str:
    """Return a BCP-47 tag in canonical form (``pt_br`` -> ``pt-BR``; Chinese gets a script)."""
    return canonical(language)


def _rules_key(tag: str) -> str:
    parts = tag.split("-")
    if parts[0] == "zh":
        return "zh-Hant" if "Hant" in parts else "zh-Hans"
    return parts[0]


def _width(char: str, script: str) -> float:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0  # accents, Thai vowel marks, zero-width joiners take no room of their own
    if script not in (JAPANESE, KOREAN):
        return 1.0
    wide = ("F", "W", "A") if script == JAPANESE else ("F", "W")
    return 1.0 if unicodedata.east_asian_width(char) in wide else 0.5


# (max characters per line, max characters per second), Netflix's adult numbers.
_BROADCAST: dict[str, tuple[float, float]] = {
    "zh-Hans": (16, 9),
    "zh-Hant": (16, 9),
    "ja": (13, 4),
    "ko": (16, 12),
    "en": (42, 20),
    "th": (35, 17),
}
# Phone-sized lines: 26 Latin characters fill the platform safe width (~840 px of a
# 1080 px frame) at a 58 px bold font, 12 CJK characters at 69 px; Thai runs wider than
# Latin (35 vs 42 on Netflix), so 22. Reading speed: ~20 % above broadcast (English 10 %,
# from Netflix's highest adult limit), as social viewers read short lines faster.
_VERTICAL: dict[str, tuple[float, float]] = {
    "zh-Hans": (12, 11),
    "zh-Hant": (12, 11),
    "ja": (12, 5),
    "ko": (12, 14),
    "en": (26, 22),
    "th": (22, 20),
}
_DEFAULT = {"broadcast": (42.0, 17.0), "vertical": (26.0, 20.0)}
_SCRIPTS = {"zh": CHINESE, "ja": JAPANESE, "ko": KOREAN, "th": THAI}
# Netflix: English "-" without a space, Spanish "- " with one; French, Italian and
# Catalan follow the Spanish habit.
_DIALOGUE_DASHES = {"es": "- ", "fr": "- ", "it": "- ", "ca": "- "}
