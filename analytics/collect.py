"""Collecting metrics: every published publication, through its platform's client, on a cadence.

The cadence follows the post's age: every hour or few (by platform) in its first 48 h,
then daily, until ``collect_days`` after publication. One publication's bad data never
stops the others: malformed, partial or delayed answers are stored as missing with a
warning; impossible numbers are rejected and logged; a quota or rate limit defers the
channel's remaining publications to when the platform says; a channel that needs
reconnecting has its collection paused, saying so, until it is reconnected.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from analytics import retention
from analytics.store import SNAPSHOT_FIELDS, add_curves, add_snapshots
from hookline.db import Database
from hookline.models import (
    Channel,
    ChannelStatus,
    CollectionStatus,
    LocalizedCut,
    MediaAsset,
    MetricCollection,
    Publication,
    PublicationStatus,
    RetentionCurve,
)
from hookline.settings import Settings
from publisher import channels, registry
from publisher.errors import ChannelNeedsReconnect
from publisher.platforms.base import PlatformClient, PlatformError, Tokens
from publisher.platforms.insights import Malformed, Reading

log = logging.getLogger(__name__)

FRESH = timedelta(hours=48)
DAILY = timedelta(days=1)
# How often to ask in the first 48 h: platforms that report daily gain nothing from hourly.
PACE = {
    "youtube": timedelta(hours=3),
    "douyin": timedelta(hours=6),
}
RETRY_TRANSIENT = timedelta(minutes=15)
# Retention above this is impossible: looping Shorts can exceed 1 on YouTube only.
RETENTION_MAX = {"youtube": 10.0}
PERCENT_MAX = {"youtube": 1000.0}  # averageViewPercentage counts loops


@dataclass
class Outcome:
    collected: int = 0
    missing: int = 0
    rejected: int = 0
    paused: int = 0
    deferred: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "messages"}


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def next_collection(
    published_at: datetime, now: datetime, platform: str, *, collect_days: int
) -> datetime | None:
    """When to collect next (None: the post is past its collection window)."""
    age = now - published_at
    if collect_days <= 0 or age >= timedelta(days=collect_days):
        return None
    step = PACE.get(platform, timedelta(hours=1)) if age < FRESH else DAILY
    return hour_of(now) + step


def impossible(reading: Reading, platform: str) -> list[str]:
    """What in a reading no platform could mean: negative counts, rates past their bounds."""
    problems = []
    for name, value in reading.values.items():
        if value is not None and value < 0:
            problems.append(f"{name} is negative ({value})")
    for name in ("completion_rate", "hook_rate"):
        value = reading.values.get(name)
        if value is not None and value > 1.0:
            problems.append(f"{name} is {value}, above 1")
    percent = reading.values.get("avg_percent_viewed")
    if percent is not None and percent > PERCENT_MAX.get(platform, 100.0) + 1e-6:
        problems.append(f"avg_percent_viewed is {percent}, above what {platform} allows")
    if reading.curve_y is not None:
        top = max(reading.curve_y)
        if top > RETENTION_MAX.get(platform, 1.0) + 1e-6 or min(reading.curve_y) < 0:
            problems.append(f"retention reaches {top:.2f}, beyond what {platform} allows")
    return problems


# -- which publications are due ------------------------------------------------------------


def enrol(session: Session, *, now: datetime) -> int:
    """Give every published publication without one a collection state, due now."""
    known = select(MetricCollection.publication_id)
    new = session.exec(
        select(Publication.id).where(
            Publication.status == PublicationStatus.PUBLISHED,
            col(Publication.remote_id).is_not(None),
            col(Publication.id).not_in(known),
        )
    ).all()
    for publication_id in new:
        session.add(MetricCollection(publication_id=publication_id, next_at=now))
    return len(new)


def resume_reconnected(session: Session) -> int:
    """Collection paused for a reconnect starts again once the channel is connected."""
    paused = session.exec(
        select(MetricCollection)
        .join(Publication, col(Publication.id) == MetricCollection.publication_id)
        .join(Channel, col(Channel.id) == Publication.channel_id)
        .where(
            MetricCollection.status == CollectionStatus.PAUSED,
            Channel.status == ChannelStatus.CONNECTED,
        )
    ).all()
    for state in paused:
        state.status = CollectionStatus.ACTIVE
        state.message = "resumed: the channel is connected again"
        session.add(state)
    return len(paused)


def due(session: Session, *, now: datetime, limit: int) -> dict[int, list[int]]:
    """Due publication ids, by channel."""
    rows = session.exec(
        select(Publication.channel_id, MetricCollection.publication_id)
        .join(Publication, col(Publication.id) == MetricCollection.publication_id)
        .where(
            MetricCollection.status == CollectionStatus.ACTIVE,
            col(MetricCollection.next_at) <= now,
        )
        .order_by(col(MetricCollection.next_at))
        .limit(limit)
    ).all()
    by_channel: dict[int, list[int]] = defaultdict(list)
    for channel_id, publication_id in rows:
        by_channel[channel_id].append(publication_id)
    return by_channel


# -- collecting ------------------------------------------------------------------------------


def collect_due(db: Database, settings: Settings, *, now: datetime, limit: int = 1000) -> Outcome:
    """Collect every due publication's metrics; return what happened."""
    with db.transaction() as session:
        enrol(session, now=now)
        resume_reconnected(session)
    with db.session() as session:
        work = due(session, now=now, limit=limit)
    outcome = Outcome()
    for channel_id, publication_ids in work.items():
        ChannelRun(db, settings, channel_id, now, outcome).collect(publication_ids)
    log.info("metrics collected: %s", outcome.as_dict())
    return outcome


