"""Legends, hover texts and notes that the figures build from results follow the figure's language.

Results are computed once and drawn in either language (the dashboard caches them without the
language), so a label made at compute time carries its Chinese twin. Each test here would fail if one
of these texts fell back to English in the Chinese figures.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from types import SimpleNamespace

import numpy as np

from apps import charts
from dlviz import datasets, registry
from dlviz.plugin import make_params, param_specs
from dlviz.testing import tiny_context
from plugins import landscape
from plugins._shared import explain, lessons, records
from plugins.activations import Activations
from plugins.activations.views import view_reason
from plugins.attributions import Attributions
from plugins.gradients import Gradients
from plugins.imbalance.data import Targets
from plugins.imbalance.figures import distribution_figure
from plugins.landscape.compute import run_optimizer_label
from plugins.landscape.result import LandscapeResult, Line, Trajectory
from plugins.shap import Shap

CJK = re.compile(r"[\u4e00-\u9fff]")


class UnnamedRun:
    """A run with neither a name, a folder nor an optimizer in its metadata."""

    meta: dict = {}
    path = None


def chinese(text: str) -> bool:
    return bool(CJK.search(text or ""))


def test_unnamed_runs_are_labelled_in_the_language():
    assert records.run_label(UnnamedRun(), 1) == "run 2"
    assert records.run_label(UnnamedRun(), 1, "zh") == "训练记录 2"
    assert run_optimizer_label(UnnamedRun(), 0) == "1: run"
    assert run_optimizer_label(UnnamedRun(), 0, "zh") == "1: 训练记录"


def test_gradient_figures_name_other_runs_and_steps_in_chinese():
    ctx = tiny_context("points2d")
    other = pickle.loads(pickle.dumps(ctx.run))  # the same records, another (unnamed) run
    plugin = Gradients()
    params = make_params(Gradients.Params, {"saliency_samples": 0})
    result = registry.run_plugin(plugin, dataclasses.replace(ctx, runs=(other,)), params)
    (overlaid,) = result.other_runs
    assert (overlaid.label, overlaid.label_zh) == ("run 1", "训练记录 1")
    norms = result.norms.copy()
    norms[0, 1] = 0.0  # a dead record: drawn as a marker with its own hover text
    result = dataclasses.replace(result, norms=norms)

    lines, heatmap = plugin.figures(result, language="zh")[:2]
    dashed = [trace for trace in lines.data if trace.mode == "lines" and trace.line.dash]
    assert dashed and all(trace.name.endswith("(训练记录 1)") for trace in dashed)
    assert {trace.legendgrouptitle.text for trace in dashed} == {"训练记录 1"}
    for figure in (lines, heatmap):
        (marker,) = [trace for trace in figure.data if getattr(trace, "mode", None) == "markers"]
        assert "步数 %{x}" in marker.hovertemplate and "step" not in marker.hovertemplate
    english = plugin.figures(result, language="en")[0]
    assert [trace.name for trace in english.data if trace.mode == "lines" and trace.line.dash][0].endswith(
        "(run 1)"
    )


def test_saliency_hover_is_chinese():
    ctx = tiny_context("image")
    plugin = Gradients()
    result = registry.run_plugin(plugin, ctx, make_params(Gradients.Params, {"saliency_samples": 1}))
    saliency = plugin.figures(result, language="zh")[-1]
    hovers = [trace.hovertemplate for trace in saliency.data]
    assert any("∂得分/∂像素" in hover for hover in hovers) and not any("score" in hover for hover in hovers)


def landscape_result(label: str, label_zh: str) -> LandscapeResult:
    t = np.linspace(-0.5, 1.5, 9, dtype=np.float32)
    bump = np.where((t > 0) & (t < 1), 3.0, 1.0)  # a barrier between start and end
    axis = np.linspace(-1.0, 1.0, 3, dtype=np.float32)
    return LandscapeResult(
        directions="pca",
        alphas=axis,
        betas=axis,
        losses=np.ones((3, 3)),
        centre_loss=1.0,
        explained_variance=(0.6, 0.3),
        trajectories=(
            Trajectory(label, np.array([0, 10]), np.zeros((2, 2)), np.ones(2), np.ones(2), label_zh),
        ),
        line_kind="interpolation",
        lines=(Line(label, t, bump, (0, 10), label_zh),),
        eval_samples=10,
        split="train",
        n_params=5,
        loss_name="binary_crossentropy",
        log_scale=False,
        seed=0,
    )


def test_landscape_labels_hover_and_findings_in_chinese():
    plugin = landscape.Landscape()
    result = landscape_result("1: run", "1: 训练记录")
    contour, surface, line = plugin.figures(result, language="zh")
    assert "损失 %{customdata" in contour.data[0].hovertemplate
    assert "1: 训练记录" in [trace.name for trace in contour.data]
    assert "1: 训练记录" in [trace.name for trace in surface.data]
    assert [trace.name for trace in line.data] == ["1: 训练记录"]
    contour_en, _, line_en = plugin.figures(result, language="en")
    assert "loss %{customdata" in contour_en.data[0].hovertemplate
    assert [trace.name for trace in line_en.data] == ["1: run"]
    (barrier,) = plugin.diagnose(result)
    assert barrier.headline_zh.startswith("1: 训练记录：") and barrier.headline.startswith("1: run:")


def test_shared_image_traces_hover_in_chinese():
    image = np.zeros((4, 4, 1), np.float32)
    grey = explain.grey_image_trace(image, "zh")
    signed = explain.signed_heatmap(np.zeros((4, 4)), 1.0, language="zh")
    for trace in (grey, signed):
        assert "第 %{y} 行，第 %{x} 列" in trace.hovertemplate and "row" not in trace.hovertemplate
    assert "值 %{z:.2f}" in grey.hovertemplate
    assert "row %{y}, column %{x}" in explain.grey_image_trace(image, "en").hovertemplate


def test_multiclass_decision_regions_hover_in_chinese():
    axis = np.linspace(-1.0, 1.0, 3)
    grid = np.full((3, 3, 3), 1 / 3)
    (regions,) = lessons.boundary_traces(axis, axis, grid, ("a", "b", "c"), "zh")
    assert "类别 %{z}" in regions.hovertemplate and "class" not in regions.hovertemplate


def test_unit_responses_name_the_units_in_chinese():
    ctx = tiny_context("points2d")
    plugin = Activations()
    result = registry.run_plugin(plugin, ctx, make_params(Activations.Params, {"view": "unit_responses"}))
    (figure,) = plugin.figures(result, language="zh")
    names = [trace.name for trace in figure.data]
    assert names and all(" 单元 " in name and "unit" not in name for name in names)
    assert all(trace.hovertemplate.startswith(trace.name) for trace in figure.data)


def test_attribution_notes_follow_the_language():
    ctx = tiny_context("tabular")
    plugin = Attributions()
    params = make_params(Attributions.Params, {"methods": ("saliency",), "sanity_check": False})
    result = registry.run_plugin(plugin, ctx, params)
    assert len(result.notes_zh) == len(result.notes)
    noted = dataclasses.replace(result, notes=("Some note.",), notes_zh=("一条备注。",))
    for language, shown, hidden in (("en", "Some note.", "一条备注。"), ("zh", "一条备注。", "Some note.")):
        text = " ".join(note.text for note in plugin.figures(noted, language)[0].layout.annotations)
        assert shown in text and hidden not in text
        assert chinese(text) == (language == "zh")


def test_landscape_calls_a_recorded_run_a_training_record():
    """The app's word for a recorded run is 训练记录 (dlviz/i18n); the landscape's Chinese says so too."""
    plugin = landscape.Landscape()
    one = landscape_result("1: run", "1: 训练记录")
    two = dataclasses.replace(one, lines=one.lines * 2)
    line = plugin.figures(two, language="zh")[2]
    assert line.layout.legend.title.text == "训练记录"
    assert "每条训练记录的第一个快照" in line.layout.xaxis.title.text
    assert plugin.figures(two, language="en")[2].layout.legend.title.text == "run"
    words = [
        plugin.texts("zh").description,
        *(spec.text("zh")[1] for spec in param_specs(landscape.Landscape.Params)),
    ]
    assert "多条训练记录 (runs)" in words[0] and not [text for text in words if "运行" in text]
    assert "训练记录 (run)" in view_reason(registry.make_context(), "training")[1]


def figure_text(figures) -> str:
    """Every text of the figures, with Chinese characters unescaped."""
    return " ".join(json.dumps(json.loads(figure.to_json()), ensure_ascii=False) for figure in figures)


def assert_class_names_follow_the_language(plugin, result, english, chinese_names):
    for language, shown, hidden in (("en", english, chinese_names), ("zh", chinese_names, english)):
        text = figure_text(plugin.figures(result, language))
        assert any(name in text for name in shown), (language, shown)
        assert not any(name in text for name in hidden), (language, hidden)


def test_shap_and_attributions_name_breast_cancer_classes_in_chinese():
    ctx = tiny_context("tabular")  # breast_cancer: malignant / benign
    shap = Shap()
    result = registry.run_plugin(shap, ctx, make_params(Shap.Params, {"n_samples": 5, "background": 10}))
    assert result.class_names == ("malignant", "benign") and result.class_names_zh == ("恶性", "良性")
    assert_class_names_follow_the_language(shap, result, ("malignant", "benign"), ("恶性", "良性"))
    plugin = Attributions()
    params = make_params(Attributions.Params, {"methods": ("saliency",), "sanity_check": False})
    result = registry.run_plugin(plugin, ctx, params)
    assert result.class_names_zh == ("恶性", "良性")
    assert_class_names_follow_the_language(plugin, result, ("malignant", "benign"), ("恶性", "良性"))
    untranslated = dataclasses.replace(result, class_names_zh=())
    assert "malignant" in figure_text(plugin.figures(untranslated, "zh")) or "benign" in figure_text(
        plugin.figures(untranslated, "zh")
    )


def test_imbalance_class_distribution_names_classes_in_chinese():
    targets = Targets.of(datasets.load("imbalanced", n_samples=200))
    assert targets.class_names_zh == ("多数类", "少数类")
    counts = np.bincount(targets.train, minlength=2)
    result = SimpleNamespace(
        class_names=targets.class_names,
        class_names_zh=targets.class_names_zh,
        train_counts=counts,
        test_counts=np.bincount(targets.test, minlength=2),
        n_train=len(targets.train),
        n_test=len(targets.test),
        reduced_classes=(),
        keep_fraction=1.0,
        multilabel=False,
    )
    assert list(distribution_figure(result, "zh").data[0].x) == ["多数类", "少数类"]
    assert list(distribution_figure(result, "en").data[0].x) == ["majority", "minority"]


def test_lesson_boundaries_and_dataset_previews_name_moons_in_chinese():
    moons = datasets.load("moons", n_samples=60)
    axis = np.linspace(-1.0, 1.0, 3)
    traces = lessons.boundary_traces(axis, axis, np.full((3, 3), 0.5), moons.class_labels("zh"), "zh")
    boundary = traces[0]
    assert boundary.colorbar.title.text == "P(下弦月)"
    points = lessons.point_traces(moons.x_train, moons.y_train, moons.class_labels("zh"), "zh")
    assert [trace.name.split(" ")[0] for trace in points] == ["上弦月", "下弦月"]
    assert list(charts.class_counts(moons, "zh").data[0].x) == ["上弦月", "下弦月"]
    assert list(charts.class_counts(moons, "en").data[0].x) == ["upper moon", "lower moon"]
    assert [trace.name for trace in charts.samples(moons, "zh").data] == ["上弦月", "下弦月"]
