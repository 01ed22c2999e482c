"""The YouTube client against the YouTube emulator, over real HTTP on loopback."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from publisher.platforms.base import Caption, Media, PlatformError, PostMeta, Quota, Tokens
from publisher.platforms.youtube import Client, seconds_to_pacific_midnight
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox

from platformkit import APP, REDIRECT

CHUNK = 256 * 1024  # the smallest chunk Google allows: many chunks from a small file
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
    """Only YouTube's emulator, on a clock the test moves."""
    with Sandbox(tmp_path / "sandbox", platforms=("youtube",), clock=clock) as running:
        yield running


@pytest.fixture
def emulator(sandbox: Sandbox):
    return sandbox.platforms["youtube"]


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    client = Client(sandbox.endpoints("youtube"), APP, chunk_size=CHUNK)
    yield client
    client.close()


@pytest.fixture
def tokens(client: Client) -> Tokens:
    return connect(client)


def connect(client: Client, account: str = "UC-heir-dramas") -> Tokens:
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


def srt(tmp_path: Path, language: str) -> Caption:
    path = tmp_path / f"{language}.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:02,000\n¿Quién eres?\n\n")
    return Caption(language, path, f"Subtítulos ({language})")


# -- accounts -------------------------------------------------------------------------------


def test_connecting_asks_for_offline_access_and_finds_the_channel(client, sandbox):
    query = parse_qs(urlsplit(client.authorize_url(state="s", redirect_uri=REDIRECT)).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert "youtube.upload" in query["scope"][0] and "youtube.force-ssl" in query["scope"][0]

    tokens = connect(client)

    assert tokens.account_id == "UC-heir-dramas"
    assert tokens.refresh_token
    assert 3500 < (tokens.expires_at - datetime.now(UTC)).total_seconds() <= 3600


def test_a_refresh_keeps_googles_refresh_token(client, tokens):
    renewed = client.refresh(tokens, now=datetime.now(UTC))

    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token == tokens.refresh_token  # Google's do not rotate
    assert client.refresh(tokens, now=datetime.now(UTC)).access_token  # still good


def test_a_refused_refresh_is_an_auth_error(client, tokens):
    stale = dataclasses.replace(tokens, refresh_token="rt_revoked")

    with pytest.raises(PlatformError) as refused:
        client.refresh(stale, now=datetime.now(UTC))

    assert (refused.value.kind, refused.value.code) == ("auth", "invalid_grant")


# -- publishing -----------------------------------------------------------------------------


def test_a_short_is_published_once_with_its_captions(
    client, tokens, sandbox, emulator, clock, short_video, tmp_path
):
    meta = dataclasses.replace(
        META, language="es", captions=(srt(tmp_path, "es"),), localizations={"en": ("Heir", "")}
    )
    acknowledged: list[int] = []

    state = client.begin(tokens, short_video, meta)
    client.upload(
        tokens, state, short_video, progress=lambda done, total: acknowledged.append(done)
    )
    client.finish(tokens, state, short_video, meta)
    remote = settle(client, tokens, state, clock)

    assert remote.status == "published"
    assert remote.url == f"https://youtube.com/shorts/{state['video_id']}"
    assert acknowledged == sorted(acknowledged) and acknowledged[-1] == short_video.size
    assert len(acknowledged) == -(-short_video.size // CHUNK)
    [post] = sandbox.ledger.posts("youtube")
    assert (post.remote_id, post.sha256) == (state["video_id"], short_video.sha256)
    assert [(t.video_id, t.language) for t in emulator.tracks] == [(state["video_id"], "es")]
    assert state["captions"] == {"es": emulator.tracks[0].id}
    resource = emulator.videos[state["video_id"]].resource
    assert resource["snippet"]["defaultLanguage"] == "es"
    assert resource["localizations"] == {"en": {"title": "Heir", "description": ""}}


def test_a_scheduled_short_stays_private_until_its_time(
    client, tokens, sandbox, clock, short_video
):
    at = datetime.now(UTC) + timedelta(hours=3)
    state = publish(client, tokens, short_video, dataclasses.replace(META, publish_at=at))

    assert settle(client, tokens, state, clock).status == "scheduled"
    [post] = sandbox.ledger.posts("youtube")
    assert post.status == "scheduled" and post.scheduled_at == int(at.timestamp())

    clock.advance(3 * 3600)
    renewed = client.refresh(tokens, now=datetime.now(UTC))  # an hour's token is long gone
    assert client.status(renewed, state).status == "published"


def test_upload_resumes_from_last_acknowledged_byte(client, tokens, sandbox, short_video):
    state = client.begin(tokens, short_video, META)

    def cut_the_fourth_chunk(done: int, total: int) -> None:
        if done == 3 * CHUNK:
            sandbox.faults.add(Fault("youtube", "chunk", "drop"))

    with pytest.raises(PlatformError) as cut:
        client.upload(tokens, state, short_video, progress=cut_the_fourth_chunk)
    assert cut.value.kind == "transient"
    assert state["acknowledged"] == 3 * CHUNK

    client.upload(tokens, state, short_video, progress=lambda done, total: None)

    assert "video_id" in state
    assert sandbox.uploads.received_bytes <= short_video.size + CHUNK
    [post] = sandbox.ledger.posts("youtube")
    assert post.sha256 == short_video.sha256


def test_a_token_expiring_mid_upload_is_refreshed_and_the_upload_continues(
    client, tokens, sandbox, short_video
):
    state = client.begin(tokens, short_video, META)

    def expire_after_two_chunks(done: int, total: int) -> None:
        if done == 2 * CHUNK:
            sandbox.faults.add(Fault("youtube", "chunk", "expire_token"))

    with pytest.raises(PlatformError) as expired:
        client.upload(tokens, state, short_video, progress=expire_after_two_chunks)
    assert (expired.value.kind, expired.value.status) == ("auth", 401)

    renewed = client.refresh(tokens, now=datetime.now(UTC))
    client.upload(renewed, state, short_video, progress=lambda done, total: None)

    assert sandbox.accounts.refreshes == 1
    assert sandbox.uploads.received_bytes == short_video.size
    assert len(sandbox.ledger.posts("youtube")) == 1


def test_a_rate_limit_says_when_to_try_again(client, tokens, sandbox, short_video):
    sandbox.faults.add(Fault("youtube", "init", "rate", retry_after=7))

    with pytest.raises(PlatformError) as limited:
        client.begin(tokens, short_video, META)

    assert (limited.value.kind, limited.value.code) == ("rate", "rateLimitExceeded")
    assert limited.value.retry_after == 7


def test_exhausted_upload_quota_waits_for_midnight_pacific(client, tokens, emulator, short_video):
    emulator.videos_insert_per_day = 1
    client.begin(tokens, short_video, META)
    until_midnight = seconds_to_pacific_midnight(datetime.now(UTC))

    with pytest.raises(PlatformError) as exhausted:
        client.begin(tokens, short_video, META)

    assert (exhausted.value.kind, exhausted.value.code) == ("quota", "quotaExceeded")
    assert until_midnight - 60 < exhausted.value.retry_after <= until_midnight


def test_quotas_count_the_upload_and_the_caption_units(tmp_path):
    client = Client(Client.DEFAULT_ENDPOINTS, APP)  # no network: quotas are plain arithmetic
    meta = dataclasses.replace(META, captions=(srt(tmp_path, "es"), srt(tmp_path, "en")))

    assert client.quotas(meta) == [
        Quota("videos.insert", 1, 100, "day_pacific"),
        Quota("units", 800, 10_000, "day_pacific"),
    ]
    assert client.quotas(META) == [Quota("videos.insert", 1, 100, "day_pacific")]


def test_a_lost_answer_to_the_last_chunk_does_not_post_twice(client, tokens, sandbox, short_video):
    state = client.begin(tokens, short_video, META)

    def lose_the_last_answer(done: int, total: int) -> None:
        if done + CHUNK >= total:
            sandbox.faults.add(Fault("youtube", "chunk", "lose_response"))

    with pytest.raises(PlatformError) as lost:
        client.upload(tokens, state, short_video, progress=lose_the_last_answer)
    assert lost.value.kind == "transient" and "video_id" not in state

    assert client.find_post(tokens, state) is True
    client.upload(tokens, state, short_video, progress=lambda done, total: None)

    [post] = sandbox.ledger.posts("youtube")
    assert post.remote_id == state["video_id"]
    assert sandbox.uploads.received_bytes == short_video.size
    assert sandbox.ledger.duplicates() == {}


def test_a_lost_caption_answer_adds_the_track_once(
    client, tokens, sandbox, emulator, short_video, tmp_path
):
    meta = dataclasses.replace(META, language="es", captions=(srt(tmp_path, "es"),))
    state = client.begin(tokens, short_video, meta)
    client.upload(tokens, state, short_video, progress=lambda done, total: None)
    sandbox.faults.add(Fault("youtube", "captions", "lose_response"))

    with pytest.raises(PlatformError):
        client.finish(tokens, state, short_video, meta)
    assert client.find_post(tokens, state) is False  # the caption is not known to be there

    client.finish(tokens, state, short_video, meta)

    assert len(emulator.tracks) == 1
    assert state["captions"] == {"es": None}  # made by the lost call; its id went with it
    assert client.find_post(tokens, state) is True


def test_an_expired_upload_session_means_starting_over(client, tokens, clock, short_video):
    state = client.begin(tokens, short_video, META)
    clock.advance(8 * 86400)
    renewed = client.refresh(tokens, now=datetime.now(UTC))

    with pytest.raises(PlatformError) as gone:
        client.upload(renewed, state, short_video, progress=lambda done, total: None)

    assert (gone.value.kind, gone.value.status) == ("expired_session", 404)


# -- refusals and the platform's own checks ---------------------------------------------------


def test_refusals_name_what_would_not_make_a_short(short_video, landscape_video):
    long_cut = dataclasses.replace(short_video, duration_s=200.0)
    bad_text = dataclasses.replace(META, title="x" * 101, description="a <b> tag")

    assert Client.refusals(short_video, META) == []
    assert any("landscape" in r for r in Client.refusals(landscape_video, META))
    assert any("over 3 minutes" in r for r in Client.refusals(long_cut, META))
    reasons = Client.refusals(short_video, bad_text)
    assert any("101 characters" in r for r in reasons)
    assert any("< and >" in r for r in reasons)
    unlabelled = dataclasses.replace(META, localizations={"en": ("Heir", "")})
    assert any("defaultLanguage" in r for r in Client.refusals(short_video, unlabelled))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": "x" * 101}, "invalidTitle"),
        ({"description": "<script>"}, "invalidDescription"),
        ({"localizations": {"en": ("Heir", "")}}, "defaultLanguageNotSet"),
    ],
)
def test_metadata_youtube_refuses_is_a_permanent_error_with_its_reason(
    client, tokens, sandbox, short_video, change, reason
):
    with pytest.raises(PlatformError) as refused:
        client.begin(tokens, short_video, dataclasses.replace(META, **change))

    assert (refused.value.kind, refused.value.status, refused.value.code) == (
        "permanent",
        400,
        reason,
    )
    assert sandbox.ledger.posts() == []


