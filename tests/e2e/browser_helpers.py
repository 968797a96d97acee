"""What the browser tests share: waiting for a script run to end, following the navigation, screenshots."""

from __future__ import annotations

import re
import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PAGE_TIMEOUT_MS = 240_000
IDLE_S = 1.0


def wait_until_idle(page, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Wait until the script run is over: the app reports "notRunning" for a while without a pause."""
    app = page.locator('[data-testid="stApp"]')
    app.wait_for(timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        if app.get_attribute("data-test-script-state") == "notRunning":
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= IDLE_S:
                return
        else:
            quiet_since = None
        page.wait_for_timeout(100)
    raise AssertionError("the app did not finish its script run in time")


def open_page(page, url_path: str) -> None:
    """Follow the top navigation to the page at `url_path` (client-side: the session is kept)."""
    href = re.compile(rf"/{re.escape(url_path)}$")
    for link in page.locator('a[data-testid="stTopNavLink"]').all():
        if href.search(link.get_attribute("href") or ""):
            link.click()
            return
    for section in page.locator('[data-testid="stTopNavSection"]').all():
        section.click()
        links = page.locator('a[data-testid="stTopNavDropdownLink"]')
        links.first.wait_for(timeout=5000)
        for link in links.all():
            if href.search(link.get_attribute("href") or ""):
                link.click()
                return
        page.keyboard.press("Escape")
    raise AssertionError(f"no navigation link to {url_path!r}")


def main_charts(page):
    return page.locator('[data-testid="stMain"] .js-plotly-plot .plot-container')


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"))
