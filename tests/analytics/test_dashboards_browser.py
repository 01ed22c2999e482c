"""The dashboards in Debian's Chromium: charts drawn, filters in the URL, nothing logged.

Two episodes are published to the sandbox (TikTok and YouTube), the audience watches for
three days, the collector reads their metrics over real HTTP; the app then runs on a
loopback port and Playwright uses the dashboards as an analyst would. Every page must log
no console error, throw nothing and break no rule of the Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from analytics.collect import collect_due
from hookline.app import create_app
from hookline.clock import utcnow

from analyticskit import Studio
from browserkit import CHROMIUM_ARGS, Tab, open_tab, screenshot, serving
from testkit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def url(lite_studio: Studio, clip, users) -> Iterator[str]:
    lite_studio.publish("tiktok", clip.path, 1, hook="slap")
    lite_studio.publish("youtube", clip.path, 2, hook="secret_reveal")
    lite_studio.clock.advance(3)
    assert collect_due(lite_studio.db, lite_studio.settings, now=utcnow()).collected == 2
    with serving(create_app(lite_studio.settings, db=lite_studio.db)) as base:
        yield base


@pytest.fixture
def tab(url: str) -> Iterator[Tab]:
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        tab = open_tab(browser, url)
        tab.page.on("dialog", lambda dialog: tab.problems.append(f"dialog: {dialog.message}"))
        try:
            yield tab
        finally:
            tab.page.context.close()
            browser.close()
    assert tab.problems == []


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.fill("#username", "analyst")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def drawn(page: Page, chart: str) -> int:
    """Wait until Plotly has drawn the chart; return how many traces it shows."""
    page.wait_for_function(
        f"() => document.querySelector('#chart-{chart} .main-svg') !== null"
        f" && Array.isArray(document.getElementById('chart-{chart}').data)"
    )
    return page.evaluate(f"() => document.getElementById('chart-{chart}').data.length")


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_overview_draws_and_a_platform_filter_narrows_it(tab: Tab) -> None:
    page = tab.page
    sign_in(page)
    page.goto("/analytics/")
    assert drawn(page, "by-platform") == 2
    drawn(page, "by-market")
    drawn(page, "top-episodes")
    episodes = page.locator("table[data-table=top_episodes] tbody tr")
    expect(episodes).to_have_count(2)
    views = page.locator("[data-kpi=views] .kpi-value")
    expect(views).not_to_have_text("n/a")
    screenshot(page, "analytics-overview.png")
    everything = views.inner_text()

    # Choosing a platform submits the form: the URL carries it, the page narrows to it.
    with page.expect_navigation():
        page.select_option("select[name=platform]", "tiktok")
    assert query(page)["platform"] == ["tiktok"]
    expect(page.locator("select[name=platform]")).to_have_value("tiktok")
    assert drawn(page, "by-platform") == 1
    expect(episodes).to_have_count(1)
    expect(episodes.first.locator("td").first).to_have_text("1")
    assert page.evaluate("() => document.getElementById('chart-by-platform').data[0].name") == (
        "tiktok"
    )
    assert views.inner_text() != everything
    # The tabs keep the filter, and the CSV link exports what the page shows.
    expect(page.locator("nav.tabs a", has_text="Retention")).to_have_attribute(
        "href", re.compile(r"platform=tiktok")
    )
    expect(page.locator("[data-export=top_episodes]")).to_have_attribute(
        "href", re.compile(r"platform=tiktok.*export=top_episodes")
    )


def test_retention_overlays_by_platform_or_language(tab: Tab) -> None:
    page = tab.page
    sign_in(page)
    page.goto("/analytics/retention")
    # By language: both cuts are in one language, so one averaged curve.
    assert drawn(page, "retention") >= 1
    curves = page.locator("table[data-table=curves] tbody tr")
    expect(curves).to_have_count(1)
    expect(page.locator("table[data-table=curves] thead th").first).to_have_text("language")

    with page.expect_navigation():
        page.select_option("select[name=by]", "platform")
    assert query(page)["by"] == ["platform"]
    expect(page.locator("table[data-table=curves] thead th").first).to_have_text("platform")
    expect(curves).to_have_count(2)
    names = page.evaluate(
        "() => document.getElementById('chart-retention').data.map((t) => t.name)"
    )
    assert {"tiktok", "youtube"} <= set(names), names
    points = page.evaluate("() => document.getElementById('chart-retention').data[0].y.length")
    assert points == 101
