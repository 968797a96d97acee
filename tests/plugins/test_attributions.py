"""The `attributions` plugin: IG completeness, the gradient methods, Grad-CAM heads, the sanity check."""

import dataclasses
import pickle

import keras
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import dlviz
from dlviz.datasets import Dataset
from dlviz.plugin import make_params
from dlviz.registry import make_context, run_plugin
from plugins._shared.explain import head_of
from plugins._shared.explanation import Explanation
from plugins.attributions import Attributions
from plugins.attributions.engine import Engine, Plan
from plugins.attributions.figures import TOP_FEATURES
from plugins.attributions.result import COMPLETENESS_LIMIT, METHOD_NAMES, METHODS, SANITY_LIMIT

PLUGIN = Attributions()
NO_CHECK = {"sanity_check": False}


@pytest.fixture(scope="module")
def binary_twins(image):
    """A digits 0-vs-1 CNN with one sigmoid unit, and the same network with a two-unit softmax head whose
    logits are (-z/2, z/2): its probabilities equal the sigmoid's, its class logits are half of +-z."""
    full = image.dataset
    keep, keep_test = full.y_train < 2, full.y_test < 2
    dataset = Dataset.from_arrays(
        full.x_train[keep],
        full.y_train[keep],
        x_test=full.x_test[keep_test],
        y_test=full.y_test[keep_test],
        name="digits 0/1",
        kind="image",
        standardize=False,
    )
    sigmoid = dlviz.models.build("cnn", dataset, hidden=(8,), seed=0)
    sigmoid.fit(dataset.x_train, dataset.y_train, epochs=3, verbose=0)
    body = [keras.Input(dataset.input_shape)] + [
        layer.__class__.from_config(layer.get_config()) for layer in sigmoid.layers[:-1]
    ]
    softmax = keras.Sequential([*body, keras.layers.Dense(2, activation="softmax")])
    for source, target in zip(sigmoid.layers[:-1], softmax.layers[:-1], strict=True):
        target.set_weights(source.get_weights())
    kernel, bias = sigmoid.layers[-1].get_weights()
    softmax.layers[-1].set_weights([np.concatenate([-kernel, kernel], 1) / 2, np.r_[-bias, bias] / 2])
    return make_context(model=sigmoid, dataset=dataset), make_context(model=softmax, dataset=dataset)


def compute(ctx, **params):
    return run_plugin(PLUGIN, ctx, make_params(Attributions.Params, params))


@pytest.mark.parametrize("which", ["image", "tabular", "subclassed"])
def test_every_method_on_the_three_models(which, request):
    ctx = request.getfixturevalue(which)
    result = compute(ctx, n_samples=6, steps=100, **NO_CHECK)
    convolutional = which != "tabular"
    assert result.methods == METHODS[: 5 if convolutional else 4]
    shape = (6, 8, 8) if convolutional else (6, 30)
    for method in result.methods:
        assert result.maps[method].shape == shape and np.all(np.isfinite(result.maps[method]))
    assert (result.grad_cam_layer is not None) == convolutional
    assert result.completeness_error < COMPLETENESS_LIMIT
    pickle.loads(pickle.dumps(result))


@pytest.mark.parametrize("which", ["image", "tabular"])
def test_every_method_yields_an_explanation(which, request):
    ctx = request.getfixturevalue(which)
    result = compute(ctx, n_samples=6, steps=100, smoothgrad_samples=7, **NO_CHECK)
    features = 64 if which == "image" else 30
    for method in result.methods:
        explanation = result.as_explanation(method)
        assert isinstance(explanation, Explanation) and explanation.method == method
        assert explanation.values.shape == (6, features) and len(explanation.feature_names) == features
        np.testing.assert_array_equal(explanation.values, result.maps[method].reshape(6, -1))
        np.testing.assert_array_equal(explanation.targets, result.targets)
        assert explanation.outputs.shape == (6,) and explanation.inputs.shape == (6, *ctx.model.input_shape)
        assert explanation.score == result.score == "logit"
        assert (explanation.base_values is None) == (method != "integrated_gradients")
    assert result.as_explanation("integrated_gradients").params == (("baseline", "zeros"), ("steps", 100))
    assert result.as_explanation("smoothgrad").param("samples") == 7
    assert result.as_explanation("saliency").params == ()
    if which == "image":
        assert result.as_explanation("grad_cam").param("layer") == "conv_2"
        assert result.as_explanation("saliency").feature_names[9] == "pixel (1, 1)"
    else:
        assert result.as_explanation("saliency").feature_names == result.feature_names
        with pytest.raises(KeyError, match="grad_cam"):
            result.as_explanation("grad_cam")


