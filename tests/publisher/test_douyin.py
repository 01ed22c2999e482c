"""The Douyin client against the Douyin emulator, over real HTTP on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from hookline import ffmpeg
from publisher.platforms.base import Media, PlatformError, PostMeta, Remote, Tokens, read_chunk
from publisher.platforms.douyin import Client
from publisher.platforms.parts import Split
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox

from platformkit import APP, REDIRECT, media_of

MB = 1024 * 1024
META = PostMeta(title="Episode 3", description="她终于说出了真相", hashtags=("短剧", "逆袭"))


class Clock:
    """Wall time plus an offset a test moves forward (review times, upload_id lifetimes)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: Clock) -> Iterator[Sandbox]:
    """Only the Douyin emulator, on a clock the test can move."""
    with Sandbox(tmp_path / "sandbox", platforms=("douyin",), clock=clock) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    client = Client(sandbox.endpoints("douyin"), APP, chunk_size=5 * MB)
    yield client
    client.close()


@pytest.fixture
def tokens(client: Client) -> Tokens:
    return connect(client)


@pytest.fixture(scope="module")
def ts_video(short_video: Media, tmp_path_factory: pytest.TempPathFactory) -> Media:
    """The short clip remuxed into MPEG-TS: a real video in a container Douyin refuses."""
    path = tmp_path_factory.mktemp("ts") / "short.ts"
    ffmpeg.run(["-i", short_video.path, "-c", "copy", "-f", "mpegts", path])
    return media_of(path)


def connect(client: Client) -> Tokens:
    """Approve the consent page (``auto=1``) and trade the code, as the callback view does."""
    url = client.authorize_url(state="s-1", redirect_uri=REDIRECT) + "&auto=1"
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["s-1"]
    return client.exchange_code(query["code"][0], redirect_uri=REDIRECT, now=datetime.now(UTC))


def ignore(done: int, total: int) -> None:
    """A progress callback for tests that do not watch progress."""


def persisted(state: dict[str, Any]) -> dict[str, Any]:
    """Return the state as the job reads it back from the database."""
    return json.loads(json.dumps(state))


def uploaded(client: Client, tokens: Tokens, media: Media) -> dict[str, Any]:
    state = persisted(client.begin(tokens, media, META))
    client.upload(tokens, state, media, progress=ignore)
    return persisted(state)


def reviewed(client: Client, tokens: Tokens, state: dict[str, Any], clock: Clock) -> Remote:
    """Return the item's status once the emulator's review time has passed."""
    clock.offset += 1.0
    return client.status(tokens, state)


def failure(call: Any, *args: Any, **kwargs: Any) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- accounts ------------------------------------------------------------------------------


def test_connects_with_douyins_own_parameters_and_lifetimes(client: Client) -> None:
    url = client.authorize_url(state="s-1", redirect_uri=REDIRECT)
    assert urlsplit(url).path.endswith("/platform/oauth/connect/")
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"client_key", "response_type", "scope", "redirect_uri", "state"}
    assert "video.create" in query["scope"][0]

    tokens = connect(client)

    assert tokens.account_id == "sandbox-account"  # the open_id
    now = datetime.now(UTC)
    assert timedelta(days=14) < tokens.expires_at - now <= timedelta(days=15)
    assert tokens.refresh_expires_at is not None
    assert timedelta(days=29) < tokens.refresh_expires_at - now <= timedelta(days=30)


def test_refresh_renews_a_refresh_token_about_to_run_out(client: Client, tokens: Tokens) -> None:
    plain = client.refresh(tokens, now=datetime.now(UTC))
    assert plain.refresh_token == tokens.refresh_token  # 30 days left: no renewal
    assert plain.access_token != tokens.access_token

    twelve_days_on = datetime.now(UTC) + timedelta(days=12)  # 18 days left
    renewed = client.refresh(tokens, now=twelve_days_on)

    assert renewed.refresh_token != tokens.refresh_token
    assert renewed.refresh_expires_at is not None and tokens.refresh_expires_at is not None
    assert renewed.refresh_expires_at > tokens.refresh_expires_at + timedelta(days=11)
    old = replace(tokens, refresh_expires_at=None)  # so the client does not renew it first
    dead = failure(client.refresh, old, now=datetime.now(UTC))
    assert (dead.kind, dead.code) == ("auth", "10010")


# -- publishing -------------------------------------------------------------------------------


