"""How long a translated line may be, so that its dub fits the time the actor speaks.

Pure computation. A line's budget, in characters, is::

    budget = floor((slot_s + min(borrow_s, 1.5)) × chars_per_s)

- ``slot_s``: how long the original line is spoken (its utterance's duration);
- ``borrow_s``: silence after the line that the dub may run into, capped at
  MAX_BORROW_S (1.5 s) so a dub never swallows a long dramatic pause;
- ``chars_per_s``: the chosen voice's measured speaking rate in the target language,
  in the same characters :func:`spoken_length` counts (measure it by voicing a few
  sentences: ``spoken_length(text) / seconds``).

Lengths are counted as a reader would count them in Latin-script and similar languages
(letters, digits, punctuation and single spaces between words), but in Chinese,
Japanese and Korean only the characters that are spoken (each Han character, kana or
Hangul syllable block); spaces and punctuation there are pauses, not syllables.
"""

from __future__ import annotations

import math
import unicodedata

from localization.languages import is_cjk

MAX_BORROW_S = 1.5


def char_budget(slot_s: float, *, borrow_s: float = 0.0, chars_per_s: float) -> int:
    """Return how many characters a line may have to be voiced within its slot."""
    if chars_per_s <= 0:
        raise ValueError(f"chars_per_s must be a positive speaking rate, got {chars_per_s}")
    usable_s = max(slot_s, 0.0) + min(max(borrow_s, 0.0), MAX_BORROW_S)
    # A tiny epsilon keeps 2.0 s × 15 chars/s at 30, not 29, after float rounding.
    return math.floor(usable_s * chars_per_s + 1e-9)


def spoken_length(text: str, language: str) -> int:
    """Return the length of ``text`` as budgets count it (see the module docstring)."""
    if is_cjk(language):
        return sum(1 for ch in text if not _is_pause(ch))
    return len(" ".join(text.split()))


def over_budget(text: str, budget: int | None, language: str) -> bool:
    """Return whether ``text`` is longer than ``budget`` (never, when there is no budget)."""
    return budget is not None and spoken_length(text, language) > budget


def _is_pause(ch: str) -> bool:
    category = unicodedata.category(ch)
    return ch.isspace() or category.startswith(("P", "S", "Z", "C"))