def test_integrated_gradients_completeness_through_the_explanation(image, tabular):
    for ctx in (image, tabular):
        result = compute(
            ctx, n_samples=8, methods=("integrated_gradients",), score="probability", steps=400, **NO_CHECK
        )
        explanation = result.as_explanation("integrated_gradients")
        # base value (the baseline's score) + sum of the attributions = the score of the input
        gap = explanation.base_values + explanation.values.sum(axis=1) - explanation.outputs
        np.testing.assert_allclose(gap, result.ig_sums - result.ig_deltas, atol=1e-6)
        assert np.abs(gap).max() / np.abs(result.ig_deltas).mean() < 0.01
        x = ctx.dataset.x_test[:8]
        head = head_of(ctx.model, x)

        def probabilities(inputs, ctx=ctx, head=head):
            outputs = ctx.model.predict(inputs)
            return np.concatenate([1 - outputs, outputs], 1) if head.single_sigmoid else outputs

        rows = np.arange(8)
        np.testing.assert_allclose(explanation.outputs, probabilities(x)[rows, result.targets], atol=1e-5)
        zeros = probabilities(np.zeros_like(x))[rows, result.targets]
        np.testing.assert_allclose(explanation.base_values, zeros, atol=1e-5)


def test_integrated_gradients_completeness(image, tabular):
    for ctx in (image, tabular):
        result = compute(
            ctx, n_samples=10, methods=("integrated_gradients",), score="probability", **NO_CHECK
        )
        x = ctx.dataset.x_test[:10]
        head = head_of(ctx.model, x)

        def probabilities(inputs, ctx=ctx, head=head):
            outputs = ctx.model.predict(inputs)
            return np.concatenate([1 - outputs, outputs], 1) if head.single_sigmoid else outputs

        # deltas are f(x) - f(baseline) of the explained class (zeros baseline), sums add the attributions up
        rows = np.arange(10)
        expected = (
            probabilities(x)[rows, result.targets] - probabilities(np.zeros_like(x))[rows, result.targets]
        )
        np.testing.assert_allclose(result.ig_deltas, expected, atol=1e-5)
        summed = result.maps["integrated_gradients"].reshape(10, -1).sum(axis=1)
        np.testing.assert_allclose(result.ig_sums, summed, rtol=1e-4, atol=1e-6)
        assert result.completeness_error == pytest.approx(
            np.abs(summed - expected).max() / np.abs(expected).mean(), rel=1e-2
        )
        coarse = compute(ctx, n_samples=10, methods=("integrated_gradients",), steps=20, **NO_CHECK)
        fine = compute(ctx, n_samples=10, methods=("integrated_gradients",), steps=400, **NO_CHECK)
        assert fine.completeness_error < 0.01
        assert fine.completeness_error < coarse.completeness_error / 4


def test_baselines(image, tabular):
    x = image.dataset.x_test[:4]
    zeros = compute(image, n_samples=4, methods=("integrated_gradients",), score="probability", **NO_CHECK)
    blurred = compute(
        image,
        n_samples=4,
        methods=("integrated_gradients",),
        baseline="blurred",
        score="probability",
        **NO_CHECK,
    )
    mean = compute(
        image,
        n_samples=4,
        methods=("integrated_gradients",),
        baseline="mean",
        score="probability",
        steps=800,
        **NO_CHECK,
    )
    rows = np.arange(4)
    blur = gaussian_filter(x, sigma=(0, 2, 2, 0), mode="nearest")
    expected = (
        image.model.predict(x)[rows, blurred.targets] - image.model.predict(blur)[rows, blurred.targets]
    )
    np.testing.assert_allclose(blurred.ig_deltas, expected, atol=1e-5)
    assert not np.allclose(blurred.ig_deltas, zeros.ig_deltas)
    average = image.dataset.x_train.mean(axis=0, keepdims=True)
    expected = image.model.predict(x)[rows, mean.targets] - image.model.predict(average)[0, mean.targets]
    np.testing.assert_allclose(mean.ig_deltas, expected, atol=1e-5)
    assert mean.completeness_error < COMPLETENESS_LIMIT
    with pytest.raises(dlviz.ParamsError, match="blurred baseline needs images"):
        compute(tabular, baseline="blurred", **NO_CHECK)


