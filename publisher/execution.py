"""Publishing one publication: the steps, their persisted state, and what to do on failure.

The job may be killed at any moment and run again; everything it needs to resume is
in the publication row (``phase`` and ``upload_state``), written after every step and
every acknowledged chunk. ``finishing`` marks the one step that creates a post: a run
that finds it set asks the platform whether the post exists before creating it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from hookline.clock import utcnow
from hookline.db import Database
from hookline.errors import PermanentJobError, RetryLater
from hookline.models import (
    Channel,
    ChannelStatus,
    Localization,
    LocalizedCut,
    Publication,
    PublicationAttempt,
    PublicationStatus,
    QuotaSpend,
)
from hookline.settings import Settings
from hookline.storage import MediaStore
from publisher import channels, registry
from publisher.errors import ChannelNeedsReconnect
from publisher.platforms.base import Media, PlatformClient, PlatformError, PostMeta, Tokens
from publisher.scheduling import captions_of, media_of, meta_of, quota_room

log = logging.getLogger(__name__)

DONE = (PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED, PublicationStatus.FAILED)
# Short waits are slept through; longer ones hand the job back to the queue.
SLEEP_AT_MOST_S = 15.0
STEP_TRIES = 4  # transient failures of one step before the job retries with backoff
# Processing checks: soon after the post is created, then less often (a platform may take
# seconds for a short clip, many minutes for a long one).
POLL_FIRST_S = 0.5
POLL_MAX_S = 60.0


@dataclass
class Run:
    """One run of a publication's job."""

    db: Database
    settings: Settings
    publication_id: int
    progress: Callable[[float, str], None]
    clock: Callable[[], datetime] = utcnow


def publish(run: Run) -> dict[str, Any]:
    """Take the publication as far as it can go now; raise RetryLater to come back later."""
    with run.db.session() as session:
        publication = session.get_one(Publication, run.publication_id)
        if publication.status in DONE or publication.status == PublicationStatus.HELD:
            return {"status": publication.status}
        channel = session.get_one(Channel, publication.channel_id)
        media, meta = _post(session, run, publication)
        starting = publication.phase == "new" and publication.status == PublicationStatus.SCHEDULED
        late_s = (run.clock() - publication.scheduled_at).total_seconds()
    if starting:
        _record(run, "start", "info", message=f"started {max(0.0, late_s):.1f} s after its time")
    client = registry.client_for(channel, run.settings)
    try:
        return _steps(run, client, media, meta)
    finally:
        client.close()


def _post(session: Session, run: Run, publication: Publication) -> tuple[Media, PostMeta]:
    store = MediaStore(run.settings.media_root)
    cut = session.get_one(LocalizedCut, publication.cut_id)
    localization = session.get_one(Localization, cut.localization_id)
    publish_at = publication.scheduled_at if publication.scheduled_at > run.clock() else None
    meta = meta_of(
        publication, publication.language, captions_of(session, store, localization), publish_at
    )
    return media_of(session, store, cut), meta


def _steps(run: Run, client: PlatformClient, media: Media, meta: PostMeta) -> dict[str, Any]:
    for _ in range(100):  # each pass advances one phase; the bound only guards against a loop
        phase = _phase(run)
        if phase == "done":
            return {"status": "published"}
        _attempt_step(run, client, media, meta, phase)
    raise RuntimeError("publishing did not settle")


def _attempt_step(
    run: Run, client: PlatformClient, media: Media, meta: PostMeta, phase: str
) -> None:
    for attempt in range(1, STEP_TRIES + 1):
        try:
            tokens = _tokens(run, client)
            STEPS[phase](run, client, tokens, media, meta)
            return
        except PlatformError as error:
            if not _handle(run, client, error, phase, attempt):
                raise
    raise RetryLater(f"{phase}: still failing after {STEP_TRIES} tries", delay_s=30.0)


def _handle(
    run: Run, client: PlatformClient, error: PlatformError, phase: str, attempt: int
) -> bool:
    """React to a platform error; return True to try the step again now."""
    _record(run, phase, "error", error)
    if error.kind == "auth":
        with run.db.session() as session:
            channel = session.get_one(Channel, _channel_id(run))
            current = _current_tokens(run, channel)
            try:
                channels.refresh(session, channel, run.settings, client, current, now=run.clock())
                refused = False
            except ChannelNeedsReconnect:
                refused = True
            session.commit()  # the rotated tokens, or the channel marked for reconnecting
        if refused:
            _hold(run, channel)  # after the commit: SQLite allows one transaction per thread
        return True
    if error.kind == "expired_session":
        _update(run, phase="new", upload_state={}, note="the upload session expired; starting over")
        return True
    if error.kind == "quota":
        _defer(run, error)
    if error.kind == "rate":
        wait = error.retry_after or 5.0
        if wait > SLEEP_AT_MOST_S:
            raise RetryLater(
                f"rate limited by {client.display_name}; retrying in {wait:.0f} s", delay_s=wait
            )
        time.sleep(wait)
        return True
    if error.kind == "transient" and attempt < STEP_TRIES:
        time.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
        return True
    if error.kind == "permanent":
        _fail(run, error)
    return False


