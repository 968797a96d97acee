"""The words a plugin says outside its figures follow `ctx.language`: why it cannot run, how far it has come.

The dashboard shows `is_compatible`'s reason in a notice box and `ctx.report`'s message on the progress
bar, so a Chinese-speaking user reads both. Each test here fails if one of them falls back to English
in Chinese (or changes its English wording, which other tests and users match on).
"""

from __future__ import annotations

import dataclasses
import re
import types

import keras
import numpy as np
import pytest

import dlviz
from dlviz import registry
from dlviz.plugin import Context, make_params
from dlviz.runs import Run
from dlviz.testing import tiny_context

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    return bool(CJK.search(text or ""))


class Untitled(dlviz.Plugin):
    """A plugin with no Chinese title."""

    name = "untitled"
    title = "Untitled view"
    requires = frozenset({"run"})


def test_base_reason_names_the_missing_requirements_in_chinese():
    attributions = registry.get_plugin("attributions")
    assert attributions.is_compatible(Context()) == (
        "Attributions needs dataset and model: load or train one first."
    )
    assert attributions.is_compatible(Context(language="zh")) == "归因图 需要数据集和模型：请先加载或训练。"
    dataset = tiny_context("tabular").dataset
    assert (
        registry.get_plugin("shap")
        .is_compatible(Context(dataset=dataset, language="zh"))
        .startswith("SHAP 值 需要模型：")
    )
    assert (
        Untitled().is_compatible(Context(language="zh"))
        == "Untitled view 需要训练记录 (run)：请先加载或训练。"
    )


@pytest.fixture(scope="module")
def feature_map_model():
    """A model whose output is a feature map per sample, not one vector: nothing can explain it."""
    image = tiny_context("image")
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, padding="same")])
    return registry.make_context(model=model, dataset=image.dataset)


@pytest.mark.parametrize(
    ("name", "english", "zh"),
    [
        (
            "attributions",
            "Attributions need a model with one output vector per sample.",
            "归因图 (attributions) 需要",
        ),
        ("shap", "SHAP values need a model with one output vector per sample.", "SHAP 值 (SHAP values) 需要"),
        ("explanation_methods", "SHAP values need a model", "SHAP 值 (SHAP values) 需要"),
    ],
)
def test_explanations_refuse_feature_maps_in_chinese(feature_map_model, name, english, zh):
    plugin = registry.get_plugin(name)
    assert plugin.is_compatible(feature_map_model).startswith(english)
    reason = plugin.is_compatible(dataclasses.replace(feature_map_model, language="zh"))
    assert reason.startswith(zh) and "每个样本只输出一个向量" in reason


def test_landscape_refuses_an_uncompiled_model_in_chinese(feature_map_model):
    plugin = registry.get_plugin("landscape")
    assert plugin.is_compatible(feature_map_model) == (
        "The loss landscape needs the model's loss: compile the model with a loss first."
    )
    reason = plugin.is_compatible(dataclasses.replace(feature_map_model, language="zh"))
    assert reason.startswith("损失曲面 (loss landscape) 需要") and "编译 (compile)" in reason


@pytest.mark.parametrize(
    ("name", "english", "zh"),
    [
        ("gradients", "Gradient flow needs a recorded run", "梯度流"),
        ("activations", "Activations need", "激活值"),
    ],
)
def test_run_and_model_views_say_what_is_missing_in_chinese(name, english, zh):
    plugin = registry.get_plugin(name)
    assert plugin.is_compatible(Context()).startswith(english)
    reason = plugin.is_compatible(Context(language="zh"))
    assert reason.startswith(zh) and "训练记录 (run)" in reason
    empty_run = Run({"layers": [], "record_layers": {}})
    reason = plugin.is_compatible(Context(run=empty_run, language="zh"))
    assert reason.startswith("这条训练记录 (run) 没有记录") and "dlviz.Recorder(" in reason


def test_activation_views_refuse_in_chinese():
    plugin = registry.get_plugin("activations")
    reason = plugin.view_compatibility(Context(language="zh"), "feature_maps")
    assert reason.startswith("特征图 (feature maps) 视图需要模型")
    assert (
        plugin.view_compatibility(Context(), "feature_maps")
        == "The feature maps view needs the model and its dataset."
    )


