"""The review page and its API on a real localized episode: every route, role and bad input."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from hookline.app import create_app
from hookline.models import (
    Character,
    CutKind,
    Localization,
    LocalizedCut,
    MediaAsset,
    StageOutput,
    SubtitleLine,
)

from reviewkit import localized_episode
from testkit import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    localized = localized_episode(tmp_path_factory.mktemp("review"))
    app = create_app(localized.settings, db=localized.db)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app, localized
    localized.db.dispose()


def signed_in(app, role):
    client = app.test_client()
    client.post("/login", data={"username": role, "password": PASSWORD})
    return client


def current(localized, line_id):
    with localized.db.session() as session:
        return session.get_one(SubtitleLine, line_id)


def cut_of(localized, kind=CutKind.SOFT_SUBBED):
    with localized.db.session() as session:
        return session.exec(
            select(MediaAsset.sha256)
            .join(LocalizedCut, col(LocalizedCut.asset_id) == MediaAsset.id)
            .where(LocalizedCut.localization_id == localized.target_id, LocalizedCut.kind == kind)
        ).one()


def test_the_review_page_shows_player_tracks_lines_and_bible(site):
    app, localized = site
    page = signed_in(app, "reviewer").get(f"/localizations/{localized.target_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "data-player" in html and f"/media/{cut_of(localized)}" in html
    # Every language's track, and a switch between them and between dub and original audio.
    assert f"/localizations/{localized.source_id}/subtitles.vtt" in html
    assert 'value="original"' in html and "data-language-switch" in html
    assert "Firme el contrato" in html or "contrato" in html  # Apertium's Spanish
    assert html.count('class="line') >= 4 and "data-version" in html
    assert "Lena" in html and "Cole Group" in html  # the bible
    assert "Keyboard" in html and "Alt</kbd>+<kbd>A" in html


def test_the_overview_matrix_links_each_cell_to_its_review_page(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    html = reviewer.get("/localizations/").get_data(as_text=True)
    assert f'href="/localizations/{localized.target_id}"' in html and "needs review" in html
    filtered = reviewer.get("/localizations/?state=approved").get_data(as_text=True)
    assert "Nothing matches these filters" in filtered
    matrix = reviewer.get("/api/v1/series/1/localizations").get_json()
    assert matrix["languages"] == ["en", "es"]
    cell = matrix["episodes"][0]["languages"]["es"]
    assert cell["status"] == "needs_review" and cell["localization_id"] == localized.target_id


def test_an_edit_through_the_api_persists_and_shows_on_reload_and_in_the_track(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    line_id = localized.line_ids(localized.target_id)[1]
    version = current(localized, line_id).version
    answer = reviewer.patch(
        f"/api/v1/lines/{line_id}", json={"version": version, "text": "Nunca te quise, Adrián."}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["version"] == version + 1
    html = reviewer.get(f"/localizations/{localized.target_id}").get_data(as_text=True)
    assert "Nunca te quise, Adrián." in html
    vtt = reviewer.get(f"/localizations/{localized.target_id}/subtitles.vtt")
    assert vtt.mimetype == "text/vtt" and "Nunca te quise, Adrián." in vtt.get_data(as_text=True)
    history = reviewer.get(f"/api/v1/lines/{line_id}/history").get_json()
    assert history[0]["actor"] == "reviewer" and history[0]["after"]["text"].startswith("Nunca")


def test_html_and_script_in_a_line_are_shown_as_text(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    line_id = localized.line_ids(localized.target_id)[2]
    version = current(localized, line_id).version
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    answer = reviewer.patch(f"/api/v1/lines/{line_id}", json={"version": version, "text": evil})
    assert answer.status_code == 200
    html = reviewer.get(f"/localizations/{localized.target_id}").get_data(as_text=True)
    assert evil not in html and "&lt;script&gt;alert(" in html
    vtt = reviewer.get(f"/localizations/{localized.target_id}/subtitles.vtt").get_data(as_text=True)
    assert "<script>" not in vtt and "&lt;script&gt;" in vtt
    reviewer.post(f"/api/v1/lines/{line_id}/undo", json={"version": version + 1})
    assert current(localized, line_id).text != evil


def test_a_stale_version_is_a_409_with_both_versions(site):
    app, localized = site
    ana, ben = signed_in(app, "reviewer"), signed_in(app, "admin")
    line_id = localized.line_ids(localized.target_id)[0]
    version = current(localized, line_id).version
    first = ana.patch(f"/api/v1/lines/{line_id}", json={"version": version, "text": "Firma, ya."})
    assert first.status_code == 200
    late = ben.patch(f"/api/v1/lines/{line_id}", json={"version": version, "text": "Firma tú."})
    body = late.get_json()
    assert late.status_code == 409 and body["error"] == "line_conflict"
    assert body["detail"]["current"]["text"] == "Firma, ya."
    assert body["detail"]["yours"]["text"] == "Firma tú."
    assert current(localized, line_id).text == "Firma, ya."


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"text": "x" * 301}, 400, "at most 300"),
        ({"start_s": 3.0, "end_s": 2.0}, 400, "must end after it starts"),
        ({"end_s": 9999.0}, 400, "ends after the episode does"),
        ({"start_s": "soon"}, 400, "start_s"),
    ],
)
def test_bad_edits_are_refused_with_what_is_wrong(site, body, status, message):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    line_id = localized.line_ids(localized.target_id)[3]
    before = current(localized, line_id)
    answer = reviewer.patch(f"/api/v1/lines/{line_id}", json={"version": before.version, **body})
    assert answer.status_code == status and message in answer.get_json()["message"]
    after = current(localized, line_id)
    assert (after.text, after.start_s, after.end_s, after.version) == (
        before.text,
        before.start_s,
        before.end_s,
        before.version,
    )


@pytest.mark.parametrize("role", ["publisher", "analyst"])
def test_roles_without_review_edit_cannot_change_anything(site, role):
    app, localized = site
    client = signed_in(app, role)
    line_id = localized.line_ids(localized.target_id)[0]
    loc = localized.target_id
    if role == "analyst":  # reads the lines (analytics links to them), changes nothing
        page = client.get(f"/localizations/{loc}")
        assert page.status_code == 200 and b"readonly" in page.data
        assert b"data-undo" not in page.data and b"approve-form" not in page.data
        assert client.get(f"/api/v1/localizations/{loc}/lines").status_code == 200
    else:
        assert client.get(f"/localizations/{loc}").status_code == 403
        assert client.get(f"/api/v1/localizations/{loc}/lines").status_code == 403
    assert client.patch(f"/api/v1/lines/{line_id}", json={"version": 1}).status_code == 403
    assert client.post(f"/api/v1/lines/{line_id}/undo", json={"version": 1}).status_code == 403
    assert client.post(f"/api/v1/localizations/{loc}/redub").status_code == 403
    assert client.post(f"/api/v1/localizations/{loc}/approve", json={}).status_code == 403
    assert client.post(f"/localizations/{loc}/terms", data={"term": "x"}).status_code == 403


def test_strangers_are_sent_to_sign_in(site):
    app, localized = site
    assert app.test_client().get(f"/localizations/{localized.target_id}").status_code in (302, 401)


def test_the_waveform_and_the_openapi_document(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    wave = reviewer.get(f"/localizations/{localized.target_id}/waveform.json").get_json()
    assert wave["audio"] == "dub" and len(wave["peaks"]) == 1200 and max(wave["peaks"]) > 0.05
    original = reviewer.get(f"/localizations/{localized.target_id}/waveform.json?audio=original")
    assert original.get_json()["audio"] == "original"
    paths = reviewer.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/lines/{line_id}",
        "/api/v1/lines/{line_id}/undo",
        "/api/v1/lines/{line_id}/history",
        "/api/v1/localizations/{localization_id}/redub",
        "/api/v1/localizations/{localization_id}/approve",
        "/api/v1/series/{series_id}/localizations",
    ):
        assert path in paths, sorted(paths)


def test_retranslate_machine_translates_the_source_again(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    line_id = localized.line_ids(localized.target_id)[3]
    version = current(localized, line_id).version
    reviewer.patch(f"/api/v1/lines/{line_id}", json={"version": version, "text": "algo"})
    answer = reviewer.post(
        f"/api/v1/lines/{line_id}/retranslate", json={"version": version + 1}
    ).get_json()
    assert answer["text"] != "algo" and "secreto" in answer["text"]
    source_line = localized.line_ids(localized.source_id)[0]
    refused = reviewer.post(f"/api/v1/lines/{source_line}/retranslate", json={"version": 1})
    assert refused.status_code == 400 and "source track" in refused.get_json()["message"]


def test_the_bible_is_edited_from_the_page(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    loc = localized.target_id
    page = reviewer.post(
        f"/localizations/{loc}/terms",
        data={"term": "Blackwood", "kind": "name", "translation": "Blackwood"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Saved to the series bible" in page and "Blackwood" in page
    with localized.db.session() as session:
        lena = session.exec(select(Character).where(Character.name == "Lena Hart")).one()
    refused = reviewer.post(
        f"/localizations/{loc}/characters/{lena.id}",
        data={"voice": "es+nosuch"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "unknown espeak-ng voice variant" in refused


def test_redub_redoes_only_the_changed_line_and_a_failed_one_keeps_the_last_good_cut(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    loc = localized.target_id
    line_id = localized.line_ids(loc)[0]
    # Bring the cut up to date with the other tests' edits first.
    localized.run([reviewer.post(f"/api/v1/localizations/{loc}/redub").get_json()["id"]])
    assert 'data-stale-count="0"' in reviewer.get(f"/localizations/{loc}").get_data(as_text=True)
    before_cut = cut_of(localized)
    with localized.db.session() as session:
        voiced_before = len(
            session.exec(select(StageOutput).where(StageOutput.stage == "voice")).all()
        )
    version = current(localized, line_id).version
    reviewer.patch(f"/api/v1/lines/{line_id}", json={"version": version, "text": "Firma ahora."})
    page = reviewer.get(f"/localizations/{loc}").get_data(as_text=True)
    assert "line(s) changed since the cut was rendered" in page
    assert 'data-stale-count="1"' in page
    job = reviewer.post(f"/api/v1/localizations/{loc}/redub")
    assert job.status_code == 202
    again = reviewer.post(f"/api/v1/localizations/{loc}/redub")
    assert again.status_code == 409 and "already being rendered" in again.get_json()["message"]
    localized.run([job.get_json()["id"]])
    new_cut = cut_of(localized)
    assert new_cut != before_cut
    with localized.db.session() as session:
        voiced = session.exec(select(StageOutput).where(StageOutput.stage == "voice")).all()
        loc_row = session.get_one(Localization, loc)
    assert len(voiced) == voiced_before + 1  # only the edited line spoke again
    assert loc_row.status == "needs_review" and loc_row.error is None
    assert "The cut matches the lines" in reviewer.get(f"/localizations/{loc}").get_data(
        as_text=True
    )

    # A voice espeak-ng no longer has (set behind the page's back) makes the next re-dub fail.
    with localized.db.transaction() as session:
        lena = session.exec(select(Character).where(Character.name == "Lena Hart")).one()
        lena.voices = {**lena.voices, "es": {**lena.voices["es"], "voice": "es+nosuch"}}
        session.add(lena)
    version = current(localized, line_id).version
    reviewer.patch(f"/api/v1/lines/{line_id}", json={"version": version, "text": "Firma hoy."})
    job = reviewer.post(f"/api/v1/localizations/{loc}/redub").get_json()
    localized.run([job["id"]])
    with localized.db.session() as session:
        loc_row = session.get_one(Localization, loc)
    assert loc_row.status == "needs_review"
    assert "re-dub failed" in loc_row.error and "last good one" in loc_row.error
    assert cut_of(localized) == new_cut  # the last good cut is still the one shown
    page = reviewer.get(f"/localizations/{loc}").get_data(as_text=True)
    assert "last good one" in page and f"/media/{new_cut}" in page
    with localized.db.transaction() as session:  # put the voice back for the other tests
        lena = session.exec(select(Character).where(Character.name == "Lena Hart")).one()
        lena.voices = {**lena.voices, "es": {**lena.voices["es"], "voice": "es+f3"}}
        session.add(lena)


def test_approve_and_request_changes_through_the_api(site):
    app, localized = site
    reviewer = signed_in(app, "reviewer")
    loc = localized.target_id
    refused = reviewer.post(f"/api/v1/localizations/{loc}/request-changes", json={"comment": ""})
    assert refused.status_code == 400
    answer = reviewer.post(f"/api/v1/localizations/{loc}/approve", json={"override": "fine"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "approved"
    changes = reviewer.post(
        f"/api/v1/localizations/{loc}/request-changes", json={"comment": "Line 2 too long"}
    )
    assert changes.get_json()["status"] == "changes_requested"
