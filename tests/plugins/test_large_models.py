"""Large models stay readable and fast: every model plugin draws a bounded selection of layers, keeps its
figures under 2 MB and within a bounded number of subplots, and the attributions sanity check cascades
over a bounded number of layer groups; plugins that read one input refuse a model of several."""

import dataclasses
import json
import types

import keras
import numpy as np
import pytest
from plugin_sweep import check_figures, sweep

import dlviz
from dlviz.datasets import Dataset
from dlviz.plugin import Context, make_params, tr
from dlviz.registry import make_context, run_plugin
from plugins._shared.inputs import several_inputs_reason, several_outputs_reason
from plugins._shared.layers import (
    DEFAULT_LAYERS,
    DEFAULT_MAP_LAYERS,
    MAX_CHOSEN_LAYERS,
    chosen_layers,
    evenly_spaced,
)
from plugins.attributions import Attributions
from plugins.attributions.figures import result_figures as attribution_figures
from plugins.attributions.sanity import layer_groups


def test_evenly_spaced_keeps_the_first_and_the_last_layer():
    names = [f"layer{i}" for i in range(156)]
    shown = evenly_spaced(names, DEFAULT_LAYERS)
    assert len(shown) == DEFAULT_LAYERS and shown[0] == "layer0" and shown[-1] == "layer155"
    assert shown == sorted(shown, key=names.index)
    assert chosen_layers(names, ()) == shown
    assert chosen_layers(names[:5], ()) == names[:5]


def test_chosen_layers_keep_model_order_and_refuse_unknown_or_too_many():
    names = [f"layer{i}" for i in range(100)]
    assert chosen_layers(names, ("layer7", "layer3")) == ["layer3", "layer7"]
    with pytest.raises(dlviz.ParamsError, match="Unknown layer"):
        chosen_layers(names, ("nope",))
    with pytest.raises(dlviz.ParamsError, match=f"at most {MAX_CHOSEN_LAYERS}"):
        chosen_layers(names, tuple(names[: MAX_CHOSEN_LAYERS + 1]))


def test_layer_groups_cover_every_layer_once_in_order():
    layers = list(range(241))
    groups = layer_groups(layers, 8)
    assert len(groups) == 8 and [layer for group in groups for layer in group] == layers
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert layer_groups(layers[:3], 8) == [[0], [1], [2]]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_plugins_of_one_input_refuse_several_inputs_naming_them(image, language):
    handle = types.SimpleNamespace(input_names=("title", "body"), output_names=("label",))
    ctx = dataclasses.replace(image, model=handle, language=language)
    reason = several_inputs_reason(ctx, "SHAP values", "SHAP 值")
    assert "title, body" in reason and ("2 inputs" in reason if language == "en" else "2 个输入" in reason)
    assert several_outputs_reason(ctx, "SHAP values", "SHAP 值") is None
    for name in ("shap", "attributions", "explanation_methods", "imbalance"):
        assert "title, body" in dlviz.get_plugin(name).is_compatible(ctx)
    activations = dlviz.get_plugin("activations")
    for view in ("feature_maps", "unit_responses"):
        verdict = activations.view_compatibility(ctx, view)
        assert "title, body" in verdict
        assert tr(language, "distributions", "分布") in verdict


def test_explanations_refuse_several_outputs(image):
    handle = types.SimpleNamespace(input_names=("image",), output_names=("digit", "size"))
    ctx = dataclasses.replace(image, model=handle)
    verdict = dlviz.get_plugin("attributions").is_compatible(ctx)
    assert "2 outputs (digit, size)" in verdict and "get_layer" in verdict


