"""The activation_functions lesson: autodiff derivatives, the depth bound, the measured vanishing gradient."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import dlviz
from dlviz import registry
from dlviz.plugin import make_params
from plugins.activation_functions import ActivationFunctions
from plugins.activation_functions.compute import evaluate, slope_peak
from plugins.activation_functions.plugin import Params
from plugins.activation_functions.result import FUNCTIONS
from plugins.activation_functions.softmax import parse_logits, tempered_softmax


def compute(**values):
    plugin = ActivationFunctions()
    return plugin, registry.run_plugin(plugin, registry.make_context(), make_params(Params, values))


@pytest.fixture(scope="module")
def default():
    return compute()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_derivatives_equal_central_differences(name):
    # Away from the kinks of relu/leaky_relu/elu/selu at 0, where the one-sided slopes differ.
    x = np.concatenate([np.linspace(-5, -0.05, 60), np.linspace(0.05, 5, 60)])
    _, derivative = evaluate(name, x)
    h = 1e-6
    function = keras.activations.get(name)
    central = (np.asarray(function(x + h)) - np.asarray(function(x - h))) / (2 * h)
    np.testing.assert_allclose(derivative, central, rtol=1e-6, atol=1e-8)


def test_known_closed_forms():
    x = np.linspace(-8, 8, 161)
    sigmoid, sigmoid_slope = evaluate("sigmoid", x)
    np.testing.assert_allclose(sigmoid_slope, sigmoid * (1 - sigmoid), atol=1e-15)
    tanh, tanh_slope = evaluate("tanh", x)
    np.testing.assert_allclose(tanh_slope, 1 - tanh**2, atol=1e-15)
    _, relu_slope = evaluate("relu", x)
    np.testing.assert_array_equal(relu_slope, np.where(x > 0, 1.0, 0.0))
    _, leaky_slope = evaluate("leaky_relu", x)
    np.testing.assert_allclose(leaky_slope, np.where(x > 0, 1.0, 0.2))
    _, softplus_slope = evaluate("softplus", x)
    np.testing.assert_allclose(softplus_slope, sigmoid, atol=1e-12)


def test_sigmoid_slope_peaks_at_a_quarter_at_zero():
    peak, at = slope_peak("sigmoid")
    assert peak == pytest.approx(0.25, abs=1e-12)
    assert at == pytest.approx(0.0, abs=1e-9)
    assert slope_peak("tanh") == pytest.approx((1.0, 0.0), abs=1e-9)


def test_result_holds_keras_values_and_bounds(default):
    _, result = default
    assert result.functions == FUNCTIONS
    assert result.x[0] == -6 and result.x[-1] == 6
    for name, values in zip(result.functions, result.values, strict=True):
        np.testing.assert_allclose(values, keras.activations.get(name)(result.x), rtol=1e-12)
    sigmoid = result.functions.index("sigmoid")
    np.testing.assert_allclose(result.bounds[sigmoid], 0.25**result.depths)
    relu = result.functions.index("relu")
    np.testing.assert_allclose(result.bounds[relu], 1.0)


def test_measured_sigmoid_network_shows_vanishing_gradients(default):
    plugin, result = default
    sigmoid = next(network for network in result.networks if network.activation == "sigmoid")
    relu = next(network for network in result.networks if network.activation == "relu")
    assert sigmoid.layers[0] == "hidden_1" and sigmoid.layers[-1] == "output" and len(sigmoid.layers) == 11
    hidden = sigmoid.norms[:-1]
    # Decaying toward the input at every layer, over many orders of magnitude, like 0.25^n.
    assert np.all(np.diff(hidden) > 0)
    assert sigmoid.first_to_last_hidden < 1e-4
    assert relu.first_to_last_hidden > 1e-2
    (finding,) = plugin.diagnose(result)
    assert "sigmoid" in finding.headline and "vanishing" in finding.headline


def test_measured_norms_equal_handle_gradients():
    _, result = compute(depth=3, network_activations=("tanh",), batch_size=16, functions=("tanh",))
    (network,) = result.networks
    dataset = dlviz.datasets.load("moons", seed=0, n_samples=100)
    model = dlviz.models.build("mlp", dataset, hidden=(16,) * 3, activation="tanh", seed=0)
    handle = dlviz.wrap(model, dataset)
    gradients = handle.gradients(dataset.x_train[:16], dataset.y_train[:16])
    expected = [
        np.sqrt(
            sum(
                np.sum(np.asarray(g, np.float64) ** 2)
                for p, g in gradients.items()
                if p.split("/")[-2] == layer
            )
        )
        for layer in network.layers
    ]
    np.testing.assert_allclose(network.norms, expected, rtol=1e-6)


def test_figures_plot_the_computed_values(default):
    plugin, result = default
    for language in ("en", "zh"):
        functions, derivatives, depth, _, _ = plugin.figures(result, language)
        lines = [trace for trace in functions.data]
        assert len(lines) == len(FUNCTIONS)
        np.testing.assert_array_equal(lines[0].y, result.values[0])
        slopes = [trace for trace in derivatives.data if trace.mode == "lines"]
        np.testing.assert_array_equal(slopes[2].y, result.derivatives[2])
        measured = [trace for trace in depth.data if trace.marker.symbol == "square"]
        assert [list(trace.y) for trace in measured] == [list(n.norms) for n in result.networks]
        assert depth.layout.yaxis.type == "log" and depth.layout.yaxis2.type == "log"
    assert "梯度消失" in depth.layout.title.text


def test_bad_params_are_refused():
    with pytest.raises(dlviz.ParamsError, match="input range is empty"):
        compute(x_min=2.0, x_max=1.0)
    with pytest.raises(dlviz.ParamsError):
        compute(functions=("sigmoid", "mish"))
    with pytest.raises(dlviz.ParamsError):
        compute(depth=100)


@pytest.mark.parametrize("temperature", [0.2, 1.0, 5.0])
def test_softmax_is_keras_own_and_its_jacobian_has_the_known_structure(temperature):
    logits = parse_logits("2, 1, 0.1, -1")
    result = tempered_softmax(logits, temperature)
    np.testing.assert_allclose(
        result.probabilities, keras.activations.softmax(logits / temperature), rtol=1e-12
    )
    np.testing.assert_allclose(result.probabilities_at_one, keras.activations.softmax(logits), rtol=1e-12)
    p = result.probabilities
    np.testing.assert_allclose(result.jacobian, (np.diag(p) - np.outer(p, p)) / temperature, atol=1e-12)
    np.testing.assert_allclose(result.jacobian.sum(axis=1), 0.0, atol=1e-12)
    shifted = tempered_softmax(logits + 7.0, temperature)
    np.testing.assert_allclose(shifted.probabilities, p, rtol=1e-9)


def test_temperature_sharpens_and_flattens():
    logits = parse_logits("3 1 0")
    cold, warm = tempered_softmax(logits, 0.05), tempered_softmax(logits, 20.0)
    assert cold.probabilities[0] > 0.999
    assert np.ptp(warm.probabilities) < 0.1 < np.ptp(warm.probabilities_at_one)


@pytest.mark.parametrize("text", ["1", "a, b", "1, inf", ""])
def test_bad_logits_are_refused_with_a_fix(text):
    with pytest.raises(dlviz.ParamsError, match="numbers") as caught:
        parse_logits(text)
    assert caught.value.fix


@pytest.mark.slow
def test_prelu_learns_its_own_slopes(default):
    plugin, result = default
    prelu = result.prelu
    assert prelu.layers == ("prelu_1", "prelu_2") and prelu.accuracy > 0.8
    for alphas, outputs in zip(prelu.alphas, prelu.outputs, strict=True):
        assert np.ptp(alphas) > 0.05 and not np.allclose(alphas, prelu.initial_alpha)
        expected = np.maximum(prelu.x, 0)[:, None] + alphas[None, :] * np.minimum(prelu.x, 0)[:, None]
        np.testing.assert_allclose(outputs, expected, atol=1e-6)
    figure = plugin.figures(result, "en")[-1]
    np.testing.assert_allclose(figure.data[0].y, prelu.alphas[0])
    softmax = plugin.figures(result, "en")[-2]
    np.testing.assert_allclose(softmax.data[0].y, result.softmax.probabilities)
