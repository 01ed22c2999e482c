"""Publishing end to end: scheduled publications become jobs that post through the sandbox.

Every test runs the real job (the worker's code path) against the platform emulators
over HTTP on loopback, with a real database, and counts what the emulators received.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path

import pytest
from sqlmodel import col, select

from hookline.app import create_app
from hookline.auth import create_user
from hookline.clock import utcnow
from hookline.db import Database
from hookline.errors import Conflict
from hookline.jobs import registry as job_kinds
from hookline.jobs.worker import run_due_jobs, run_jobs
from hookline.models import (
    Channel,
    ChannelStatus,
    Job,
    JobStatus,
    LocalizationStatus,
    LocalizedCut,
    MediaAsset,
    Publication,
    PublicationAttempt,
    PublicationStatus,
    QuotaSpend,
)
from hookline.settings import Settings
from publisher import channels, scheduling
from publisher.errors import Refused
from publisher.platforms.base import Media, Quota
from publisher.sandbox.core import Fault
from publisher.sandbox.server import Sandbox, grant

from publishkit import CALLBACK, approved_cut, sandbox_channel, variant
from testkit import PASSWORD, free_port, make_settings

JOBS = ("publisher.jobs",)
QUOTA_DAY = Quota("videos.insert", 1, 100, "day_pacific")
PLATFORMS = ("youtube", "tiktok", "instagram", "facebook", "douyin", "kuaishou")


@dataclass
class Studio:
    db: Database
    settings: Settings
    sandbox: Sandbox
    folder: Path

    def channel(self, platform: str, **kw: str) -> int:
        with self.db.transaction() as session:
            return sandbox_channel(session, self.settings, platform, **kw).id

    def cut(self, video: Path, n: int = 1, **kw: object) -> int:
        unique = variant(video, self.folder / "videos", n)
        with self.db.transaction() as session:
            return approved_cut(session, self.settings, unique, episode=n, **kw).id

    def schedule(self, cut_id: int, channel_id: int, local: datetime | None = None, **kw) -> int:
        with self.db.transaction() as session:
            channel = session.get_one(Channel, channel_id)
            when = local or scheduling.to_local(utcnow(), channel.timezone).replace(tzinfo=None)
            draft = scheduling.Draft(
                cut_id=cut_id,
                channel_id=channel_id,
                local_time=when,
                title=kw.pop("title", f"La novia por contrato {cut_id}"),
                description="Ella firmó sin leer.",
                hashtags=("#dramacorto", "#novela"),
                **kw,
            )
            return scheduling.schedule(session, self.settings, draft).id

    def run(self, publication_id: int, timeout: float = 60) -> Publication:
        """Run the publication's job until it has finished; return the publication."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as session:
                job_id = session.get_one(Publication, publication_id).job_id
            assert job_id is not None
            run_jobs(self.db, self.settings, [job_id], modules=JOBS, tick_s=0.05)
            publication, job = self.publication(publication_id)
            if job.status in (JobStatus.SUCCEEDED, JobStatus.DEAD, JobStatus.CANCELLED):
                return publication
        raise AssertionError(f"publication {publication_id} did not finish in {timeout} s")

    def publication(self, publication_id: int) -> tuple[Publication, Job]:
        with self.db.session() as session:
            publication = session.get_one(Publication, publication_id)
            return publication, session.get_one(Job, publication.job_id)

    def timeline(self, publication_id: int) -> list[PublicationAttempt]:
        with self.db.session() as session:
            return list(
                session.exec(
                    select(PublicationAttempt)
                    .where(PublicationAttempt.publication_id == publication_id)
                    .order_by(col(PublicationAttempt.id))
                )
            )

    def posts(self, publication_id: int) -> list:
        """The posts the emulators made of this publication's video."""
        with self.db.session() as session:
            publication = session.get_one(Publication, publication_id)
            cut = session.get_one(LocalizedCut, publication.cut_id)
            sha256 = session.get_one(MediaAsset, cut.asset_id).sha256
        return [p for p in self.sandbox.ledger.posts() if p.sha256 == sha256]


@pytest.fixture
def studio(tmp_path: Path, db: Database) -> Iterator[Studio]:
    job_kinds.load(JOBS)  # what a worker loads
    port = free_port()
    settings = make_settings(tmp_path, str(db.engine.url), sandbox_port=port)
    sandbox = Sandbox(tmp_path / "sandbox").start(port=port)
    try:
        yield Studio(db, settings, sandbox, tmp_path)
    finally:
        sandbox.stop()