def test_publishes_one_post_with_the_files_bytes(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, big_video: Media
) -> None:
    sandbox.platforms["douyin"].processing_s = 60
    seen: list[int] = []
    state = persisted(client.begin(tokens, big_video, META))

    client.upload(tokens, state, big_video, progress=lambda done, total: seen.append(done))
    client.finish(tokens, state, big_video, META)

    assert len(seen) == 3 and seen == sorted(seen) and seen[-1] == big_video.size
    [post] = sandbox.ledger.posts("douyin")
    assert (post.remote_id, post.sha256, post.caption) == (
        state["item_id"],
        big_video.sha256,
        "她终于说出了真相 #短剧 #逆袭",
    )
    assert client.status(tokens, state).status == "processing"
    clock.offset += 61
    assert client.status(tokens, state) == Remote(
        "published", state["item_id"], url=f"https://www.douyin.com/video/{state['item_id']}"
    )


def test_upload_resumes_after_a_part_is_cut_off(
    sandbox: Sandbox, client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = persisted(client.begin(tokens, big_video, META))

    def cut_the_next_part(done: int, total: int) -> None:
        if state["done"] == [1]:
            sandbox.faults.add(Fault("douyin", "chunk", "drop"))

    cut = failure(client.upload, tokens, state, big_video, progress=cut_the_next_part)
    assert cut.kind == "transient"
    assert state["done"] == [1]

    state = persisted(state)
    client.upload(tokens, state, big_video, progress=ignore)
    client.finish(tokens, state, big_video, META)

    assert sorted(state["done"]) == [1, 2, 3] and state["acknowledged"] == big_video.size
    assert sandbox.ledger.posts("douyin")[0].sha256 == big_video.sha256
    assert sandbox.uploads.received_bytes <= big_video.size + 5 * MB


def test_expired_token_mid_upload_refreshes_and_continues(
    sandbox: Sandbox, client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = persisted(client.begin(tokens, big_video, META))

    # Expired at the emulator directly: the sandbox's expire_token fault reads the token
    # from the Authorization header or the query, and Douyin sends it as `access-token`.
    def expire_after_the_first_part(done: int, total: int) -> None:
        if state["done"] == [1]:
            sandbox.accounts.expire(tokens.access_token)

    expired = failure(client.upload, tokens, state, big_video, progress=expire_after_the_first_part)
    assert (expired.kind, expired.code) == ("auth", "2190008")

    fresh = client.refresh(tokens, now=datetime.now(UTC))
    client.upload(fresh, state, big_video, progress=ignore)
    client.finish(fresh, state, big_video, META)

    assert sandbox.accounts.refreshes == 1
    assert sandbox.uploads.received_bytes == big_video.size  # the refused part never landed
    [post] = sandbox.ledger.posts("douyin")
    assert post.sha256 == big_video.sha256


def test_rate_limit_says_when_to_try_again(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    sandbox.faults.add(Fault("douyin", "chunk", "rate", retry_after=7))
    state = client.begin(tokens, short_video, META)

    limited = failure(client.upload, tokens, state, short_video, progress=ignore)

    assert (limited.kind, limited.retry_after, limited.status) == ("rate", 7.0, 429)


def test_used_up_quota_is_a_quota_error(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    sandbox.faults.add(Fault("douyin", "publish", "quota"))

    spent = failure(client.finish, tokens, state, short_video, META)

    assert (spent.kind, spent.code) == ("quota", "2190001")
    assert sandbox.ledger.posts("douyin") == []


@pytest.mark.parametrize("listed_video_id", [True, False], ids=["by-video-id", "by-text-and-time"])
def test_a_lost_create_answer_is_found_not_posted_again(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media, listed_video_id: bool
) -> None:
    sandbox.platforms["douyin"].list_shows_video_id = listed_video_id
    state = uploaded(client, tokens, short_video)
    before_finish = persisted(state)  # the job keeps no state from a finish that raised
    sandbox.faults.add(Fault("douyin", "publish", "lose_response"))

    lost = failure(client.finish, tokens, state, short_video, META)
    assert lost.kind == "transient"

    assert client.find_post(tokens, before_finish) is True
    client.finish(tokens, before_finish, short_video, META)  # knows the item: creates nothing

    [post] = sandbox.ledger.posts("douyin")
    assert before_finish["item_id"] == post.remote_id
    assert sandbox.ledger.duplicates() == {}


def test_find_post_says_no_when_the_create_never_landed(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    sandbox.faults.add(Fault("douyin", "publish", "error", status=503))

    broken = failure(client.finish, tokens, state, short_video, META)
    assert broken.kind == "transient"

    assert client.find_post(tokens, state) is False
    client.finish(tokens, state, short_video, META)
    assert len(sandbox.ledger.posts("douyin")) == 1


def test_each_create_needs_a_fresh_video_id(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    client.finish(tokens, state, short_video, META)

    again = persisted(state) | {"item_id": None}
    refused = failure(client.finish, tokens, again, short_video, META)

    assert (refused.kind, refused.code) == ("permanent", "2190007")
    assert "fresh upload" in refused.message
    assert len(sandbox.ledger.posts("douyin")) == 1


def test_parts_count_from_one_and_may_arrive_in_any_order(
    sandbox: Sandbox, client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = client.begin(tokens, big_video, META)
    split = Split(big_video.size, 5 * MB, first=1)

    def send(number: int) -> dict[str, Any]:
        offset, length = split.span(max(1, number))
        where = {"open_id": tokens.account_id, "upload_id": state["upload_id"]}
        response = requests.post(
            f"{sandbox.url}/douyin/video/part/upload/",
            params={**where, "part_number": number},
            headers={"access-token": tokens.access_token},
            files={"video": ("big.mp4", read_chunk(big_video.path, offset, length))},
            timeout=10,
        )
        return response.json()["data"]

    assert send(0)["error_code"] == 2100005
    assert [send(n)["error_code"] for n in reversed(split.numbers)] == [0, 0, 0]

    state["done"] = list(split.numbers)
    client.upload(tokens, state, big_video, progress=ignore)  # only completes
    client.finish(tokens, state, big_video, META)
    assert sandbox.ledger.posts("douyin")[0].sha256 == big_video.sha256


def test_parts_under_5_mb_but_the_last_are_refused(
    client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = client.begin(tokens, big_video, META)
    state["part_size"] = 2 * MB  # as a client ignoring the rule would cut the file

    refused = failure(client.upload, tokens, state, big_video, progress=ignore)

    assert (refused.kind, refused.code) == ("permanent", "2100005")
    assert "at least 5 MB" in refused.message


def test_an_upload_id_older_than_two_hours_starts_over(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = client.begin(tokens, short_video, META)
    clock.offset += 2 * 3600 + 1  # the job comes back two hours later
    state["opened_at"] -= 2 * 3600 + 1

    stale = failure(client.upload, tokens, state, short_video, progress=ignore)

    assert stale.kind == "expired_session"
    assert sandbox.uploads.received_bytes == 0  # nothing sent to a dead upload_id
    answer = requests.post(
        f"{sandbox.url}/douyin/video/part/upload/",
        params={"open_id": tokens.account_id, "upload_id": state["upload_id"], "part_number": 1},
        headers={"access-token": tokens.access_token},
        files={"video": ("short.mp4", b"bytes")},
        timeout=5,
    ).json()["data"]
    assert answer["error_code"] == 2100005 and "expired" in answer["description"]


# -- what Douyin refuses ------------------------------------------------------------------------


def test_refusals_name_each_problem(
    short_video: Media, landscape_video: Media, ts_video: Media
) -> None:
    def refused(media: Media, meta: PostMeta = META) -> str:
        return " | ".join(Client.refusals(media, meta))

    assert Client.refusals(short_video, META) == []
    assert "vertical (9:16); this file is 1280x720" in refused(landscape_video)
    assert "mp4 or webm" in refused(ts_video)
    assert "up to 15 min" in refused(replace(short_video, duration_s=15 * 60 + 1))
    assert "up to 4 GB" in refused(replace(short_video, size=5 * 1024**3))
    assert "empty" in refused(replace(short_video, size=0, duration_s=0.0))
    assert "1001 characters" in refused(short_video, PostMeta(title="t", description="字" * 1001))


def test_a_container_douyin_does_not_take_fails_with_the_reason(
    sandbox: Sandbox, client: Client, tokens: Tokens, ts_video: Media
) -> None:
    state = client.begin(tokens, ts_video, META)

    refused = failure(client.upload, tokens, state, ts_video, progress=ignore)

    assert (refused.kind, refused.code) == ("permanent", "2100005")
    assert "'mpegts'" in refused.message and "mp4 or webm" in refused.message
    assert sandbox.ledger.posts("douyin") == []


def test_a_video_over_the_length_limit_fails_with_the_reason(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    sandbox.platforms["douyin"].max_duration_s = 2.0  # the 4 s clip stands in for a 16 min one
    state = client.begin(tokens, short_video, META)

    refused = failure(client.upload, tokens, state, short_video, progress=ignore)

    assert (refused.kind, refused.code) == ("permanent", "2190006")
    assert "runs 4 s" in refused.message


def test_an_item_that_fails_review_reports_why(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, short_video: Media
) -> None:
    sandbox.platforms["douyin"].rejected_words = ("逆袭",)
    state = uploaded(client, tokens, short_video)
    client.finish(tokens, state, short_video, META)

    remote = reviewed(client, tokens, state, clock)

    assert (remote.status, remote.remote_id) == ("failed", state["item_id"])
    assert "not suitable for the public" in remote.reason


def test_a_restarted_sandbox_still_knows_the_item(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    client.finish(tokens, state, short_video, META)
    sandbox.stop()

    with Sandbox(sandbox.folder, platforms=("douyin",), clock=clock) as restarted:
        again = Client(restarted.endpoints("douyin"), APP)
        remote = reviewed(again, tokens, state, clock)
        again.close()

    assert (remote.status, remote.remote_id) == ("published", state["item_id"])
