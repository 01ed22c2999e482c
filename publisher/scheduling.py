"""Scheduling: approved cuts on channels at times, refused up front when they cannot go out.

Times are entered in the channel's time zone and stored in UTC; a wall-clock time that
does not exist (the hour skipped when clocks go forward) is refused with the next valid
one, and one that happens twice (clocks go back) means its first occurrence.
"""

from __future__ import annotations

import secrets
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.jobs import enqueue
from hookline.models import (
    Channel,
    CutKind,
    Episode,
    Job,
    JobStatus,
    Localization,
    LocalizationStatus,
    LocalizedCut,
    MediaAsset,
    Publication,
    PublicationStatus,
    QuotaSpend,
    User,
)
from hookline.settings import Settings
from hookline.storage import MediaStore
from publisher import registry
from publisher.errors import Refused
from publisher.platforms.base import Caption, Media, PostMeta, Quota

PUBLISH = "publisher.publish"
# The cut a platform gets: the social cut with subtitles in the picture when there is one.
VIDEO_KINDS = (CutKind.BURNED_IN, CutKind.SOFT_SUBBED)
CHANGEABLE = (PublicationStatus.SCHEDULED, PublicationStatus.DEFERRED, PublicationStatus.HELD)
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class Draft:
    """What a person asks for: this cut, on this channel, at this local time, saying this."""

    cut_id: int
    channel_id: int
    local_time: datetime  # naive, in the channel's time zone
    title: str
    description: str = ""
    hashtags: tuple[str, ...] = ()
    privacy: str = "public"


# -- time ---------------------------------------------------------------------------------


def to_utc(local: datetime, zone: str) -> datetime:
    """Return the UTC instant of wall-clock ``local`` in ``zone``; refuse times that never occur."""
    tz = zoneinfo.ZoneInfo(zone)
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != local:  # skipped by a clock change: it round-trips to the time after the gap
        raise InvalidInput(
            f"{local:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks go forward); "
            f"choose another time, e.g. {back:%H:%M}."
        )
    return aware.astimezone(UTC)


def to_local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(zoneinfo.ZoneInfo(zone))


# -- one publication ------------------------------------------------------------------------


def media_of(session: Session, store: MediaStore, cut: LocalizedCut) -> Media:
    asset = session.get_one(MediaAsset, cut.asset_id)
    return Media(
        path=store.path_for(asset.sha256),
        size=asset.size_bytes,
        sha256=asset.sha256,
        duration_s=asset.duration_s or 0.0,
        width=asset.width or 0,
        height=asset.height or 0,
        video_codec=asset.video_codec or "",
        fps=asset.fps,
        mime_type=asset.mime_type,
    )


def captions_of(
    session: Session, store: MediaStore, localization: Localization
) -> tuple[Caption, ...]:
    srt = session.exec(
        select(LocalizedCut, MediaAsset)
        .join(MediaAsset, col(MediaAsset.id) == LocalizedCut.asset_id)
        .where(
            LocalizedCut.localization_id == localization.id,
            LocalizedCut.kind == CutKind.SUBTITLES_SRT,
        )
    ).first()
    if srt is None:
        return ()
    _, asset = srt
    return (Caption(localization.language, store.path_for(asset.sha256), localization.language),)


def meta_of(
    draft: Draft | Publication,
    language: str,
    captions: tuple[Caption, ...],
    publish_at: datetime | None,
) -> PostMeta:
    return PostMeta(
        title=draft.title,
        description=draft.description,
        hashtags=tuple(draft.hashtags),
        language=language,
        privacy=draft.privacy,
        publish_at=publish_at,
        captions=captions,
    )


