"""Start localizing an episode: check the request, then queue its jobs.

Everything that can be refused is refused here, before any job exists: an unknown
episode, a malformed language, a language pair no installed backend translates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.jobs import enqueue
from hookline.models import Job, JobStatus, Localization, LocalizationStatus, User
from hookline.settings import Settings
from localization.jobs import LOCALIZE, queue_transcription
from localization.translation import canonical_language, choose_translator
from localization.workspace import load_episode

MAX_LANGUAGES = 30


@dataclass(frozen=True)
class Started:
    languages: tuple[str, ...]
    jobs: tuple[Job, ...]


def parse_languages(text: str | Iterable[str]) -> list[str]:
    """Read "es, pt-BR,id" (or a list) into canonical BCP-47 tags, in order, without repeats."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    tags = [canonical_language(part.strip()) for part in parts if part.strip()]
    if not tags:
        raise InvalidInput("Name at least one language, e.g. es, pt-BR, id.")
    if len(tags) > MAX_LANGUAGES:
        raise InvalidInput(f"At most {MAX_LANGUAGES} languages at once.")
    return list(dict.fromkeys(tags))


def start(
    session: Session,
    settings: Settings,
    episode_id: int,
    languages: str | Iterable[str],
    *,
    dub: bool = True,
    burn: bool = False,
    actor: User | None = None,
) -> Started:
    """Queue the localization of an episode into ``languages`` (and its source track)."""
    media = load_episode(session, episode_id)
    source = canonical_language(media.series.source_language)
    targets = [tag for tag in parse_languages(languages) if tag != source]
    for target in targets:
        with choose_translator(settings, source, target):
            pass  # raises UnsupportedLanguage naming what is installed
    jobs = [queue_transcription(session, settings, media)]
    jobs += [_queue(session, episode_id, source, dub=False, burn=burn)]
    jobs += [_queue(session, episode_id, tag, dub=dub, burn=burn) for tag in targets]
    audit.record(
        session,
        actor=actor,
        action="localization.start",
        entity_type="episode",
        entity_id=episode_id,
        after={"languages": targets, "dub": dub, "burn": burn},
    )
    session.flush()
    return Started((source, *targets), tuple(jobs))


def _queue(session: Session, episode_id: int, language: str, *, dub: bool, burn: bool) -> Job:
    """Mark the localization pending and queue its job, unless one is already on its way."""
    loc = session.exec(
        select(Localization).where(
            Localization.episode_id == episode_id, Localization.language == language
        )
    ).first() or Localization(episode_id=episode_id, language=language)
    waiting = _active_job(session, episode_id, language)
    if waiting is not None:
        return waiting
    loc.status, loc.error, loc.stage, loc.progress = LocalizationStatus.PENDING, None, "queued", 0.0
    loc.options, loc.updated_at = {"dub": dub, "burn": burn}, utcnow()
    session.add(loc)
    payload = {"episode_id": episode_id, "language": language, "dub": dub, "burn": burn}
    return enqueue(session, LOCALIZE, payload)


def _active_job(session: Session, episode_id: int, language: str) -> Job | None:
    active = session.exec(
        select(Job).where(
            Job.kind == LOCALIZE,
            Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),  # type: ignore[attr-defined]
        )
    ).all()
    return next(
        (
            j
            for j in active
            if j.payload.get("episode_id") == episode_id and j.payload.get("language") == language
        ),
        None,
    )


def redub(session: Session, localization_id: int, *, actor: User | None = None) -> Job:
    """Queue a re-run of a localization after edits: only what changed is made again.

    Every stage is cached by its inputs, so unchanged lines keep their voice and fit; the
    edited lines are voiced and fitted again, then the mix and the cuts are re-rendered.
    Until it succeeds the last good cut stays in place.
    """
    loc = session.get(Localization, localization_id)
    if loc is None:
        raise NotFound(f"No localization {localization_id}.")
    waiting = _active_job(session, loc.episode_id, loc.language)
    if waiting is not None:
        raise Conflict(
            f"The {loc.language} localization is already being rendered (job {waiting.id}); "
            "wait for it to finish."
        )
    if loc.status in (LocalizationStatus.PENDING, LocalizationStatus.RUNNING):
        raise Conflict(f"The {loc.language} localization has not finished its first run yet.")
    options = {"dub": bool(loc.options.get("dub", not loc.is_source)), **loc.options}
    payload = {
        "episode_id": loc.episode_id,
        "language": loc.language,
        "dub": options["dub"],
        "burn": bool(options.get("burn", False)),
        "redub": True,
    }
    job = enqueue(session, LOCALIZE, payload)
    loc.stage, loc.progress, loc.updated_at = "re-dub queued", 0.0, utcnow()
    session.add(loc)
    audit.record(
        session,
        actor=actor,
        action="localization.redub",
        entity_type="localization",
        entity_id=loc.id,
        after={"job_id": job.id},
    )
    return job
