"""End to end in a real browser: train the default model, then every plugin page draws a Plotly chart.

Screenshots of every page land in artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import dlviz
from dlviz.i18n import t

pytestmark = pytest.mark.browser
PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

TRAIN_TIMEOUT_MS = 300_000
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


def save_traceback(page, name: str) -> None:
    """Keep the error a page shows (with its traceback) beside the screenshots."""
    page.get_by_text(t("plugin.traceback", "en")).first.click()
    text = page.locator('[data-testid="stMain"]').inner_text()
    (ARTIFACTS / f"e2e-{name}-error.txt").write_text(text, encoding="utf-8")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"))


@pytest.mark.slow
def test_train_then_every_plugin_page_draws_a_chart(dashboard, chromium):
    page = chromium.new_page(viewport={"width": 1440, "height": 1600})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        walk_through(page, dashboard)
    except Exception:
        shoot(page, "failure")
        raise
    finally:
        page.close()


def walk_through(page, dashboard) -> None:
    page.goto(dashboard)
    wait_until_idle(page)
    main_charts(page).first.wait_for(state="visible")
    shoot(page, "00-overview-untrained")

    epochs = page.get_by_label(t("train.epochs", "en"))
    epochs.fill("2")
    epochs.press("Enter")
    wait_until_idle(page)
    page.get_by_role("button", name=t("train.button", "en"), exact=True).click()
    page.get_by_text(t("train.progress", "en", epoch=1, epochs=2)).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    try:  # the live curves appear after the first epoch; training may also finish before we look
        page.get_by_text(t("train.progress", "en", epoch=2, epochs=2)).first.wait_for(timeout=30_000)
        shoot(page, "01-training-live")
    except PlaywrightTimeout:
        pass
    page.get_by_text("Training finished").wait_for(timeout=TRAIN_TIMEOUT_MS)
    wait_until_idle(page)
    main_charts(page).first.wait_for(state="visible")
    shoot(page, "02-overview-trained")

    broken, refused = [], []
    plugins = {name: info for name, info in dlviz.plugins().items() if info.plugin is not None}
    assert plugins, "no plugin is registered"
    for number, name in enumerate(plugins, start=3):
        open_page(page, name)
        page.wait_for_url(re.compile(rf"/{name}$"))
        wait_until_idle(page)
        shoot(page, f"{number:02d}-{name}")
        main = page.locator('[data-testid="stMain"]')
        if main.get_by_text(re.compile(r"failed: ")).count():
            broken.append(name)
            save_traceback(page, name)
        elif main_charts(page).count() == 0:
            if main.get_by_text("cannot run on the current model and data").count():
                refused.append(name)
            else:
                broken.append(name)
    assert not broken, f"these plugin pages show an error or no chart: {broken} (see artifacts/)"
    assert len(refused) < len(plugins), "every plugin refused the default model and data"

    open_page(page, "model_summary")
    wait_until_idle(page)
    page.get_by_text(t("export.title", "en")).click()
    for kind, smallest in (("HTML", 1_000_000), ("PNG", 5_000)):
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name=kind, exact=True).first.click()
        saved = ARTIFACTS / f"e2e-download-{download.value.suggested_filename}"
        download.value.save_as(saved)
        assert saved.stat().st_size > smallest, f"the {kind} export is too small"

    page.get_by_text(t("language.name", "zh"), exact=True).click()
    wait_until_idle(page)
    page.get_by_text(t("overview.title", "zh")).first.wait_for()
    shoot(page, "99-chinese")
