"""The gradients plugin: diagnosis on real models, plotted values equal recorded ones, the no-run path, saliency."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import dlviz
from dlviz import datasets, registry
from dlviz.recorder import Recorder
from dlviz.runs import Run
from dlviz.testing import tiny_context
from plugins._shared.records import onset, rebin, record_window
from plugins.gradients import Gradients
from plugins.gradients.plugin import Params


@pytest.fixture(scope="module")
def moons():
    return datasets.load("moons", seed=0, n_samples=300)


def deep_mlp(activation, initializer, *, depth=10, learning_rate=1e-3, optimizer="adam"):
    keras.utils.set_random_seed(0)
    layers = [keras.Input((2,))]
    layers += [
        keras.layers.Dense(16, activation=activation, kernel_initializer=initializer, name=f"dense_{i + 1}")
        for i in range(depth)
    ]
    model = keras.Sequential([*layers, keras.layers.Dense(1, activation="sigmoid", name="output")])
    chosen = (
        keras.optimizers.SGD(learning_rate) if optimizer == "sgd" else keras.optimizers.Adam(learning_rate)
    )
    model.compile(optimizer=chosen, loss="binary_crossentropy")
    return model


def trained(model, dataset, epochs=2):
    recorder = Recorder.for_dataset(dataset, every=2)
    model.fit(dataset.x_train, dataset.y_train, epochs=epochs, batch_size=32, verbose=0, callbacks=[recorder])
    return registry.make_context(model=model, dataset=dataset, run=recorder.run)


@pytest.fixture(scope="module")
def sigmoid_ctx(moons):
    return trained(deep_mlp("sigmoid", "glorot_uniform"), moons)


@pytest.fixture(scope="module")
def relu_ctx(moons):
    return trained(deep_mlp("relu", "he_normal"), moons)


@pytest.fixture(scope="module")
def exploding_ctx(moons):
    return trained(deep_mlp("relu", "he_normal", depth=3, learning_rate=10.0, optimizer="sgd"), moons)


def compute(ctx, **values):
    plugin = Gradients()
    return plugin, registry.run_plugin(plugin, ctx, dlviz.plugin.make_params(Params, values))


def problems(plugin, result, word):
    return [f for f in plugin.diagnose(result) if f.severity == "problem" and word in f.headline]


# ----------------------------------------------------------------------------- diagnosis on real models


def test_deep_sigmoid_mlp_is_flagged_as_vanishing(sigmoid_ctx):
    plugin, result = compute(sigmoid_ctx)
    (finding,) = problems(plugin, result, "Vanishing")
    assert "dense_1" in finding.headline and "output" in finding.headline
    assert finding.step == int(sigmoid_ctx.run.record_steps[0])
    assert finding.layer.startswith("dense_")
    assert (
        "ReLU" in finding.advice
        and "He initialisation" in finding.advice
        and "batch normalisation" in finding.advice
    )


def test_deep_sigmoid_mlp_is_flagged_from_one_batch_too(sigmoid_ctx):
    no_run = registry.make_context(model=sigmoid_ctx.model, dataset=sigmoid_ctx.dataset)
    plugin, result = compute(no_run)
    assert result.source == "batch"
    (finding,) = problems(plugin, result, "Vanishing")
    assert finding.step is None


def test_he_initialised_relu_mlp_is_not_flagged(relu_ctx):
    plugin, result = compute(relu_ctx)
    findings = plugin.diagnose(result)
    assert [f.severity for f in findings] == ["ok"], findings


def test_huge_learning_rate_is_flagged_as_exploding(exploding_ctx):
    plugin, result = compute(exploding_ctx)
    (finding,) = problems(plugin, result, "Exploding")
    assert "dense_1" in finding.headline
    assert finding.step in exploding_ctx.run.record_steps
    assert "learning rate" in finding.advice and "clip" in finding.advice


def test_thresholds_are_parameters(sigmoid_ctx):
    plugin, result = compute(sigmoid_ctx, vanishing_decades=12.0)
    assert not problems(plugin, result, "Vanishing")


def test_diagnosis_of_non_finite_and_dead_gradients():
    layers = ["a", "b", "out"]
    norms = np.array([[1.0, 1.0, np.nan, np.nan], [1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    from plugins.gradients.diagnosis import diagnose_norms

    findings = diagnose_norms(layers, np.array([0, 10, 20, 30]), norms, np.ones(3), Params(persist=2))
    headlines = {f.headline.split(" ")[0]: f for f in findings}
    assert headlines["Exploding"].layer == "a" and headlines["Exploding"].step == 20
    assert "NaN" in headlines["Exploding"].headline
    assert headlines["Dead"].layer == "b" and headlines["Dead"].step == 10


# ----------------------------------------------------------------------------- figures show the recorded values


def test_norm_lines_are_the_recorded_norms_in_input_to_output_order(relu_ctx):
    plugin, result = compute(relu_ctx)
    run = relu_ctx.run
    lines, heatmap, histograms, ratios = plugin.figures(result)
    recorded = run.series("grad_norm")
    expected_order = [layer for layer in run.layers if layer in recorded]
    assert [trace.name for trace in lines.data] == expected_order
    assert lines.layout.yaxis.type == "log"
    for trace in lines.data:
        np.testing.assert_array_equal(trace.x, run.record_steps)
        np.testing.assert_allclose(trace.y, recorded[trace.name], rtol=1e-6)
    assert list(heatmap.data[0].y) == expected_order
    np.testing.assert_allclose(
        heatmap.data[0].z, np.log10([recorded[layer] for layer in expected_order]), atol=1e-4
    )
    ratio_traces = [trace for trace in ratios.data if trace.name in recorded]
    for trace in ratio_traces:
        np.testing.assert_allclose(trace.y, run.series("update_ratio")[trace.name], rtol=1e-6)
    upper = next(i for i, trace in enumerate(ratios.data) if trace.fill == "tonexty")
    assert ratios.data[upper - 1].y[0] < 1e-3 < ratios.data[upper].y[0]
    assert len(histograms.data) == len(expected_order)


def test_histograms_over_time_keep_every_records_mass(relu_ctx):
    _, result = compute(relu_ctx, bins=25)
    recorded = relu_ctx.run.histograms("grad")
    for layer, edges, fractions in zip(
        result.histograms.layers, result.histograms.edges, result.histograms.fractions, strict=True
    ):
        assert fractions.shape == (len(result.steps), 25) and edges.shape == (26,)
        np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-5)
        # The common edges span every record's own range.
        assert edges[0] <= recorded[layer][1][:, 0].min() + 1e-7
        assert edges[-1] >= recorded[layer][1][:, -1].max() - 1e-7


def test_layer_and_step_selection(relu_ctx):
    run = relu_ctx.run
    steps = run.record_steps
    _, result = compute(
        relu_ctx, layers=("dense_3", "dense_1"), first_step=int(steps[2]), last_step=int(steps[-2])
    )
    assert result.layers == ("dense_1", "dense_3")
    np.testing.assert_array_equal(result.steps, steps[2:-1])
    np.testing.assert_allclose(result.norms[1], run.series("grad_norm")["dense_3"][2:-1])


def test_other_runs_are_overlaid(relu_ctx, sigmoid_ctx):
    ctx = registry.make_context(
        model=relu_ctx.model,
        dataset=relu_ctx.dataset,
        run=relu_ctx.run,
        runs=(sigmoid_ctx.run, relu_ctx.run, Run({"layers": []})),  # itself and an empty run: not overlaid
    )
    plugin, result = compute(ctx)
    (other,) = result.other_runs
    lines = plugin.figures(result)[0]
    overlaid = [trace for trace in lines.data if trace.legendgroup == other.label]
    assert len(overlaid) == len(sigmoid_ctx.run.series("grad_norm"))
    assert all(trace.line.dash for trace in overlaid)
    np.testing.assert_allclose(overlaid[0].y, sigmoid_ctx.run.series("grad_norm")["dense_1"], rtol=1e-6)


def test_long_runs_are_thinned_and_figures_stay_small():
    n_records, layers, bins = 5000, ["a", "b"], 30
    steps = np.arange(n_records) * 10
    edges = np.tile(np.linspace(-1, 1, bins + 1, dtype=np.float32), (n_records, len(layers), 1))
    run = Run(
        {
            "layers": [{"name": name, "kind": "Dense", "activation": "relu"} for name in layers],
            "variables": [{"path": f"{name}/kernel", "shape": [4, 4], "layer": name} for name in layers],
            "record_layers": {"grad": layers, "act": layers},
        }
    )
    run._append_chunk(
        {
            "records/step": steps,
            "records/grad_norm": np.full((n_records, 2), 0.1, np.float32),
            "records/update_ratio": np.full((n_records, 2), 1e-3, np.float32),
            "records/grad_hist_counts": np.ones((n_records, 2, bins), np.int32),
            "records/grad_hist_edges": edges,
        }
    )
    plugin, result = compute(registry.make_context(run=run), max_points=100)
    assert len(result.steps) == 100 and result.steps[0] == 0 and result.steps[-1] == steps[-1]
    for figure in plugin.figures(result):
        assert len(figure.to_json()) < 2_000_000


# ----------------------------------------------------------------------------- without a run, saliency


def test_one_batch_bars_are_the_handle_gradients_per_layer(relu_ctx):
    ctx = registry.make_context(model=relu_ctx.model, dataset=relu_ctx.dataset, seed=3)
    plugin, result = compute(ctx, batch_size=50)
    rng = np.random.default_rng(3)
    chosen = np.sort(rng.choice(len(ctx.dataset.x_train), size=50, replace=False))
    gradients = ctx.model.gradients(ctx.dataset.x_train[chosen], ctx.dataset.y_train[chosen])
    expected = {}
    for path, values in gradients.items():
        layer = ctx.model.layer_of_path[path]
        expected[layer] = expected.get(layer, 0.0) + float(np.sum(np.asarray(values, np.float64) ** 2))
    bars, histograms = plugin.figures(result)
    assert list(bars.data[0].x) == [info.name for info in ctx.model.layers if info.name in expected]
    np.testing.assert_allclose(
        bars.data[0].y, [np.sqrt(expected[layer]) for layer in bars.data[0].x], rtol=1e-5
    )
    assert "50 samples" in bars.layout.title.text
    for trace in histograms.data:
        assert np.sum(trace.y) == pytest.approx(100.0, abs=1e-3)


def test_saliency_shows_input_gradients_of_image_models():
    ctx = tiny_context("image")
    plugin, result = compute(ctx, saliency_samples=3, sample_index=2)
    saliency = result.saliency
    assert saliency.indices == (2, 3, 4)
    expected = ctx.model.input_gradients(ctx.dataset.x_test[2:5]).sum(axis=-1)
    np.testing.assert_allclose(saliency.gradients, expected, rtol=1e-5, atol=1e-8)
    figure = plugin.figures(result)[-1]
    maps = [trace for trace in figure.data if trace.coloraxis == "coloraxis"]
    assert len(maps) == 3
    np.testing.assert_allclose(maps[0].customdata, expected[0], rtol=1e-5, atol=1e-8)
    assert np.abs(maps[0].z).max() == pytest.approx(1.0)
    assert figure.layout.coloraxis.cmid == 0


def test_saliency_is_left_out_for_tabular_models(relu_ctx):
    _, result = compute(relu_ctx)
    assert result.saliency is None


# ----------------------------------------------------------------------------- refusals and bad parameters


def test_compatibility_says_what_is_missing(relu_ctx):
    plugin = Gradients()
    assert "run" in plugin.is_compatible(registry.make_context())
    empty_run = Run({"layers": [], "record_layers": {}})
    reason = plugin.is_compatible(registry.make_context(run=empty_run))
    assert "recorded no gradients" in reason and "gradients=True" in reason
    assert plugin.is_compatible(registry.make_context(run=relu_ctx.run)) is True


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"layers": ("no_such_layer",)}, "Unknown layer"),
        ({"first_step": 10**9}, "No records"),
        ({"bins": 1}, "outside its range"),
        ({"vanishing_decades": "big"}, "must be a number"),
        ({"nonsense": 1}, "Unknown parameter"),
    ],
)
def test_bad_parameters_are_refused(relu_ctx, values, message):
    with pytest.raises(dlviz.ParamsError, match=message):
        dlviz.figures("gradients", model=relu_ctx.model, dataset=relu_ctx.dataset, run=relu_ctx.run, **values)


def test_sample_index_past_the_test_set_is_refused():
    with pytest.raises(dlviz.ParamsError, match="sample_index"):
        compute(tiny_context("image"), sample_index=10_000)


def test_chinese_figures(relu_ctx):
    plugin, result = compute(relu_ctx)
    for figure in plugin.figures(result, language="zh"):
        title = figure.layout.title.text
        assert any("\u4e00" <= char <= "\u9fff" for char in title), title
        json.dumps(figure.to_plotly_json(), default=str)


# ----------------------------------------------------------------------------- shared helpers


def test_rebin_moves_counts_onto_common_edges():
    counts = np.array([[1, 1], [0, 4], [5, 0]])
    edges = np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0], [3.0, 3.0, 3.0]])  # the last: every value equal
    common, fractions = rebin(counts, edges, 4)
    np.testing.assert_allclose(common, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(fractions[0], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(fractions[1], [0, 0, 0.5, 0.5])
    np.testing.assert_allclose(fractions[2], [0, 0, 0, 1])


def test_record_window_and_onset():
    steps = np.arange(0, 1000, 10)
    picked = record_window(steps, 0, 0, 7)
    assert len(picked) == 7 and picked[0] == 0 and picked[-1] == 99
    np.testing.assert_array_equal(record_window(steps, 100, 150, 50), [10, 11, 12, 13, 14, 15])
    assert onset(np.array([1, 0, 1, 1, 1, 0], bool), 3) == 2
    assert onset(np.array([1, 0, 1, 1, 0], bool), 3) is None
    assert onset(np.array([1, 1], bool), 3) == 0  # fewer records than asked: all of them must agree
