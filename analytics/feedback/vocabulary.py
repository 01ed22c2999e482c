"""The hook and trope vocabularies, tagging episodes with them, and suggestions from transcripts.

Terms are rows of ``feedback_terms``; episodes store the names. Renaming a term renames it
on every episode that carries it; retiring one keeps old tags readable but stops new ones.
A suggestion is a term whose keywords occur in the episode's transcript; it becomes a tag
only when a person confirms it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.models import (
    Episode,
    FeedbackTerm,
    TermKind,
    Transcript,
    TranscriptSegment,
)

NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_KEYWORDS = 40


def terms(session: Session, kind: str, *, retired: bool = False) -> list[FeedbackTerm]:
    """The terms of one vocabulary by name; retired ones only when asked."""
    _check_kind(kind)
    query = select(FeedbackTerm).where(FeedbackTerm.kind == kind)
    if not retired:
        query = query.where(col(FeedbackTerm.retired).is_(False))
    return list(session.exec(query.order_by(col(FeedbackTerm.name))).all())


def names(session: Session, kind: str) -> list[str]:
    """The names a new tag may use (retired terms left out)."""
    return [t.name for t in terms(session, kind)]


def add_term(
    session: Session, kind: str, name: str, *, label: str = "", keywords: str | list[str] = ""
) -> FeedbackTerm:
    """Add a term; a name already there (retired or not) is a conflict."""
    _check_kind(kind)
    name = _check_name(name)
    if _find(session, kind, name) is not None:
        raise Conflict(f"The {kind} {name!r} is already in the vocabulary.")
    term = FeedbackTerm(
        kind=kind, name=name, label=label.strip()[:200] or name.replace("_", " "),
        keywords=parse_keywords(keywords),
    )  # fmt: skip
    session.add(term)
    session.flush()
    return term


def update_term(
    session: Session,
    term_id: int,
    *,
    name: str | None = None,
    label: str | None = None,
    keywords: str | list[str] | None = None,
    retired: bool | None = None,
) -> FeedbackTerm:
    """Rename, relabel, change the keywords of, retire or restore a term."""
    term = session.get(FeedbackTerm, term_id)
    if term is None:
        raise NotFound(f"No vocabulary term {term_id}.")
    if name is not None and name.strip() != term.name:
        _rename(session, term, _check_name(name))
    if label is not None:
        term.label = label.strip()[:200] or term.name.replace("_", " ")
    if keywords is not None:
        term.keywords = parse_keywords(keywords)
    if retired is not None:
        term.retired = retired
    term.updated_at = utcnow()
    session.add(term)
    session.flush()
    return term


def _rename(session: Session, term: FeedbackTerm, new: str) -> None:
    if _find(session, term.kind, new) is not None:
        raise Conflict(f"The {term.kind} {new!r} is already in the vocabulary.")
    old = term.name
    if term.kind == TermKind.HOOK:
        for episode in session.exec(select(Episode).where(Episode.hook_type == old)).all():
            episode.hook_type = new
            session.add(episode)
    else:
        # Tropes are a JSON list: read the candidates, rewrite those that carry the name.
        for episode in session.exec(select(Episode)).all():
            if old in episode.tropes:
                episode.tropes = [new if t == old else t for t in episode.tropes]
                session.add(episode)
    term.name = new


def parse_keywords(raw: str | list[str]) -> list[str]:
    """Keywords from a comma- or line-separated string (or a list): trimmed, lowercased, unique."""
    items = raw if isinstance(raw, list) else re.split(r"[,\n]", raw)
    out = list(dict.fromkeys(k.strip().lower() for k in items if k and k.strip()))
    if len(out) > MAX_KEYWORDS:
        raise InvalidInput(f"At most {MAX_KEYWORDS} keywords per term; {len(out)} were given.")
    return out


def tag_episode(
    session: Session, episode_id: int, *, hook: str | None, tropes: list[str]
) -> Episode:
    """Set an episode's hook (None clears it) and tropes; unknown names are refused."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound(f"No episode {episode_id}.")
    hook = (hook or "").strip() or None
    if hook is not None:
        _check_known(session, TermKind.HOOK, [hook])
    tropes = list(dict.fromkeys(t.strip() for t in tropes if t.strip()))
    _check_known(session, TermKind.TROPE, tropes)
    episode.hook_type = hook
    episode.tropes = tropes
    episode.updated_at = utcnow()
    session.add(episode)
    session.flush()
    return episode


def _check_known(session: Session, kind: str, given: list[str]) -> None:
    known = names(session, kind)
    unknown = [g for g in given if g not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown {kind} {', '.join(map(repr, unknown))}; known {kind}s: "
            f"{', '.join(known) or 'none yet (add some on the vocabulary page)'}.",
            detail={"unknown": unknown, "known": known},
        )


@dataclass
class Suggestion:
    kind: str
    name: str
    label: str
    matches: list[str]  # the keywords found
    lines: list[str]  # up to three transcript lines that carry them

    @property
    def score(self) -> int:
        return len(self.lines)


def suggest(session: Session, episode_id: int) -> list[Suggestion]:
    """Terms whose keywords occur in the episode's transcript, most lines first."""
    if session.get(Episode, episode_id) is None:
        raise NotFound(f"No episode {episode_id}.")
    lines = transcript_lines(session, episode_id)
    found = []
    for kind in TermKind.ALL:
        for term in terms(session, kind):
            suggestion = _match(term, lines)
            if suggestion is not None:
                found.append(suggestion)
    return sorted(found, key=lambda s: (s.kind, -s.score, s.name))


def transcript_lines(session: Session, episode_id: int) -> list[str]:
    """The text of the episode's transcript segments, in order (the newest transcript)."""
    transcript = session.exec(
        select(Transcript)
        .where(Transcript.episode_id == episode_id)
        .order_by(col(Transcript.id).desc())
    ).first()
    if transcript is None:
        return []
    segments = session.exec(
        select(TranscriptSegment)
        .where(TranscriptSegment.transcript_id == transcript.id)
        .order_by(col(TranscriptSegment.position))
    ).all()
    return [s.text for s in segments]


def _match(term: FeedbackTerm, lines: list[str]) -> Suggestion | None:
    patterns = {k: re.compile(rf"\b{re.escape(k)}", re.IGNORECASE) for k in term.keywords}
    matches: list[str] = []
    hits: list[str] = []
    for line in lines:
        found = [k for k, p in patterns.items() if p.search(line)]
        if found:
            hits.append(line)
            matches.extend(k for k in found if k not in matches)
    if not hits:
        return None
    return Suggestion(term.kind, term.name, term.label, matches, hits[:3])


def _find(session: Session, kind: str, name: str) -> FeedbackTerm | None:
    query = select(FeedbackTerm).where(FeedbackTerm.kind == kind, FeedbackTerm.name == name)
    return session.exec(query).first()


def _check_kind(kind: str) -> None:
    if kind not in TermKind.ALL:
        raise InvalidInput(f"Unknown vocabulary {kind!r}; use {' or '.join(TermKind.ALL)}.")


def _check_name(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a usable name: use 2-64 lowercase letters, digits and "
            "underscores, starting with a letter (e.g. betrayal_reveal)."
        )
    return name
