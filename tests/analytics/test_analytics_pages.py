"""Dashboards, CSV exports and the JSON API over collected sandbox data (SQL aggregation)."""

from __future__ import annotations

import csv
import io

from analytics.collect import collect_due
from hookline.clock import utcnow

from analyticskit import Studio
from testkit import PASSWORD

PAGES = (
    "/analytics/",
    "/analytics/retention",
    "/analytics/drop-offs",
    "/analytics/funnel",
    "/analytics/hooks",
    "/analytics/timing",
)


def test_every_dashboard_page_api_and_csv_answers_from_collected_data(
    lite_studio: Studio, clip, app, users
):
    lite_studio.publish("tiktok", clip.path, 1, hook="slap")
    lite_studio.publish("youtube", clip.path, 2, hook="secret_reveal")
    lite_studio.clock.advance(3)
    assert collect_due(lite_studio.db, lite_studio.settings, now=utcnow()).collected == 2
    app.config["WTF_CSRF_ENABLED"] = False  # signing in is not what these tests are about
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": PASSWORD})

    for page in PAGES:
        answer = client.get(page + "?platform=tiktok")
        assert answer.status_code == 200, (page, answer.data[:300])
        assert b"data-figure" in answer.data or b"Drop-offs" in answer.data
    export = client.get("/analytics/?export=top_episodes")
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.data.decode())))
    assert sum(int(r["views"]) for r in rows) > 0
    script = client.get("/analytics/plotly.min.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    script.close()

    kpis = client.get("/api/v1/analytics/kpis?group=platform").get_json()
    assert {r["platform"] for r in kpis} == {"tiktok", "youtube"}
    curves = client.get("/api/v1/analytics/retention?by=platform").get_json()
    assert all(len(c["points"]) == 101 for c in curves) and len(curves) == 2
    overview = client.get("/api/v1/analytics/overview").get_json()
    assert overview["cards"][0]["value"] > 0


def test_a_bad_filter_says_what_is_wrong(app, users):
    app.config["WTF_CSRF_ENABLED"] = False  # signing in is not what these tests are about
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": PASSWORD})
    answer = client.get("/analytics/?start=yesterday")
    assert answer.status_code == 400 and b"YYYY-MM-DD" in answer.data
    api = client.get("/api/v1/analytics/kpis?group=planet")
    assert api.status_code == 400 and "group" in api.get_json()["message"]
