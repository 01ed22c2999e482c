"""Real rows for the feedback tests: a series, tagged episodes, publications and their metrics."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from hookline.clock import utcnow
from hookline.models import (
    Channel,
    Episode,
    Localization,
    LocalizedCut,
    MediaAsset,
    MetricDay,
    Publication,
    Series,
    Transcript,
    TranscriptSegment,
)


def series(session, title: str = "The Contract Bride") -> Series:
    row = Series(title=title, slug=title.lower().replace(" ", "-"))
    session.add(row)
    session.flush()
    return row


def channel(session, platform: str = "tiktok", language: str = "es") -> Channel:
    row = Channel(
        platform=platform, name=f"{language} {platform}", language=language,
        external_id=f"{platform}-{language}", sandbox=True,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def episode(session, series_id: int, number: int, hook: str | None, tropes=()) -> Episode:
    row = Episode(series_id=series_id, number=number, hook_type=hook, tropes=list(tropes))
    session.add(row)
    session.flush()
    return row


def post(session, ep: Episode, ch: Channel, *, views: int, rate: float, days_ago: float = 5):
    """Publish ``ep`` on ``ch`` and record its latest day: ``views`` at hook rate ``rate``."""
    loc = Localization(episode_id=ep.id, language=ch.language)
    key = f"{ep.id}-{ch.id}"
    asset = MediaAsset(sha256=hashlib.sha256(key.encode()).hexdigest(), size_bytes=1, kind="video")
    session.add_all([loc, asset])
    session.flush()
    cut = LocalizedCut(localization_id=loc.id, kind="burned_in", asset_id=asset.id)
    session.add(cut)
    session.flush()
    published = utcnow() - timedelta(days=days_ago)
    pub = Publication(
        cut_id=cut.id, channel_id=ch.id, scheduled_at=published, published_at=published,
        status="published", idempotency_key=f"pub-{key}", language=ch.language,
    )  # fmt: skip
    session.add(pub)
    session.flush()
    session.add(
        MetricDay(
            publication_id=pub.id, day=utcnow().date(), as_of=utcnow(), views=views,
            hook_rate=rate, completion_rate=rate / 2,
        )
    )  # fmt: skip
    session.flush()
    return pub


def market(session, *, good: str, bad: str, per_hook: int = 12, untagged: int = 3):
    """One market (es/tiktok) where ``good`` holds far more viewers than ``bad``."""
    s = series(session)
    ch = channel(session)
    number = 0
    for hook, rate in ((good, 0.62), (bad, 0.38), (None, 0.5)):
        for i in range(per_hook if hook else untagged):
            number += 1
            ep = episode(session, s.id, number, hook)
            post(session, ep, ch, views=4000 + 37 * i, rate=rate + 0.01 * ((i % 3) - 1))
    return s, ch


def transcript(session, episode_id: int, lines: list[str]) -> Transcript:
    row = Transcript(episode_id=episode_id, language="en", inputs_hash=f"t{episode_id}")
    session.add(row)
    session.flush()
    for i, text in enumerate(lines):
        session.add(
            TranscriptSegment(
                transcript_id=row.id, position=i, start_s=i * 2.0, end_s=i * 2.0 + 1.5, text=text
            )
        )
    session.flush()
    return row