@dataclass
class ChannelRun:
    """Collecting one channel's due publications with one client and one set of tokens."""

    db: Database
    settings: Settings
    channel_id: int
    now: datetime
    outcome: Outcome

    def collect(self, publication_ids: list[int]) -> None:
        with self.db.transaction() as session:
            channel = session.get_one(Channel, self.channel_id)
            platform = channel.platform
            if channel.status != ChannelStatus.CONNECTED:
                self._pause(session, channel, publication_ids)
                return
            client = registry.client_for(channel, self.settings)
            try:
                tokens = channels.fresh_tokens(
                    session, channel, self.settings, client, now=self.now
                )
            except ChannelNeedsReconnect:
                client.close()
                self._pause(session, session.get_one(Channel, self.channel_id), publication_ids)
                return
            except PlatformError as error:  # the token endpoint is down or limiting: later
                client.close()
                refused = error
            else:
                refused = None
        if refused is not None:
            self._defer(publication_ids, refused)
            return
        try:
            for index, publication_id in enumerate(publication_ids):
                try:
                    tokens = self._one(client, tokens, platform, publication_id)
                except ChannelNeedsReconnect:
                    with self.db.transaction() as session:
                        channel = session.get_one(Channel, self.channel_id)
                        self._pause(session, channel, publication_ids[index:])
                    return
                except PlatformError as error:
                    if error.kind in ("rate", "quota"):
                        self._defer(publication_ids[index:], error)
                        return
                    self._failed(publication_id, error)
        finally:
            client.close()

    def _one(
        self, client: PlatformClient, tokens: Tokens, platform: str, publication_id: int
    ) -> Tokens:
        with self.db.session() as session:
            publication = session.get_one(Publication, publication_id)
            duration = cut_duration(session, publication.cut_id)
            remote_id = publication.remote_id or ""
            published_at = publication.published_at or publication.scheduled_at
        try:
            reading = self._read(client, tokens, remote_id, duration, published_at)
        except PlatformError as error:
            if error.kind != "auth":
                raise
            tokens = self._refresh(client, tokens)
            reading = self._read(client, tokens, remote_id, duration, published_at)
        self._store(publication_id, platform, published_at, duration, reading)
        return tokens

    def _read(
        self,
        client: PlatformClient,
        tokens: Tokens,
        remote_id: str,
        duration: float,
        published_at: datetime,
    ) -> Reading:
        try:
            return client.insights(
                tokens, remote_id, duration_s=duration, published_at=published_at, now=self.now
            )
        except Malformed as error:
            reading = Reading()
            reading.warnings.append(f"the platform's answer could not be read: {error}")
            return reading

    def _refresh(self, client: PlatformClient, tokens: Tokens) -> Tokens:
        """The platform refused the token: refresh it once (a refused refresh pauses)."""
        with self.db.transaction() as session:
            channel = session.get_one(Channel, self.channel_id)
            return channels.refresh(session, channel, self.settings, client, tokens, now=self.now)

    def _store(
        self,
        publication_id: int,
        platform: str,
        published_at: datetime,
        duration: float,
        reading: Reading,
    ) -> None:
        reading.derive(duration)
        problems = impossible(reading, platform)
        as_of = hour_of(self.now)
        with self.db.transaction() as session:
            state = session.get_one(MetricCollection, publication_id)
            if problems:
                message = "rejected impossible values: " + "; ".join(problems)
                log.error("publication %s: %s", publication_id, message)
                self.outcome.rejected += 1
                self._schedule(state, platform, published_at, "rejected", message)
                session.add(state)
                return
            curve = None
            if reading.curve_x is not None and reading.curve_y is not None:
                curve = retention.normalize(reading.curve_x, reading.curve_y)
                if reading.values.get("hook_rate") is None and duration > retention.OPENING_S:
                    reading.values["hook_rate"] = retention.hook_rate(curve, duration)
                    reading.hook_rate_definition = f"still watching at 3 s ({platform} curve)"
            row = snapshot_row(publication_id, as_of, self.now, reading)
            add_snapshots(session, [row])
            if curve is not None:
                add_curves(
                    session, [curve_row(publication_id, as_of, self.now, duration, curve, reading)]
                )
                state.latest_curve_id = session.exec(
                    select(RetentionCurve.id).where(
                        RetentionCurve.publication_id == publication_id,
                        RetentionCurve.as_of == as_of,
                    )
                ).one()
            outcome = "missing" if reading.delayed or not reading.values else "ok"
            if reading.warnings:
                log.warning("publication %s: %s", publication_id, "; ".join(reading.warnings))
            if outcome == "missing":
                self.outcome.missing += 1
            else:
                self.outcome.collected += 1
            self._schedule(state, platform, published_at, outcome, "; ".join(reading.warnings))
            session.add(state)

    def _schedule(
        self,
        state: MetricCollection,
        platform: str,
        published_at: datetime,
        outcome: str,
        message: str,
    ) -> None:
        state.last_at = self.now
        state.last_outcome = outcome
        state.message = message
        state.collections += 1
        following = next_collection(
            published_at, self.now, platform, collect_days=self.settings.collect_days
        )
        if following is None:
            state.status = CollectionStatus.DONE
        else:
            state.next_at = following

    def _pause(self, session: Session, channel: Channel, publication_ids: list[int]) -> None:
        reason = channel.reconnect_reason or "it is not connected"
        message = f"paused: {channel.name} needs reconnecting ({reason}); reconnect it to resume"
        for publication_id in publication_ids:
            state = session.get_one(MetricCollection, publication_id)
            state.status = CollectionStatus.PAUSED
            state.message = message
            session.add(state)
        log.warning("collection for channel %s %s", channel.id, message)
        self.outcome.paused += len(publication_ids)
        self.outcome.messages.append(message)

    def _defer(self, publication_ids: list[int], error: PlatformError) -> None:
        wait = timedelta(seconds=error.retry_after or 3600.0)
        message = f"deferred {wait} by the platform ({error.kind}: {error.message})"
        with self.db.transaction() as session:
            for publication_id in publication_ids:
                state = session.get_one(MetricCollection, publication_id)
                state.next_at = self.now + wait
                state.message = message
                session.add(state)
        log.warning("channel %s: %s", self.channel_id, message)
        self.outcome.deferred += len(publication_ids)
        self.outcome.messages.append(message)

    def _failed(self, publication_id: int, error: PlatformError) -> None:
        with self.db.transaction() as session:
            state = session.get_one(MetricCollection, publication_id)
            state.last_at = self.now
            state.last_outcome = "error"
            state.message = f"{error.kind} error from the platform: {error.message}"
            state.next_at = self.now + RETRY_TRANSIENT
            session.add(state)
        log.warning("publication %s: metrics not collected: %s", publication_id, error)
        self.outcome.errors += 1


