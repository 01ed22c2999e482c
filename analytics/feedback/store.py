"""The feedback loop on the database: posts from publications and their metrics, saved briefs.

One post is one publication: its market is the channel's language × platform, its hook and
tropes the episode's tags, its numbers the latest collected day (views, and the KPI's rate
of them). Publications without views or without the KPI are not posts yet; untagged
episodes' posts are counted and left out by the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, col, select

from analytics.feedback import brief as briefs
from analytics.feedback import vocabulary
from analytics.feedback.model import FeedbackInputError, Post
from analytics.feedback.slate import Rules
from hookline.errors import InvalidInput, NotFound
from hookline.models import (
    Channel,
    Episode,
    FeedbackBrief,
    FeedbackPick,
    Localization,
    LocalizedCut,
    MetricDay,
    Publication,
    TermKind,
)

# The rates a brief can optimise: the column of metric_days and how people call it.
KPIS = {
    "hook_rate": "3-second hold",
    "completion_rate": "completion",
    "follow_through": "follow-through to the next episode",
}
MATURE_DAYS = 3.0  # GrowthBook's default conversion window: younger numbers weigh less


@dataclass
class Record:
    """A publication as the loop reads it: a Post plus when it went out."""

    post: Post
    published_at: datetime
    episode_id: int


def records(session: Session, *, kpi: str, now: datetime) -> list[Record]:
    """Every published post with views and the KPI, from each publication's latest day.

    Follow-through is the share of an episode's viewers on a channel that the next
    episode of the series has there (views of N+1 ÷ views of N, at most 1); an episode
    whose successor is not out on that channel yet is not a post for it.
    """
    follow = kpi == "follow_through"
    rate_column = MetricDay.views if follow else _kpi_column(kpi)
    latest = (
        select(MetricDay.publication_id, func.max(MetricDay.day).label("day"))
        .group_by(col(MetricDay.publication_id))
        .subquery("latest")
    )
    query = (
        select(Publication, Channel, Episode, MetricDay.views, rate_column)
        .join(Channel, col(Channel.id) == Publication.channel_id)
        .join(LocalizedCut, col(LocalizedCut.id) == Publication.cut_id)
        .join(Localization, col(Localization.id) == LocalizedCut.localization_id)
        .join(Episode, col(Episode.id) == Localization.episode_id)
        .join(latest, latest.c.publication_id == Publication.id)
        .join(
            MetricDay,
            (col(MetricDay.publication_id) == latest.c.publication_id)
            & (col(MetricDay.day) == latest.c.day),
        )
        .where(col(Publication.published_at).is_not(None))
    )
    rows = session.exec(query).all()
    if follow:
        reached = {
            (publication.channel_id, episode.series_id, episode.number): views
            for publication, _, episode, views, _ in rows
            if views
        }
    out = []
    for publication, channel, episode, views, rate in rows:
        if follow and views:
            following = reached.get((publication.channel_id, episode.series_id, episode.number + 1))
            rate = None if following is None else min(following / views, 1.0)
        if not views or rate is None:
            continue  # missing is not zero: no post yet
        published = publication.published_at
        age_days = max((now - published).total_seconds() / 86400, 0.0)
        post = Post(
            market=f"{channel.language}/{channel.platform}",
            hook=episode.hook_type,
            trials=float(views),
            successes=float(views) * min(max(float(rate), 0.0), 1.0),
            tropes=tuple(episode.tropes),
            hour=_local_hour(published, channel.timezone),
            episode=episode.number,
            exposure=min(age_days / MATURE_DAYS, 1.0),
        )
        out.append(Record(post, published, episode.id))
    return out


def _kpi_column(kpi: str) -> Any:
    if kpi not in KPIS:
        raise InvalidInput(f"Unknown KPI {kpi!r}; use one of {', '.join(KPIS)}.")
    return getattr(MetricDay, kpi)


def _local_hour(at: datetime, timezone: str | None) -> int:
    try:
        return at.astimezone(ZoneInfo(timezone or "UTC")).hour
    except (ZoneInfoNotFoundError, ValueError):  # a channel with a malformed zone: use UTC
        return at.hour


def compose(
    session: Session,
    rules: Rules,
    *,
    kpi: str = "hook_rate",
    markets: list[str] | None = None,
    seed: int = 0,
    now: datetime,
) -> briefs.Brief:
    """The brief from the database: posts, the vocabularies and ``rules``."""
    posts = [r.post for r in records(session, kpi=kpi, now=now)]
    hooks = vocabulary.names(session, TermKind.HOOK)
    try:
        rules.check(hooks)  # also when no market has data yet: bad rules are said at once
        return briefs.compose(
            posts,
            hooks=hooks,
            tropes=vocabulary.names(session, TermKind.TROPE),
            rules=rules,
            markets=markets or None,
            kpi=KPIS[kpi],
            seed=seed,
            now=now,
        )
    except FeedbackInputError as error:
        raise InvalidInput(str(error)) from None


def save(session: Session, brief: briefs.Brief, *, kpi: str, by: str) -> FeedbackBrief:
    """Keep the brief, its exports and each market's picks."""
    rules = brief.markets[0].slate.rules if brief.markets else None
    row = FeedbackBrief(
        created_at=brief.created_at,
        created_by=by,
        kpi=kpi,
        rules=_rules_dict(rules) if rules else {},
        untagged=brief.untagged,
        note=brief.note,
        markdown=briefs.to_markdown(brief),
        csv=briefs.to_csv(brief),
    )
    session.add(row)
    session.flush()
    for market in brief.markets:
        for p in market.slate.picks:
            session.add(
                FeedbackPick(
                    brief_id=row.id, market=market.market, hook=p.hook, role=p.role,
                    count=p.count, posts=p.posts, rate=p.rate, rate_low=p.rate_low,
                    rate_high=p.rate_high, chance_best=p.chance_best, reason=p.reason,
                )
            )  # fmt: skip
    session.flush()
    return row


