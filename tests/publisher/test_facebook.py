"""The Facebook Reels client against the Facebook emulator, over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from publisher.platforms.base import Media, PlatformError, PostMeta, Remote, Tokens
from publisher.platforms.facebook import Client
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox

from platformkit import APP, REDIRECT

CHUNK = 1024 * 1024  # several pieces for every fixture, in few requests
META = PostMeta(title="Episode 1", description="She knew all along.", hashtags=("drama",))


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    client = Client(sandbox.endpoints("facebook"), APP, chunk_size=CHUNK)
    yield client
    client.close()


def connect(client: Client, page: str = "sandbox-page") -> Tokens:
    """Approve the consent page (``auto=1``) and trade the code, as the UI's callback does."""
    url = client.authorize_url(state="st4te", redirect_uri=REDIRECT)
    answer = requests.get(f"{url}&auto=1&account={page}", allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st4te"]
    return client.exchange_code(query["code"][0], redirect_uri=REDIRECT, now=datetime.now(UTC))


def uploaded(client: Client, tokens: Tokens, media: Media) -> dict[str, Any]:
    state = client.begin(tokens, media, META)
    client.upload(tokens, state, media, progress=lambda done, total: None)
    return state


def settled(client: Client, tokens: Tokens, state: dict[str, Any]) -> Remote:
    """Poll the status until Facebook is done processing (the job's polling)."""
    deadline = time.monotonic() + 10
    while (remote := client.status(tokens, state)).status in ("uploading", "processing"):
        assert time.monotonic() < deadline, remote
        time.sleep(0.05)
    return remote


def fault_after(sandbox: Sandbox, acks: int, fault: Fault) -> Callable[[int, int], None]:
    """A progress callback that injects ``fault`` after ``acks`` acknowledged pieces."""
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == acks:
            sandbox.faults.add(fault)

    return progress


def test_a_reel_is_published_once_on_the_page(sandbox, client, short_video):
    tokens = connect(client)
    assert tokens.account_id == "sandbox-page"
    state = uploaded(client, tokens, short_video)
    client.finish(tokens, state, short_video, META)

    remote = settled(client, tokens, state)
    assert remote == Remote(
        "published", state["video_id"], f"https://www.facebook.com/reel/{state['video_id']}"
    )
    [post] = sandbox.ledger.posts("facebook")
    assert (post.sha256, post.remote_id, post.status) == (
        short_video.sha256,
        state["video_id"],
        "published",
    )
    assert post.caption == "She knew all along. #drama"


def test_a_reel_with_a_future_time_is_scheduled_by_facebook(sandbox, client, short_video):
    tokens = connect(client)
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    meta = PostMeta(title="Episode 2", description="Tomorrow.", publish_at=at)
    state = uploaded(client, tokens, short_video)
    client.finish(tokens, state, short_video, meta)

    assert state["video_state"] == "SCHEDULED"
    assert settled(client, tokens, state).status == "scheduled"
    [post] = sandbox.ledger.posts("facebook")
    assert (post.status, post.scheduled_at) == ("scheduled", at.timestamp())


def test_a_time_too_near_to_schedule_is_waited_for(sandbox, client, short_video):
    tokens = connect(client)
    meta = PostMeta(title="Soon", publish_at=datetime.now(UTC) + timedelta(minutes=3))
    state = uploaded(client, tokens, short_video)
    with pytest.raises(PlatformError) as raised:
        client.finish(tokens, state, short_video, meta)
    assert raised.value.kind == "transient"
    assert 170 < raised.value.retry_after <= 180
    assert sandbox.ledger.posts("facebook") == []


def test_a_dropped_chunk_is_resumed_from_the_bytes_facebook_has(sandbox, client, big_video):
    tokens = connect(client)
    state = client.begin(tokens, big_video, META)
    # Acknowledged: the platform's offset asked first (0), then three pieces.
    progress = fault_after(sandbox, 4, Fault("facebook", "chunk", "drop"))
    with pytest.raises(PlatformError) as raised:
        client.upload(tokens, state, big_video, progress=progress)
    assert raised.value.kind == "transient"
    assert state["acknowledged"] == 3 * CHUNK

    client.upload(tokens, state, big_video, progress=lambda d, t: None)
    client.finish(tokens, state, big_video, META)
    assert sandbox.uploads.received_bytes == big_video.size  # rupload kept the cut piece
    assert sandbox.ledger.posts("facebook")[0].sha256 == big_video.sha256


def test_a_token_expiring_mid_upload_is_refreshed_and_the_upload_goes_on(
    sandbox, client, big_video
):
    tokens = connect(client)
    state = client.begin(tokens, big_video, META)
    progress = fault_after(sandbox, 2, Fault("facebook", "chunk", "expire_token"))
    with pytest.raises(PlatformError) as raised:
        client.upload(tokens, state, big_video, progress=progress)
    assert (raised.value.kind, raised.value.code) == ("auth", "190/463")

    refreshes = sandbox.accounts.refreshes
    tokens = client.refresh(tokens, now=datetime.now(UTC))
    assert sandbox.accounts.refreshes > refreshes
    client.upload(tokens, state, big_video, progress=lambda d, t: None)
    client.finish(tokens, state, big_video, META)
    assert sandbox.uploads.received_bytes == big_video.size  # rupload kept the cut piece
    assert len(sandbox.ledger.posts("facebook")) == 1


def test_a_page_rate_limit_says_when_to_come_back(sandbox, client, short_video):
    tokens = connect(client)
    sandbox.faults.add(Fault("facebook", "init", "rate", retry_after=30))
    with pytest.raises(PlatformError) as raised:
        client.begin(tokens, short_video, META)
    assert (raised.value.kind, raised.value.code, raised.value.retry_after) == ("rate", "32", 60)


def test_the_thirty_reels_a_day_cap_defers_the_post(sandbox, client, short_video):
    sandbox.platforms["facebook"].publish_limit = 1
    tokens = connect(client)
    client.finish(tokens, uploaded(client, tokens, short_video), short_video, META)

    state = uploaded(client, tokens, short_video)
    with pytest.raises(PlatformError) as raised:
        client.finish(tokens, state, short_video, META)
    assert (raised.value.kind, raised.value.code) == ("quota", "9")
    assert 86000 < raised.value.retry_after <= 86460
    assert len(sandbox.ledger.posts("facebook")) == 1
    assert client.quotas(META)[0].limit == Client.daily_post_cap == 30


def test_a_finish_whose_answer_was_lost_is_found_not_repeated(sandbox, client, short_video):
    tokens = connect(client)
    state = uploaded(client, tokens, short_video)
    assert not client.find_post(tokens, state)
    sandbox.faults.add(Fault("facebook", "publish", "lose_response"))
    with pytest.raises(PlatformError) as raised:
        client.finish(tokens, state, short_video, META)
    assert raised.value.kind == "transient"

    assert client.find_post(tokens, state)
    client.finish(tokens, state, short_video, META)  # a second finish posts nothing
    assert len(sandbox.ledger.posts("facebook")) == 1
    assert settled(client, tokens, state).status == "published"


def test_cuts_facebook_would_reject_are_refused_before_upload(
    short_video, long_video, landscape_video
):
    assert Client.refusals(short_video, META) == []
    assert Client.refusals(long_video, META) == [
        "Facebook Reels must be 3–90 s; this cut is 100.0 s",
        "Facebook Reels must be at least 540×960; this cut is 360×640",
    ]
    assert Client.refusals(landscape_video, META) == [
        "Facebook Reels must be 9:16; this cut is 1280×720"
    ]


def test_a_cut_forced_through_is_rejected_by_facebook(sandbox, client, long_video):
    tokens = connect(client)
    state = uploaded(client, tokens, long_video)
    remote = settled(client, tokens, state)
    assert (remote.status, remote.code) == ("failed", "processing_error")
    assert "100.0 s is not 3–90 s" in remote.reason
    with pytest.raises(PlatformError) as raised:
        client.finish(tokens, state, long_video, META)
    assert raised.value.kind == "permanent"
    assert sandbox.ledger.posts("facebook") == []
