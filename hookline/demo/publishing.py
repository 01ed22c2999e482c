"""The demo's publishing: one sandbox channel per platform, and the demo episodes posted.

Channels are connected through each platform's real OAuth flow, against the sandbox.
Once the demo's localizations are ready, the demo reviewer approves them (marked as
demo data in the audit log) and they are scheduled a few minutes apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from hookline.errors import RetryLater
from hookline.jobs import JobContext, job
from hookline.models import (
    Channel,
    Episode,
    Localization,
    LocalizationStatus,
    Role,
    Series,
    User,
)
from hookline.web.context import Services

log = logging.getLogger(__name__)

# (platform, channel name, language, time zone)
CHANNELS = (
    ("youtube", "Contract Bride ES (YouTube Shorts)", "es", "Europe/Madrid"),
    ("tiktok", "Dramas MX (TikTok)", "es", "America/Mexico_City"),
    ("instagram", "Drames CAT (Instagram Reels)", "ca", "Europe/Madrid"),
    ("facebook", "Dramas ES (Facebook Reels)", "es", "Europe/Madrid"),
    ("douyin", "Dramas EN (Douyin)", "en", "Asia/Shanghai"),
    ("kuaishou", "Dramas EN (Kuaishou)", "en", "Asia/Shanghai"),
)
CALLBACK = "http://127.0.0.1:5000/publishing/oauth/callback"
FIRST_POST_AFTER = timedelta(minutes=2)
BETWEEN_POSTS = timedelta(minutes=1)
PUBLISH_DEMO = "demo.publish"
WAITING = (LocalizationStatus.PENDING, LocalizationStatus.RUNNING)


def connect_channels(svc: Services, echo: Callable[[str], None]) -> None:
    """Create and connect one sandbox channel per platform (the sandbox runs meanwhile)."""
    from hookline.serve import start_sandbox
    from publisher import channels
    from publisher.sandbox.server import grant

    sandbox = start_sandbox(svc.settings)
    try:
        with svc.db.transaction() as session:
            for platform, name, language, zone in CHANNELS:
                channel = channels.create_channel(
                    session,
                    svc.settings,
                    platform=platform,
                    name=name,
                    language=language,
                    timezone=zone,
                    sandbox=True,
                )
                code = grant(
                    channels.connect_url(channel, svc.settings, state="demo", redirect_uri=CALLBACK)
                )
                channels.complete_connection(
                    session, channel, svc.settings, code=code, redirect_uri=CALLBACK
                )
    finally:
        sandbox.stop()
    echo(f"Connected {len(CHANNELS)} sandbox channels, one per platform.")


@job(PUBLISH_DEMO, max_attempts=3)
def publish_demo(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Once the demo's localizations are ready, approve and schedule them on the channels."""
    with ctx.db.transaction() as session:
        localizations = _demo_localizations(session, payload["series_id"])
        if any(loc.status in WAITING for loc in localizations):
            raise RetryLater("waiting for the demo's localizations", delay_s=10)
        scheduled = _approve_and_schedule(session, ctx, localizations)
    return {"scheduled": scheduled}


def _demo_localizations(session: Session, series_id: int) -> list[Localization]:
    return list(
        session.exec(
            select(Localization)
            .join(Episode, col(Episode.id) == Localization.episode_id)
            .where(Episode.series_id == series_id)
            .order_by(Episode.number)
        )
    )


def _approve_and_schedule(
    session: Session, ctx: JobContext, localizations: list[Localization]
) -> int:
    from localization import review
    from publisher import scheduling
    from publisher.errors import Refused

    reviewer = next((u for u in session.exec(select(User)) if Role.REVIEWER in u.roles), None)
    ready = [loc for loc in localizations if loc.status == LocalizationStatus.NEEDS_REVIEW]
    for loc in ready:
        review.approve(session, loc.id, actor=reviewer, override="demo data: approved by the demo")
    session.flush()
    when = ctx.now() + FIRST_POST_AFTER
    scheduled = 0
    for channel in session.exec(select(Channel).where(Channel.sandbox)).all():
        for loc in localizations:
            cut = scheduling.episode_cut(session, loc.episode_id, channel.language)
            if cut is None or loc.language != channel.language:
                continue
            episode = session.get_one(Episode, loc.episode_id)
            series = session.get_one(Series, episode.series_id)
            local = scheduling.to_local(when, channel.timezone).replace(
                tzinfo=None, second=0, microsecond=0
            )
            draft = scheduling.Draft(
                cut_id=cut.id,
                channel_id=channel.id,
                local_time=local + timedelta(minutes=1),
                title=f"{series.title} {episode.number}: {episode.title}",
                description=series.logline[:200],
                hashtags=("#shortdrama", "#microdrama"),
            )
            try:
                scheduling.schedule(session, ctx.settings, draft)
            except Refused as refused:
                log.warning("demo publication refused: %s", refused.message)
                continue
            _describe_to_audience(session, ctx, cut, episode, loc, channel)
            scheduled += 1
            when += BETWEEN_POSTS
    return scheduled


# The sandbox's simulated audience plays an hour of a post's life in a minute for the demo,
# so its dashboards fill within the hour instead of over days.
DEMO_TIME_SCALE = 1 / 60


def _describe_to_audience(
    session: Session, ctx: JobContext, cut: Any, episode: Episode, loc: Localization, channel: Any
) -> None:
    """Tell the sandbox's audience what this cut is, so its numbers follow the ground truth."""
    import requests

    from hookline.models import MediaAsset

    asset = session.get_one(MediaAsset, cut.asset_id)
    content = {
        "duration_s": asset.duration_s or 45.0,
        "hook": episode.hook_type or "",
        "tropes": list(episode.tropes),
        "episode": episode.number,
        "market": channel.language,
        "quality": 1.0 if loc.is_source else 0.85,
        "timezone": channel.timezone,
    }
    url = f"http://127.0.0.1:{ctx.settings.sandbox_port}/_sandbox/audience"
    body = {"time_scale": DEMO_TIME_SCALE, "contents": {asset.sha256: content}}
    try:
        requests.post(url, json=body, timeout=5)
    except requests.RequestException as error:  # the sandbox is off: numbers stay generic
        log.warning("could not describe the demo cut to the sandbox audience: %s", error)
