"""In a real browser, the choices of the sidebar and of a plugin page survive switching the language.

A browser sends a selection widget's value back as the text it shows; AppTest cannot catch a
translated text that no longer matches (it sets the session state directly), so this runs chromium.
"""

from __future__ import annotations

import pytest
from browser_helpers import PAGE_TIMEOUT_MS, open_page, shoot, wait_until_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dlviz.i18n import lookup, t
from dlviz.plugin import param_specs
from plugins.attributions import Attributions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAIN_TIMEOUT_MS = 300_000
OPTION_TIMEOUT_MS = 15_000
SAMPLES, NOISE = 550, 0.11  # one step up from the moons' defaults (500, 0.1)
MODEL_LABEL = "logreg · relu · adam"
LOGREG_ON_MOONS_PARAMETERS = "3"  # 2 input weights and a bias of one sigmoid unit


def test_sidebar_and_plugin_choices_survive_two_language_switches(dashboard, chromium):
    page = chromium.new_page(viewport={"width": 1440, "height": 1600})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page.goto(dashboard)
        wait_until_idle(page)
        choose_everything(page)
        check_everything(page, "en")
        for language in ("zh", "en", "zh"):
            page.get_by_text(t("language.name", language), exact=True).click()
            page.get_by_text(t("sidebar.language", language), exact=True).wait_for()
            wait_until_idle(page)
            check_everything(page, language)
        shoot(page, "language-switch-zh")
        page.get_by_role("button", name=t("train.button", "zh"), exact=True).click()
        run_label = t("runs.label.trained", "zh", number=1, model=MODEL_LABEL, epochs=2)
        page.get_by_text(t("train.done", "zh", label=run_label)).wait_for(timeout=TRAIN_TIMEOUT_MS)
        wait_until_idle(page)
        summary = t("model.summary", "zh", label=MODEL_LABEL, params=LOGREG_ON_MOONS_PARAMETERS)
        assert page.get_by_text(summary).count(), "the trained model is not the logistic regression chosen"
        assert page.locator('[data-testid="stException"]').count() == 0
    except Exception:
        shoot(page, "language-switch-failure")
        raise
    finally:
        page.close()


def choose_everything(page) -> None:
    """Moons with one more step of samples and noise, a logistic regression, 2 epochs, saliency too."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    expand(sidebar, t("sidebar.data", "en"))
    pick(page, selectbox(sidebar, t("data.choose", "en")), lookup("data.name.moons", "en"))
    for parameter in ("n_samples", "noise"):
        slider(sidebar, lookup(f"data.param.{parameter}", "en")).press("ArrowRight")
        wait_until_idle(page)
    expand(sidebar, t("sidebar.model", "en"))
    pick(page, selectbox(sidebar, t("model.kind", "en")), t("model.kind.logreg", "en"))
    epochs = sidebar.get_by_label(t("train.epochs", "en"))
    epochs.fill("2")
    epochs.press("Enter")
    wait_until_idle(page)
    open_page(page, "attributions")
    wait_until_idle(page)
    expand(page.locator('[data-testid="stMain"]'), t("plugin.settings", "en"))
    methods = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first
    pick(page, methods, saliency_label("en"))


def check_everything(page, language: str) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert shown(selectbox(sidebar, t("data.choose", language))) == lookup("data.name.moons", language)
    samples = slider(sidebar, lookup("data.param.n_samples", language)).input_value()
    noise = slider(sidebar, lookup("data.param.noise", language)).input_value()
    assert (int(float(samples)), float(noise)) == (SAMPLES, pytest.approx(NOISE)), language
    assert shown(selectbox(sidebar, t("model.kind", language))) == t("model.kind.logreg", language)
    assert sidebar.get_by_label(t("train.epochs", language)).input_value() == "2"
    methods = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first
    tags = [tag.get_attribute("aria-label") for tag in methods.locator(".react-aria-ComboBox [data-tag]").all()]
    assert saliency_label(language) in tags, (language, tags)


def saliency_label(language: str) -> str:
    methods = next(spec for spec in param_specs(Attributions.Params) if spec.name == "methods")
    return methods.choice_text("saliency", language)


def expand(container, title: str) -> None:
    details = container.locator('[data-testid="stExpander"] details').filter(
        has=container.page.locator("summary", has_text=title)
    )
    if details.first.get_attribute("open") is None:
        details.first.locator("summary").click()


def selectbox(container, label: str):
    return container.locator('[data-testid="stSelectbox"]').filter(has_text=label).first


def slider(container, label: str):
    return container.locator('[data-testid="stSlider"]').filter(has_text=label).first.locator('input[type="range"]')


def shown(box) -> str:
    """The text a select box shows (read even when its expander is folded)."""
    return box.locator('input[role="combobox"]').input_value()


def pick(page, box, option: str, attempts: int = 4) -> None:
    """Choose `option` in a select box as a person does: open it, type the start, click the option.

    A rerun that lands while the list is open (a page still drawing its figures) closes the list and
    drops the typed text; then the person simply tries again, and so does this.
    """
    search = box.get_by_role("combobox")
    choice = page.get_by_role("option", name=option, exact=True)
    for attempt in range(attempts):
        wait_until_idle(page)
        search.click()
        search.press_sequentially(option[:4], delay=50)  # typing opens the list, filtered
        try:
            choice.click(timeout=OPTION_TIMEOUT_MS)
            break
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
            search.press("Escape")
            search.fill("")
    wait_until_idle(page)
