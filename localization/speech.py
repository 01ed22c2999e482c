"""What was said and when: words and utterances, the currency of every stage.

An utterance is one line of dialogue (a speaker's turn or sentence): the unit that
is translated, voiced and reviewed. Subtitle cues are cut from utterances by the
segmenter, per language.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float | None = None


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: tuple[Word, ...] = field(default=(), repr=False)

    @property
    def duration(self) -> float:
        return self.end - self.start