# -- the steps ------------------------------------------------------------------------------


def _begin(run: Run, client: PlatformClient, tokens: Tokens, media: Media, meta: PostMeta) -> None:
    _check_quotas(run, client, meta)
    state = client.begin(tokens, media, meta)
    _spend_quotas(run, client, meta)
    _update(run, phase="uploading", upload_state=state, status=PublicationStatus.UPLOADING)
    _record(run, "begin", "ok", message="upload session opened")


def _upload(run: Run, client: PlatformClient, tokens: Tokens, media: Media, meta: PostMeta) -> None:
    state = _state(run)
    all_acknowledged: list[float] = []

    def acknowledged(done: int, total: int) -> None:
        if done >= total:
            all_acknowledged.append(time.perf_counter())
        _update(run, upload_state=state, bytes_sent=done, checkpoint=True)
        run.progress(
            80 * done / max(1, total), f"uploaded {done // 1_000_000} of {total // 1_000_000} MB"
        )

    started = time.perf_counter()
    client.upload(tokens, state, media, progress=acknowledged)
    # The transfer: until the platform acknowledged the last byte, not the closing call
    # some protocols make afterwards (Douyin's complete probes the file).
    took = (all_acknowledged[0] if all_acknowledged else time.perf_counter()) - started
    _update(run, phase="uploaded", upload_state=state, bytes_sent=media.size)
    _record(
        run,
        "upload",
        "ok",
        message=f"{media.size} bytes acknowledged in {took:.3f} s "
        f"({media.size / max(took, 1e-6) / 1e6:.1f} MB/s)",
    )


def _finish(run: Run, client: PlatformClient, tokens: Tokens, media: Media, meta: PostMeta) -> None:
    state = _state(run)
    _update(run, phase="finishing")  # from here a lost answer may hide a created post
    client.finish(tokens, state, media, meta)
    _update(run, phase="submitted", upload_state=state, status=PublicationStatus.PROCESSING)
    _record(run, "finish", "ok", message="post created")


def _confirm(
    run: Run, client: PlatformClient, tokens: Tokens, media: Media, meta: PostMeta
) -> None:
    """An earlier finish may have worked: ask before creating the post again."""
    state = _state(run)
    if client.find_post(tokens, state):
        _update(run, phase="submitted", upload_state=state, status=PublicationStatus.PROCESSING)
        _record(run, "finish", "ok", message="the platform already had the post: not posted again")
        return
    _finish(run, client, tokens, media, meta)


def _poll(run: Run, client: PlatformClient, tokens: Tokens, media: Media, meta: PostMeta) -> None:
    remote = client.status(tokens, _state(run))
    if remote.status in ("published", "scheduled"):
        _update(
            run,
            phase="done",
            status=PublicationStatus.PUBLISHED,
            remote_id=remote.remote_id,
            remote_url=remote.url,
            published_at=run.clock(),
        )
        _record(run, "status", "ok", message=f"{remote.status} at {remote.url or remote.remote_id}")
        run.progress(100, remote.status)
        return
    if remote.status == "failed":
        _fail(
            run,
            PlatformError(
                client.name,
                remote.reason or "processing failed",
                kind="permanent",
                code=remote.code,
            ),
        )
    state = _state(run)
    polls = int(state.get("polls", 0))
    state["polls"] = polls + 1
    _update(run, upload_state=state)
    run.progress(90, f"{client.display_name} is processing")
    raise RetryLater(
        f"{client.display_name} is processing the video",
        delay_s=min(POLL_MAX_S, POLL_FIRST_S * 2**polls),
    )


STEPS = {
    "new": _begin,
    "uploading": _upload,
    "uploaded": _finish,
    "finishing": _confirm,
    "submitted": _poll,
}


# -- tokens, quotas ----------------------------------------------------------------------------


def _tokens(run: Run, client: PlatformClient) -> Tokens:
    fresh: Tokens | None = None
    with run.db.session() as session:
        channel = session.get_one(Channel, _channel_id(run))
        if channel.status != ChannelStatus.RECONNECT_NEEDED:
            try:
                fresh = channels.fresh_tokens(
                    session, channel, run.settings, client, now=run.clock()
                )
            except ChannelNeedsReconnect:
                fresh = None
        session.commit()  # rotated tokens, or the channel marked for reconnecting
    if fresh is None:
        _hold(run, channel)  # after the commit: SQLite allows one transaction per thread
    return fresh