def test_sanity_maps_lay_out_at_the_largest_stage_count(image):
    params = make_params(Attributions.Params, {"n_samples": 4, "steps": 8, "smoothgrad_samples": 2})
    result = run_plugin(Attributions(), image, params)
    stages = 17  # sanity_stages at its maximum (16) plus the trained model
    sanity = result.sanity
    wide = dataclasses.replace(
        sanity,
        stages=tuple(f"layer{i}" for i in range(stages)),
        correlations={m: np.resize(v, stages) for m, v in sanity.correlations.items()},
        signed_correlations={m: np.resize(v, stages) for m, v in sanity.signed_correlations.items()},
        maps={m: np.resize(v, (stages, *v.shape[1:])) for m, v in sanity.maps.items()},
    )
    grid = attribution_figures(dataclasses.replace(result, sanity=wide))[-1]
    assert len(grid.data) == len(result.methods) * stages
    json.loads(grid.to_json())  # Plotly accepted the layout (a spacing error raises while building)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_sanity_check_runs_on_a_large_model_only_when_asked_for(image, monkeypatch, language):
    layer_count = len(image.model.layers)
    monkeypatch.setattr("plugins.attributions.compute.LARGE_MODEL_LAYERS", layer_count - 1)
    ctx = dataclasses.replace(image, language=language)
    light = {"n_samples": 4, "steps": 8, "smoothgrad_samples": 2, "methods": ("saliency",)}
    skipped = run_plugin(Attributions(), ctx, make_params(Attributions.Params, light))
    assert skipped.sanity is None
    note = tr(language, skipped.notes, skipped.notes_zh)[-1]
    assert f"{layer_count} " in note and tr(language, "Sanity check on large models", "大模型上也做合理性检验") in note
    annotations = " ".join(a.text for a in attribution_figures(skipped, language)[0].layout.annotations)
    assert tr(language, "sanity check did not run", "合理性检验没有运行") in annotations.replace("<br>", " ")
    asked = make_params(Attributions.Params, {**light, "sanity_check_large_models": True, "sanity_stages": 2})
    assert run_plugin(Attributions(), ctx, asked).sanity.stages[0] == "trained"


@pytest.fixture(scope="module")
def deep_cnn(image):
    """A 22-layer CNN on 8x8 digits (20 tiny convolutions), trained one epoch with a Recorder."""
    keras.utils.set_random_seed(0)
    dataset = image.dataset
    layers = [keras.Input(dataset.input_shape)]
    layers += [keras.layers.Conv2D(2, 3, padding="same", activation="relu", name=f"conv_{i}") for i in range(20)]
    layers += [keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", name="head")]
    model = keras.Sequential(layers)
    model.compile("adam", "sparse_categorical_crossentropy")
    recorder = dlviz.Recorder.for_dataset(dataset, every=2)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=32, verbose=0, callbacks=[recorder])
    return make_context(model=model, dataset=dataset, run=recorder.run, seed=0)


def bounded_figures(name: str, ctx: Context, **params) -> object:
    """Plugin `name`'s result on `ctx`, after checking its figures' size and subplot count."""
    plugin = dlviz.get_plugin(name)
    result = run_plugin(plugin, ctx, make_params(type(plugin).Params, params))
    check_figures(name, plugin.figures(result))
    return result


@pytest.mark.slow
def test_a_deep_model_shows_a_bounded_selection_of_layers(deep_cnn):
    gradients = bounded_figures("gradients", deep_cnn)
    assert len(gradients.layers) == DEFAULT_LAYERS and gradients.layers[-1] == "head"
    activations = bounded_figures("activations", deep_cnn)
    assert len(activations.distributions.layers) == DEFAULT_LAYERS
    conv = [f"conv_{i}" for i in range(20)]
    assert activations.feature_maps.layers == tuple(evenly_spaced(conv, DEFAULT_MAP_LAYERS))
    picked = bounded_figures("activations", deep_cnn, layers=("conv_3", "conv_5", "head"))
    assert picked.feature_maps.layers == ("conv_3", "conv_5")
    assert picked.distributions.layers == ("conv_3", "conv_5", "head")
    attributions = bounded_figures("attributions", deep_cnn, n_samples=4, steps=8, smoothgrad_samples=2)
    assert len(attributions.sanity.stages) == 1 + Attributions.Params().sanity_stages
    assert attributions.sanity.stages[-1] == "conv_0"  # the last stage randomises every layer


@pytest.mark.slow
def test_mobilenet_v2_goes_through_every_model_plugin():
    """keras.applications.MobileNetV2 (alpha 0.35, 32x32x3, 156 layers): figures or a refusal from every
    model plugin, each figure under 2 MB and within MAX_SUBPLOTS subplots."""
    rng = np.random.default_rng(0)
    x = rng.random((40, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, 40)
    dataset = Dataset.from_arrays(x[:32], y[:32], x_test=x[32:], y_test=y[32:], kind="image", standardize=False)
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=10)
    model.compile("adam", "sparse_categorical_crossentropy")
    recorder = dlviz.Recorder.for_dataset(dataset, every=1)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=16, verbose=0, callbacks=[recorder])
    ctx = make_context(model=model, dataset=dataset, run=recorder.run, seed=0)
    drawn, _ = sweep(ctx)
    assert {"activations", "attributions", "gradients", "model_summary"} <= set(drawn)
