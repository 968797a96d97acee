"""Plugin pages: every registered plugin renders; the app stays generic, robust and cached."""

from __future__ import annotations

import dataclasses

import pytest
from dashboard_helpers import (
    EchoResult,
    assert_no_exception,
    chart_specs,
    echo_figure,
    new_app,
    open_page,
    texts,
    train,
    workspace,
)

import dlviz
from dlviz.i18n import t

PLUGINS = sorted(name for name, info in dlviz.plugins().items() if info.plugin is not None)


@pytest.fixture(scope="module")
def trained_app():
    """One session on the default dataset and model, trained for one epoch, shared by the page tests."""
    at = train(new_app().run(), epochs=1)
    assert_no_exception(at)
    return at


@pytest.mark.parametrize("name", PLUGINS)
def test_every_registered_plugin_page_renders_on_the_default_model(trained_app, name):
    at = open_page(trained_app, name).run()
    assert_no_exception(at)
    plugin = dlviz.get_plugin(name)
    assert texts(at.title) == [plugin.texts("en").title]
    failures = [text for text in texts(at.error) if "failed:" in text]
    assert not failures, failures
    refused = [text for text in texts(at.info) if "cannot run on the current model and data" in text]
    assert chart_specs(at) or refused, f"{name} shows neither a chart nor why it cannot run"


def test_overview_shows_layers_device_and_diagnosis_after_training(trained_app):
    at = open_page(trained_app, "overview").run()
    assert_no_exception(at)
    assert at.dataframe, "the layer table"
    layer_names = list(at.dataframe[0].value.iloc[:, 0])
    assert layer_names == [layer.name for layer in workspace(at).handle.layers]
    assert any(metric.label == t("overview.device", "en") for metric in at.metric)


class Controls(dlviz.Plugin):
    """A test view with one control of every kind; its figure title echoes the values.

    简介：测试视图。

    What to look for: the title.

    观察要点：标题。
    """

    name = "zz_controls"
    title = "Controls"
    title_zh = "控件"
    section = "Lessons"

    @dataclasses.dataclass(frozen=True)
    class Params:
        mode: str = dlviz.param(
            "a", label="Mode", choices=("a", "b"), choice_labels={"a": "Alpha"}, choice_labels_zh={"a": "甲"}
        )
        picks: tuple = dlviz.param(("x",), label="Picks", choices=("x", "y", "z"), multiple=True)
        flag: bool = dlviz.param(False, label="Flag")
        count: int = dlviz.param(3, label="Count", min=1, max=10)
        rate: float = dlviz.param(1e-3, label="Rate", min=1e-5, max=1.0, log=True)
        ratio: float = dlviz.param(0.5, label="Ratio", min=0.0, max=1.0, step=0.1)
        sizes: tuple = dlviz.param((4, 2), label="Sizes")
        note: str = dlviz.param("hi", label="Note", label_zh="备注")
        layers: tuple = dlviz.param((), label="Layers", multiple=True)

    calls = 0

    def compute(self, ctx, params):
        type(self).calls += 1
        ctx.report(0.5, "half way")
        return EchoResult(repr(params))

    def figures(self, result, language="en"):
        return [echo_figure(result.text)]


def test_a_plugin_registered_at_runtime_gets_a_page_with_generated_controls(registered):
    registered(Controls)
    Controls.calls = 0
    at = new_app().run()
    open_page(at, "zz_controls").run()
    assert_no_exception(at)
    assert texts(at.title) == ["Controls"]
    prefix = "param.zz_controls"
    assert at.selectbox(key=f"{prefix}.mode").value == "a"
    assert at.selectbox(key=f"{prefix}.mode").options == ["Alpha", "b"], "choices are shown by their labels"
    assert at.multiselect(key=f"{prefix}.picks").value == ["x"]
    assert at.checkbox(key=f"{prefix}.flag").value is False
    assert at.slider(key=f"{prefix}.count").value == 3
    assert at.select_slider(key=f"{prefix}.rate").value == pytest.approx(1e-3)
    assert at.slider(key=f"{prefix}.ratio").value == pytest.approx(0.5)
    assert at.text_input(key=f"{prefix}.sizes").value == "4, 2"
    assert at.text_input(key=f"{prefix}.note").value == "hi"
    layer_names = [layer.name for layer in workspace(at).handle.layers]
    assert at.multiselect(key=f"{prefix}.layers").options == layer_names, (
        "free values get the layers as suggestions"
    )
    assert "sizes=(4, 2)" in chart_specs(at)[0]["layout"]["title"]["text"]

    at.slider(key=f"{prefix}.count").set_value(7)
    at.text_input(key=f"{prefix}.sizes").set_value("8, 4, 2")
    at.multiselect(key=f"{prefix}.layers").set_value([layer_names[-1]])
    at.run()
    title = chart_specs(at)[0]["layout"]["title"]["text"]
    assert "count=7" in title and "sizes=(8, 4, 2)" in title and f"layers=('{layer_names[-1]}',)" in title
    assert Controls.calls == 2

    open_page(at, "overview").run()
    open_page(at, "zz_controls").run()
    at.segmented_control(key="language").set_value("zh").run()
    assert_no_exception(at)
    assert Controls.calls == 2, "switching page or language reuses the cached result"
    assert at.slider(key=f"{prefix}.count").value == 7, "settings survive a page switch"
    assert at.text_input(key=f"{prefix}.note").label == "备注"
    assert at.selectbox(key=f"{prefix}.mode").options == ["甲", "b"]
    assert at.selectbox(key=f"{prefix}.mode").value == "a"

    at.text_input(key=f"{prefix}.sizes").set_value("eight").run()
    assert any("not a comma-separated list" in text for text in texts(at.error))