def cut_duration(session: Session, cut_id: int) -> float:
    cut = session.get_one(LocalizedCut, cut_id)
    asset = session.get_one(MediaAsset, cut.asset_id)
    return float(asset.duration_s or 0.0)


def snapshot_row(
    publication_id: int, as_of: datetime, now: datetime, reading: Reading
) -> dict[str, Any]:
    values = {name: reading.values.get(name) for name in SNAPSHOT_FIELDS}
    for name in ("views", "reach", "likes", "comments", "shares", "saves", "follows"):
        if values[name] is not None:
            values[name] = int(values[name])
    return {
        "publication_id": publication_id,
        "as_of": as_of,
        "collected_at": now,
        **values,
        "hook_rate_definition": reading.hook_rate_definition,
        "raw": {"answer": reading.raw, "warnings": reading.warnings, "delayed": reading.delayed},
    }


def curve_row(
    publication_id: int,
    as_of: datetime,
    now: datetime,
    duration: float,
    curve: list[float],
    reading: Reading,
) -> dict[str, Any]:
    views = reading.values.get("views")
    return {
        "publication_id": publication_id,
        "as_of": as_of,
        "collected_at": now,
        "duration_s": duration,
        "views_basis": int(views) if views is not None else None,
        "points": curve,
        "source_resolution": reading.curve_resolution,
        "relative_performance": reading.relative_performance,
    }
