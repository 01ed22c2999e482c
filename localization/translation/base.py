"""The translation interface: the series bible, line requests and results, and Translator.

Every backend takes the lines of an episode in order (so it can see each line's
neighbours), the language pair and the series bible, and returns one TranslatedLine per
line, in the same order. A line the backend fails on or refuses comes back with
``needs_human=True``, an empty ``text`` (so no source-language text is ever voiced as a
translation) and a ``note`` saying why; the other lines go on. A backend that cannot
work at all (unreachable, not installed, broken) raises TranslationFailed.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from localization.errors import TranslationFailed
from localization.languages import best_match, canonical, pair_label
from localization.translation import budget, glossary

GENDERS = ("female", "male", "nonbinary", "unknown")


@dataclass(frozen=True)
class Character:
    """A character of the series; the gender decides pronouns and agreement in translation."""

    name: str
    gender: str = "unknown"  # one of GENDERS

    def __post_init__(self) -> None:
        if self.gender not in GENDERS:
            raise ValueError(f"gender of {self.name!r} must be one of {', '.join(GENDERS)}")


@dataclass(frozen=True)
class Term:
    """A name or term that must be rendered the same way in every line.

    ``translations`` maps a BCP-47 tag to the required form; a language without an entry
    keeps the term as written (names usually).
    """

    term: str
    translations: Mapping[str, str] = field(default_factory=dict, hash=False)
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "translations", {canonical(k): v for k, v in self.translations.items()}
        )

    def translation(self, language: str) -> str | None:
        """Return the required form in ``language``, or None when the term is kept as is."""
        tag = best_match(language, self.translations)
        return None if tag is None else self.translations[tag]

    def target_form(self, language: str) -> str:
        return self.translation(language) or self.term


@dataclass(frozen=True)
class Bible:
    """What every translation request carries and what results are checked against."""

    characters: tuple[Character, ...] = ()
    terms: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "characters", tuple(self.characters))
        object.__setattr__(self, "terms", tuple(self.terms))

    def character(self, name: str | None) -> Character | None:
        """Return the character called ``name`` (case-insensitive), if the bible has one."""
        if not name:
            return None
        wanted = name.strip().casefold()
        return next((c for c in self.characters if c.name.casefold() == wanted), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bible:
        """Build a bible from its JSON form (see :meth:`to_dict`)."""
        return cls(
            characters=tuple(Character(**c) for c in data.get("characters", ())),
            terms=tuple(Term(**t) for t in data.get("terms", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: {"characters": [{name, gender}], "terms": [{term, ...}]}."""
        return {
            "characters": [{"name": c.name, "gender": c.gender} for c in self.characters],
            "terms": [
                {"term": t.term, "translations": dict(t.translations), "note": t.note}
                for t in self.terms
            ],
        }


NO_BIBLE = Bible()


@dataclass(frozen=True)
class LineRequest:
    """One line to translate; ``budget_chars`` is from :func:`budget.char_budget`."""

    index: int
    text: str
    speaker: str | None = None
    budget_chars: int | None = None


@dataclass(frozen=True)
class TranslatedLine:
    index: int
    text: str
    backend: str
    needs_human: bool = False
    note: str = ""
    over_budget: bool = False
    glossary_problems: tuple[str, ...] = ()


class Translator(abc.ABC):
    """A translation backend. Subclasses set ``name`` and implement pairs and translate."""

    name: str

    @abc.abstractmethod
    def pairs(self) -> set[tuple[str, str]]:
        """Return the (source, target) BCP-47 pairs this backend has installed."""

    def supports(self, source: str, target: str) -> bool:
        return resolve_pair(source, target, self.pairs()) is not None

    def describe(self) -> str:
        """Say what is installed, for messages: ``argos en→es, es→ca``."""
        pairs = self.pairs()
        return f"{self.name} {pair_label(pairs)}" if pairs else f"{self.name}: nothing installed"

    @abc.abstractmethod
    def translate(
        self,
        lines: Sequence[LineRequest],
        *,
        source: str,
        target: str,
        bible: Bible = NO_BIBLE,
    ) -> list[TranslatedLine]:
        """Translate ``lines`` (an episode's lines, in order) and return one result per line."""

    def close(self) -> None:  # noqa: B027  # optional: only backends holding resources override it
        """Release what the backend holds open (HTTP connections); a no-op by default."""

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class UnavailableTranslator(Translator):
    """Stands in for a backend that is not configured or not installed, saying why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def pairs(self) -> set[tuple[str, str]]:
        return set()

    def describe(self) -> str:
        return self.reason

    def translate(self, lines, *, source, target, bible=NO_BIBLE) -> list[TranslatedLine]:
        raise TranslationFailed(f"{self.name} cannot translate: {self.reason}")


def resolve_pair(source: str, target: str, pairs: set[tuple[str, str]]) -> tuple[str, str] | None:
    """Return the installed pair that serves source→target best (pt-BR by pt), or None."""
    sources = {s for s, _ in pairs}
    matched_source = best_match(source, sources)
    if matched_source is None:
        return None
    matched_target = best_match(target, {t for s, t in pairs if s == matched_source})
    return None if matched_target is None else (matched_source, matched_target)


def finished_line(
    request: LineRequest,
    text: str,
    *,
    backend: str,
    target: str,
    bible: Bible,
    note: str = "",
) -> TranslatedLine:
    """Return the result for a translated line, with its budget and glossary checked."""
    # A line is one line of dialogue; subtitle line breaks are the segmenter's job.
    text = " ".join(text.split())
    if not text and request.text.strip():
        return line_for_human(request, backend=backend, note=note or "the backend returned nothing")
    return TranslatedLine(
        index=request.index,
        text=text,
        backend=backend,
        note=note,
        over_budget=budget.over_budget(text, request.budget_chars, target),
        glossary_problems=tuple(glossary.check_terms(request.text, text, bible, target)),
    )


def line_for_human(request: LineRequest, *, backend: str, note: str) -> TranslatedLine:
    """Return the result for a line a human must translate, saying why."""
    return TranslatedLine(
        index=request.index, text="", backend=backend, needs_human=True, note=note
    )
