"""End to end in a real browser: train the default model, then every plugin page draws a Plotly chart.

Screenshots of every page land in artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import ARTIFACTS, PAGE_TIMEOUT_MS, main_charts, open_page, shoot, wait_until_idle

import dlviz
from dlviz.i18n import t

pytestmark = pytest.mark.browser
PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError

TRAIN_TIMEOUT_MS = 300_000


def save_traceback(page, name: str) -> None:
    """Keep the error a page shows (with its traceback) beside the screenshots."""
    page.get_by_text(t("plugin.traceback", "en")).first.click()
    text = page.locator('[data-testid="stMain"]').inner_text()
    (ARTIFACTS / f"e2e-{name}-error.txt").write_text(text, encoding="utf-8")


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
    # the page polls the training every second: a short one may be done before it shows an epoch
    page.get_by_text(re.compile(r"Epoch \d of 2|Training finished")).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
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


@pytest.mark.slow
def test_pages_respond_while_the_training_runs_and_it_can_be_stopped(dashboard, chromium):
    """The fit runs in the server's training pool, not in the session's script run: another page opens
    and draws while it trains, the status follows the student there, and Stop ends it with nothing kept."""
    page = chromium.new_page(viewport={"width": 1440, "height": 1600})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page.goto(dashboard)
        wait_until_idle(page)
        epochs = page.get_by_label(t("train.epochs", "en"))
        epochs.fill("200")
        epochs.press("Enter")
        wait_until_idle(page)
        page.get_by_role("button", name=t("train.button", "en"), exact=True).click()
        page.get_by_text(re.compile(r"Epoch \d+ of 200")).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
        open_page(page, "model_summary")
        page.wait_for_url(re.compile(r"/model_summary$"))
        main_charts(page).first.wait_for(state="visible", timeout=60_000)
        title = dlviz.plugins()["model_summary"].plugin().texts("en").title
        assert page.get_by_role("heading", name=title).count(), "the other page drew while the model trains"
        page.get_by_text(re.compile(r"Epoch \d+ of 200")).first.wait_for(timeout=10_000)
        assert page.get_by_role("button", name=t("train.button", "en"), exact=True).is_disabled()
        shoot(page, "training-while-browsing")
        page.get_by_role("button", name=t("train.stop", "en"), exact=True).click()
        page.get_by_text(t("train.cancelled", "en")).wait_for(timeout=60_000)
        wait_until_idle(page)
        assert page.get_by_role("button", name=t("train.button", "en"), exact=True).is_enabled()
        assert page.locator('[data-testid="stException"]').count() == 0
    except Exception:
        shoot(page, "training-while-browsing-failure")
        raise
    finally:
        page.close()