def test_gradient_methods_match_the_handle(image):
    x = image.dataset.x_test[:5]
    result = compute(image, n_samples=5, score="probability", smoothgrad_noise=0.0, **NO_CHECK)
    gradients = image.model.input_gradients(x, target=result.targets)[..., 0]
    np.testing.assert_allclose(result.maps["saliency"], gradients, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(result.maps["gradient_x_input"], gradients * x[..., 0], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(result.maps["smoothgrad"], gradients, rtol=1e-4, atol=1e-7)  # no noise
    noisy = compute(image, n_samples=5, score="probability", **NO_CHECK)
    assert not np.allclose(noisy.maps["smoothgrad"], gradients)


def test_grad_cam_single_sigmoid_matches_two_unit_softmax(binary_twins):
    """Grad-CAM of class 0 on a sigmoid head is the map of -z (not of the unit, which is class 1)."""
    sigmoid, softmax = binary_twins
    for target in (0, 1):
        a = compute(sigmoid, n_samples=6, target=target, **NO_CHECK)
        b = compute(softmax, n_samples=6, target=target, **NO_CHECK)
        # the twin's class logits are +-z/2: maps that are linear in the score halve
        np.testing.assert_allclose(a.maps["grad_cam"], 2 * b.maps["grad_cam"], rtol=1e-3, atol=1e-6)
        np.testing.assert_allclose(a.maps["saliency"], 2 * b.maps["saliency"], rtol=1e-3, atol=1e-6)
        p_a = compute(sigmoid, n_samples=6, target=target, score="probability", **NO_CHECK)
        p_b = compute(softmax, n_samples=6, target=target, score="probability", **NO_CHECK)
        np.testing.assert_allclose(
            p_a.maps["integrated_gradients"], p_b.maps["integrated_gradients"], atol=1e-5
        )
        np.testing.assert_allclose(p_a.probabilities, p_b.probabilities, atol=1e-5)
    zero = compute(sigmoid, n_samples=6, target=0, **NO_CHECK).maps
    one = compute(sigmoid, n_samples=6, target=1, **NO_CHECK).maps
    np.testing.assert_allclose(zero["saliency"], -one["saliency"], rtol=1e-4, atol=1e-7)
    assert not np.allclose(zero["grad_cam"], one["grad_cam"])  # ReLU of opposite weightings


def test_grad_cam_layer_choice_and_refusals(image, tabular):
    result = compute(image, n_samples=3, methods=("grad_cam",), **NO_CHECK)
    assert result.grad_cam_layer == "conv_2" and result.methods == ("grad_cam",)
    assert np.all(result.maps["grad_cam"] >= 0)
    first = compute(image, n_samples=3, methods=("grad_cam",), grad_cam_layer="conv_1", **NO_CHECK)
    assert first.grad_cam_layer == "conv_1" and not np.allclose(
        first.maps["grad_cam"], result.maps["grad_cam"]
    )
    with pytest.raises(dlviz.ParamsError, match="conv_1, pool_1, conv_2"):
        compute(image, methods=("grad_cam",), grad_cam_layer="output", **NO_CHECK)
    with pytest.raises(dlviz.PluginError, match="Grad-CAM needs a convolutional layer"):
        compute(tabular, methods=("grad_cam",), **NO_CHECK)
    with pytest.raises(dlviz.ParamsError, match="not among the 3 samples"):
        compute(image, n_samples=3, sample=3, **NO_CHECK)
    with pytest.raises(dlviz.ParamsError, match="Class 10 does not exist"):
        compute(image, target=10, **NO_CHECK)


def test_one_compiled_function_serves_every_weight_setting(image):
    x = image.dataset.x_test[:9]
    head = head_of(image.model, x)
    engine = Engine(image.model, head, "logit", "conv_2")
    plan = Plan(METHODS, steps=10, smoothgrad_samples=3, noise=0.1)
    targets = np.zeros(9, dtype=np.int64)
    noises = np.zeros((9, 3, 8, 8, 1), dtype=np.float32)
    engine.attribute(plan, x, targets, np.zeros_like(x), noises, engine.weights())
    random = [np.random.default_rng(0).normal(size=v.shape).astype(v.dtype) for v in engine.weights()]
    engine.attribute(plan, x[:4], targets[:4], np.zeros_like(x[:4]), noises[:4], random)
    assert engine.compiled.experimental_get_tracing_count() == 1


def test_sanity_check_randomises_a_copy_of_the_weights(image):
    before = [w.copy() for w in image.model.model.get_weights()]
    result = compute(image, n_samples=8)
    after = image.model.model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    sanity = result.sanity
    assert sanity.stages == ("trained", "output", "hidden_1", "conv_2", "conv_1")
    for method in result.methods:
        assert sanity.correlations[method][0] == 1.0 and len(sanity.correlations[method]) == 5
        assert sanity.maps[method].shape == (5, 8, 8)
        np.testing.assert_allclose(sanity.maps[method][0], result.maps[method][0])
    # gradients depend on the weights: with every layer random, the saliency ranking is another one
    assert sanity.correlations["saliency"][-1] < SANITY_LIMIT


def test_diagnosis_flags_maps_that_ignore_the_model(image):
    result = compute(image, n_samples=4)
    flat = {m: np.ones(5) for m in result.methods}
    flat_signed = dict(flat, saliency=np.array([1, 0.2, 0.1, 0.0, 0.0]))
    ignoring = dataclasses.replace(
        result, sanity=dataclasses.replace(result.sanity, correlations=flat, signed_correlations=flat_signed)
    )
    findings = PLUGIN.diagnose(ignoring)
    problems = [f.headline for f in findings if f.severity == "problem"]
    assert len(problems) == len(result.methods) - 1
    assert any(f.severity == "warning" and f.headline.startswith("Saliency") for f in findings)
    incomplete = dataclasses.replace(result, completeness_error=0.2, sanity=None)
    assert [f.severity for f in PLUGIN.diagnose(incomplete)] == ["warning"]


def test_figures_plot_the_computed_maps(image, tabular):
    result = compute(image, n_samples=4, sample=2)
    maps_figure, completeness, curve, grid = PLUGIN.figures(result)
    heatmaps = [t for t in maps_figure.data if t.zmid == 0]
    assert len(heatmaps) == 2 * len(result.methods)
    for method, trace in zip(result.methods, heatmaps[::2], strict=True):
        values = result.maps[method][2]
        np.testing.assert_allclose(trace.z, values / np.abs(values).max(), rtol=1e-6)
        assert trace.colorscale[0][1] != trace.colorscale[-1][1] and trace.zmin == -trace.zmax
    assert "Grad-CAM" in [a.text for a in maps_figure.layout.annotations]
    np.testing.assert_allclose(completeness.data[1].x, result.ig_deltas)
    np.testing.assert_allclose(completeness.data[1].y, result.ig_sums)
    np.testing.assert_allclose(curve.data[0].y, result.sanity.correlations["integrated_gradients"])
    np.testing.assert_allclose(curve.data[1].y, result.sanity.signed_correlations["integrated_gradients"])
    assert len(grid.data) == len(result.methods) * len(result.sanity.stages)

    table = compute(tabular, n_samples=4, sample=1, **NO_CHECK)
    bars = PLUGIN.figures(table)[:3]
    assert [f.layout.title.text.split("sample ")[1].split(",")[0] for f in bars] == ["1", "2", "3"]
    first = bars[0]
    ig = table.maps["integrated_gradients"][1]
    order = np.argsort(-np.abs(ig), kind="stable")[:TOP_FEATURES][::-1]
    np.testing.assert_allclose(first.data[0].x, ig[order] / np.abs(ig).max(), rtol=1e-6)
    np.testing.assert_allclose(first.data[0].customdata, ig[order], rtol=1e-6)
    assert [trace.name for trace in first.data] == [METHOD_NAMES[m][0] for m in table.methods]
    chinese = PLUGIN.figures(result, language="zh")
    assert "积分梯度<br>(Integrated Gradients)" in [a.text for a in chinese[0].layout.annotations]
    assert "合理性检验" in chinese[2].layout.title.text
