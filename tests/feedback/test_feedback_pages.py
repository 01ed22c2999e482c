"""The feedback pages and API: the brief with exports and history, vocabularies, tagging, roles."""

from __future__ import annotations

import io
import json

import feedbackkit as kit
from sqlmodel import select

from analytics.feedback import simulate
from hookline.auth import create_token
from hookline.models import Episode, FeedbackBrief, FeedbackTerm, User

from testkit import PASSWORD


def _client(app, role: str):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    return client


def _market(sqlite_db):
    with sqlite_db.transaction() as session:
        kit.market(session, good="secret_reveal", bad="betrayal_reveal")


def test_the_brief_page_explains_each_pick_and_exports_markdown_and_csv(app, sqlite_db, users):
    _market(sqlite_db)
    client = _client(app, "analyst")
    page = client.get("/feedback/?size=8&exploration=25&limit=50&must=slap_confrontation")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-market="es/tiktok"' in text and "chance best" in text
    assert "3 posts of untagged episodes" in text
    assert "must include" in text and "exploration" in text
    assert "<script>" not in text
    md = client.get("/feedback/brief.md?size=8")
    assert md.status_code == 200 and "attachment" in md.headers["Content-Disposition"]
    assert md.get_data(as_text=True).startswith("# Production brief")
    csv = client.get("/feedback/brief.csv?size=8").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("market,episodes,hook,role")
    assert sum(int(line.split(",")[1]) for line in csv.splitlines()[1:]) == 8


def test_saving_a_brief_adds_it_to_the_history_with_its_exports(app, sqlite_db, users):
    _market(sqlite_db)
    client = _client(app, "analyst")
    saved = client.post("/feedback/briefs", data={"size": "6", "kpi": "completion_rate"})
    assert saved.status_code == 302
    with sqlite_db.session() as session:
        row = session.exec(select(FeedbackBrief)).one()
        assert (row.kpi, row.created_by, row.rules["size"]) == ("completion_rate", "analyst", 6)
    page = client.get("/feedback/").get_data(as_text=True)
    assert f"Brief {row.id}" in page and "Posts since" in page
    export = client.get(f"/feedback/briefs/{row.id}.csv")
    assert export.status_code == 200 and export.get_data(as_text=True) == row.csv
    assert client.get("/feedback/briefs/999.md").status_code == 404


def test_bad_rules_are_answered_with_what_to_fix(app, sqlite_db, users):
    client = _client(app, "analyst")
    for query, message in (
        ("size=abc", "size=&#39;abc&#39; is not a number"),
        ("exploration=150", "exploration share must be between 0% and 100%"),
        ("must=zombie_attack", "is not in the vocabulary"),
        ("kpi=likes", "Unknown KPI"),
    ):
        response = client.get(f"/feedback/?{query}")
        assert response.status_code == 400, query
        assert message in response.get_data(as_text=True), query
    assert client.get("/feedback/brief.csv?limit=0").status_code == 400


def test_an_empty_database_says_there_is_no_data_yet(app, sqlite_db, users):
    text = _client(app, "analyst").get("/feedback/").get_data(as_text=True)
    assert "No data yet" in text and "No saved briefs yet" in text
    client = _client(app, "admin")
    refused = client.post("/feedback/briefs", data={}, follow_redirects=True)
    assert "No data yet" in refused.get_data(as_text=True)
    with sqlite_db.session() as session:
        assert session.exec(select(FeedbackBrief)).first() is None


def test_roles_without_the_permission_are_refused(app, sqlite_db, users):
    reviewer = _client(app, "reviewer")
    assert reviewer.get("/feedback/").status_code == 403
    assert reviewer.get("/feedback/vocabulary").status_code == 403
    publisher = _client(app, "publisher")
    assert publisher.get("/feedback/").status_code == 200
    assert (
        publisher.post("/feedback/vocabulary", data={"kind": "hook", "name": "x_y"}).status_code
        == 403
    )
    assert "Brief</a>" in publisher.get("/feedback/").get_data(as_text=True)
    assert "Brief</a>" not in reviewer.get("/").get_data(as_text=True)


def test_the_vocabulary_page_adds_renames_and_retires_terms(app, sqlite_db, users):
    client = _client(app, "analyst")
    added = client.post(
        "/feedback/vocabulary",
        data={"kind": "hook", "name": "amnesia_twist", "keywords": "forgot, who am i"},
        follow_redirects=True,
    )
    assert "Added the hook amnesia_twist" in added.get_data(as_text=True)
    bad = client.post(
        "/feedback/vocabulary", data={"kind": "hook", "name": "Amnesia!"}, follow_redirects=True
    )
    assert "not a usable name" in bad.get_data(as_text=True)
    with sqlite_db.session() as session:
        term = session.exec(select(FeedbackTerm).where(FeedbackTerm.name == "amnesia_twist")).one()
    client.post(
        f"/feedback/vocabulary/{term.id}",
        data={"name": "memory_loss", "label": "Memory loss", "keywords": "forgot"},
    )
    client.post(f"/feedback/vocabulary/{term.id}", data={"action": "retire"})
    page = client.get("/feedback/vocabulary").get_data(as_text=True)
    assert 'data-term="memory_loss"' in page and "retired" in page
    with sqlite_db.session() as session:
        term = session.get(FeedbackTerm, term.id)
        assert (term.name, term.label, term.keywords, term.retired) == (
            "memory_loss", "Memory loss", ["forgot"], True,
        )  # fmt: skip


