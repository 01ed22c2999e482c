"""The Kuaishou client against the Kuaishou emulator, over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from publisher.platforms.base import Media, PlatformError, PostMeta, Remote, Tokens, read_chunk
from publisher.platforms.kuaishou import Client
from publisher.platforms.parts import Split
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox

from platformkit import APP, REDIRECT

MB = 1024 * 1024
META = PostMeta(title="Episode 3", description="她终于说出了真相", hashtags=("短剧",))


class Clock:
    """Wall time plus an offset a test moves forward (processing times)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: Clock) -> Iterator[Sandbox]:
    """Only the Kuaishou emulator, on a clock the test can move."""
    with Sandbox(tmp_path / "sandbox", platforms=("kuaishou",), clock=clock) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    client = Client(sandbox.endpoints("kuaishou"), APP, chunk_size=5 * MB)
    yield client
    client.close()


@pytest.fixture
def tokens(client: Client) -> Tokens:
    return connect(client)


@pytest.fixture
def noise(tmp_path: Path) -> Media:
    """Random bytes named like an MP4: a file no transcoder can read."""
    path = tmp_path / "noise.mp4"
    path.write_bytes(os.urandom(300_000))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Media(path, path.stat().st_size, digest, 0.0, 720, 1280, "h264")


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


def processed(client: Client, tokens: Tokens, state: dict[str, Any], clock: Clock) -> Remote:
    """Return the photo's status once the emulator's processing time has passed."""
    clock.offset += 1.0
    return client.status(tokens, state)


def failure(call: Any, *args: Any, **kwargs: Any) -> PlatformError:
    with pytest.raises(PlatformError) as caught:
        call(*args, **kwargs)
    return caught.value


# -- accounts ------------------------------------------------------------------------------


def test_connects_with_kuaishous_own_parameters(client: Client) -> None:
    url = client.authorize_url(state="s-1", redirect_uri=REDIRECT)
    assert urlsplit(url).path.endswith("/oauth2/authorize")
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"app_id", "scope", "response_type", "redirect_uri", "state", "ua"}
    assert query["scope"] == ["user_info,user_video_publish,user_video_info"]

    tokens = connect(client)

    assert tokens.account_id == "sandbox-account"  # the open_id
    assert "user_video_publish" in tokens.scope.split(",")
    assert tokens.refresh_expires_at is not None