def test_a_file_that_is_no_video_fails_processing(client, tokens, sandbox, clock, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video " * 40_000)
    media = Media(
        junk,
        junk.stat().st_size,
        hashlib.sha256(junk.read_bytes()).hexdigest(),
        4,
        720,
        1280,
        "h264",
    )

    state = publish(client, tokens, media)
    remote = settle(client, tokens, state, clock)

    assert (remote.status, remote.code) == ("failed", "invalidFile")


# -- the emulator's protocol rules, spoken directly ---------------------------------------------


def test_the_emulator_holds_to_googles_chunk_rules(client, tokens, short_video):
    state = client.begin(tokens, short_video, META)
    data = short_video.path.read_bytes()
    total = short_video.size

    def put(first: int, size: int) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {tokens.access_token}",
            "Content-Range": f"bytes {first}-{first + size - 1}/{total}",
        }
        return requests.put(
            state["session_uri"], data=data[first : first + size], headers=headers, timeout=5
        )

    assert put(0, 1000).status_code == 400  # a non-final chunk not a multiple of 256 KiB
    answer = put(0, CHUNK)
    assert (answer.status_code, answer.headers["Range"]) == (308, f"bytes=0-{CHUNK - 1}")
    assert put(0, CHUNK).status_code == 400  # overlapping
    assert put(2 * CHUNK, CHUNK).status_code == 400  # gapped
    assert put(CHUNK, 2 * CHUNK).status_code == 400  # a different chunk size
    probe = requests.put(
        state["session_uri"],
        headers={
            "Authorization": f"Bearer {tokens.access_token}",
            "Content-Range": f"bytes */{total}",
        },
        timeout=5,
    )
    assert (probe.status_code, probe.headers["Range"]) == (308, f"bytes=0-{CHUNK - 1}")


@pytest.mark.parametrize(
    "status",
    [
        {"privacyStatus": "public", "publishAt": "2030-01-01T10:00:00Z"},
        {"privacyStatus": "private", "publishAt": "2030-01-01T10:00:00"},  # no time zone
    ],
)
def test_the_emulator_refuses_publish_at_unless_private_and_zoned(sandbox, tokens, status):
    answer = requests.post(
        f"{sandbox.url}/youtube/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        json={"snippet": {"title": "Heir"}, "status": status},
        timeout=5,
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["reason"] == "invalidPublishAt"
