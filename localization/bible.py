"""Edit a series bible from the review page: glossary terms and the characters' voices.

The bible feeds translation (terms, forms of address) and casting (one voice per
character and language), so a change here shows up at the next re-dub.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from hookline import audit
from hookline.errors import InvalidInput, NotFound
from hookline.models import Character, Gender, Series, Term, User
from localization.translation import canonical_language

TERM_KINDS = ("name", "place", "organisation", "address", "term")
# espeak-ng voice names: a language tag, optionally "+variant" (es+f3, pt-br+m2).
VOICE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*(\+[a-z0-9]{1,16})?$", re.IGNORECASE)


def save_term(
    session: Session,
    series_id: int,
    term: str,
    *,
    kind: str = "term",
    note: str = "",
    translations: dict[str, str] | None = None,
    actor: User | None,
) -> Term:
    """Add a term to the glossary, or change the one spelled the same way."""
    _series(session, series_id)
    term = term.strip()
    if not term:
        raise InvalidInput("Name the term (e.g. a character's name or a place).")
    if len(term) > 200:
        raise InvalidInput("A term is at most 200 characters.")
    if kind not in TERM_KINDS:
        raise InvalidInput(f"A term's kind is one of {', '.join(TERM_KINDS)}.")
    cleaned = {
        canonical_language(language): text.strip()
        for language, text in (translations or {}).items()
        if language.strip() and text.strip()
    }
    row = session.exec(
        select(Term).where(Term.series_id == series_id, Term.term == term)
    ).first() or Term(series_id=series_id, term=term)
    before = {"kind": row.kind, "note": row.note, "translations": dict(row.translations)}
    row.kind, row.note = kind, note.strip()[:1000]
    row.translations = {**row.translations, **cleaned}
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="bible.term",
        entity_type="term",
        entity_id=row.id,
        before=before if row.id else None,
        after={"term": term, "kind": kind, "note": row.note, "translations": row.translations},
    )
    return row


def delete_term(session: Session, term_id: int, *, actor: User | None) -> None:
    row = session.get(Term, term_id)
    if row is None:
        raise NotFound(f"No term {term_id}: it may have been deleted already.")
    audit.record(
        session,
        actor=actor,
        action="bible.term_delete",
        entity_type="term",
        entity_id=term_id,
        before={"term": row.term, "translations": row.translations},
    )
    session.delete(row)


def save_character(
    session: Session,
    character_id: int,
    *,
    gender: str | None = None,
    description: str | None = None,
    language: str | None = None,
    voice: str | None = None,
    actor: User | None,
) -> Character:
    """Change a character's gender, description, or voice in one language."""
    row = session.get(Character, character_id)
    if row is None:
        raise NotFound(f"No character {character_id}.")
    before = {"gender": row.gender, "description": row.description, "voices": dict(row.voices)}
    if gender is not None:
        if gender not in {g.value for g in Gender}:
            raise InvalidInput(f"Gender is one of {', '.join(g.value for g in Gender)}.")
        row.gender = gender
    if description is not None:
        row.description = description.strip()[:2000]
    if voice is not None and voice.strip():
        if not language:
            raise InvalidInput("Say which language the voice is for.")
        _check_voice(voice.strip())
        tag = canonical_language(language)
        current = dict(row.voices.get(tag) or {})
        row.voices = {**row.voices, tag: {**current, "backend": "espeak", "voice": voice.strip()}}
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="bible.character",
        entity_type="character",
        entity_id=row.id,
        before=before,
        after={"gender": row.gender, "description": row.description, "voices": row.voices},
    )
    return row


def _check_voice(voice: str) -> None:
    """Refuse a voice espeak-ng does not have now, not at the next re-dub."""
    from localization import espeak

    hint = "use an espeak-ng voice such as es+f3 or en+m2"
    if not VOICE.match(voice):
        raise InvalidInput(f"{voice!r} is not a voice name; {hint}.")
    try:
        espeak.synthesize("a", voice=voice)
    except espeak.TTSError as error:
        raise InvalidInput(f"{error.message}; {hint}.") from None


def _series(session: Session, series_id: int) -> Series:
    series = session.get(Series, series_id)
    if series is None:
        raise NotFound(f"No series {series_id}.")
    return series
