"""The localization pipeline's job kinds: transcribe an episode, localize it into a language.

Transcription runs once per episode (its job key names the transcript's inputs); a
language job that finds no transcript yet enqueues that job and waits for it without
spending attempts.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from hookline.clock import utcnow
from hookline.errors import HooklineError, InvalidInput, PermanentJobError, RetryLater
from hookline.jobs import JobContext, enqueue, job, retry_now
from hookline.models import Job, JobStatus, Localization, LocalizationStatus, Transcript
from hookline.settings import Settings
from localization import pipeline, source
from localization.workspace import EpisodeMedia, Workspace, load_episode

TRANSCRIBE = "localization.transcribe"
LOCALIZE = "localization.localize"


@contextlib.contextmanager
def workspace(ctx: JobContext) -> Iterator[Workspace]:
    scratch = ctx.settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix=f"job-{ctx.job_id}-") as folder:
        yield Workspace(
            db=ctx.db,
            settings=ctx.settings,
            store=ctx.store,
            folder=Path(folder),
            report=lambda fraction, stage: ctx.progress(100 * fraction, stage),
        )


def queue_transcription(
    session: Session, settings: Settings, media: EpisodeMedia, *, from_job: bool = False
) -> Job:
    """Queue the episode's transcription, once per set of inputs (its key says which)."""
    inputs = source.transcript_key(settings, media)
    key = f"transcribe:{media.episode.id}:{inputs[:32]}"
    # Ahead of the language jobs, which all wait for it.
    job = enqueue(session, TRANSCRIBE, {"episode_id": media.episode.id}, key=key, priority=10)
    if job.status in (JobStatus.CANCELLED, JobStatus.DEAD) and not from_job:
        # Asked again after a cancel or a failure: run it again rather than report the old end.
        job = retry_now(session, job.id)
    return job


@job(TRANSCRIBE, max_attempts=3)
def transcribe_episode(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Transcribe an episode (or align its script) once, for all its languages."""
    with workspace(ctx) as ws:
        with ws.db.session() as session:
            media = load_episode(session, payload["episode_id"])
        try:
            transcript = source.transcribe(ws, media)
        except InvalidInput as error:  # bad audio or a mismatched script: retrying cannot help
            raise PermanentJobError(error.message) from error
        finally:
            _wake_languages(ws, media.episode.id)
    return {"transcript_id": transcript.id, "source": transcript.source}


def _wake_languages(ws: Workspace, episode_id: int) -> None:
    """Let the episode's waiting language jobs run now rather than at their next look."""
    now = utcnow()
    with ws.db.transaction() as session:
        waiting = session.exec(
            select(Job).where(Job.kind == LOCALIZE, Job.status == JobStatus.QUEUED.value)
        ).all()
        for job in waiting:
            if job.payload.get("episode_id") == episode_id and job.run_at > now:
                job.run_at = now
                session.add(job)


@job(LOCALIZE, max_attempts=3, parallel_setting="localize_parallel")
def localize_language(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Translate, subtitle, dub and render an episode in one language."""
    request = pipeline.Request(
        episode_id=payload["episode_id"],
        language=payload["language"],
        dub=payload.get("dub", True),
        burn=payload.get("burn", False),
        redub=payload.get("redub", False),
    )
    with workspace(ctx) as ws:
        with ws.db.session() as session:
            media = load_episode(session, request.episode_id)
        # A re-dub keeps the transcript the lines came from, even if a bible change since
        # would make a fresh transcription differ: the reviewer's lines are the truth now.
        transcript_id = (request.redub and _latest_transcript(ws, media.episode.id)) or (
            _transcript_or_wait(ctx, ws, media)
        )
        try:
            pipeline.localize(ws, media, transcript_id, request)
        except HooklineError as error:
            _record_failure(ws, request, error.message)
            if isinstance(error, InvalidInput):
                raise PermanentJobError(error.message) from error
            raise
    return {"episode_id": request.episode_id, "language": request.language}


def _transcript_or_wait(ctx: JobContext, ws: Workspace, media: EpisodeMedia) -> int:
    """Return the episode's transcript id, or make sure it is on its way and wait for it."""
    key = source.transcript_key(ws.settings, media)
    with ws.db.transaction() as session:
        transcript = source.find_transcript(session, media.episode.id, key)
        if transcript is not None:
            return transcript.id  # type: ignore[return-value]
        upstream = queue_transcription(session, ws.settings, media, from_job=True)
    if upstream.status in (JobStatus.DEAD, JobStatus.CANCELLED):
        reason = (upstream.last_error or upstream.status).splitlines()[0]
        _record_failure(ws, _request_of(ctx), f"transcription failed: {reason}")
        raise PermanentJobError(f"The episode's transcription (job {upstream.id}) failed: {reason}")
    raise RetryLater(f"waiting for the transcript (job {upstream.id})", delay_s=2.0)


def _latest_transcript(ws: Workspace, episode_id: int) -> int | None:
    with ws.db.session() as session:
        return session.exec(
            select(Transcript.id)
            .where(Transcript.episode_id == episode_id)
            .order_by(col(Transcript.id).desc())
        ).first()


def _request_of(ctx: JobContext) -> pipeline.Request:
    with ctx.db.session() as session:
        payload = session.get_one(Job, ctx.job_id).payload
    return pipeline.Request(payload["episode_id"], payload["language"])


def _record_failure(ws: Workspace, request: pipeline.Request, message: str) -> None:
    """Show why on the localization; the other languages and episodes carry on.

    A failed re-dub leaves the localization reviewable: its last good cut stays in place.
    """
    with ws.db.transaction() as session:
        loc = session.exec(
            select(Localization).where(
                Localization.episode_id == request.episode_id,
                Localization.language == request.language,
            )
        ).first()
        if loc is None:
            return
        if request.redub:
            loc.status = LocalizationStatus.NEEDS_REVIEW
            loc.stage, loc.progress = "re-dub failed", 0.0
            message = (
                f"The re-dub failed: {message} The cut shown is the last good one; fix the "
                "cause and re-dub again."
            )
        else:
            loc.status = LocalizationStatus.FAILED
        loc.error, loc.updated_at = message, utcnow()
        session.add(loc)