def test_tagging_an_episode_from_its_page_with_a_confirmed_suggestion(app, sqlite_db, users):
    with sqlite_db.transaction() as session:
        ep = kit.episode(session, kit.series(session).id, 1, None)
        kit.transcript(
            session, ep.id, ["How dare you! *slap*", "He is the hidden billionaire heir."]
        )
        episode_id = ep.id
    client = _client(app, "analyst")
    page = client.get(f"/feedback/episodes/{episode_id}").get_data(as_text=True)
    assert 'data-suggestion="hook:slap_confrontation"' in page
    assert 'data-suggestion="trope:hidden_billionaire"' in page
    client.post(f"/feedback/episodes/{episode_id}", data={"hook": "slap_confrontation"})
    client.post(
        f"/feedback/episodes/{episode_id}",
        data={"hook": "slap_confrontation", "tropes": ["hidden_billionaire"]},
    )
    refused = client.post(
        f"/feedback/episodes/{episode_id}", data={"hook": "zombie"}, follow_redirects=True
    )
    assert "Unknown hook &#39;zombie&#39;; known hooks:" in refused.get_data(as_text=True)
    with sqlite_db.session() as session:
        saved = session.get(Episode, episode_id)
        assert (saved.hook_type, saved.tropes) == ("slap_confrontation", ["hidden_billionaire"])
    assert client.get("/feedback/episodes/9999").status_code == 404


def test_the_simulation_chart_runs_small_or_reads_a_saved_result(app, sqlite_db, users):
    client = _client(app, "analyst")
    page = client.get("/feedback/simulation?rounds=3&episodes=4")
    assert page.status_code == 200
    figure = page.get_data(as_text=True).split('id="fig-regret">')[1].split("</script>")[0]
    assert {t["name"] for t in json.loads(figure)["data"]} == set(simulate.POLICIES)
    assert client.get("/feedback/simulation?rounds=500").status_code == 400
    summary = simulate.summarize([simulate.run(simulate.Setup(rounds=2, episodes=3, hooks=3))])
    upload = client.post(
        "/feedback/simulation",
        data={"result": (io.BytesIO(json.dumps(summary).encode()), "result.json")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200 and "uploaded result" in upload.get_data(as_text=True)
    junk = client.post(
        "/feedback/simulation",
        data={"result": (io.BytesIO(b'{"nope": 1}'), "result.json")},
        content_type="multipart/form-data",
    )
    assert junk.status_code == 400 and "not a simulation result" in junk.get_data(as_text=True)


def test_the_api_gives_estimates_the_brief_vocabularies_and_tags_episodes(app, sqlite_db, users):
    _market(sqlite_db)
    with sqlite_db.transaction() as session:
        _, secret = create_token(session, session.get_one(User, users["analyst"]), "t")
        ep = kit.episode(session, kit.series(session, "Other").id, 1, None)
        episode_id = ep.id
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    estimates = client.get("/api/v1/feedback/estimates", headers=auth).get_json()
    [market] = estimates["markets"]
    assert market["market"] == "es/tiktok" and estimates["untagged"] == 3
    assert {"hook", "rate", "rate_low", "rate_high", "chance_best"} <= set(market["hooks"][0])
    brief = client.get("/api/v1/feedback/brief?size=5", headers=auth).get_json()
    assert sum(p["episodes"] for p in brief["markets"][0]["picks"]) == 5
    bad = client.get("/api/v1/feedback/brief?must=zombie", headers=auth)
    assert bad.status_code == 400 and "not in the vocabulary" in bad.get_json()["message"]
    vocab = client.get("/api/v1/feedback/vocabularies", headers=auth).get_json()
    assert "betrayal_reveal" in {t["name"] for t in vocab["hook"]}
    tagged = client.put(
        f"/api/v1/episodes/{episode_id}/tags",
        json={"hook": "betrayal_reveal", "tropes": ["revenge"]},
        headers=auth,
    )
    assert tagged.status_code == 200 and tagged.get_json()["hook_type"] == "betrayal_reveal"
    refused = client.put(
        f"/api/v1/episodes/{episode_id}/tags", json={"hook": "zombie"}, headers=auth
    )
    assert refused.status_code == 400
    assert "betrayal_reveal" in refused.get_json()["detail"]["known"]
    openapi = client.get("/api/v1/openapi.json", headers=auth).get_json()
    assert "/api/v1/feedback/brief" in openapi["paths"] or "/feedback/brief" in json.dumps(openapi)
