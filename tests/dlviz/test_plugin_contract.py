"""The plugin contract: Params metadata, docstring texts, registration, discovery and isolation."""

import dataclasses
import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

import dlviz
from dlviz import registry
from dlviz.plugin import Context, make_params, param_specs
from dlviz.testing import isolated_registry


@dataclasses.dataclass(frozen=True)
class CountParams:
    bins: int = dlviz.param(20, label="Bins", label_zh="分箱数", min=2, max=100)
    scale: str = dlviz.param("log", label="Scale", label_zh="刻度", choices=("log", "linear"))
    layers: tuple = dlviz.param(("a",), label="Layers", label_zh="层", choices=("a", "b"), multiple=True)
    smooth: bool = dlviz.param(False, label="Smooth", label_zh="平滑")
    rate: float = dlviz.param(0.5, label="Rate", label_zh="比率", min=0.0, max=1.0)


class Counting(dlviz.Plugin):
    """Counts to `bins`.

    简介：数到 bins。

    What to look for: a straight line.

    观察要点：一条直线。
    """

    name = "counting"
    title_zh = "计数"
    Params = CountParams

    def compute(self, ctx, params):
        return list(range(params.bins))

    def figures(self, result, language="en"):
        import plotly.graph_objects as go

        return [go.Figure(go.Scatter(y=result), layout={"title": "count"})]


def test_docstring_gives_texts_in_both_languages():
    plugin = Counting()
    assert plugin.description == "Counts to `bins`."
    assert plugin.title == "Counting"
    english, chinese = plugin.texts("en"), plugin.texts("zh")
    assert english.what_to_look_for == "a straight line."
    assert (chinese.title, chinese.description, chinese.what_to_look_for) == (
        "计数",
        "数到 bins。",
        "一条直线。",
    )


def test_param_specs_carry_ui_metadata():
    specs = {spec.name: spec for spec in param_specs(CountParams)}
    assert specs["bins"].min == 2 and specs["bins"].max == 100
    assert specs["scale"].choices == ("log", "linear")
    assert specs["layers"].multiple
    assert specs["bins"].text("zh") == ("分箱数", "")


def test_make_params_validates_and_coerces():
    params = make_params(CountParams, {"bins": 30.0, "layers": "b", "rate": 1})
    assert params.bins == 30 and isinstance(params.bins, int)
    assert params.layers == ("b",)
    assert params.rate == 1.0
    with pytest.raises(dlviz.ParamsError, match="bogus.*use one of: bins"):
        make_params(CountParams, {"bogus": 1})
    with pytest.raises(dlviz.ParamsError, match="outside its range"):
        make_params(CountParams, {"bins": 1000})
    with pytest.raises(dlviz.ParamsError, match="not one of its choices"):
        make_params(CountParams, {"scale": "cubic"})
    with pytest.raises(dlviz.ParamsError, match="whole number"):
        make_params(CountParams, {"bins": 2.5})
    with pytest.raises(dlviz.ParamsError, match="True or False"):
        make_params(CountParams, {"smooth": "yes"})
    with pytest.raises(dlviz.ParamsError, match="must be a number"):
        make_params(CountParams, {"rate": "high"})


def test_context_is_frozen_and_reports_progress():
    seen = []
    ctx = Context(progress=lambda fraction, message: seen.append((fraction, message)))
    ctx.report(1.5, "done")
    assert seen == [(1.0, "done")]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.seed = 3
    with pytest.raises(TypeError):
        Context(None)


def test_register_and_quick_method():
    with isolated_registry():
        dlviz.register(Counting)
        assert dlviz.plugins()["counting"].status == "loaded"
        assert dlviz.compute("counting", bins=3) == [0, 1, 2]
        (figure,) = dlviz.figures("counting", bins=4)
        assert list(figure.data[0].y) == [0, 1, 2, 3]
    assert "counting" not in registry._registry


def _plugin(name="valid", **attrs):
    namespace = {
        "name": name,
        "compute": lambda self, ctx, params: 1,
        "figures": lambda self, r, language="en": [],
    }
    namespace.update(attrs)
    return type("Made", (dlviz.Plugin,), namespace)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (_plugin("Bad-Name"), "invalid name"),
        (_plugin("1st"), "invalid name"),
        (_plugin(compute=dlviz.Plugin.compute), r"does not implement compute\(\)"),
        (_plugin(figures=dlviz.Plugin.figures), r"does not implement figures\(\)"),
        (_plugin(requires=frozenset({"gpu"})), "unknown context fields"),
        (_plugin(section="Misc"), "unknown section"),
        (
            _plugin(Params=dataclasses.dataclass(type("P", (), {"__annotations__": {"a": int}, "a": 1}))),
            "frozen",
        ),
        (
            _plugin(
                Params=dataclasses.dataclass(frozen=True)(type("P", (), {"__annotations__": {"a": int}}))
            ),
            "default",
        ),
        (
            _plugin(
                Params=dataclasses.dataclass(frozen=True)(
                    type("P", (), {"__annotations__": {"a": int}, "a": dlviz.param(5, min=0, max=1)})
                )
            ),
            "invalid parameter default",
        ),
        (object, "not a plugin class"),
    ],
)
def test_invalid_plugins_are_refused_at_registration(cls, message):
    with isolated_registry(), pytest.raises(dlviz.PluginError, match=message):
        dlviz.register(cls)