def refusals(session: Session, settings: Settings, draft: Draft) -> list[str]:
    """Return every reason this draft cannot be scheduled (empty when it can)."""
    cut = session.get(LocalizedCut, draft.cut_id)
    channel = session.get(Channel, draft.channel_id)
    if cut is None:
        return [f"no cut {draft.cut_id}"]
    if channel is None:
        return [f"no channel {draft.channel_id}"]
    localization = session.get_one(Localization, cut.localization_id)
    reasons = []
    if localization.status != LocalizationStatus.APPROVED:
        reasons.append(
            f"the {localization.language} cut is {localization.status.replace('_', ' ')}, not "
            "approved: a reviewer approves it first"
        )
    if cut.kind not in VIDEO_KINDS:
        reasons.append(f"a {cut.kind.replace('_', ' ')} is not a video cut")
        return reasons
    if channel.language and localization.language != channel.language:
        reasons.append(
            f"the cut is in {localization.language} but {channel.name} publishes in "
            f"{channel.language}"
        )
    media = media_of(session, MediaStore(settings.media_root), cut)
    meta = meta_of(draft, localization.language, (), None)
    reasons += registry.client_class(channel.platform).refusals(media, meta)
    return reasons


def schedule(
    session: Session, settings: Settings, draft: Draft, *, actor: User | None = None
) -> Publication:
    """Create the publication and queue its job for the scheduled time."""
    reasons = refusals(session, settings, draft)
    if reasons:
        raise Refused(reasons)
    channel = session.get_one(Channel, draft.channel_id)
    cut = session.get_one(LocalizedCut, draft.cut_id)
    taken = session.exec(
        select(Publication).where(
            Publication.cut_id == draft.cut_id, Publication.channel_id == draft.channel_id
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"This cut is already on {channel.name} (publication {taken.id}, "
            f"{taken.status}): reschedule that one instead."
        )
    language = session.get_one(Localization, cut.localization_id).language
    publication = Publication(
        cut_id=draft.cut_id,
        channel_id=draft.channel_id,
        scheduled_at=to_utc(draft.local_time, channel.timezone),
        title=draft.title,
        description=draft.description,
        hashtags=list(draft.hashtags),
        language=language,
        privacy=draft.privacy,
        idempotency_key=f"pub-{secrets.token_hex(12)}",
    )
    session.add(publication)
    session.flush()
    queue_publication(session, publication, now=utcnow())
    audit.record(
        session,
        actor=actor,
        action="publication.schedule",
        entity_type="publication",
        entity_id=publication.id,
        after={"channel": channel.name, "at": publication.scheduled_at.isoformat()},
    )
    return publication


def queue_publication(session: Session, publication: Publication, *, now: datetime) -> Job:
    """Queue (or move) the publication's job to its time; a past time means now."""
    run_at = max(publication.scheduled_at, now)
    current = session.get(Job, publication.job_id) if publication.job_id else None
    if current is not None and current.status == JobStatus.QUEUED:
        current.run_at = run_at
        session.add(current)
        return current
    generation = secrets.token_hex(4)
    job = enqueue(
        session,
        PUBLISH,
        {"publication_id": publication.id},
        run_at=run_at,
        key=f"publish:{publication.id}:{generation}",
    )
    publication.job_id = job.id
    session.add(publication)
    return job


def reschedule(
    session: Session, publication_id: int, local_time: datetime, *, actor: User | None = None
) -> Publication:
    """Move a publication that has not started to another time (the channel's local time)."""
    publication = _publication(session, publication_id)
    if publication.status not in CHANGEABLE:
        raise Conflict(
            f"Publication {publication_id} is {publication.status}; only scheduled, deferred "
            "or held ones can be moved."
        )
    channel = session.get_one(Channel, publication.channel_id)
    before = publication.scheduled_at
    publication.scheduled_at = to_utc(local_time, channel.timezone)
    publication.updated_at = utcnow()
    session.add(publication)
    if publication.status != PublicationStatus.HELD:
        queue_publication(session, publication, now=utcnow())
    audit.record(
        session,
        actor=actor,
        action="publication.reschedule",
        entity_type="publication",
        entity_id=publication.id,
        before={"at": before.isoformat()},
        after={"at": publication.scheduled_at.isoformat()},
    )
    return publication


def cancel(session: Session, publication_id: int, *, actor: User | None = None) -> Publication:
    publication = _publication(session, publication_id)
    if publication.status not in CHANGEABLE:
        raise Conflict(
            f"Publication {publication_id} is {publication.status}; it cannot be cancelled now."
        )
    publication.status = PublicationStatus.CANCELLED
    session.add(publication)
    job = session.get(Job, publication.job_id) if publication.job_id else None
    if job is not None and job.status == JobStatus.QUEUED:
        job.status, job.finished_at = JobStatus.CANCELLED, utcnow()
        session.add(job)
    audit.record(
        session,
        actor=actor,
        action="publication.cancel",
        entity_type="publication",
        entity_id=publication.id,
    )
    return publication


def _publication(session: Session, publication_id: int) -> Publication:
    found = session.get(Publication, publication_id)
    if found is None:
        raise NotFound(f"No publication {publication_id}.")
    return found


# -- quotas and caps ---------------------------------------------------------------------------


def window_start(quota: Quota, now: datetime) -> datetime:
    if quota.window == "day_pacific":
        local = now.astimezone(PACIFIC)
        return datetime.combine(local.date(), time(0), PACIFIC).astimezone(UTC)
    if quota.window == "day_utc":
        return datetime.combine(now.date(), time(0), UTC)
    if quota.window == "minute":
        return now - timedelta(minutes=1)
    return now - timedelta(hours=24)


def window_end(quota: Quota, start: datetime) -> datetime:
    if quota.window == "day_pacific":
        next_day = start.astimezone(PACIFIC).date() + timedelta(days=1)
        return datetime.combine(next_day, time(0), PACIFIC).astimezone(UTC)
    if quota.window == "day_utc":
        return start + timedelta(days=1)
    return start + (timedelta(minutes=1) if quota.window == "minute" else timedelta(hours=24))


def quota_room(
    session: Session, channel_id: int, quota: Quota, *, now: datetime
) -> datetime | None:
    """Return None when ``quota`` has room now, else when it will (from persisted spends)."""
    start = window_start(quota, now)
    spends = session.exec(
        select(QuotaSpend)
        .where(
            QuotaSpend.channel_id == channel_id,
            QuotaSpend.bucket == quota.bucket,
            col(QuotaSpend.at) >= start,
        )
        .order_by(col(QuotaSpend.at))
    ).all()
    used = sum(s.cost for s in spends)
    if used + quota.cost <= quota.limit:
        return None
    if quota.window in ("rolling_24h", "minute"):
        # Room comes back when enough of the oldest spends leave the window.
        need, freed = used + quota.cost - quota.limit, 0
        for spend in spends:
            freed += spend.cost
            if freed >= need:
                return spend.at + (now - start)
    return window_end(quota, start)


# -- a season at once ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    """Episodes per day at these local times, from a start date, in episode order."""

    start: date
    times: tuple[time, ...]  # e.g. (19:00, 21:00) for two a day

    def slots(self) -> Iterable[tuple[date, time]]:
        day = self.start
        while True:
            for moment in self.times:
                yield day, moment
            day += timedelta(days=1)


@dataclass
class Slot:
    draft: Draft
    episode: int
    language: str
    channel: str
    at_utc: datetime | None
    refusals: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals and not self.conflicts and self.at_utc is not None


def plan_season(
    session: Session,
    settings: Settings,
    *,
    series_id: int,
    channel_ids: Sequence[int],
    cadence: Cadence,
    title: str = "{series} · {number}",
    description: str = "",
    hashtags: tuple[str, ...] = (),
) -> list[Slot]:
    """Lay the season's approved cuts on each channel by the cadence; say what would clash.

    Nothing is saved: the plan is shown first, with every refusal and every conflict
    with the platforms' caps and quotas, and saved with :func:`save_plan`.
    """
    channels = [session.get_one(Channel, i) for i in channel_ids]
    episodes = session.exec(
        select(Episode).where(Episode.series_id == series_id).order_by(Episode.number)
    ).all()
    slots: list[Slot] = []
    for channel in channels:
        times = cadence.slots()
        for episode in episodes:
            cut = episode_cut(session, episode.id, channel.language)
            day, moment = next(times)
            series_title = _series_title(session, series_id)
            draft = Draft(
                cut_id=cut.id if cut else 0,
                channel_id=channel.id,
                local_time=datetime.combine(day, moment),
                title=title.format(series=series_title, number=episode.number, title=episode.title),
                description=description,
                hashtags=hashtags,
            )
            slots.append(_slot(session, settings, draft, episode, channel, cut))
    _cap_conflicts(session, settings, slots, channels)
    return slots


def _slot(session, settings, draft, episode, channel, cut) -> Slot:
    slot = Slot(draft, episode.number, channel.language, channel.name, None)
    if cut is None:
        slot.refusals.append(f"episode {episode.number} has no {channel.language} cut yet")
        return slot
    try:
        slot.at_utc = to_utc(draft.local_time, channel.timezone)
    except InvalidInput as error:
        slot.refusals.append(error.message)
    slot.refusals += refusals(session, settings, draft)
    if session.exec(
        select(Publication).where(
            Publication.cut_id == cut.id, Publication.channel_id == channel.id
        )
    ).first():
        slot.refusals.append(f"already on {channel.name}")
    return slot


def _cap_conflicts(session, settings, slots: list[Slot], channels: Sequence[Channel]) -> None:
    """Mark slots that would exceed a platform's daily cap or quota."""
    for channel in channels:
        client = registry.client_for(channel, settings)
        try:
            mine = sorted(
                (s for s in slots if s.draft.channel_id == channel.id and s.at_utc),
                key=lambda s: s.at_utc,
            )  # type: ignore[arg-type,return-value]
            for slot in mine:
                for quota in client.quotas(meta_of(slot.draft, slot.language, (), None)):
                    _check_quota(session, channel, quota, slot, mine)
        finally:
            client.close()


def _check_quota(session, channel: Channel, quota: Quota, slot: Slot, mine: list[Slot]) -> None:
    start = window_start(quota, slot.at_utc)
    end = (
        window_end(quota, start)
        if quota.window.startswith("day")
        else slot.at_utc + timedelta(microseconds=1)
    )
    planned = sum(
        quota.cost
        for s in mine
        if s.at_utc and start <= s.at_utc < end and s is not slot and s.at_utc <= slot.at_utc
    )
    existing = session.exec(
        select(QuotaSpend).where(
            QuotaSpend.channel_id == channel.id,
            QuotaSpend.bucket == quota.bucket,
            col(QuotaSpend.at) >= start,
        )
    ).all()
    used = planned + sum(s.cost for s in existing) + quota.cost
    if used > quota.limit:
        what = {
            "day_pacific": "a day (Pacific time)",
            "day_utc": "a day (UTC)",
            "rolling_24h": "in any 24 hours",
            "minute": "a minute",
        }[quota.window]
        slot.conflicts.append(
            f"{channel.name}: {quota.bucket} allows {quota.limit} {what}; this would make {used}"
        )


def save_plan(
    session: Session, settings: Settings, slots: Sequence[Slot], *, actor: User | None = None
) -> list[Publication]:
    """Schedule every slot of a plan that has no refusal and no conflict."""
    return [schedule(session, settings, slot.draft, actor=actor) for slot in slots if slot.ok]


def episode_cut(session: Session, episode_id: int, language: str) -> LocalizedCut | None:
    for kind in VIDEO_KINDS:
        found = session.exec(
            select(LocalizedCut)
            .join(Localization, col(Localization.id) == LocalizedCut.localization_id)
            .where(
                Localization.episode_id == episode_id,
                Localization.language == language,
                LocalizedCut.kind == kind,
            )
        ).first()
        if found is not None:
            return found
    return None


def _series_title(session: Session, series_id: int) -> str:
    from hookline.models import Series

    return session.get_one(Series, series_id).title
