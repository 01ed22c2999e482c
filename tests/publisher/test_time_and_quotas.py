"""Scheduling time (channel zones, DST) and quota windows: plain values, no network."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from hookline.errors import InvalidInput
from publisher.platforms.base import Quota
from publisher.scheduling import Cadence, to_local, to_utc, window_end, window_start


@pytest.mark.parametrize(
    ("zone", "local", "expected_utc"),
    [
        # Madrid: CET (+1) until the last Sunday of March, CEST (+2) after.
        ("Europe/Madrid", datetime(2027, 3, 27, 19, 0), datetime(2027, 3, 27, 18, 0, tzinfo=UTC)),
        ("Europe/Madrid", datetime(2027, 3, 28, 19, 0), datetime(2027, 3, 28, 17, 0, tzinfo=UTC)),
        # New York: EST (-5) until the second Sunday of March, EDT (-4) after.
        ("America/New_York", datetime(2027, 3, 13, 19, 0), datetime(2027, 3, 14, 0, 0, tzinfo=UTC)),
        (
            "America/New_York",
            datetime(2027, 3, 14, 19, 0),
            datetime(2027, 3, 14, 23, 0, tzinfo=UTC),
        ),
        # Back in autumn: Madrid's last Sunday of October.
        ("Europe/Madrid", datetime(2026, 10, 24, 19, 0), datetime(2026, 10, 24, 17, 0, tzinfo=UTC)),
        ("Europe/Madrid", datetime(2026, 10, 25, 19, 0), datetime(2026, 10, 25, 18, 0, tzinfo=UTC)),
    ],
)
def test_local_times_are_stored_as_the_right_utc_instant_across_dst(zone, local, expected_utc):
    assert to_utc(local, zone) == expected_utc
    assert to_local(expected_utc, zone).replace(tzinfo=None) == local


def test_a_time_skipped_by_the_clocks_is_refused_with_a_suggestion():
    with pytest.raises(InvalidInput, match=r"does not exist in Europe/Madrid.*e\.g\. 03:30"):
        to_utc(datetime(2027, 3, 28, 2, 30), "Europe/Madrid")


def test_a_time_that_happens_twice_means_its_first_occurrence():
    first = to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Madrid")
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # still CEST (+2)


def test_two_a_day_at_19_and_21_in_episode_order_through_a_dst_change():
    cadence = Cadence(date(2027, 3, 27), (time(19), time(21)))
    slots = [next(iter_) for iter_ in [cadence.slots()] for _ in range(4)]
    instants = [to_utc(datetime.combine(d, t), "Europe/Madrid") for d, t in slots]
    assert [i.hour for i in instants] == [18, 20, 17, 19]  # the same wall clock, one hour less UTC
    assert instants == sorted(instants)


def test_youtube_quota_days_turn_at_midnight_pacific_even_across_dst():
    quota = Quota("videos.insert", 1, 100, "day_pacific")
    winter = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    assert window_start(quota, winter) == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    summer = datetime(2027, 7, 15, 12, 0, tzinfo=UTC)
    assert window_start(quota, summer) == datetime(2027, 7, 15, 7, 0, tzinfo=UTC)
    assert window_end(quota, window_start(quota, summer)) == datetime(2027, 7, 16, 7, 0, tzinfo=UTC)


def test_rolling_windows_look_back_24_hours():
    quota = Quota("reels", 1, 30, "rolling_24h")
    now = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    assert window_start(quota, now) == now - timedelta(hours=24)
