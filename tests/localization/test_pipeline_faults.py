"""Bad input and crashes: each gets a clear message, nothing else is affected, work resumes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from sqlmodel import select

from hookline.jobs import run_jobs
from hookline.models import AssetRole, EpisodeAsset, Job, Localization, MediaAsset, StageOutput
from hookline.storage import MediaStore
from localization import workflow
from localization.translation import install_argos_package

from chat_server import Answer, ChatServer, fixed
from episodes import add_to_library, make_episode
from testkit import REPO, make_settings, worker_env

pytestmark = pytest.mark.slow
MODULES = ["localization.jobs"]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return make_episode(tmp_path_factory.mktemp("good"))


@pytest.fixture
def settings(sqlite_db, tmp_path, tiny_archives):
    settings = make_settings(tmp_path, str(sqlite_db.engine.url), translators=("argos",))
    for archive in tiny_archives.values():
        install_argos_package(archive, settings.models_dir / "argos")
    return settings


@pytest.fixture
def store(settings):
    return MediaStore(settings.media_root)


def run(db, settings, episode_id, languages="es", **options):
    with db.transaction() as session:
        started = workflow.start(session, settings, episode_id, languages, **options)
    return run_jobs(db, settings, [j.id for j in started.jobs], parallel=2, modules=MODULES)


def state(db, episode_id):
    with db.session() as session:
        return {
            loc.language: (loc.status, loc.error or "")
            for loc in session.exec(
                select(Localization).where(Localization.episode_id == episode_id)
            )
        }


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"with_audio": False}, "has no audio stream"),
        ({"silent": True}, "is silent"),
        ({"music_only": True}, "No speech was found"),
    ],
)
def test_audio_that_holds_no_dialogue_fails_clearly_and_others_carry_on(
    sqlite_db, settings, store, good, tmp_path, variant, message
):
    bad_files = make_episode(tmp_path / "bad", **variant)
    with sqlite_db.transaction() as session:
        fine = add_to_library(session, store, good, number=1)
        bad = add_to_library(session, store, bad_files, number=2, stems=False, script=False)
    rows = run(sqlite_db, settings, bad.id) + run(sqlite_db, settings, fine.id)
    transcribe = next(r for r in rows if r.kind == "localization.transcribe")
    assert transcribe.status == "dead" and message in transcribe.last_error
    assert transcribe.attempts == 1  # bad input is not retried
    for status, error in state(sqlite_db, bad.id).values():
        assert status == "failed" and message in error
    assert state(sqlite_db, fine.id) == {"en": ("needs_review", ""), "es": ("needs_review", "")}


def test_a_script_for_another_episode_is_refused(sqlite_db, settings, store, good, tmp_path):
    other = tmp_path / "other-script.txt"
    other.write_text(
        "LENA: The weather in Lisbon is lovely in spring.\nADRIAN: Trains leave at nine.\n"
    )
    with sqlite_db.transaction() as session:
        episode = add_to_library(session, store, good, script=False)
        from hookline.ingest import attach_asset

        attach_asset(session, store, episode, other, AssetRole.SCRIPT)
    run(sqlite_db, settings, episode.id)
    for status, error in state(sqlite_db, episode.id).values():
        assert status == "failed" and "seems to belong to another episode" in error


def _corrupt(db, store, episode_id, role):
    with db.session() as session:
        link = session.exec(
            select(EpisodeAsset).where(
                EpisodeAsset.episode_id == episode_id, EpisodeAsset.role == role
            )
        ).one()
        sha = session.get_one(MediaAsset, link.asset_id).sha256
    path = store.path_for(sha)
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    data = path.read_bytes()
    path.write_bytes(os.urandom(64) + data[64 : len(data) // 2])  # header gone, cut short


def test_corrupt_stems_are_reported_and_the_master_is_used_instead(
    sqlite_db, settings, store, good
):
    with sqlite_db.transaction() as session:
        episode = add_to_library(session, store, good)
    _corrupt(sqlite_db, store, episode.id, AssetRole.MUSIC_EFFECTS_STEM)
    _corrupt(sqlite_db, store, episode.id, AssetRole.DIALOGUE_STEM)
    run(sqlite_db, settings, episode.id, dub=True)
    with sqlite_db.session() as session:
        es = session.exec(select(Localization).where(Localization.language == "es")).one()
    assert es.status == "needs_review"
    notes = es.qc_summary["notes"]
    assert any("music & effects stem" in note for note in notes)
    assert any("dialogue stem could not be decoded" in note for note in notes)


def test_an_llm_endpoint_that_never_answers_fails_its_language_only(
    sqlite_db, settings, store, good
):
    with sqlite_db.transaction() as session:
        episode = add_to_library(session, store, good)
    with ChatServer(fixed(Answer(hang=True))) as server:
        llm = settings.replace(translators=("llm",), llm_url=server.url, http_timeout_seconds=1.0)
        rows = run(sqlite_db, llm, episode.id, "es", dub=False)
    es = next(r for r in rows if r.payload.get("language") == "es")
    assert es.status == "dead"
    assert "did not answer within 1 s" in (es.last_error or "")
    states = state(sqlite_db, episode.id)
    assert states["en"] == ("needs_review", "")  # the source track is unaffected
    assert states["es"][0] == "failed" and "did not answer within 1 s" in states["es"][1]


def test_a_job_killed_mid_stage_resumes_without_redoing_finished_stages(
    sqlite_db, settings, store, good, tmp_path
):
    with sqlite_db.transaction() as session:
        episode = add_to_library(session, store, good)
        started = workflow.start(session, settings, episode.id, "es", dub=True, burn=True)
    env = worker_env(str(sqlite_db.engine.url), tmp_path, HOOKLINE_TRANSLATORS="argos")
    command = [sys.executable, "-m", "hookline", "worker", "--concurrency", "2", "--no-scheduler"]
    victim = subprocess.Popen(command, cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _stage(sqlite_db, "es") not in (
            "rendering",
            "burning in subtitles",
        ):
            time.sleep(0.05)
        assert _stage(sqlite_db, "es") in ("rendering", "burning in subtitles")
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
    with sqlite_db.session() as session:
        before = {s.key: (s.stage, s.created_at) for s in session.exec(select(StageOutput))}
    assert {"translate", "voice", "dub"} <= {stage for stage, _ in before.values()}

    time.sleep(settings.job_lease_seconds + 0.5)  # the dead worker's lease runs out
    rows = run_jobs(sqlite_db, settings, [j.id for j in started.jobs], parallel=2, modules=MODULES)
    assert [r.status for r in rows] == ["succeeded"] * len(rows)
    with sqlite_db.session() as session:
        after = {s.key: (s.stage, s.created_at) for s in session.exec(select(StageOutput))}
        es_job = session.get_one(Job, started.jobs[-1].id)
    assert es_job.attempts == 2
    assert all(after[key] == value for key, value in before.items())  # nothing redone
    assert {stage for stage, _ in after.values()} >= {"render", "burn"}


def _stage(db, language):
    with db.session() as session:
        loc = session.exec(select(Localization).where(Localization.language == language)).first()
        return loc.stage if loc else None
