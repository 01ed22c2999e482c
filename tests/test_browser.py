"""The web UI in Debian's Chromium, driven by Playwright, against a real server on loopback.

Every test also checks that the pages it visits log no console errors, throw no
uncaught exceptions and break no rule of the Content-Security-Policy.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from hookline import migrate
from hookline.app import create_app
from hookline.auth import create_user
from hookline.clock import utcnow
from hookline.db import Database
from hookline.jobs import enqueue
from hookline.models import Job, JobStatus, Role
from hookline.storage import MediaStore

from browserkit import CHROMIUM_ARGS, Tab, open_tab, screenshot
from mediafixtures import ingest_media
from testkit import PASSWORD, make_settings, row_counts, stored_objects, temp_files

pytestmark = pytest.mark.browser

# Remembers each text the upload box showed, even across a page load.
WATCH_UPLOAD = """
() => {
  const box = document.querySelector(".upload-progress");
  const seen = [];
  new MutationObserver(() => {
    if (box.hidden) return;
    const text = box.querySelector(".progress-text").textContent;
    if (seen.at(-1) !== text) seen.push(text);
    sessionStorage.setItem("upload-progress", JSON.stringify(seen));
  }).observe(box, { attributes: true, subtree: true, childList: true, characterData: true });
}
"""


@dataclass
class Site:
    url: str
    db: Database
    store: MediaStore


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over a migrated SQLite database with one user per role, on a loopback port."""
    data_dir = tmp_path_factory.mktemp("browser")
    db = Database.from_url(f"sqlite:///{data_dir / 'hookline.db'}")
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        for role in Role:
            create_user(session, role.value, PASSWORD, [role.value])
    settings = make_settings(data_dir, str(db.engine.url))
    server = make_server("127.0.0.1", 0, create_app(settings, db=db), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", db, MediaStore(settings.media_root))
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def tab(browser: Browser, site: Site) -> Iterator[Tab]:
    tab = open_tab(browser, site.url)
    yield tab
    tab.page.context.close()


def sign_in(page: Page, username: str = "publisher") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def throttle_uploads(page: Page, *, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send(
        "Network.emulateNetworkConditions", {**conditions, "uploadThroughput": bytes_per_second}
    )


def test_sign_in_through_the_form_shows_the_library(tab: Tab) -> None:
    page = tab.page
    sign_in(page)

    expect(page.locator("h1")).to_have_text("Library")
    expect(page.locator(".who")).to_contain_text("publisher")
    expect(page.get_by_role("link", name="Ingest an episode")).to_be_visible()
    assert tab.problems == []


def test_upload_shows_progress_then_the_episode_with_a_playable_video(
    tab: Tab, site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = tab.page
    sign_in(page)
    page.goto("/ingest")
    page.fill("#series", "Rebirth of the Heiress")
    page.fill("#episode", "1")
    page.fill("#title", "The Return")
    page.set_input_files("#file", ingest_media(tmp_path_factory) / "good.mp4")
    page.evaluate(WATCH_UPLOAD)
    throttle_uploads(page, bytes_per_second=512 * 1024)  # about a second for 450 KiB

    page.get_by_role("button", name="Upload and check").click()

    expect(page.locator(".upload-progress")).to_contain_text(re.compile(r"Uploading… \d+%"))
    expect(page.get_by_role("button", name="Upload and check")).to_be_disabled()
    expect(page).to_have_url(re.compile(r"/episodes/\d+$"))
    shown = page.evaluate("JSON.parse(sessionStorage.getItem('upload-progress') || '[]')")
    percents = [int(m.group(1)) for t in shown if (m := re.fullmatch(r"Uploading… (\d+)%", t))]
    assert len(percents) >= 2 and percents == sorted(percents), shown
    assert shown[-1] == "Checking the file…", shown
    expect(page.locator(".flash.success")).to_have_text("Ingested episode 1.")
    expect(page.locator("h1")).to_have_text("Episode 1: The Return")
    video = page.locator("video")
    expect(video).to_have_attribute("src", re.compile(r"^/media/[0-9a-f]{64}$"))
    page.evaluate(
        "async () => { const v = document.querySelector('video'); v.muted = true; await v.play(); }"
    )
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.2")
    facts = page.evaluate(
        """() => {
          const v = document.querySelector("video");
          v.pause();
          return { duration: v.duration, width: v.videoWidth, height: v.videoHeight,
                   state: v.readyState, error: v.error && v.error.code };
        }"""
    )
    assert facts["duration"] == pytest.approx(2.0, abs=0.1)
    assert (facts["width"], facts["height"], facts["error"]) == (360, 640, None)
    assert facts["state"] >= 2  # HAVE_CURRENT_DATA: frames were decoded
    screenshot(page, "episode.png")
    page.get_by_role("link", name="Library").first.click()
    expect(page.get_by_role("link", name="Rebirth of the Heiress")).to_be_visible()
    screenshot(page, "library.png")
    assert tab.problems == []


def test_a_text_file_named_mp4_is_refused_on_the_form_and_nothing_is_ingested(
    tab: Tab, site: Site
) -> None:
    page = tab.page
    sign_in(page)
    before, objects = row_counts(site.db), stored_objects(site.store)
    page.goto("/ingest")
    page.fill("#series", "Notes Are Not Episodes")
    page.fill("#episode", "1")
    page.set_input_files(
        "#file",
        files=[
            {
                "name": "Episode 1.mp4",
                "mimeType": "video/mp4",
                "buffer": b"Episode 1 notes: the CEO slaps the intern.\n",
            }
        ],
    )

    page.get_by_role("button", name="Upload and check").click()

    error = page.locator(".field.has-error p.error")
    expect(error).to_contain_text("Episode 1.mp4 is not a video file that Hookline can read.")
    expect(page).to_have_url(re.compile(r"/ingest$"))
    expect(page.locator("#series")).to_have_value("Notes Are Not Episodes")
    assert row_counts(site.db) == before
    assert stored_objects(site.store) == objects and temp_files(site.store) == []
    # Chromium logs any 4xx answer as a failed resource; the refusal is the only error.
    refusal = "Failed to load resource: the server responded with a status of 422"
    assert [p for p in tab.problems if refusal not in p] == []
    assert len(tab.problems) == 1


def test_the_jobs_page_shows_progress_as_it_changes_without_a_reload(tab: Tab, site: Site) -> None:
    with site.db.transaction() as session:
        job = enqueue(session, "noop", {"episode_id": 1})
        job.status, job.progress, job.started_at = JobStatus.RUNNING, 10.0, utcnow()
        job.progress_message = "step 2 of 20"
        session.add(job)
        session.flush()
        job_id = job.id
    page = tab.page
    sign_in(page, "reviewer")
    page.goto("/jobs/")
    text = page.locator(f'.progress[data-job-id="{job_id}"] .progress-text')
    expect(text).to_have_text("10% · step 2 of 20")
    page.evaluate("window.loadedOnce = true")

    with site.db.transaction() as session:
        running = session.get_one(Job, job_id)
        running.progress, running.progress_message = 60.0, "step 12 of 20"
        session.add(running)

    expect(text).to_have_text("60% · step 12 of 20")
    assert page.evaluate("window.loadedOnce") is True  # the same page, updated in place
    bar = page.locator(f'.progress[data-job-id="{job_id}"] .bar span')
    assert bar.evaluate("el => el.style.getPropertyValue('--pct')") == "60%"
    assert tab.problems == []


def test_pages_load_without_console_errors(tab: Tab) -> None:
    page = tab.page
    sign_in(page, "admin")
    for path in ("/", "/ingest", "/jobs/", "/account", "/admin/users"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert tab.problems == []


def test_signing_out_ends_the_session(tab: Tab) -> None:
    page = tab.page
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/jobs/")
    expect(page).to_have_url(re.compile(r"/login\?next=/jobs/$"))
    assert tab.problems == []


def test_the_content_security_policy_blocks_an_injected_inline_script(tab: Tab) -> None:
    page = tab.page
    sign_in(page)

    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.head.append(script);
        }"""
    )

    expect(page.locator("h1")).to_have_text("Library")
    assert page.evaluate("window.injected") is None
    assert any("CSP violation: script-src" in p for p in tab.problems), tab.problems
