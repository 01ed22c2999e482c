"""Check translations against the series bible, and shield terms from machine translation.

Pure computation. Matching ignores case and accents ("Mr. Lu" = "mr. lú") and respects
word boundaries in scripts with spaces ("Lu" is not found in "Lucky"); in Chinese and
Japanese a term is found anywhere. A translated term may carry up to two extra letters
at its end in the target (plural or inflection: contrato → contratos); a name kept as is
must appear exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localization.translation.base import Bible

# Placeholders are made of letters only so that MT engines treat them as an unknown
# proper noun (passed through), not as numbers or punctuation to rewrite.
_PLACEHOLDER_STEM = "Zqx"


@dataclass(frozen=True)
class GlossaryEntry:
    source: str  # the term as the source language writes it
    target: str  # the form the target language must use
    kept: bool  # True when the term is kept as is (a name without a translation)


def entries(bible: Bible, target: str) -> list[GlossaryEntry]:
    """Return the bible's terms and character names for ``target``, longest first."""
    found: dict[str, GlossaryEntry] = {}
    for term in bible.terms:
        translation = term.translation(target)
        found[term.term.casefold()] = GlossaryEntry(
            term.term, translation or term.term, kept=translation is None
        )
    for character in bible.characters:
        found.setdefault(
            character.name.casefold(), GlossaryEntry(character.name, character.name, kept=True)
        )
    return sorted(found.values(), key=lambda e: len(e.source), reverse=True)


def check_terms(source_text: str, target_text: str, bible: Bible, target: str) -> list[str]:
    """Return a problem for each bible term in the source that the target does not render."""
    problems = []
    for entry, _ in find_terms(source_text, entries(bible, target)):
        if _contains(target_text, entry.target, inflected=not entry.kept):
            continue
        if entry.kept:
            problems.append(f'"{entry.source}" should stay "{entry.target}" (series bible)')
        else:
            problems.append(
                f'"{entry.source}" should be translated as "{entry.target}" (series bible)'
            )
    return list(dict.fromkeys(problems))


def find_terms(
    text: str, glossary: list[GlossaryEntry]
) -> list[tuple[GlossaryEntry, tuple[int, int]]]:
    """Return the glossary entries found in ``text`` with their spans, without overlaps."""
    folded, origin = _fold(text)
    taken: list[tuple[int, int]] = []
    found = []
    for entry in glossary:  # longest first, so "the Lu Group" wins over "Lu"
        for match in _pattern(entry.source, inflected=False).finditer(folded):
            start, end = origin[match.start()], origin[match.end() - 1] + 1
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((entry, (start, end)))
    return sorted(found, key=lambda item: item[1])


def protect(text: str, bible: Bible, target: str) -> tuple[str, dict[str, str]]:
    """Replace the bible's terms in ``text`` with placeholders an MT engine passes through.

    Returns the protected text and the placeholders with the target form each stands
    for; :func:`restore` puts those forms in the translation.
    """
    placeholders: dict[str, str] = {}
    by_form: dict[str, str] = {}
    pieces, last = [], 0
    for entry, (start, end) in find_terms(text, entries(bible, target)):
        form = _capitalized_like(entry.target, text[start:end], entry.source)
        if form not in by_form:
            by_form[form] = _placeholder(len(by_form), text)
            placeholders[by_form[form]] = form
        pieces += [text[last:start], by_form[form]]
        last = end
    pieces.append(text[last:])
    return "".join(pieces), placeholders


def restore(text: str, placeholders: dict[str, str]) -> str:
    """Put the target forms back in place of the placeholders :func:`protect` made."""
    for placeholder, form in placeholders.items():
        text = re.sub(rf"(?<!\w){placeholder}(?!\w)", lambda _m, f=form: f, text, flags=re.I)
    return text


def _contains(text: str, phrase: str, *, inflected: bool) -> bool:
    folded, _ = _fold(text)
    return _pattern(phrase, inflected=inflected).search(folded) is not None


def _pattern(phrase: str, *, inflected: bool) -> re.Pattern[str]:
    folded, _ = _fold(phrase.strip())
    words = folded.split()
    parts = [re.escape(w) for w in words]
    if inflected and words and len(words[-1]) >= 4 and words[-1][-1].isalpha():
        parts[-1] += r"\w{0,2}"
    body = r"\s+".join(parts)
    left = r"(?<!\w)" if folded and _spaced(folded[0]) else ""
    right = r"(?!\w)" if folded and _spaced(folded[-1]) else ""
    return re.compile(left + body + right)


def _fold(text: str) -> tuple[str, list[int]]:
    """Return ``text`` casefolded without accents, and each folded char's index in ``text``."""
    chars, origin = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch.casefold()):
            if not unicodedata.combining(c):
                chars.append(c)
                origin.append(i)
    return "".join(chars), origin


def _spaced(ch: str) -> bool:
    """Return whether ``ch`` belongs to a script that separates words (needs boundaries)."""
    if not ch.isalnum():
        return False
    code = ord(ch)
    cjk = (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xF900 <= code <= 0xFAFF
        or code >= 0x20000
    )
    return not cjk


def _capitalized_like(form: str, occurrence: str, term: str) -> str:
    # "the Lu Group" at the start of a sentence is "The Lu Group"; its form follows suit.
    if occurrence[:1].isupper() and term[:1].islower() and form[:1].islower():
        return form[:1].upper() + form[1:]
    return form


def _placeholder(n: int, text: str) -> str:
    letters = ""
    while True:
        letters = chr(ord("a") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            break
    candidate = _PLACEHOLDER_STEM + letters
    while candidate.casefold() in text.casefold():
        candidate = candidate.replace(_PLACEHOLDER_STEM, _PLACEHOLDER_STEM + "q", 1)
    return candidate
