"""The TikTok client against the TikTok emulator, over real HTTP on loopback."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from publisher.platforms.base import Media, PlatformError, PostMeta, Quota, Tokens
from publisher.platforms.tiktok import MB, Client, chunk_plan
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox
from publisher.sandbox.tiktok import chunk_plan_problem

from platformkit import APP, REDIRECT, make_video, media_of

CHUNK = 5 * MB  # TikTok's smallest chunk: big_video (~12 MB) goes in two
META = PostMeta(title="The Heir Returns · 1", description="Episode one.", hashtags=("drama",))


class Clock:
    """Real time plus the jumps a test makes, so waiting for the platform takes no time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(tmp_path: Path, clock: Clock) -> Iterator[Sandbox]:
    """Only TikTok's emulator, on a clock the test moves."""
    with Sandbox(tmp_path / "sandbox", platforms=("tiktok",), clock=clock) as running:
        yield running


@pytest.fixture
def emulator(sandbox: Sandbox):
    return sandbox.platforms["tiktok"]


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    client = Client(sandbox.endpoints("tiktok"), APP, chunk_size=CHUNK)
    yield client
    client.close()


@pytest.fixture
def tokens(client: Client) -> Tokens:
    return connect(client)


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory) -> Media:
    """A 320x568 clip: under TikTok's 360 px minimum side."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    return media_of(make_video(path, seconds=2, size="320x568", bitrate="300k"))


def connect(client: Client, account: str = "heirdramas") -> Tokens:
    """Approve the consent page as a user would and trade the code for tokens."""
    url = client.authorize_url(state="state-1", redirect_uri=REDIRECT)
    answer = requests.get(
        url, params={"auto": "1", "account": account}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["state-1"]
    return client.exchange_code(query["code"][0], redirect_uri=REDIRECT, now=datetime.now(UTC))


def settle(client: Client, tokens: Tokens, state: dict, clock: Clock):
    """Let processing finish (on the emulator's clock) and return the post's status."""
    assert client.status(tokens, state).status == "processing"
    clock.advance(1)
    return client.status(tokens, state)


def publish(client: Client, tokens: Tokens, media: Media, meta: PostMeta = META) -> dict:
    state = client.begin(tokens, media, meta)
    client.upload(tokens, state, media, progress=lambda done, total: None)
    client.finish(tokens, state, media, meta)
    return state


# -- accounts -------------------------------------------------------------------------------


def test_connecting_gets_tokens_for_the_creator(client):
    url = urlsplit(client.authorize_url(state="s", redirect_uri=REDIRECT))
    query = parse_qs(url.query)
    assert url.path.endswith("/v2/auth/authorize/")
    assert query["client_key"] == [APP.client_id] and "video.publish" in query["scope"][0]

    tokens = connect(client)

    now = datetime.now(UTC)
    assert tokens.account_id == "heirdramas"
    assert timedelta(hours=1.9) < tokens.expires_at - now <= timedelta(hours=2)
    assert timedelta(days=179) < tokens.refresh_expires_at - now <= timedelta(days=180)


def test_a_token_expiring_mid_upload_is_refreshed_and_the_old_refresh_token_dies(
    client, tokens, sandbox, big_video
):
    state = client.begin(tokens, big_video, META)

    def cut_and_expire(done: int, total: int) -> None:
        sandbox.faults.add(Fault("tiktok", "chunk", "drop"))
        # The upload URL needs no token; the next status fetch finds it expired.
        sandbox.faults.add(Fault("tiktok", "status", "expire_token"))

    with pytest.raises(PlatformError) as cut:
        client.upload(tokens, state, big_video, progress=cut_and_expire)
    assert cut.value.kind == "transient"
    with pytest.raises(PlatformError) as expired:
        client.upload(tokens, state, big_video, progress=lambda done, total: None)
    assert (expired.value.kind, expired.value.code) == ("auth", "access_token_invalid")

    renewed = client.refresh(tokens, now=datetime.now(UTC))
    assert renewed.refresh_token != tokens.refresh_token
    with pytest.raises(PlatformError) as dead:
        client.refresh(tokens, now=datetime.now(UTC))
    assert (dead.value.kind, dead.value.code) == ("auth", "invalid_grant")

    client.upload(renewed, state, big_video, progress=lambda done, total: None)
    assert sandbox.uploads.received_bytes == big_video.size
    assert len(sandbox.ledger.posts("tiktok")) == 1


# -- publishing -----------------------------------------------------------------------------


def test_a_video_is_published_once(client, tokens, sandbox, clock, big_video):
    acknowledged: list[int] = []

    state = client.begin(tokens, big_video, META)
    client.upload(tokens, state, big_video, progress=lambda done, total: acknowledged.append(done))
    client.finish(tokens, state, big_video, META)
    remote = settle(client, tokens, state, clock)

    assert (state["chunk_size"], state["chunk_count"]) == (CHUNK, big_video.size // CHUNK)
    assert acknowledged == [CHUNK, big_video.size]
    assert remote.status == "published"
    [post] = sandbox.ledger.posts("tiktok")
    assert post.sha256 == big_video.sha256
    assert remote.url == f"https://www.tiktok.com/@heirdramas/video/{post.remote_id}"
    assert post.caption == "The Heir Returns · 1\n\nEpisode one. #drama"


def test_a_small_file_goes_whole_and_a_private_post_has_no_public_id(
    client, tokens, clock, short_video
):
    meta = dataclasses.replace(META, privacy="private")

    state = publish(client, tokens, short_video, meta)

    assert (state["chunk_size"], state["chunk_count"]) == (short_video.size, 1)
    remote = settle(client, tokens, state, clock)
    assert (remote.status, remote.remote_id, remote.url) == ("published", None, None)


def test_upload_resumes_from_last_acknowledged_byte(client, tokens, sandbox, big_video):
    state = client.begin(tokens, big_video, META)

    def cut_the_second_chunk(done: int, total: int) -> None:
        sandbox.faults.add(Fault("tiktok", "chunk", "drop"))

    with pytest.raises(PlatformError) as cut:
        client.upload(tokens, state, big_video, progress=cut_the_second_chunk)
    assert cut.value.kind == "transient" and state["acknowledged"] == CHUNK

    client.upload(tokens, state, big_video, progress=lambda done, total: None)

    assert state["acknowledged"] == big_video.size
    assert sandbox.uploads.received_bytes <= big_video.size + CHUNK
    [post] = sandbox.ledger.posts("tiktok")
    assert post.sha256 == big_video.sha256


def test_a_lost_answer_to_the_last_chunk_does_not_post_twice(
    client, tokens, sandbox, clock, big_video
):
    state = client.begin(tokens, big_video, META)

    def lose_the_last_answer(done: int, total: int) -> None:
        sandbox.faults.add(Fault("tiktok", "chunk", "lose_response"))

    with pytest.raises(PlatformError) as lost:
        client.upload(tokens, state, big_video, progress=lose_the_last_answer)
    assert lost.value.kind == "transient"

    assert client.find_post(tokens, state) is True
    client.upload(tokens, state, big_video, progress=lambda done, total: None)  # sends nothing

    assert settle(client, tokens, state, clock).status == "published"
    assert sandbox.uploads.received_bytes == big_video.size
    assert len(sandbox.ledger.posts("tiktok")) == 1
    assert sandbox.ledger.duplicates() == {}


def test_inits_over_six_a_minute_are_rate_limited(client, tokens, short_video):
    for _ in range(6):
        client.begin(tokens, short_video, META)

    with pytest.raises(PlatformError) as limited:
        client.begin(tokens, short_video, META)

    assert (limited.value.kind, limited.value.code) == ("rate", "rate_limit_exceeded")
    assert 0 < limited.value.retry_after <= 60


def test_the_daily_post_cap_defers_the_next_post(client, tokens, emulator, short_video):
    emulator.posts_per_day = 1
    publish(client, tokens, short_video)

    with pytest.raises(PlatformError) as capped:
        client.begin(tokens, short_video, META)

    assert (capped.value.kind, capped.value.code) == ("quota", "spam_risk_too_many_posts")
    assert capped.value.retry_after == 3600


def test_an_expired_upload_url_means_starting_over(client, tokens, clock, short_video):
    state = client.begin(tokens, short_video, META)
    clock.advance(3601)

    with pytest.raises(PlatformError) as gone:
        client.upload(tokens, state, short_video, progress=lambda done, total: None)

    assert (gone.value.kind, gone.value.status) == ("expired_session", 403)


def test_quotas_name_the_init_rate():
    client = Client(Client.DEFAULT_ENDPOINTS, APP)

    assert client.quotas(META) == [Quota("video.init", 1, 6, "minute")]


# -- refusals and the platform's own checks ---------------------------------------------------


def test_refusals_name_what_tiktok_would_not_take(short_video, tiny_video):
    assert Client.refusals(short_video, META) == []
    assert any("360–4096 px" in r for r in Client.refusals(tiny_video, META))
    slow = dataclasses.replace(short_video, fps=15.0, video_codec="prores", duration_s=700.0)
    reasons = Client.refusals(slow, META)
    assert any("23–60 fps" in r for r in reasons)
    assert any("prores" in r for r in reasons)
    assert any("10 minutes" in r for r in reasons)
    wordy = dataclasses.replace(META, description="😀" * 1200)  # 2 UTF-16 units each
    assert any("2200" in r for r in Client.refusals(short_video, wordy))


def test_a_video_forced_past_the_refusals_fails_tiktoks_checks(client, tokens, clock, tiny_video):
    state = publish(client, tokens, tiny_video)

    remote = settle(client, tokens, state, clock)

    assert (remote.status, remote.code) == ("failed", "picture_size_check_failed")


def test_a_video_over_the_creators_limit_fails_the_duration_check(
    client, tokens, emulator, clock, short_video
):
    emulator.max_video_post_duration_sec = 3

    state = publish(client, tokens, short_video)

    assert settle(client, tokens, state, clock).code == "duration_check_failed"


def test_a_caption_over_2200_characters_is_a_permanent_error(client, tokens, short_video):
    with pytest.raises(PlatformError) as refused:
        client.begin(tokens, short_video, dataclasses.replace(META, description="x" * 2300))

    assert (refused.value.kind, refused.value.status, refused.value.code) == (
        "permanent",
        400,
        "invalid_params",
    )


def test_an_unaudited_app_posts_only_privately_to_private_accounts(
    client, tokens, sandbox, emulator, short_video
):
    emulator.audited = False
    with pytest.raises(PlatformError) as public:
        client.begin(tokens, short_video, META)
    assert (public.value.kind, public.value.code) == ("permanent", "privacy_level_option_mismatch")

    private = dataclasses.replace(META, privacy="private")
    with pytest.raises(PlatformError) as open_account:
        client.begin(tokens, short_video, private)
    assert open_account.value.code == "unaudited_client_can_only_post_to_private_accounts"

    sandbox.accounts.account("tiktok", "heirdramas").private = True
    assert client.begin(tokens, short_video, private)["privacy_level"] == "SELF_ONLY"


# -- chunk plans -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "chunk", "plan"),
    [
        (50_000_123, 10_000_000, (10_000_000, 5)),  # TikTok's worked example
        (4 * MB, 10 * MB, (4 * MB, 1)),  # under 5 MB: whole
        (9 * MB, 10 * MB, (9 * MB, 1)),  # within one chunk: whole
        (12 * MB, 5 * MB, (5 * MB, 2)),  # the last chunk takes the remainder
    ],
)
def test_chunk_plans_follow_tiktoks_rules(size, chunk, plan):
    assert chunk_plan(size, chunk) == plan
    assert chunk_plan_problem(size, *plan) is None


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (4 * MB, 2 * MB, 2),  # under 5 MB must go whole
        (12 * MB, 4 * MB, 3),  # chunks under 5 MB
        (12 * MB, 5 * MB, 3),  # the count is rounded down, not up
        (200 * MB, 65 * MB, 3),  # chunks over 64 MB
    ],
)
def test_the_emulator_refuses_chunk_plans_that_break_the_rules(size, chunk, count):
    assert chunk_plan_problem(size, chunk, count)


def test_chunk_sizes_outside_5_to_64_mb_are_refused_up_front():
    with pytest.raises(ValueError, match="5–64 MB"):
        Client(Client.DEFAULT_ENDPOINTS, APP, chunk_size=MB)


def test_the_emulator_takes_chunks_in_order_only(client, tokens, big_video):
    state = client.begin(tokens, big_video, META)
    data = big_video.path.read_bytes()

    def put(first: int, last: int) -> requests.Response:
        headers = {
            "Content-Type": "video/mp4",
            "Content-Range": f"bytes {first}-{last}/{big_video.size}",
        }
        return requests.put(
            state["upload_url"], data=data[first : last + 1], headers=headers, timeout=5
        )

    assert put(CHUNK, big_video.size - 1).status_code == 416  # the second chunk first
    assert put(0, 1000).status_code == 416  # not a planned chunk
    first = put(0, CHUNK - 1)
    assert (first.status_code, first.headers["Content-Range"]) == (
        206,
        f"bytes 0-{CHUNK - 1}/{big_video.size}",
    )
    assert first.json()["error"]["code"] == "ok"
    assert put(CHUNK, big_video.size - 1).status_code == 201
