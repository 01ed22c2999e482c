"""The Instagram client against the Instagram emulator, over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from hookline import ffmpeg
from publisher.platforms.base import Media, PlatformError, PostMeta, Tokens
from publisher.platforms.instagram import Client
from publisher.platforms.meta import Refusal, classify
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox

from platformkit import APP, REDIRECT, media_of

CHUNK = 1024 * 1024  # several pieces for every fixture, in few requests
META = PostMeta(title="Episode 1", description="She knew all along.", hashtags=("drama",))


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    client = Client(sandbox.endpoints("instagram"), APP, chunk_size=CHUNK)
    yield client
    client.close()


def connect(client: Client, account: str = "sandbox-account") -> Tokens:
    """Approve the consent page (``auto=1``) and trade the code, as the UI's callback does."""
    url = client.authorize_url(state="st4te", redirect_uri=REDIRECT)
    answer = requests.get(f"{url}&auto=1&account={account}", allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st4te"]
    return client.exchange_code(query["code"][0], redirect_uri=REDIRECT, now=datetime.now(UTC))


def finish_when_processed(
    client: Client, tokens: Tokens, state: dict[str, Any], media: Media, meta: PostMeta = META
) -> None:
    """Call finish until Instagram has processed the container (the job's retries)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            client.finish(tokens, state, media, meta)
            return
        except PlatformError as error:
            if error.kind != "transient" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def uploaded(client: Client, tokens: Tokens, media: Media, meta: PostMeta = META) -> dict:
    state = client.begin(tokens, media, meta)
    client.upload(tokens, state, media, progress=lambda done, total: None)
    return state


def fault_after(sandbox: Sandbox, acks: int, fault: Fault) -> Callable[[int, int], None]:
    """A progress callback that injects ``fault`` after ``acks`` acknowledged pieces."""
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == acks:
            sandbox.faults.add(fault)

    return progress


def test_connecting_gives_a_page_token_and_a_long_lived_user_token(sandbox, client):
    tokens = connect(client)
    assert tokens.account_id == "sandbox-account"
    assert tokens.refresh_token and tokens.refresh_token != tokens.access_token
    lifetime = (tokens.expires_at - datetime.now(UTC)).total_seconds()
    assert 59 * 86400 < lifetime <= 60 * 86400
    assert "instagram_content_publish" in client.authorize_url(state="s", redirect_uri=REDIRECT)

    renewed = client.refresh(tokens, now=datetime.now(UTC))
    assert renewed.access_token != tokens.access_token
    assert renewed.account_id == tokens.account_id


def test_a_reel_is_published_once_with_the_files_bytes(sandbox, client, short_video):
    tokens = connect(client)
    acknowledged = []
    state = client.begin(tokens, short_video, META)
    client.upload(tokens, state, short_video, progress=lambda d, t: acknowledged.append(d))
    finish_when_processed(client, tokens, state, short_video)

    remote = client.status(tokens, state)
    assert remote.status == "published"
    assert remote.url.startswith("https://www.instagram.com/reel/")
    assert remote.remote_id == state["media_id"]
    assert acknowledged[-1] == short_video.size and len(acknowledged) > 1
    [post] = sandbox.ledger.posts("instagram")
    assert (post.sha256, post.remote_id) == (short_video.sha256, state["media_id"])
    assert post.caption == "She knew all along. #drama"
    assert client.publishing_usage(tokens) == (1, 100)


def test_a_dropped_chunk_is_resumed_from_the_platforms_offset(sandbox, client, big_video):
    tokens = connect(client)
    state = client.begin(tokens, big_video, META)
    # Acknowledged: the platform's offset asked first (0), then three pieces.
    progress = fault_after(sandbox, 4, Fault("instagram", "chunk", "drop"))
    with pytest.raises(PlatformError) as raised:
        client.upload(tokens, state, big_video, progress=progress)
    assert raised.value.kind == "transient"
    assert state["acknowledged"] == 3 * CHUNK

    client.upload(tokens, state, big_video, progress=lambda d, t: None)
    finish_when_processed(client, tokens, state, big_video)
    assert sandbox.uploads.received_bytes == big_video.size  # rupload kept the cut piece
    [post] = sandbox.ledger.posts("instagram")
    assert post.sha256 == big_video.sha256


def test_a_chunk_whose_answer_was_lost_is_not_sent_again(sandbox, client, short_video):
    tokens = connect(client)
    state = client.begin(tokens, short_video, META)
    # The very first piece: our state still says 0 bytes, so the platform corrects us.
    sandbox.faults.add(Fault("instagram", "chunk", "lose_response"))
    with pytest.raises(PlatformError):
        client.upload(tokens, state, short_video, progress=lambda d, t: None)
    assert state["acknowledged"] == 0

    client.upload(tokens, state, short_video, progress=lambda d, t: None)
    finish_when_processed(client, tokens, state, short_video)
    assert sandbox.uploads.received_bytes == short_video.size
    assert sandbox.ledger.posts("instagram")[0].sha256 == short_video.sha256


def test_a_token_expiring_mid_upload_is_refreshed_and_the_upload_goes_on(
    sandbox, client, big_video
):
    tokens = connect(client)
    state = client.begin(tokens, big_video, META)
    progress = fault_after(sandbox, 2, Fault("instagram", "chunk", "expire_token"))
    with pytest.raises(PlatformError) as raised:
        client.upload(tokens, state, big_video, progress=progress)
    assert (raised.value.kind, raised.value.code) == ("auth", "190/463")

    tokens = client.refresh(tokens, now=datetime.now(UTC))
    client.upload(tokens, state, big_video, progress=lambda d, t: None)
    finish_when_processed(client, tokens, state, big_video)
    assert sandbox.uploads.received_bytes == big_video.size  # rupload kept the cut piece
    assert len(sandbox.ledger.posts("instagram")) == 1


def test_a_rate_limit_says_when_to_come_back(sandbox, client, short_video):
    tokens = connect(client)
    sandbox.faults.add(Fault("instagram", "init", "rate", retry_after=90))
    with pytest.raises(PlatformError) as raised:
        client.begin(tokens, short_video, META)
    assert (raised.value.kind, raised.value.code) == ("rate", "4")
    assert raised.value.retry_after == 120  # Meta says when in whole minutes


def test_the_publishing_limit_defers_until_the_window_has_room(sandbox, client, short_video):
    sandbox.platforms["instagram"].publish_limit = 1
    tokens = connect(client)
    finish_when_processed(client, tokens, uploaded(client, tokens, short_video), short_video)

    state = uploaded(client, tokens, short_video)
    with pytest.raises(PlatformError) as raised:
        finish_when_processed(client, tokens, state, short_video)
    assert (raised.value.kind, raised.value.code) == ("quota", "9/2207042")
    assert 86000 < raised.value.retry_after <= 86460
    assert client.publishing_usage(tokens) == (1, 1)
    assert len(sandbox.ledger.posts("instagram")) == 1


def test_a_publish_whose_answer_was_lost_is_found_not_repeated(sandbox, client, short_video):
    sandbox.platforms["instagram"].processing_s = 0  # finish goes straight to media_publish
    tokens = connect(client)
    state = uploaded(client, tokens, short_video)
    assert not client.find_post(tokens, state)
    sandbox.faults.add(Fault("instagram", "publish", "lose_response"))
    with pytest.raises(PlatformError) as raised:
        client.finish(tokens, state, short_video, META)
    assert raised.value.kind == "transient"
    assert "media_id" not in state

    assert client.find_post(tokens, state)
    client.finish(tokens, state, short_video, META)  # a second finish publishes nothing
    [post] = sandbox.ledger.posts("instagram")
    assert state["media_id"] == post.remote_id
    assert (
        client.status(tokens, state).url
        == f"https://www.instagram.com/reel/{post.extra['shortcode']}/"
    )


def test_the_platform_refuses_to_publish_a_container_twice(sandbox, client, short_video):
    tokens = connect(client)
    state = uploaded(client, tokens, short_video)
    finish_when_processed(client, tokens, state, short_video)
    again = requests.post(
        f"{sandbox.endpoints('instagram')['api']}/v23.0/{tokens.account_id}/media_publish",
        data={"creation_id": state["container_id"]},
        headers={"Authorization": f"OAuth {tokens.access_token}"},
        timeout=5,
    )
    assert again.status_code == 400
    assert again.json()["error"]["error_subcode"] == 2207008
    assert len(sandbox.ledger.posts("instagram")) == 1


def test_cuts_instagram_would_reject_are_refused_before_upload(short_video, landscape_video):
    assert Client.refusals(short_video, META) == []
    assert Client.refusals(landscape_video, META) == [
        "Instagram Reels are vertical (9:16); this cut is 1280×720"
    ]
    wordy = PostMeta(title="t", description="x" * 2201, hashtags=tuple(f"t{i}" for i in range(31)))
    reasons = Client.refusals(short_video, wordy)
    assert any("at most 2200 characters" in r for r in reasons)
    assert any("31" in r and "hashtags" in r for r in reasons)


def test_a_file_breaking_the_specs_fails_with_instagrams_subcode(sandbox, client, tmp_path):
    clip = short_clip(tmp_path / "short.mp4")
    assert {
        "Instagram Reels must be 3 s–15 min; this cut is 2.0 s",
        "Instagram Reels must be 23–60 fps; this cut is 15.0 fps",
    } <= set(Client.refusals(clip, META))
    tokens = connect(client)
    state = uploaded(client, tokens, clip)  # forced through: the platform decides

    with pytest.raises(PlatformError) as raised:
        finish_when_processed(client, tokens, state, clip)
    assert (raised.value.kind, raised.value.code) == ("permanent", "2207026")
    remote = client.status(tokens, state)
    assert (remote.status, remote.code) == ("failed", "2207026")
    assert "error code 2207026" in remote.reason and "23–60 fps" in remote.reason
    assert sandbox.ledger.posts("instagram") == []


def test_a_container_left_a_day_expires_and_the_upload_starts_over(tmp_path, short_video):
    now = [time.time()]
    with (
        Sandbox(tmp_path / "sb", platforms=("instagram",), clock=lambda: now[0]) as sandbox,
        closing(Client(sandbox.endpoints("instagram"), APP, chunk_size=CHUNK)) as client,
    ):
        tokens = connect(client)
        state = uploaded(client, tokens, short_video)
        now[0] += 25 * 3600
        with pytest.raises(PlatformError) as raised:
            client.finish(tokens, state, short_video, META)
        assert (raised.value.kind, raised.value.code) == ("expired_session", "2207020")
        assert client.status(tokens, state).status == "failed"


@pytest.mark.parametrize(
    ("refusal", "kind"),
    [
        (Refusal(400, "expired", code=190, subcode=463), "auth"),
        (Refusal(400, "missing permission", code=200), "permanent"),
        (Refusal(400, "limit", code=9, subcode=2207042), "quota"),
        (Refusal(400, "spam", code=4, subcode=2207051), "permanent"),
        (Refusal(400, "app rate", code=4), "rate"),
        (Refusal(400, "ig rate", code=80002), "rate"),
        (Refusal(400, "not ready", code=9007, subcode=2207027), "transient"),
        (Refusal(400, "expired container", code=-2, subcode=2207020), "expired_session"),
        (Refusal(400, "bad video", code=352, subcode=2207026), "permanent"),
        (Refusal(503, "<html>bad gateway</html>"), "transient"),
    ],
)
def test_meta_errors_map_to_what_the_job_should_do(refusal, kind):
    assert classify(refusal) == kind


def short_clip(path: Path) -> Media:
    """Render a 2 s, 15 fps vertical clip: under Instagram's 3 s and 23 fps minimums."""
    ffmpeg.run(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=720x1280:r=15:d=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            path,
        ]
    )
    return media_of(path)
