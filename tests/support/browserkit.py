"""Debian's Chromium under Playwright, and a tab that collects console errors and CSP breaks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import Browser, ConsoleMessage, Page
from werkzeug.serving import make_server

from testkit import REPO

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Turns each CSP violation into a console error, which the tests refuse.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));
"""


@dataclass
class Tab:
    page: Page
    problems: list[str] = field(default_factory=list)

    def note(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"{self.page.url}: {message.text}")


def open_tab(browser: Browser, base_url: str) -> Tab:
    """A fresh context (its own cookies) with one page that records every problem."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(REPORT_CSP)
    tab = Tab(context.new_page())
    tab.page.on("console", tab.note)
    tab.page.on("pageerror", lambda error: tab.problems.append(f"uncaught: {error}"))
    return tab


def _closing(app):
    """The app, with every response closed even when the browser drops the connection.

    Werkzeug's server skips closing a response whose client went away mid-body (a video
    the page stopped loading), leaving its file open; finalizing this generator closes it.
    """

    def closing_app(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return closing_app


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve a Flask app on a free loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
