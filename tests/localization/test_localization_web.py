"""Localization in the web UI and the API: start it, follow it, read what it made."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hookline.app import create_app
from hookline.jobs import run_jobs
from hookline.models import Job, Localization
from hookline.storage import MediaStore

from episodes import add_to_library, make_episode
from testkit import PASSWORD, make_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def episode_files(tmp_path_factory):
    return make_episode(tmp_path_factory.mktemp("episode"))


@pytest.fixture
def site(sqlite_db, tmp_path, users, episode_files):
    settings = make_settings(tmp_path, str(sqlite_db.engine.url), translators=("apertium",))
    with sqlite_db.transaction() as session:
        episode = add_to_library(session, MediaStore(settings.media_root), episode_files)
    app = create_app(settings, db=sqlite_db)
    app.config["WTF_CSRF_ENABLED"] = False
    return app, settings, episode.id


def signed_in(app, role):
    client = app.test_client()
    client.post("/login", data={"username": role, "password": PASSWORD})
    return client


def test_a_publisher_starts_a_localization_and_everyone_follows_it(site, sqlite_db):
    app, settings, episode_id = site
    publisher = signed_in(app, "publisher")
    page = publisher.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert 'action="/localizations/episodes/' in page  # the form is offered

    answer = publisher.post(
        f"/localizations/episodes/{episode_id}", data={"languages": "es", "dub": "on"}
    )
    assert answer.status_code == 302
    with sqlite_db.session() as session:
        jobs = session.exec(select(Job).order_by(Job.id)).all()
    assert [j.kind for j in jobs] == [
        "localization.transcribe",
        "localization.localize",
        "localization.localize",
    ]
    run_jobs(sqlite_db, settings, [j.id for j in jobs], parallel=2, modules=["localization.jobs"])

    reviewer = signed_in(app, "reviewer")
    page = reviewer.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert "needs review" in page and "social MP4" not in page and "MP4" in page
    with sqlite_db.session() as session:
        es = session.exec(select(Localization).where(Localization.language == "es")).one()
    detail = reviewer.get(f"/localizations/{es.id}").get_data(as_text=True)
    assert "el contrato." in detail  # Apertium's Spanish, in the lines table
    assert "characters a second" in detail  # the QC profile's numbers

    listed = reviewer.get(f"/api/v1/episodes/{episode_id}/localizations").get_json()
    by_language = {item["language"]: item for item in listed}
    assert by_language["es"]["status"] == "needs_review"
    assert {"soft_subbed", "dub_stem", "subtitles_srt"} <= set(by_language["es"]["cuts"])
    lines = reviewer.get(f"/api/v1/localizations/{es.id}/lines").get_json()
    assert lines[0]["source_text"] == "Sign the contract." and lines[0]["cues"]


def test_an_unsupported_language_is_refused_with_what_is_installed(site):
    app, _, episode_id = site
    publisher = signed_in(app, "publisher")
    answer = publisher.post(f"/api/v1/episodes/{episode_id}/localize", json={"languages": ["xh"]})
    assert answer.status_code == 400
    assert "en→xh" in answer.get_json()["message"]
    page = publisher.post(
        f"/localizations/episodes/{episode_id}", data={"languages": "xh"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "No translator for en→xh" in page


def test_the_api_starts_localizations_for_machine_clients(site, sqlite_db):
    app, _, episode_id = site
    publisher = signed_in(app, "publisher")
    answer = publisher.post(
        f"/api/v1/episodes/{episode_id}/localize", json={"languages": ["es", "ca"], "burn": True}
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["languages"] == ["en", "es", "ca"]
    assert body["jobs"][0]["kind"] == "localization.transcribe"
    again = publisher.post(f"/api/v1/episodes/{episode_id}/localize", json={"languages": ["es"]})
    assert [j["id"] for j in again.get_json()["jobs"]] == [j["id"] for j in body["jobs"][:3]]


def test_analysts_cannot_start_localizations(site):
    app, _, episode_id = site
    analyst = signed_in(app, "analyst")
    assert (
        analyst.post(f"/localizations/episodes/{episode_id}", data={"languages": "es"}).status_code
        == 403
    )
    # They read the review matrix (analytics links to the lines), and change nothing there.
    assert analyst.get("/localizations/").status_code == 200
