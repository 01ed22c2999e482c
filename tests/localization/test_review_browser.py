"""Reviewing in Debian's Chromium: play, seek from a line, edit, conflict, re-dub, approve.

The episode is made by the real pipeline (Whisper, Apertium, espeak-ng, ffmpeg); the app
runs on a loopback port; Playwright drives the page as a reviewer would. Every page must
log no console error, throw nothing and break no rule of the Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import select

from hookline.app import create_app
from hookline.models import Job, Localization

from browserkit import CHROMIUM_ARGS, Tab, open_tab, screenshot, serving
from reviewkit import Localized, localized_episode
from testkit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def localized(tmp_path_factory) -> Iterator[Localized]:
    made = localized_episode(tmp_path_factory.mktemp("review-browser"))
    yield made
    made.db.dispose()


@pytest.fixture(scope="module")
def url(localized: Localized) -> Iterator[str]:
    with serving(create_app(localized.settings, db=localized.db)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def tab(browser: Browser, url: str) -> Iterator[Tab]:
    tab = open_tab(browser, url)
    tab.page.on("dialog", lambda dialog: tab.problems.append(f"dialog: {dialog.message}"))
    yield tab
    tab.page.context.close()
    assert tab.problems == []


def review(page: Page, localized: Localized, role: str = "reviewer") -> None:
    page.goto("/login")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto(f"/localizations/{localized.target_id}")
    expect(page.locator("tr.line").first).to_be_visible()


def player_time(page: Page) -> float:
    return page.evaluate("document.querySelector('[data-player]').currentTime")


def test_play_seek_from_a_line_and_follow_playback(tab: Tab, localized: Localized) -> None:
    page = tab.page
    review(page, localized)
    page.wait_for_function("() => document.querySelector('[data-player]').readyState >= 1")
    page.evaluate("document.querySelector('[data-player]').muted = true")
    page.keyboard.press("Control+Space")
    page.wait_for_function("() => document.querySelector('[data-player]').currentTime > 0.2")
    page.keyboard.press("Control+Space")
    assert page.evaluate("document.querySelector('[data-player]').paused")

    third = page.locator("tr.line").nth(2)
    start = float(third.get_attribute("data-start"))
    third.locator("button.seek").click()
    page.evaluate("document.querySelector('[data-player]').pause()")
    assert abs(player_time(page) - start) < 0.3, (player_time(page), start)
    expect(third).to_have_class(re.compile(r"\bcurrent\b"))
    # Moving the playhead moves the highlighted line with it.
    second = page.locator("tr.line").nth(1)
    page.evaluate(
        "t => document.querySelector('[data-player]').currentTime = t",
        float(second.get_attribute("data-start")),
    )
    expect(second).to_have_class(re.compile(r"\bcurrent\b"))
    page.wait_for_function("() => document.querySelector('[data-waveform]').width > 0")
    # Switching to the original audio keeps the position.
    at = player_time(page)
    page.select_option("[data-audio-switch]", "original")
    page.wait_for_function("() => document.querySelector('[data-player]').readyState >= 1")
    page.wait_for_function(
        f"Math.abs(document.querySelector('[data-player]').currentTime - {at}) < 0.3"
    )
    page.keyboard.press("?")
    expect(page.locator("[data-keys]")).to_be_visible()
    expect(page.locator("[data-keys]")).to_contain_text("Approve")
    screenshot(page, "review-page.png")


def test_an_edit_saves_inline_and_survives_a_reload(tab: Tab, localized: Localized) -> None:
    page = tab.page
    review(page, localized)
    row = page.locator("tr.line").nth(1)
    box = row.locator("textarea")
    box.fill("Nunca te quise, Adrián.")
    box.press("Control+s")
    expect(row.locator("[data-line-state]")).to_have_text("saved")
    page.reload()
    expect(page.locator("tr.line").nth(1).locator("textarea")).to_have_value(
        "Nunca te quise, Adrián."
    )
    # Script in a line is text: it shows in the box and runs nowhere (a dialog would fail).
    box = page.locator("tr.line").nth(1).locator("textarea")
    box.fill('<img src=x onerror="alert(1)"><script>alert(2)</script>')
    box.press("Control+s")
    expect(page.locator("tr.line").nth(1).locator("[data-line-state]")).to_have_text("saved")
    page.reload()
    expect(page.locator("tr.line").nth(1).locator("textarea")).to_have_value(
        '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    )
    page.locator("tr.line").nth(1).locator("[data-undo]").click()
    expect(page.locator("tr.line").nth(1).locator("textarea")).to_have_value(
        "Nunca te quise, Adrián."
    )
    # A timing that overlaps the next line is refused with the reason, and nothing is lost.
    end = page.locator("tr.line").nth(1).locator("input[name=end_s]")
    end.fill("999")
    end.press("Tab")
    expect(page.locator("tr.line").nth(1).locator("[data-line-state]")).to_contain_text("ends")
    # The refusal itself is the 400 the browser logs; nothing else may be.
    refused = [p for p in tab.problems if "status of 400" in p]
    assert len(refused) == 1
    tab.problems.remove(refused[0])


def test_two_reviewers_editing_one_line_get_a_conflict(
    browser: Browser, url: str, localized: Localized
) -> None:
    ana, ben = open_tab(browser, url), open_tab(browser, url)
    try:
        review(ana.page, localized, "reviewer")
        review(ben.page, localized, "admin")
        # Both opened version n; Ana saves first, then Ben saves over version n.
        for tab, text in ((ana, "Dame el anillo ya."), (ben, "Dámelo.")):
            box = tab.page.locator("tr.line").nth(2).locator("textarea")
            box.fill(text)
            box.press("Control+s")
            expect(
                tab.page.locator("tr.line").nth(2).locator("[data-line-state]")
            ).not_to_have_text("saving…")
        expect(ana.page.locator("tr.line").nth(2).locator("[data-line-state]")).to_have_text(
            "saved"
        )
        conflict = ben.page.locator("[data-conflict]")
        expect(conflict).to_be_visible()
        expect(conflict.locator("[data-conflict-theirs]")).to_contain_text("Dame el anillo ya.")
        expect(conflict.locator("[data-conflict-yours]")).to_contain_text("Dámelo.")
        conflict.locator("[data-keep-mine]").click()
        expect(ben.page.locator("tr.line").nth(2).locator("[data-line-state]")).to_have_text(
            "saved"
        )
        ana.page.reload()
        expect(ana.page.locator("tr.line").nth(2).locator("textarea")).to_have_value("Dámelo.")
        # Ben's stale save is the one 409 the browser logs.
        assert ana.problems == [] and len(ben.problems) == 1 and "409" in ben.problems[0]
    finally:
        ana.page.context.close()
        ben.page.context.close()


def test_redub_shows_progress_then_the_new_cut_and_approve(tab: Tab, localized: Localized) -> None:
    page = tab.page
    review(page, localized)
    box = page.locator("tr.line").first.locator("textarea")
    box.fill("Firma este contrato.")
    box.press("Control+s")
    expect(page.locator("tr.line").first.locator("[data-line-state]")).to_have_text("saved")
    before = page.locator("[data-player]").get_attribute("data-dub-src")
    page.locator("[data-redub-form] button").click()
    expect(page.locator("[data-redub] .progress")).to_be_visible()
    with localized.db.session() as session:
        job = session.exec(select(Job).order_by(Job.id.desc())).first()
    assert job.payload.get("redub") is True
    localized.run([job.id])  # a worker does the job; the page notices and reloads
    expect(page.locator("[data-stale-count]")).to_contain_text(
        "The cut matches the lines", timeout=30_000
    )
    assert page.locator("[data-player]").get_attribute("data-dub-src") != before

    override = page.locator(".approve-form input[name=override]")
    if override.count():
        override.fill("read and accepted")
    page.keyboard.press("Alt+a")
    expect(page.locator("h1 .badge")).to_have_text("approved")
    with localized.db.session() as session:
        assert session.get_one(Localization, localized.target_id).status == "approved"


def test_the_overview_matrix_links_to_the_review_page(tab: Tab, localized: Localized) -> None:
    page = tab.page
    review(page, localized)
    page.goto("/localizations/")
    cell = page.locator(f'a.cell-link[href="/localizations/{localized.target_id}"]')
    expect(cell).to_be_visible()
    cell.click()
    expect(page).to_have_url(re.compile(rf"/localizations/{localized.target_id}$"))