class Broken(dlviz.Plugin):
    """A plugin that fails while computing.

    简介：会出错的插件。

    What to look for: the error.

    观察要点：错误。
    """

    name = "zz_broken"
    title = "Broken view"
    section = "Other"

    def compute(self, ctx, params):
        raise ZeroDivisionError("deliberately broken for the test")

    def figures(self, result, language="en"):
        return []


def test_a_broken_plugin_shows_its_error_and_the_other_pages_keep_working(registered):
    registered(Broken)
    at = new_app().run()
    open_page(at, "zz_broken").run()
    assert_no_exception(at)
    errors = texts(at.error)
    assert any("Broken view failed" in text and "deliberately broken" in text for text in errors), errors
    assert any(t("plugin.traceback", "en") in expander.label for expander in at.expander)
    assert any("ZeroDivisionError" in code.value for code in at.code)

    open_page(at, "model_summary").run()
    assert_no_exception(at)
    assert not at.error and chart_specs(at)
    open_page(at, "overview").run()
    assert_no_exception(at)
    assert texts(at.title) == [t("overview.heading", "en")]


class NeedsRun(dlviz.Plugin):
    """A view that needs a recorded run.

    简介：需要训练记录。

    What to look for: nothing.

    观察要点：无。
    """

    name = "zz_needs_run"
    title = "Needs a run"
    section = "Training dynamics"
    requires = frozenset({"model", "run"})

    def compute(self, ctx, params):
        return EchoResult(str(len(ctx.run.epochs["epoch"])))

    def figures(self, result, language="en"):
        return [echo_figure(result.text)]

    def diagnose(self, result):
        return [
            dlviz.Finding(
                "warning",
                f"layer out: trained {result.text} epochs",
                "train longer",
                headline_zh=f"输出层：只训练了 {result.text} 轮",
                advice_zh="多训练几轮",
            )
        ]


class SlowCheck(NeedsRun):
    """A diagnosing view outside the training dynamics: checked on request from the overview.

    简介：按需检查。

    What to look for: nothing.

    观察要点：无。
    """

    name = "zz_slow_check"
    title = "Slow check"
    section = "Data"
    requires = frozenset({"model"})

    def compute(self, ctx, params):
        return EchoResult("0")

    def diagnose(self, result):
        return [dlviz.Finding("problem", "the classes are imbalanced", "resample")]


@pytest.mark.slow
def test_an_incompatible_plugin_says_why_and_findings_reach_the_overview(registered):
    registered(NeedsRun)
    registered(SlowCheck)
    at = new_app().run()
    open_page(at, "zz_needs_run").run()
    assert_no_exception(at)
    assert any("needs run" in text for text in texts(at.info)), texts(at.info)
    assert not chart_specs(at)

    train(at, epochs=1)
    assert_no_exception(at)
    assert chart_specs(at)[0]["layout"]["title"]["text"] == "1"
    assert any("trained 1 epochs" in text for text in texts(at.warning)), "findings show on the page"
    open_page(at, "overview").run()
    assert not any("Slow check" in text for text in texts(at.error)), "not computed until asked"
    at.button(key="overview.check_all").click().run()
    assert any("Slow check: **the classes are imbalanced**" in text for text in texts(at.error))
    assert any("Needs a run: **layer out: trained 1 epochs**" in text for text in texts(at.warning))
    at.segmented_control(key="language").set_value("zh").run()
    assert any("**输出层：只训练了 1 轮**" in text and "多训练几轮" in text for text in texts(at.warning))