# -- the happy path, each platform -----------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_due_publication_is_posted_once_with_its_metadata(
    studio: Studio, short_video: Media, platform: str
):
    channel = studio.channel(platform)
    publication_id = studio.schedule(studio.cut(short_video.path), channel)

    publication = studio.run(publication_id)

    assert publication.status == PublicationStatus.PUBLISHED, publication.error_message
    assert publication.remote_id and publication.remote_url
    assert publication.bytes_sent == short_video.size + len(b"free") + 4 + len(
        b"hookline test variant 1"
    )
    [post] = studio.posts(publication.id)
    assert post.platform == platform and post.size == publication.bytes_sent
    assert "#dramacorto" in post.caption or "#dramacorto" in post.extra.get("tags", [])
    steps = [(a.step, a.outcome) for a in studio.timeline(publication_id)]
    assert ("begin", "ok") in steps and ("upload", "ok") in steps
    assert ("finish", "ok") in steps and steps[-1] == ("status", "ok")


# -- failures on the way ---------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram"])
def test_an_upload_cut_mid_chunk_resumes_from_the_last_acknowledged_byte(
    studio: Studio, big_video: Media, platform: str
):
    channel = studio.channel(platform)
    publication_id = studio.schedule(studio.cut(big_video.path), channel)
    studio.sandbox.faults.add(Fault(platform, "chunk", "drop", times=2))

    publication = studio.run(publication_id)

    assert publication.status == PublicationStatus.PUBLISHED, publication.error_message
    # What went over the wire beyond the file: YouTube keeps the whole 256 KiB blocks of a
    # cut chunk and rupload every byte (a few KiB of JSON besides); TikTok keeps whole
    # chunks only, so each cut costs up to one chunk (10 MB at most).
    extra = studio.sandbox.wire_bytes - publication.bytes_sent
    assert extra <= {"youtube": 2 * 256 * 1024 + 65536, "instagram": 65536}.get(
        platform, 2 * 10 * 1024 * 1024
    )
    assert len(studio.posts(publication.id)) == 1
    cuts = [a for a in studio.timeline(publication_id) if a.step == "uploading"]
    assert [a.outcome for a in cuts] == ["error", "error"]


def test_a_token_that_expires_mid_upload_is_refreshed_and_the_upload_goes_on(
    studio: Studio, big_video: Media
):
    channel = studio.channel("youtube")
    publication_id = studio.schedule(studio.cut(big_video.path), channel)
    with studio.db.session() as session:
        sealed_before = session.get_one(Channel, channel).token_ciphertext
    studio.sandbox.faults.add(Fault("youtube", "chunk", "expire_token"))

    publication = studio.run(publication_id)

    assert publication.status == PublicationStatus.PUBLISHED, publication.error_message
    assert studio.sandbox.accounts.refreshes == 1
    with studio.db.session() as session:
        assert session.get_one(Channel, channel).token_ciphertext != sealed_before
    assert len(studio.posts(publication.id)) == 1


def test_a_429_is_waited_out_for_as_long_as_retry_after_says(studio: Studio, short_video: Media):
    channel = studio.channel("tiktok")
    publication_id = studio.schedule(studio.cut(short_video.path), channel)
    studio.sandbox.faults.add(Fault("tiktok", "init", "rate", retry_after=1.5))

    started = time.monotonic()
    publication = studio.run(publication_id)

    assert publication.status == PublicationStatus.PUBLISHED, publication.error_message
    assert time.monotonic() - started >= 1.5
    [rate] = [a for a in studio.timeline(publication_id) if a.outcome == "error"]
    assert rate.http_status == 429 and rate.code


def test_an_exhausted_quota_defers_the_publication_to_the_next_window(
    studio: Studio, short_video: Media
):
    channel = studio.channel("youtube")
    publication_id = studio.schedule(studio.cut(short_video.path), channel)
    studio.sandbox.faults.add(Fault("youtube", "init", "quota", retry_after=3600))

    before = utcnow()
    run_due_jobs(studio.db, studio.settings)  # the one run: it defers, nothing else is due

    publication, job = studio.publication(publication_id)
    assert publication.status == PublicationStatus.DEFERRED
    assert "quota" in (publication.error_message or "").lower()
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    # YouTube's quota day turns at midnight Pacific: the job waits for it, not in a hot loop.
    midnight = scheduling.window_end(QUOTA_DAY, scheduling.window_start(QUOTA_DAY, before))
    assert (
        midnight - timedelta(seconds=5)
        <= job.run_at
        <= max(midnight, utcnow()) + timedelta(seconds=5)
    )
    assert "deferred until" in (job.progress_message or "").lower()
    assert studio.posts(publication.id) == []