def test_imbalance_refusals_in_chinese():
    plugin = registry.get_plugin("imbalance")
    one_class = types.SimpleNamespace(y_train=np.zeros(6), y_test=np.zeros(3), class_names=("only",))
    assert plugin.is_compatible(Context(dataset=one_class)) == (
        "Imbalance needs at least two classes; this dataset has one."
    )
    assert plugin.is_compatible(Context(dataset=one_class, language="zh")).startswith(
        "不平衡数据 (imbalanced data) 视图需要至少两个类别"
    )
    fractional = types.SimpleNamespace(y_train=np.array([0.5, 1.0]), y_test=np.zeros(2), class_names=())
    reason = plugin.is_compatible(Context(dataset=fractional, language="zh"))
    assert reason.startswith(
        "无法使用这个数据集的类别标签 (labels)：y_train holds values that are not class ids."
    )
    dataset = tiny_context("tabular").dataset  # two classes
    wrong = keras.Sequential([keras.Input((30,)), keras.layers.Dense(3, activation="softmax")])
    ctx = registry.make_context(model=wrong, dataset=dataset, language="zh")
    reason = plugin.is_compatible(ctx)
    assert reason.startswith("模型有 3 个输出单元 (output units)，但数据集有 2 个类别") and "'mlp'" in reason
    assert plugin.is_compatible(dataclasses.replace(ctx, language="en")).startswith(
        "The model has 3 output unit(s)"
    )


def run_reporting(name: str, kind: str, values: dict, language: str):
    """Compute `name` on the tiny `kind` context in `language`; returns the progress messages it reported."""
    messages = []
    ctx = dataclasses.replace(
        tiny_context(kind), language=language, progress=lambda fraction, message: messages.append(message)
    )
    plugin = registry.get_plugin(name)
    registry.run_plugin(plugin, ctx, make_params(plugin.Params, values))
    return messages


PROGRESS_RUNS = [
    ("gradients", "points2d", {"saliency_samples": 0}),
    ("activations", "points2d", {}),
    ("landscape", "points2d", {"resolution": 5, "line_points": 5}),
    ("attributions", "image", {"methods": ("saliency",), "n_samples": 2}),
    ("explanation_methods", "tabular", {"n_samples": 2, "lime_samples": 100}),
    ("loss_functions", "points2d", {"neuron_steps": 10}),
    ("activation_functions", "points2d", {"network_activations": ("relu",)}),
    ("convolution", "image", {}),
    ("playground", "points2d", {"epochs": 2}),
    ("regularization", "points2d", {"epochs": 20}),
]


@pytest.mark.parametrize(("name", "kind", "values"), PROGRESS_RUNS, ids=[run[0] for run in PROGRESS_RUNS])
def test_progress_messages_follow_the_language(name, kind, values):
    english = run_reporting(name, kind, values, "en")
    zh = run_reporting(name, kind, values, "zh")
    assert english and len(zh) == len(english)
    assert not [message for message in english if chinese(message)]
    assert not [message for message in zh if not chinese(message)], zh


def test_shap_and_sanity_check_progress_in_chinese():
    messages = run_reporting(
        "shap", "tabular", {"n_samples": 2, "explainer": "kernel", "background": 10}, "zh"
    )
    assert "用 KernelExplainer 计算" in messages and all(chinese(message) for message in messages)
    messages = run_reporting("attributions", "tabular", {"methods": ("saliency",), "n_samples": 2}, "zh")
    assert "合理性检验 (sanity check)" in messages
    assert any(message.startswith("已随机化 ") for message in messages)


@pytest.mark.slow
def test_imbalance_speaks_chinese_and_names_strategies_by_their_labels():
    from plugins.imbalance.figures import STRATEGY_NAMES

    messages = []
    ctx = registry.make_context(
        dataset=dlviz.datasets.load("imbalanced", seed=0, n_samples=300, minority=0.1),
        language="zh",
        progress=lambda fraction, message: messages.append(message),
    )
    plugin = registry.get_plugin("imbalance")
    params = make_params(plugin.Params, {"strategies": ("none", "class_weight", "augment"), "epochs": 1})
    result = registry.run_plugin(plugin, ctx, params)
    assert (
        "类别权重 (class weights)：重采样（2/3）" in messages
        and "类别权重 (class weights)：训练（2/3）" in messages
    )
    assert "数据增强 (augmentation)：重采样（3/3）" in messages and messages[-1] == "完成"
    assert all(chinese(message) for message in messages), messages

    # Force the findings that name strategies: plain training that hides the minority, class weights best.
    none, weighted = result.outcome("none"), result.outcome("class_weight")
    result = dataclasses.replace(
        result,
        outcomes=(
            dataclasses.replace(none, accuracy=0.95, minority_recall=0.1, balanced_accuracy=0.55),
            dataclasses.replace(weighted, accuracy=0.9, minority_recall=0.8, balanced_accuracy=0.85),
        ),
    )
    hides, best, skipped = plugin.diagnose(result)
    label = STRATEGY_NAMES["class_weight"][1]
    assert f"试试{label} 或 {STRATEGY_NAMES['smote'][1]}" in hides.advice_zh
    assert hides.advice.endswith("try class weights or SMOTE.")
    assert best.headline_zh.count(label) == 2 and "class_weight" not in best.headline_zh
    assert best.headline.startswith("Best minority recall: class weights (0.80)")
    assert skipped.headline_zh.startswith(f"已跳过 {STRATEGY_NAMES['augment'][1]}：")
    assert skipped.headline.startswith("augmentation skipped: ")