def test_expired_token_mid_upload_refreshes_with_rotation(
    sandbox: Sandbox, client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = persisted(client.begin(tokens, big_video, META))

    def expire_after_the_first_fragment(done: int, total: int) -> None:
        if state["done"] == [0]:
            sandbox.accounts.expire(tokens.access_token)

    # Fragments carry the upload token, not the access token: the upload goes on.
    client.upload(tokens, state, big_video, progress=expire_after_the_first_fragment)
    expired = failure(client.finish, tokens, state, big_video, META)
    assert expired.kind == "auth"

    fresh = client.refresh(tokens, now=datetime.now(UTC))

    assert fresh.refresh_token != tokens.refresh_token
    assert fresh.refresh_expires_at is not None and tokens.refresh_expires_at is not None
    assert abs((fresh.refresh_expires_at - tokens.refresh_expires_at).total_seconds()) <= 2
    dead = failure(client.refresh, tokens, now=datetime.now(UTC))
    assert dead.kind == "auth"
    client.finish(fresh, state, big_video, META)
    [post] = sandbox.ledger.posts("kuaishou")
    assert post.sha256 == big_video.sha256
    assert sandbox.uploads.received_bytes == big_video.size


def test_an_expired_token_on_an_openapi_call_is_an_auth_error(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    sandbox.faults.add(Fault("kuaishou", "init", "expire_token"))

    expired = failure(client.begin, tokens, short_video, META)

    assert (expired.kind, expired.code) == ("auth", "100200101")


# -- publishing -------------------------------------------------------------------------------


def test_publishes_one_photo_with_the_files_bytes_and_its_first_frame(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, big_video: Media
) -> None:
    seen: list[int] = []
    state = persisted(client.begin(tokens, big_video, META))

    client.upload(tokens, state, big_video, progress=lambda done, total: seen.append(done))
    client.finish(tokens, state, big_video, META)

    assert len(seen) == 3 and seen == sorted(seen) and seen[-1] == big_video.size
    [post] = sandbox.ledger.posts("kuaishou")
    assert (post.remote_id, post.sha256, post.caption) == (
        state["photo_id"],
        big_video.sha256,
        "她终于说出了真相 #短剧",
    )
    assert post.extra["cover"] == [360, 640]  # the 720x1280 first frame, scaled down
    assert client.status(tokens, state) == Remote("processing", state["photo_id"])
    assert processed(client, tokens, state, clock) == Remote(
        "published",
        state["photo_id"],
        url=f"https://www.kuaishou.com/short-video/{state['photo_id']}",
    )


def test_upload_resumes_after_a_fragment_is_cut_off(
    sandbox: Sandbox, client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = persisted(client.begin(tokens, big_video, META))

    def cut_the_next_fragment(done: int, total: int) -> None:
        if state["done"] == [0]:
            sandbox.faults.add(Fault("kuaishou", "chunk", "drop"))

    cut = failure(client.upload, tokens, state, big_video, progress=cut_the_next_fragment)
    assert cut.kind == "transient"
    assert state["done"] == [0]

    state = persisted(state)
    client.upload(tokens, state, big_video, progress=ignore)
    client.finish(tokens, state, big_video, META)

    assert sorted(state["done"]) == [0, 1, 2] and state["acknowledged"] == big_video.size
    assert sandbox.ledger.posts("kuaishou")[0].sha256 == big_video.sha256
    assert sandbox.uploads.received_bytes <= big_video.size + 5 * MB


def test_rate_limit_says_when_to_try_again(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    sandbox.faults.add(Fault("kuaishou", "init", "rate", retry_after=7))

    limited = failure(client.begin, tokens, short_video, META)

    assert (limited.kind, limited.retry_after, limited.code) == ("rate", 7.0, "100200104")


def test_daily_limit_is_a_quota_error_and_posts_nothing(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    sandbox.faults.add(Fault("kuaishou", "publish", "quota", retry_after=3600))

    spent = failure(client.finish, tokens, state, short_video, META)

    assert (spent.kind, spent.retry_after) == ("quota", 3600.0)
    assert sandbox.ledger.posts("kuaishou") == []


def test_a_lost_publish_answer_is_found_not_posted_again(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    before_finish = persisted(state)  # the job keeps no state from a finish that raised
    sandbox.faults.add(Fault("kuaishou", "publish", "lose_response"))

    lost = failure(client.finish, tokens, state, short_video, META)
    assert lost.kind == "transient"

    assert client.find_post(tokens, before_finish) is True
    client.finish(tokens, before_finish, short_video, META)  # knows the photo: posts nothing

    [post] = sandbox.ledger.posts("kuaishou")
    assert before_finish["photo_id"] == post.remote_id
    assert sandbox.ledger.duplicates() == {}


def test_find_post_says_no_when_the_publish_never_landed(
    sandbox: Sandbox, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    sandbox.faults.add(Fault("kuaishou", "publish", "error", status=503))

    broken = failure(client.finish, tokens, state, short_video, META)
    assert broken.kind == "transient"

    assert client.find_post(tokens, state) is False
    client.finish(tokens, state, short_video, META)
    assert len(sandbox.ledger.posts("kuaishou")) == 1


def test_complete_checks_the_fragment_count(
    sandbox: Sandbox, client: Client, tokens: Tokens, big_video: Media
) -> None:
    state = client.begin(tokens, big_video, META)
    split = Split(big_video.size, 5 * MB, first=0)
    upload_host = f"http://{state['endpoint']}"

    def post(path: str, **params: Any) -> dict[str, Any]:
        number = params.get("fragment_id", 0)
        offset, length = split.span(number)
        response = requests.post(
            f"{upload_host}{path}",
            params={**params, "upload_token": state["upload_token"]},
            data=read_chunk(big_video.path, offset, length),
            timeout=10,
        )
        return response.json()

    assert post("/api/upload/fragment", fragment_id=2)["result"] == 1  # any order
    assert post("/api/upload/fragment", fragment_id=0)["result"] == 1
    short = post("/api/upload/complete", fragment_count=3)
    assert short["result"] == 100200100 and "missing [1]" in short["error_msg"]

    state["done"] = [0, 2]
    client.upload(tokens, state, big_video, progress=ignore)  # sends fragment 1, completes
    client.finish(tokens, state, big_video, META)
    assert sandbox.ledger.posts("kuaishou")[0].sha256 == big_video.sha256


# -- what Kuaishou refuses ---------------------------------------------------------------------


def test_refusals_name_clearly_broken_files(
    short_video: Media, landscape_video: Media, noise: Media
) -> None:
    assert Client.refusals(short_video, META) == []
    assert Client.refusals(landscape_video, META) == [
        "Kuaishou cuts are vertical (9:16); this file is 1280x720"
    ]
    assert Client.refusals(noise, META) == ["the file is empty: no bytes or no duration"]
    assert Client.refusals(replace(short_video, size=0), META) != []


def test_a_file_forced_through_fails_processing_with_the_reason(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, noise: Media
) -> None:
    state = uploaded(client, tokens, noise)
    client.finish(tokens, state, noise, META)  # accepted: Kuaishou processes after publishing

    remote = processed(client, tokens, state, clock)

    assert (remote.status, remote.remote_id) == ("failed", state["photo_id"])
    assert "not a readable video" in remote.reason
    [post] = sandbox.ledger.posts("kuaishou")
    assert post.status == "failed"
    assert post.extra["cover"] == [90, 160]  # no frame to take: the small black cover


def test_a_restarted_sandbox_still_knows_the_photo(
    sandbox: Sandbox, clock: Clock, client: Client, tokens: Tokens, short_video: Media
) -> None:
    state = uploaded(client, tokens, short_video)
    client.finish(tokens, state, short_video, META)
    sandbox.stop()

    with Sandbox(sandbox.folder, platforms=("kuaishou",), clock=clock) as restarted:
        again = Client(restarted.endpoints("kuaishou"), APP)
        remote = processed(again, tokens, state, clock)
        again.close()

    assert (remote.status, remote.remote_id) == ("published", state["photo_id"])