@pytest.mark.parametrize(("platform", "step"), [("youtube", "chunk"), ("instagram", "publish")])
def test_a_post_whose_answer_is_lost_is_found_not_posted_again(
    studio: Studio, short_video: Media, platform: str, step: str
):
    channel = studio.channel(platform)
    publication_id = studio.schedule(studio.cut(short_video.path), channel)
    studio.sandbox.faults.add(Fault(platform, step, "lose_response"))

    publication = studio.run(publication_id)

    assert publication.status == PublicationStatus.PUBLISHED, publication.error_message
    assert len(studio.posts(publication.id)) == 1
    assert studio.sandbox.ledger.duplicates() == {}


def test_a_post_with_captions_checks_and_spends_every_quota_it_needs(
    studio: Studio, short_video: Media
):
    """YouTube spends two quotas when a post carries captions (the upload and the caption
    units); checking both reads the database twice in one step, on SQLite too."""
    channel_id = studio.channel("youtube")
    srt = "1\n00:00:00,500 --> 00:00:02,000\nFirma aquí, sin leer.\n"
    publication_id = studio.schedule(studio.cut(short_video.path, subtitles=srt), channel_id)

    published = studio.run(publication_id)

    assert published.status == PublicationStatus.PUBLISHED, published.error_message
    with studio.db.session() as session:
        spent = session.exec(
            select(QuotaSpend.bucket).where(QuotaSpend.publication_id == publication_id)
        ).all()
    assert sorted(spent) == ["units", "videos.insert"]
    [post] = studio.posts(publication_id)
    tracks = [t for t in studio.sandbox.platforms["youtube"].tracks if t.video_id == post.remote_id]
    assert [t.language for t in tracks] == ["es"]


def test_a_refused_refresh_holds_the_channel_until_it_is_reconnected(
    studio: Studio, short_video: Media
):
    channel_id = studio.channel("youtube", account="studio-es")
    publication_id = studio.schedule(studio.cut(short_video.path), channel_id)
    account = studio.sandbox.accounts.account("youtube", "studio-es")
    studio.sandbox.accounts.revoke_refresh_tokens(account)  # e.g. the owner revoked access
    studio.sandbox.faults.add(Fault("youtube", "init", "expire_token"))

    held = studio.run(publication_id)

    assert held.status == PublicationStatus.HELD
    assert "reconnect" in (held.error_message or "")
    with studio.db.session() as session:
        channel = session.get_one(Channel, channel_id)
        assert channel.status == ChannelStatus.RECONNECT_NEEDED and channel.reconnect_reason

    with studio.db.transaction() as session:
        channel = session.get_one(Channel, channel_id)
        url = channels.connect_url(channel, studio.settings, state="x", redirect_uri=CALLBACK)
        code = grant(url, account="studio-es")
        channels.complete_connection(
            session, channel, studio.settings, code=code, redirect_uri=CALLBACK
        )
    published = studio.run(publication_id)

    assert published.status == PublicationStatus.PUBLISHED, published.error_message
    assert len(studio.posts(published.id)) == 1


def test_a_permanent_refusal_fails_the_publication_without_retrying(
    studio: Studio, short_video: Media
):
    channel = studio.channel("tiktok", account="private-creator")
    publication_id = studio.schedule(studio.cut(short_video.path), channel)
    # The creator made the account private since: TikTok refuses public posts for good.
    studio.sandbox.accounts.account("tiktok", "private-creator").private = True

    publication = studio.run(publication_id)

    _, job = studio.publication(publication_id)
    assert publication.status == PublicationStatus.FAILED
    assert "can post as FOLLOWER_OF_CREATOR, SELF_ONLY" in (publication.error_message or "")
    assert job.status == JobStatus.DEAD and job.attempts == 1


# -- refused up front ------------------------------------------------------------------------


