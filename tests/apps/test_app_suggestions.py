"""A result's suggested settings (``suggested_settings``, as the lr_finder's) apply to the sidebar's model."""

from __future__ import annotations

import dataclasses
import math

import pytest

import dlviz
from apps.sidebar import LEARNING_RATES
from dlviz.i18n import t
from tests.apps.dashboard_helpers import assert_no_exception, echo_figure, new_app, open_page, workspace

SUGGESTED = 0.0031


@dataclasses.dataclass(frozen=True)
class Suggestion:
    suggested_settings: dict


class Suggester(dlviz.Plugin):
    """A test view that suggests a learning rate.

    简介：建议学习率的测试视图。

    What to look for: the button.

    观察要点：按钮。
    """

    name = "zz_suggester"
    title_zh = "建议"

    def compute(self, ctx, params):
        return Suggestion({"learning_rate": SUGGESTED})

    def figures(self, result, language="en"):
        return [echo_figure("suggestion")]


def test_a_suggested_learning_rate_rebuilds_the_sidebar_model_with_it(registered):
    registered(Suggester)
    at = new_app().run()
    open_page(at, "zz_suggester").run()
    assert_no_exception(at)
    button = at.button(key="suggestion.learning_rate")
    before = workspace(at).model_version
    button.click().run()
    assert_no_exception(at)
    chosen = at.select_slider(key="model.learning_rate").value
    assert chosen in LEARNING_RATES and chosen != 1e-3  # moved off the default to the option nearest 0.0031
    assert abs(math.log10(chosen / SUGGESTED)) <= min(abs(math.log10(rate / SUGGESTED)) for rate in LEARNING_RATES)
    assert button.label == t("plugin.apply_learning_rate", "en", value=f"{chosen:g}")
    ws = workspace(at)
    assert ws.model_version != before
    assert float(ws.model.optimizer.learning_rate) == pytest.approx(chosen)


def test_the_button_is_off_for_an_uploaded_model(registered):
    registered(Suggester)
    at = new_app().run()
    at.segmented_control(key="model.source").set_value("upload").run()
    open_page(at, "zz_suggester").run()
    assert at.button(key="suggestion.learning_rate").disabled