def test_duplicate_names_are_refused_unless_replaced():
    with isolated_registry():
        dlviz.register(_plugin("twin"))
        with pytest.raises(dlviz.PluginError, match="already registered"):
            dlviz.register(type("Other", (dlviz.Plugin,), dict(vars(_plugin("twin")))))
        replacement = type("Other", (dlviz.Plugin,), dict(vars(_plugin("twin"))))
        dlviz.register(replacement, replace=True)
        assert dlviz.plugins()["twin"].plugin is replacement


def test_unknown_and_failed_plugins_raise_plugin_error():
    with isolated_registry():
        with pytest.raises(dlviz.PluginError, match="No plugin named 'nope'"):
            dlviz.get_plugin("nope")


def test_broken_entry_points_are_recorded_and_skipped(monkeypatch, caplog):
    points = [
        EntryPoint("missing", "plugins.does_not_exist:Nothing", registry.ENTRY_POINT_GROUP),
        EntryPoint("renamed", "plugins.model_summary:ModelSummary", registry.ENTRY_POINT_GROUP),
        EntryPoint("model_summary", "plugins.model_summary:ModelSummary", registry.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: points)
    with isolated_registry():
        registry.discover(force=True)
        infos = dlviz.plugins()
        assert infos["model_summary"].status == "loaded"
        assert infos["missing"].status == "failed" and "ModuleNotFoundError" in infos["missing"].error
        assert "entry-point name equal" in infos["renamed"].error
        with pytest.raises(dlviz.PluginError, match="failed to load"):
            dlviz.get_plugin("missing")
    assert "failed to load plugin 'missing'" in caplog.text


def test_autoload_can_be_disabled(monkeypatch):
    monkeypatch.setenv(registry.AUTOLOAD_ENV, "1")
    monkeypatch.setattr(registry, "entry_points", lambda group: pytest.fail("discovery ran"))
    with isolated_registry():
        registry._discovered = False
        assert dlviz.plugins() == {}


def test_a_plugin_that_raises_becomes_a_plugin_error():
    def explode(self, ctx, params):
        raise ZeroDivisionError("boom")

    with isolated_registry():
        dlviz.register(_plugin("exploding", compute=explode))
        with pytest.raises(
            dlviz.PluginError, match="'exploding' failed while computing: ZeroDivisionError: boom"
        ):
            dlviz.compute("exploding")
        dlviz.register(_plugin("needy", requires=frozenset({"run"})))
        with pytest.raises(dlviz.PluginError, match="cannot run here: .*needs run"):
            dlviz.compute("needy")


@pytest.mark.slow
def test_command_line_lists_the_builtin_plugins():
    listing = subprocess.run(
        [sys.executable, "-m", "dlviz", "plugins"], capture_output=True, text=True, timeout=120, check=False
    )
    assert "model_summary" in listing.stdout and "loaded" in listing.stdout, listing.stderr
    assert listing.returncode == 0, listing.stdout


def test_choice_labels_name_choices_in_each_language_and_must_name_real_choices():
    @dataclasses.dataclass(frozen=True)
    class Params:
        method: str = dlviz.param(
            "ig",
            choices=("ig", "saliency"),
            choice_labels={"ig": "Integrated Gradients"},
            choice_labels_zh={"ig": "积分梯度"},
        )

    (spec,) = param_specs(Params)
    assert [spec.choice_text(choice, "en") for choice in spec.choices] == ["Integrated Gradients", "saliency"]
    assert [spec.choice_text(choice, "zh") for choice in spec.choices] == ["积分梯度", "saliency"]
    assert spec.check("ig") == "ig", "labels are for display; values stay the choices"
    assert {spec: 1}[spec] == 1, "a spec with labels is still hashable"
    with pytest.raises(dlviz.ParamsError, match="not among its choices"):
        dlviz.param("ig", label="Method", choices=("ig",), choice_labels={"gradcam": "Grad-CAM"})
