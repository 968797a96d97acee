"""The activations plugin: distributions, dying ReLU and saturation on real models, feature maps, unit responses."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import dlviz
from dlviz import datasets, registry
from dlviz.plugin import make_params
from dlviz.recorder import Recorder
from dlviz.runs import Run
from dlviz.testing import tiny_context
from plugins.activations import Activations
from plugins.activations.compute import PROBE_SIZE
from plugins.activations.plugin import Params


@pytest.fixture(scope="module")
def moons():
    return datasets.load("moons", seed=0, n_samples=300)


def mlp(activation, *, kernel=None, bias=0.0, depth=3):
    keras.utils.set_random_seed(0)
    dense = [
        keras.layers.Dense(
            16,
            activation=activation,
            kernel_initializer=kernel or "he_normal",
            bias_initializer=keras.initializers.Constant(bias),
            name=f"dense_{i + 1}",
        )
        for i in range(depth)
    ]
    model = keras.Sequential(
        [keras.Input((2,)), *dense, keras.layers.Dense(1, activation="sigmoid", name="output")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def trained(model, dataset):
    recorder = Recorder.for_dataset(dataset, every=2)
    model.fit(dataset.x_train, dataset.y_train, epochs=2, batch_size=32, verbose=0, callbacks=[recorder])
    return registry.make_context(model=model, dataset=dataset, run=recorder.run)


@pytest.fixture(scope="module")
def healthy_ctx(moons):
    return trained(mlp("relu"), moons)


@pytest.fixture(scope="module")
def dead_ctx(moons):
    # Inputs are standardised, so a bias of -5 keeps every pre-activation below zero: all units dead.
    return trained(mlp("relu", bias=-5.0), moons)


@pytest.fixture(scope="module")
def saturated_ctx(moons):
    return trained(mlp("tanh", kernel=keras.initializers.RandomNormal(stddev=5.0, seed=0)), moons)


@pytest.fixture(scope="module")
def flat_image_ctx():
    """An image model with no convolutional layer (untrained: only its structure matters)."""
    images = datasets.Dataset.from_arrays(
        np.random.default_rng(0).random((40, 4, 4, 1), np.float32),
        np.arange(40) % 2,
        kind="image",
        standardize=False,
    )
    flat = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")]
    )
    return registry.make_context(model=flat, dataset=images)


def compute(ctx, **values):
    plugin = Activations()
    return plugin, registry.run_plugin(plugin, ctx, make_params(Params, values))


def titled(figures, words):
    return next(figure for figure in figures if words in figure.layout.title.text)


# ----------------------------------------------------------------------------- diagnosis on real models


def test_dead_relu_layers_are_named_with_fixes(dead_ctx):
    plugin, result = compute(dead_ctx)
    findings = plugin.diagnose(result)
    assert [f.layer for f in findings] == ["dense_1", "dense_2", "dense_3"]
    first = findings[0]
    assert first.severity == "problem" and "Dying ReLU" in first.headline
    assert "16 of 16 units never fire" in first.headline and "100% of its outputs are zero" in first.headline
    assert first.step == int(dead_ctx.run.record_steps[0])
    assert (
        "Leaky ReLU" in first.advice and "learning rate" in first.advice and "initialisation" in first.advice
    )


def test_saturated_tanh_layers_are_named(saturated_ctx):
    plugin, result = compute(saturated_ctx)
    saturated = [f for f in plugin.diagnose(result) if "Saturated tanh" in f.headline]
    assert {f.layer for f in saturated} >= {"dense_2", "dense_3"}
    assert all(f.layer != "output" for f in saturated)  # a confident output layer is not a problem
    assert "ReLU" in saturated[0].advice and "standardise the inputs" in saturated[0].advice


def test_healthy_relu_mlp_is_not_flagged(healthy_ctx):
    plugin, result = compute(healthy_ctx)
    assert [f.severity for f in plugin.diagnose(result)] == ["ok"]


def test_thresholds_are_parameters(saturated_ctx):
    plugin, result = compute(saturated_ctx, saturation=1.0)
    assert [f.severity for f in plugin.diagnose(result)] == ["ok"]


# ----------------------------------------------------------------------------- figures show the captured values


def test_probe_distributions_are_histograms_of_the_layer_outputs(healthy_ctx):
    plugin, result = compute(healthy_ctx, bins=20)
    probe = healthy_ctx.dataset.x_train[:PROBE_SIZE]
    outputs = healthy_ctx.model.activations(probe)
    distributions = result.distributions
    assert distributions.source == "probe" and distributions.n_samples == PROBE_SIZE
    assert distributions.layers == ("dense_1", "dense_2", "dense_3", "output")
    for layer, edges, fractions in zip(
        distributions.layers, distributions.edges, distributions.fractions, strict=True
    ):
        counts, _ = np.histogram(outputs[layer], bins=edges.astype(np.float64))
        np.testing.assert_allclose(fractions, counts / outputs[layer].size, atol=1e-6)
    violins = titled(plugin.figures(result), "distributions")
    assert [trace.name for trace in violins.data] == [
        "dense_1 (relu)",
        "dense_2 (relu)",
        "dense_3 (relu)",
        "output (sigmoid)",
    ]
    centres = (distributions.edges[0][:-1] + distributions.edges[0][1:]) / 2
    np.testing.assert_allclose(violins.data[0].y[:20], centres, rtol=1e-6)
    np.testing.assert_allclose(violins.data[0].customdata[:20], distributions.fractions[0] * 100, rtol=1e-5)


def test_zero_fraction_lines_are_the_recorded_series(dead_ctx):
    plugin, result = compute(dead_ctx)
    lines = titled(plugin.figures(result), "Dying ReLU")
    recorded = dead_ctx.run.series("act_zero_frac")
    layer_traces = [trace for trace in lines.data if trace.name in recorded]
    assert [trace.name for trace in layer_traces] == ["dense_1", "dense_2", "dense_3"]
    for trace in layer_traces:
        np.testing.assert_array_equal(trace.x, dead_ctx.run.record_steps)
        np.testing.assert_allclose(trace.y, recorded[trace.name] * 100, rtol=1e-6)
    threshold = next(trace for trace in lines.data if trace.name not in recorded)
    assert list(threshold.y) == [90.0, 90.0]


def test_saturation_lines_leave_out_the_output_layer(saturated_ctx):
    plugin, result = compute(saturated_ctx)
    assert result.saturating_layers == ("dense_1", "dense_2", "dense_3")
    lines = titled(plugin.figures(result), "Saturation")
    np.testing.assert_allclose(
        lines.data[1].y, saturated_ctx.run.series("act_sat_frac")["dense_2"] * 100, rtol=1e-6
    )


def test_histograms_over_training_come_from_the_run(healthy_ctx):
    steps = healthy_ctx.run.record_steps
    plugin, result = compute(healthy_ctx, first_step=int(steps[2]))
    over_time = result.over_time
    np.testing.assert_array_equal(over_time.steps, steps[2:])
    for fractions in over_time.fractions:
        np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-5)
    heatmaps = titled(plugin.figures(result), "over training")
    np.testing.assert_allclose(heatmaps.data[0].customdata, over_time.fractions[0].T * 100, rtol=1e-5)


def test_run_alone_shows_the_last_recorded_distribution(healthy_ctx):
    plugin, result = compute(registry.make_context(run=healthy_ctx.run))
    distributions = result.distributions
    assert distributions.source == "run" and distributions.step == healthy_ctx.run.record_steps[-1]
    counts, edges = healthy_ctx.run.histograms("act")["dense_2"]
    index = distributions.layers.index("dense_2")
    np.testing.assert_allclose(distributions.fractions[index], counts[-1] / counts[-1].sum(), rtol=1e-6)
    np.testing.assert_allclose(distributions.edges[index], edges[-1])
    assert result.feature_maps is None and result.unit_responses is None


# ----------------------------------------------------------------------------- feature maps and unit responses


def test_feature_maps_show_the_conv_outputs_beside_the_input():
    ctx = tiny_context("image")
    plugin, result = compute(ctx, view="feature_maps", sample_index=3, max_maps=4)
    maps = result.feature_maps
    conv = [info.name for info in ctx.model.layers if info.kind == "Conv2D"]
    assert maps.layers == tuple(conv) and maps.sample_index == 3
    sample = ctx.dataset.x_test[3:4]
    outputs = ctx.model.activations(sample, layers=conv)
    figures = plugin.figures(result)
    assert len(figures) == len(conv)
    image, montage = figures[0].data
    np.testing.assert_allclose(image.z, sample[0, ..., 0])
    h, w = outputs[conv[0]].shape[1:3]
    np.testing.assert_allclose(np.asarray(montage.z)[:h, :w], outputs[conv[0]][0, ..., 0], rtol=1e-5)
    np.testing.assert_allclose(
        np.asarray(montage.z)[:h, w + 1 : 2 * w + 1], outputs[conv[0]][0, ..., 1], rtol=1e-5
    )
    assert "4 of" in figures[0].layout.annotations[1].text


def test_feature_maps_on_a_model_without_conv_layers_say_why(healthy_ctx, flat_image_ctx):
    ctx = flat_image_ctx
    plugin = Activations()
    reason = plugin.view_compatibility(healthy_ctx, "feature_maps")
    assert "need image data" in reason
    with pytest.raises(dlviz.PluginError, match="image data"):
        compute(healthy_ctx, view="feature_maps")

    assert (
        plugin.view_compatibility(ctx, "feature_maps")
        == "Feature maps need a convolutional layer; this model has none."
    )
    _, result = compute(ctx)  # view="all" leaves them out and says why
    notes = result.page.notes_in("en")
    assert result.feature_maps is None and any("convolutional" in note for note in notes)


def test_unit_responses_are_the_dense_outputs_over_the_input_plane(healthy_ctx):
    plugin, result = compute(healthy_ctx, view="unit_responses", grid_size=12, max_units=5)
    responses = result.unit_responses
    assert responses.layers == ("dense_1", "dense_2", "dense_3", "output")
    assert [len(r) for r in responses.responses] == [5, 5, 5, 1] and responses.units == (16, 16, 16, 1)
    gx, gy = np.meshgrid(responses.xs, responses.ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    expected = healthy_ctx.model.activations(grid, layers=["dense_2"])["dense_2"][:, 3].reshape(12, 12)
    np.testing.assert_allclose(responses.responses[1][3], expected, rtol=1e-5, atol=1e-6)
    (figure,) = plugin.figures(result)
    assert len(figure.data) == 16
    np.testing.assert_allclose(figure.data[5 + 3].z, expected, rtol=1e-5, atol=1e-6)
    assert responses.xs.min() < healthy_ctx.dataset.x_train[:, 0].min()


def test_unit_responses_need_two_input_features(flat_image_ctx):
    ctx = flat_image_ctx
    reason = Activations().view_compatibility(ctx, "unit_responses")
    assert "2-D point data" in reason
    with pytest.raises(dlviz.PluginError, match="2-D point data"):
        compute(ctx, view="unit_responses")


def test_wide_models_get_a_coarser_plane_to_stay_small(moons):
    wide = keras.Sequential(
        [
            keras.Input((2,)),
            *[keras.layers.Dense(64, activation="relu") for _ in range(4)],
            keras.layers.Dense(1),
        ]
    )
    ctx = registry.make_context(model=wide, dataset=moons)
    plugin, result = compute(ctx, view="unit_responses", grid_size=100, max_units=64)
    assert len(result.unit_responses.xs) < 100
    (figure,) = plugin.figures(result)
    assert len(figure.to_json()) < 2_000_000


# ----------------------------------------------------------------------------- refusals and bad parameters


def test_compatibility_says_what_is_missing():
    plugin = Activations()
    assert "recorded run" in plugin.is_compatible(registry.make_context())
    assert "recorded no activations" in plugin.is_compatible(registry.make_context(run=Run({"layers": []})))
    assert "needs a run" in plugin.view_compatibility(registry.make_context(), "training")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"view": "everything"}, "not one of its choices"),
        ({"layers": ("nope",)}, "Unknown layer"),
        ({"sample_index": 10_000, "view": "feature_maps"}, "sample_index"),
        ({"zero_fraction": 2.0}, "outside its range"),
    ],
)
def test_bad_parameters_are_refused(values, message):
    ctx = tiny_context("image")
    with pytest.raises(dlviz.ParamsError, match=message):
        dlviz.figures("activations", model=ctx.model, dataset=ctx.dataset, run=ctx.run, **values)


def test_chinese_figures(healthy_ctx):
    plugin, result = compute(healthy_ctx)
    for figure in plugin.figures(result, language="zh"):
        assert any("\u4e00" <= char <= "\u9fff" for char in figure.layout.title.text), (
            figure.layout.title.text
        )
