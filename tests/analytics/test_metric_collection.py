"""Collectors against the emulators over HTTP: every platform, delays, bad data, quotas, tokens."""

from __future__ import annotations

from sqlmodel import select

from analytics.collect import collect_due
from hookline.clock import utcnow
from hookline.models import Channel, ChannelStatus, MetricDay, RetentionCurve
from publisher.sandbox.core import Fault

from analyticskit import PLATFORMS, Studio


def test_every_platform_is_collected_into_one_schema_missing_stays_null(studio: Studio, clip):
    ids = {p: studio.publish(p, clip.path, n) for n, p in enumerate(PLATFORMS, start=1)}
    studio.clock.advance(3)  # past every platform's reporting delay

    outcome = collect_due(studio.db, studio.settings, now=utcnow())

    assert outcome.collected == len(PLATFORMS) and outcome.rejected == 0
    snap = {p: studio.snapshots(i)[-1] for p, i in ids.items()}
    assert all(s.views and s.views > 0 for s in snap.values())
    assert snap["kuaishou"].watch_time_s is None and snap["kuaishou"].completion_rate is None
    assert snap["douyin"].completion_rate is None and snap["douyin"].avg_view_duration_s
    assert snap["instagram"].hook_rate_definition == "1 - reels_skip_rate (3 s)"
    assert snap["youtube"].hook_rate_definition == "engaged views / views (Shorts)"
    assert snap["tiktok"].completion_rate is not None and snap["tiktok"].reach is not None
    with studio.db.session() as session:
        curves = session.exec(select(RetentionCurve)).all()
        assert {c.publication_id for c in curves} == {
            ids["youtube"],
            ids["tiktok"],
            ids["facebook"],
        }
        assert all(len(c.points) == 101 and c.points[0] >= 0.99 for c in curves)
        days = session.exec(select(MetricDay)).all()
        assert len(days) == len(PLATFORMS)

    # The same period again: nothing new, nothing changed.
    for state in (studio.state(i) for i in ids.values()):
        assert state.last_outcome == "ok" and state.next_at > utcnow()
    again = collect_due(studio.db, studio.settings, now=utcnow().replace(minute=59))
    assert again.collected == 0
    from analytics.collect import ChannelRun, Outcome

    ChannelRun(studio.db, studio.settings, _channel(studio, "tiktok"), utcnow(), Outcome()).collect(
        [ids["tiktok"]]
    )
    assert len(studio.snapshots(ids["tiktok"])) == 1


def _channel(studio: Studio, platform: str) -> int:
    with studio.db.session() as session:
        return session.exec(select(Channel.id).where(Channel.platform == platform)).one()


def test_delayed_data_is_stored_as_missing_with_a_warning(lite_studio: Studio, clip):
    youtube = lite_studio.publish("youtube", clip.path, 1)
    kuaishou = lite_studio.publish("kuaishou", clip.path, 2)
    lite_studio.clock.advance(0.5)  # 12 h: past Kuaishou's delay, not YouTube's 48 h

    outcome = collect_due(lite_studio.db, lite_studio.settings, now=utcnow())

    assert outcome.missing == 1 and outcome.collected == 1
    late = lite_studio.snapshots(youtube)[-1]
    assert late.views is None and late.completion_rate is None
    assert "no data for the video yet" in late.raw["warnings"][0]
    assert lite_studio.state(youtube).last_outcome == "missing"
    assert lite_studio.snapshots(kuaishou)[-1].views > 0


def test_malformed_partial_and_impossible_answers_never_stop_the_others(lite_studio: Studio, clip):
    ids = [lite_studio.publish(p, clip.path, n) for n, p in enumerate(PLATFORMS, start=1)]
    lite_studio.clock.advance(3)
    with lite_studio.db.session() as session:
        from hookline.models import Publication

        remote = {
            p: session.get_one(Publication, i).remote_id
            for p, i in zip(PLATFORMS, ids, strict=True)
        }
    glitches = lite_studio.sandbox.glitches
    glitches.add("youtube", remote["youtube"], "malformed")
    glitches.add("tiktok", remote["tiktok"], "over")  # completion 3.5
    glitches.add("instagram", remote["instagram"], "partial")
    glitches.add("douyin", remote["douyin"], "negative")
    glitches.add("facebook", remote["facebook"], "over")  # retention 30x

    outcome = collect_due(lite_studio.db, lite_studio.settings, now=utcnow())

    assert outcome.rejected == 3  # tiktok, douyin, facebook
    assert outcome.missing == 1  # youtube: unreadable, stored as missing
    assert outcome.collected == 2  # instagram (partial) and kuaishou
    youtube, tiktok, instagram, facebook, douyin, kuaishou = ids
    assert lite_studio.snapshots(youtube)[-1].views is None
    assert "could not be read" in lite_studio.snapshots(youtube)[-1].raw["warnings"][0]
    for rejected in (tiktok, douyin, facebook):
        assert lite_studio.snapshots(rejected) == []
        state = lite_studio.state(rejected)
        assert state.last_outcome == "rejected" and "rejected impossible values" in state.message
    partial = lite_studio.snapshots(instagram)[-1]
    assert partial.views is not None and partial.hook_rate is None
    assert any("missing" in w for w in partial.raw["warnings"])
    assert lite_studio.snapshots(kuaishou)[-1].views > 0


def test_a_quota_error_defers_the_channel_and_the_others_carry_on(lite_studio: Studio, clip):
    first = lite_studio.publish("youtube", clip.path, 1)
    second = lite_studio.publish("youtube", clip.path, 2)
    other = lite_studio.publish("kuaishou", clip.path, 3)
    lite_studio.clock.advance(3)
    # The first call is refused for its expired token; the retry meets the quota.
    lite_studio.sandbox.faults.add(Fault("youtube", "analytics", "quota", times=5))

    outcome = collect_due(lite_studio.db, lite_studio.settings, now=utcnow())

    assert outcome.deferred == 2 and outcome.collected == 1
    for publication_id in (first, second):
        state = lite_studio.state(publication_id)
        assert "deferred" in state.message and "quota" in state.message
        assert state.next_at > utcnow()
    assert lite_studio.snapshots(other)[-1].views > 0


def test_an_expired_token_is_refreshed_and_collection_goes_on(lite_studio: Studio, clip):
    publication_id = lite_studio.publish("tiktok", clip.path, 1)
    lite_studio.clock.advance(3)  # every access token the sandbox issued has expired
    refreshes = lite_studio.sandbox.accounts.refreshes

    outcome = collect_due(lite_studio.db, lite_studio.settings, now=utcnow())

    assert outcome.collected == 1
    assert lite_studio.sandbox.accounts.refreshes == refreshes + 1
    assert lite_studio.snapshots(publication_id)[-1].views > 0


def test_a_channel_needing_reconnection_pauses_its_collection_and_says_so(
    lite_studio: Studio, clip
):
    publication_id = lite_studio.publish("youtube", clip.path, 1)
    lite_studio.clock.advance(3)
    for account in list(lite_studio.sandbox.accounts._accounts.values()):
        lite_studio.sandbox.accounts.revoke_refresh_tokens(account)

    outcome = collect_due(lite_studio.db, lite_studio.settings, now=utcnow())

    assert outcome.paused == 1
    state = lite_studio.state(publication_id)
    assert state.status == "paused" and "needs reconnecting" in state.message
    with lite_studio.db.session() as session:
        channel = session.exec(select(Channel)).one()
        assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert lite_studio.snapshots(publication_id) == []
