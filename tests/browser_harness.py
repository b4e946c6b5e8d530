"""What the browser tests share: Debian's chromium through Playwright, and a tab that records everything it does.

Every request to another host is aborted and recorded (and no name resolves but 127.0.0.1, belt and braces beside
the route handler); console errors (a Content-Security-Policy violation is one), page errors and dialogs are recorded,
so a test can assert that nothing ran that should not have and nothing left the machine.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
# Screenshots and exported pictures to look at after a run: outside the checkout (a test writes nothing into it) unless
# STATETECH_TEST_ARTIFACTS names a folder.
ARTIFACTS = Path(os.environ.get("STATETECH_TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "statetech-test-artifacts")
DOCS = Path(__file__).parent.parent / "docs"
# CI sets STATETECH_REQUIRE_BROWSER=1: there a missing browser fails these tests instead of skipping them.
REQUIRE_BROWSER = os.environ.get("STATETECH_REQUIRE_BROWSER") == "1"
# Set to 1 to refresh the README's pictures (docs/*.png) from this run.
UPDATE_SCREENSHOTS = os.environ.get("STATETECH_UPDATE_SCREENSHOTS") == "1"

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRE_BROWSER,
                       reason="Debian's chromium is not installed at /usr/bin/chromium "
                              "(apt-get install chromium; .ci/run installs it)"),
]


def launch_chromium() -> Iterator:
    """The body of a module-scoped ``browser`` fixture: one headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("STATETECH_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing; apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class RecordingTab:
    """A tab on ``origin`` with everything it does recorded: requests, blocked requests, console errors, dialogs."""

    def __init__(self, browser, origin: str, *, height: int = 900) -> None:
        self.origin = origin
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": height}, accept_downloads=True)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type in ("error", "warning")
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)

    def _route(self, route) -> None:
        if route.request.url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def non_local_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.origin + "/")
                and not url.startswith(("blob:", "data:"))]

    def close(self) -> None:
        self.context.close()
