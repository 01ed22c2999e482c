"""Relative retention and the per-second drop-off chart: ranked among similar earlier
episodes, each step tied to the line viewers left on, a click opening it in review."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlmodel import select

from analytics import analysis, retention
from analytics.collect import collect_due
from analytics.queries import Filters
from hookline.app import create_app
from hookline.clock import utcnow
from hookline.models import Episode, Localization, LocalizedCut, Publication, SubtitleLine

from analyticskit import Studio
from browserkit import CHROMIUM_ARGS, open_tab, screenshot, serving
from testkit import PASSWORD

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def curve(n: int, *, score: float, length: float = 40.0, **kw: object) -> dict:
    """A publication's latest curve as ``queries.latest_curves`` gives it (flat at ``score``)."""
    return {
        "publication_id": n,
        "title": f"Ep {n}",
        "episode": n,
        "episode_id": n,
        "language": "es",
        "platform": "tiktok",
        "market": "es",
        "published_at": T0 + timedelta(days=n),
        "duration_s": length,
        "points": [score] * 101,
    } | kw


def test_peers_are_the_last_ten_earlier_similar_length_episodes_of_the_market():
    mine = curve(30, score=0.55)
    pool = [
        *[curve(n, score=0.1 * (n % 10)) for n in range(1, 30)],  # earlier, similar length
        curve(31, score=0.99),  # later: not a peer
        curve(40, score=0.99, published_at=T0),  # too long ago to be among the last ten
        curve(41, score=0.0, duration_s=80.0, published_at=T0 + timedelta(days=29.5)),
        curve(42, score=0.0, episode_id=30, published_at=T0 + timedelta(days=29.6)),
    ]
    newest_first = sorted(pool, key=lambda c: c["published_at"], reverse=True)
    ranked = analysis.rank_among_peers(mine, newest_first)
    # Peers: episodes 20-29 (scores 0.0-0.9); 0.55 beats 0.0-0.5, six of ten.
    assert ranked["peers"] == 10
    assert ranked["percentile"] == 60.0
    assert ranked["typical"] == pytest.approx(0.45)
    assert (
        "better than 60% of the last 10 similar-length episodes on tiktok es" in (ranked["summary"])
    )
    first = analysis.rank_among_peers(
        curve(1, score=0.4, published_at=T0 - timedelta(days=1)), newest_first
    )
    assert (first["peers"], first["percentile"]) == (0, None)
    assert "no earlier episode of similar length" in first["summary"]


def _with_lines(studio: Studio, publication_id: int, lines: list[tuple[float, float, str]]) -> int:
    """Give the publication's localization subtitle lines; return the localization's id."""
    with studio.db.transaction() as session:
        publication = session.get_one(Publication, publication_id)
        cut = session.get_one(LocalizedCut, publication.cut_id)
        for position, (start, end, text) in enumerate(lines):
            session.add(
                SubtitleLine(
                    localization_id=cut.localization_id,
                    position=position,
                    start_s=start,
                    end_s=end,
                    source_text=f"(en) {text}",
                    text=text,
                )
            )
        return cut.localization_id


def published(studio: Studio, clip) -> tuple[int, int]:
    """Three YouTube episodes; the third has a weak moment at 7 s. Its episode and cut ids."""
    for n in (1, 2):
        studio.publish("youtube", clip.path, n, hook="slap")
    third = studio.publish("youtube", clip.path, 3, hook="slap", weak_moments=((7.0, 0.35),))
    localization_id = _with_lines(
        studio,
        third,
        [(0.5, 3.0, "¿Quién eres?"), (3.2, 6.4, "Firma aquí, sin leer."), (8.0, 11.5, "Adiós.")],
    )
    studio.clock.advance(3)
    assert collect_due(studio.db, studio.settings, now=utcnow()).collected == 3
    with studio.db.session() as session:
        episode_id = session.exec(
            select(Localization.episode_id).where(Localization.id == localization_id)
        ).one()
    return episode_id, localization_id