def _current_tokens(run: Run, channel: Channel) -> Tokens:
    from publisher import tokens

    return tokens.unseal(run.settings, channel.token_ciphertext, channel=channel.name)


def _hold(run: Run, channel: Channel) -> None:
    with run.db.transaction() as session:
        publication = session.get_one(Publication, run.publication_id)
        publication.status = PublicationStatus.HELD
        publication.error_message = (
            f"Held: {channel.name} needs reconnecting. {channel.reconnect_reason}".strip()
        )
        session.add(publication)
    _record(run, "tokens", "held", message=f"{channel.name} needs reconnecting")
    raise Held


class Held(Exception):
    """The publication waits for its channel to be reconnected (the job ends quietly)."""


def _check_quotas(run: Run, client: PlatformClient, meta: PostMeta) -> None:
    channel_id = _channel_id(run)
    with run.db.session() as session:
        full = [
            (quota, reopens)
            for quota in client.quotas(meta)
            if (reopens := quota_room(session, channel_id, quota, now=run.clock())) is not None
        ]
    # Deferring writes: only once the reading session is closed (one transaction per thread).
    if full:
        quota, reopens = full[0]
        _defer(
            run,
            PlatformError(
                client.name,
                f"{quota.bucket} is used up ({quota.limit} per {quota.window.replace('_', ' ')})",
                kind="quota",
                retry_after=(reopens - run.clock()).total_seconds(),
            ),
        )


def _spend_quotas(run: Run, client: PlatformClient, meta: PostMeta) -> None:
    channel_id = _channel_id(run)
    with run.db.transaction() as session:
        for quota in client.quotas(meta):
            session.add(
                QuotaSpend(
                    channel_id=channel_id,
                    bucket=quota.bucket,
                    cost=quota.cost,
                    at=run.clock(),
                    publication_id=run.publication_id,
                )
            )


def _defer(run: Run, error: PlatformError) -> None:
    wait = max(60.0, error.retry_after or 3600.0)
    until = run.clock() + timedelta(seconds=wait)
    reason = f"Deferred until {until:%Y-%m-%d %H:%M} UTC: {error.message}"
    _update(
        run,
        status=PublicationStatus.DEFERRED,
        error_code=error.code or "quota",
        error_message=reason,
    )
    _record(run, "quota", "deferred", error, message=reason)
    raise RetryLater(reason, delay_s=wait)


def _fail(run: Run, error: PlatformError) -> None:
    plain = f"{error.platform} refused it: {error.message}"
    _update(
        run,
        phase="done-failed",
        status=PublicationStatus.FAILED,
        error_code=error.code or str(error.status or ""),
        error_message=plain,
    )
    _record(run, "failed", "error", error, message=plain)
    raise PermanentJobError(plain)


# -- the publication row --------------------------------------------------------------------


def _phase(run: Run) -> str:
    with run.db.session() as session:
        publication = session.get_one(Publication, run.publication_id)
        if publication.phase == "done-failed":
            raise PermanentJobError(publication.error_message or "failed")
        return publication.phase


def _state(run: Run) -> dict[str, Any]:
    with run.db.session() as session:
        return dict(session.get_one(Publication, run.publication_id).upload_state)


def _channel_id(run: Run) -> int:
    with run.db.session() as session:
        return session.get_one(Publication, run.publication_id).channel_id


def _update(run: Run, note: str = "", *, checkpoint: bool = False, **values: Any) -> None:
    with run.db.transaction(checkpoint=checkpoint) as session:
        publication = session.get_one(Publication, run.publication_id)
        for name, value in values.items():
            setattr(publication, name, dict(value) if isinstance(value, dict) else value)
        publication.updated_at = run.clock()
        session.add(publication)
    if note:
        _record(run, values.get("phase", "note"), "info", message=note)


def _record(
    run: Run, step: str, outcome: str, error: PlatformError | None = None, *, message: str = ""
) -> None:
    with run.db.transaction() as session:
        publication = session.get_one(Publication, run.publication_id)
        session.add(
            PublicationAttempt(
                publication_id=run.publication_id,
                at=run.clock(),
                step=step,
                outcome=outcome,
                bytes_sent=publication.bytes_sent,
                http_status=error.status if error else None,
                code=(error.code if error else "")[:100],
                message=message or (error.message if error else ""),
            )
        )


def give_up(run: Run, error: BaseException) -> None:
    """After the last attempt: mark the publication failed with the reason, as it stands."""
    reason = getattr(error, "message", None) or str(error)
    _update(
        run,
        status=PublicationStatus.FAILED,
        error_message=f"Gave up after repeated failures: {reason}",
    )
    _record(run, "failed", "error", message=f"gave up: {reason}")