def test_a_cut_that_is_not_approved_is_refused_at_scheduling(studio: Studio, short_video: Media):
    channel = studio.channel("youtube")
    cut = studio.cut(short_video.path, status=LocalizationStatus.NEEDS_REVIEW)

    with pytest.raises(Refused, match="not approved"):
        studio.schedule(cut, channel)
    with studio.db.session() as session:
        assert session.exec(select(Publication)).all() == []


def test_a_reel_over_90_seconds_is_refused_for_facebook_but_fine_for_youtube(
    studio: Studio, long_video: Media
):
    facebook, youtube = studio.channel("facebook"), studio.channel("youtube")
    cut = studio.cut(long_video.path)

    with pytest.raises(Refused, match="90"):
        studio.schedule(cut, facebook)
    assert studio.schedule(cut, youtube)


@pytest.mark.parametrize("platform", ["instagram", "facebook", "youtube"])
def test_a_landscape_cut_is_refused_for_vertical_platforms(
    studio: Studio, landscape_video: Media, platform: str
):
    channel = studio.channel(platform)
    cut = studio.cut(landscape_video.path)

    with pytest.raises(Refused, match=r"(?i)vertical|9:16|aspect|portrait"):
        studio.schedule(cut, channel)


def test_a_cut_in_another_language_than_the_channel_is_refused(studio: Studio, short_video):
    channel = studio.channel("tiktok", language="es")
    cut = studio.cut(short_video.path, language="ca")

    with pytest.raises(Refused, match="publishes in es"):
        studio.schedule(cut, channel)


def test_the_same_cut_twice_on_one_channel_is_a_conflict(studio: Studio, short_video: Media):
    channel = studio.channel("youtube")
    cut = studio.cut(short_video.path)
    first = studio.schedule(cut, channel)

    with pytest.raises(Conflict, match=f"publication {first}"):
        studio.schedule(cut, channel)


# -- time ------------------------------------------------------------------------------------


def _spring_forward(zone: str) -> date:
    """The day next year on which `zone` moves its clocks forward (always in the future)."""
    year = utcnow().year + 1
    march = [date(year, 3, d) for d in range(1, 32)]
    sundays = [d for d in march if d.weekday() == 6]
    # The EU changes on the last Sunday of March, the US on the second.
    return sundays[-1] if zone.startswith("Europe/") else sundays[1]


@pytest.mark.parametrize("zone", ["Europe/Madrid", "America/New_York"])
def test_rescheduling_across_a_dst_change_keeps_the_wall_clock_time(
    studio: Studio, short_video: Media, zone: str
):
    change = _spring_forward(zone)
    after = datetime.combine(change, wall_time(19, 0))
    before = after - timedelta(days=1)
    channel = studio.channel("youtube", timezone=zone)
    publication_id = studio.schedule(studio.cut(short_video.path), channel, before)
    first, job = studio.publication(publication_id)
    assert scheduling.to_local(first.scheduled_at, zone).hour == 19

    with studio.db.transaction() as session:
        scheduling.reschedule(session, publication_id, after)
    moved, moved_job = studio.publication(publication_id)

    assert moved.scheduled_at - first.scheduled_at == timedelta(hours=23)  # a day, minus one
    assert scheduling.to_local(moved.scheduled_at, zone).hour == 19
    assert moved_job.id == job.id and moved_job.run_at == moved.scheduled_at


def test_cancelling_from_the_publication_page_says_what_happened(
    studio: Studio, short_video: Media
):
    publication_id = studio.schedule(
        studio.cut(short_video.path), studio.channel("youtube"), datetime(2030, 1, 1, 19, 0)
    )
    with studio.db.transaction() as session:
        create_user(session, "paula", PASSWORD, ["publisher"])
    app = create_app(studio.settings, db=studio.db)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)  # signing in is not the point
    client = app.test_client()
    client.post("/login", data={"username": "paula", "password": PASSWORD})

    done = client.post(f"/publishing/publications/{publication_id}/cancel", follow_redirects=True)
    assert done.status_code == 200 and b"Cancelled." in done.data
    cancelled, job = studio.publication(publication_id)
    assert (cancelled.status, job.status) == (PublicationStatus.CANCELLED, JobStatus.CANCELLED)

    again = client.post(f"/publishing/publications/{publication_id}/cancel", follow_redirects=True)
    assert b"cannot be cancelled now" in again.data
    assert studio.publication(publication_id)[0].status == PublicationStatus.CANCELLED