def test_a_weak_moment_shows_in_the_drop_off_chart_tied_to_its_line(lite_studio, clip, app, users):
    episode_id, localization_id = published(lite_studio, clip)
    app.config["WTF_CSRF_ENABLED"] = False  # signing in is not what these tests are about
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": PASSWORD})

    answer = client.get(f"/analytics/retention?episode={episode_id}")
    assert answer.status_code == 200
    page = answer.data.decode()
    figure = json.loads(re.search(r'id="fig-drop-off">(.*?)</script>', page, re.S).group(1))
    bars = [t for t in figure["data"] if t["type"] == "bar"]
    assert len(bars) == 1 and bars[0]["name"] == "es: above typical"
    # The largest excess over typical is the planted moment at 7 s, and viewers leaving then
    # reacted to the line on screen a moment before: "Firma aquí".
    excess = bars[0]["y"]
    worst = max(range(len(excess)), key=excess.__getitem__)
    assert 6.0 <= bars[0]["x"][worst] <= 8.0
    link, words = bars[0]["customdata"][worst]
    assert words == "Firma aquí, sin leer."
    assert link == f"/localizations/{localization_id}?t=3.20#line-1"
    shaded = figure["layout"]["shapes"]
    assert any(s["x0"] <= 7.2 and s["x1"] >= 6.5 for s in shaded), shaded
    assert "second of the cut" in json.dumps(figure["layout"]["xaxis"])

    # The ranking: the third episode against the two before it on YouTube es.
    assert "relative_retention" in page
    rows = client.get(
        f"/analytics/retention?episode={episode_id}&export=relative_retention"
    ).data.decode()
    assert "similar-length episodes on youtube es" in rows
    api = client.get(f"/api/v1/analytics/relative-retention?episode={episode_id}").get_json()
    assert [(r["episode"], r["peers"]) for r in api] == [(3, 2)]
    # Its peers are the two episodes before it: ranked among exactly their scores.
    everyone = {
        r["episode"]: r["average_viewed"]
        for r in client.get("/api/v1/analytics/relative-retention").get_json()
    }
    earlier = [everyone[1], everyone[2]]
    assert api[0]["percentile"] == retention.percentile(everyone[3], earlier)
    assert api[0]["typical"] == pytest.approx(sum(earlier) / 2)


def test_without_an_episode_the_drop_off_is_per_step_and_ranking_waits_for_a_choice(
    lite_studio, clip, app, users
):
    published(lite_studio, clip)
    app.config["WTF_CSRF_ENABLED"] = False  # signing in is not what these tests are about
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": PASSWORD})
    page = client.get("/analytics/retention").data.decode()
    figure = json.loads(re.search(r'id="fig-drop-off">(.*?)</script>', page, re.S).group(1))
    assert "per 1% of the cut" in figure["layout"]["title"]["text"]
    assert 'data-hint="relative-retention"' in page
    everyone = client.get("/api/v1/analytics/relative-retention").get_json()
    assert sorted(r["peers"] for r in everyone) == [0, 1, 2]
    with lite_studio.db.session() as session:
        assert len(session.exec(select(Episode)).all()) == 3
        assert analysis.relative_retention(session, Filters(market="fr")) == []


@pytest.mark.browser
@pytest.mark.slow
def test_clicking_a_drop_off_opens_its_line_in_the_review_page(lite_studio, clip, users):
    episode_id, localization_id = published(lite_studio, clip)
    app = create_app(lite_studio.settings, db=lite_studio.db)
    with serving(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        tab = open_tab(browser, base)
        page = tab.page
        try:
            page.goto("/login")
            page.fill("#username", "analyst")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(re.compile(r"/$"))
            page.goto(f"/analytics/retention?episode={episode_id}")
            page.wait_for_function(
                "() => document.querySelector('#chart-drop-off .main-svg') !== null"
            )
            expect(page.locator("table[data-table=relative_retention] tbody tr")).to_have_count(1)
            screenshot(page, "analytics-drop-off.png")
            # Where the tallest bar (the worst excess over typical) is drawn, in page pixels.
            spot = page.evaluate(
                """() => {
                  const el = document.getElementById('chart-drop-off');
                  el.scrollIntoView({ block: 'center' });
                  const bar = el.data.find((t) => t.type === 'bar');
                  let worst = 0;
                  bar.y.forEach((v, i) => { if (v > bar.y[worst]) worst = i; });
                  const layout = el._fullLayout, box = el.getBoundingClientRect();
                  return {
                    x: box.left + layout._size.l + layout.xaxis.d2p(bar.x[worst]),
                    y: box.top + layout._size.t + layout.yaxis.d2p(bar.y[worst] / 2),
                  };
                }"""
            )
            with page.expect_navigation():
                page.mouse.click(spot["x"], spot["y"])
            assert page.url.endswith(f"/localizations/{localization_id}?t=3.20#line-1")
            expect(page.locator("#line-1")).to_have_class(re.compile(r"\bcurrent\b"))
            expect(page.locator("#line-1 textarea[name=text]")).to_have_value(
                "Firma aquí, sin leer."
            )
        finally:
            page.context.close()
            browser.close()
    assert tab.problems == []