def _rules_dict(rules: Rules) -> dict[str, Any]:
    return {
        "size": rules.size,
        "exploration": rules.exploration,
        "max_share": rules.max_share,
        "must_include": list(rules.must_include),
    }


def saved(session: Session, brief_id: int) -> FeedbackBrief:
    row = session.get(FeedbackBrief, brief_id)
    if row is None:
        raise NotFound(f"No saved brief {brief_id}.")
    return row


@dataclass
class Outcome:
    """How a saved brief's recommended hook did in its market after the brief."""

    market: str
    hook: str
    recommended: int
    estimate: float
    posts: int = 0
    rate: float | None = None  # views-weighted KPI of the posts since the brief


@dataclass
class HistoryEntry:
    brief: FeedbackBrief
    outcomes: list[Outcome] = field(default_factory=list)


def history(session: Session, *, now: datetime, limit: int = 20) -> list[HistoryEntry]:
    """Saved briefs, newest first, each hook they recommended and how it did since."""
    rows = session.exec(
        select(FeedbackBrief).order_by(col(FeedbackBrief.created_at).desc()).limit(limit)
    ).all()
    if not rows:
        return []
    by_kpi = {kpi: records(session, kpi=kpi, now=now) for kpi in {r.kpi for r in rows}}
    entries = []
    for row in rows:
        picks = session.exec(select(FeedbackPick).where(FeedbackPick.brief_id == row.id)).all()
        entry = HistoryEntry(row)
        totals: dict[tuple[str, str], Outcome] = {}
        for p in picks:
            key = (p.market, p.hook)
            if key not in totals:
                totals[key] = Outcome(p.market, p.hook, 0, p.rate)
            totals[key].recommended += p.count
        for outcome in totals.values():
            since = [
                r.post
                for r in by_kpi.get(row.kpi, [])
                if r.published_at >= row.created_at
                and r.post.market == outcome.market
                and r.post.hook == outcome.hook
            ]
            outcome.posts = len(since)
            views = sum(p.trials for p in since)
            outcome.rate = sum(p.successes for p in since) / views if views else None
        entry.outcomes = sorted(totals.values(), key=lambda o: (o.market, -o.recommended))
        entries.append(entry)
    return entries
