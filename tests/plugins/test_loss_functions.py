"""The loss_functions lesson: Keras' own values, autodiff gradients, and the one-neuron MSE vs BCE race."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlviz
from dlviz import registry
from dlviz.plugin import make_params
from plugins.loss_functions import LossFunctions
from plugins.loss_functions.losses import CLASSIFICATION, REGRESSION
from plugins.loss_functions.neuron import train_neuron
from plugins.loss_functions.plugin import Params


def compute(**values):
    plugin = LossFunctions()
    return plugin, registry.run_plugin(plugin, registry.make_context(), make_params(Params, values))


@pytest.fixture(scope="module")
def default():
    return compute()


def test_regression_values_equal_keras_losses(default):
    _, result = default
    curves = result.regression
    assert curves.losses == REGRESSION
    y = np.zeros((len(curves.predictions), 1))
    y_hat = curves.predictions[:, None]
    expected = {
        "mse": keras.losses.mean_squared_error(y, y_hat),
        "mae": keras.losses.mean_absolute_error(y, y_hat),
        "huber": [keras.losses.huber(y[i], y_hat[i], delta=1.0) for i in range(len(y))],
    }
    for index, name in enumerate(curves.losses):
        np.testing.assert_allclose(curves.values[index], np.ravel(expected[name]), rtol=1e-6, atol=1e-7)
    # d/dŷ (ŷ - y)^2 = 2 (ŷ - y); MAE's slope is the sign of the error.
    np.testing.assert_allclose(curves.gradients[0], 2 * curves.predictions, atol=1e-12)
    np.testing.assert_array_equal(curves.gradients[1], np.sign(curves.predictions))


def test_classification_values_equal_keras_losses():
    _, result = compute(class_target=0, focal_gamma=1.5, n_classes=4, neuron_steps=10)
    curves = result.classification
    assert curves.losses == CLASSIFICATION
    p = curves.predictions[:, None]
    y = np.zeros_like(p)
    rest = (1 - p) / 3
    probabilities = np.concatenate([rest, p, rest, rest], axis=1)
    expected = {
        "bce": keras.losses.binary_crossentropy(y, p),
        "focal": keras.losses.binary_focal_crossentropy(y, p, gamma=1.5),
        "mse": keras.losses.mean_squared_error(y, p),
        "cce": keras.losses.categorical_crossentropy(np.eye(4)[np.zeros(len(p), int)], probabilities),
    }
    for index, name in enumerate(curves.losses):
        np.testing.assert_allclose(curves.values[index], np.ravel(expected[name]), rtol=1e-6, atol=1e-9)


def test_bce_gradients_are_the_textbook_ones(default):
    _, result = default
    curves = result.classification
    bce = curves.losses.index("bce")
    p, y = curves.predictions, result.class_target
    np.testing.assert_allclose(curves.gradients[bce], -y / p + (1 - y) / (1 - p), rtol=1e-9)
    # With respect to the logit of a sigmoid output: p - y.
    np.testing.assert_allclose(curves.logit_gradients[bce], p - y, atol=1e-12)
    mse = curves.losses.index("mse")
    np.testing.assert_allclose(curves.logit_gradients[mse], 2 * (p - y) * p * (1 - p), atol=1e-12)


def test_bce_gradient_wrt_logit_is_p_minus_y_through_keras_sigmoid():
    z = tf.constant([-6.0, -1.0, 0.0, 2.0, 9.0], tf.float64)
    y = tf.constant([1.0, 0.0, 1.0, 0.0, 1.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        p = keras.activations.sigmoid(z)
        loss = keras.losses.BinaryCrossentropy(reduction="sum", dtype="float64")(y[:, None], p[:, None])
    np.testing.assert_allclose(tape.gradient(loss, z), p - y, atol=1e-12)


def test_bce_neuron_reaches_the_target_faster_than_mse(default):
    plugin, result = default
    by_loss = {neuron.loss: neuron for neuron in result.neurons}
    bce, mse = by_loss["bce"], by_loss["mse"]
    assert bce.predictions[0] == pytest.approx(0.98, abs=1e-6) == mse.predictions[0]
    assert bce.reached is not None and (mse.reached is None or bce.reached < mse.reached / 2)
    # MSE's first gradient is the BCE one times 2 ŷ (1 - ŷ): tiny at a confident start.
    assert abs(mse.weight_gradients[0]) < abs(bce.weight_gradients[0]) / 10
    np.testing.assert_allclose(
        bce.weight_gradients[0], bce.predictions[0], rtol=1e-6
    )  # (ŷ - y)·x, x = 1, y = 0
    (finding,) = plugin.diagnose(result)
    assert f"in {bce.reached} steps" in finding.headline


def test_neuron_training_is_keras_sgd():
    neuron = train_neuron("bce", 0.9, 0.5, 3)
    # One SGD step on w and b: z = w + b moves by -2 η (ŷ - y) with x = 1.
    z0 = np.log(0.9 / 0.1)
    z1 = z0 - 2 * 0.5 * neuron.predictions[0]
    assert neuron.predictions[1] == pytest.approx(1 / (1 + np.exp(-z1)), rel=1e-5)


def test_figures_plot_the_computed_values(default):
    plugin, result = default
    for language in ("en", "zh"):
        regression, classification, neuron = plugin.figures(result, language)
        np.testing.assert_array_equal(regression.data[0].y, result.regression.values[0])
        np.testing.assert_array_equal(regression.data[1].y, result.regression.gradients[0])
        np.testing.assert_array_equal(classification.data[2].y, result.classification.logit_gradients[0])
        traces = [trace for trace in neuron.data if trace.mode == "lines"]
        np.testing.assert_array_equal(traces[1].y, result.neurons[0].predictions)
        assert neuron.layout.yaxis3.type == "log"
    assert "交叉熵" in classification.data[0].name


def test_bad_params_are_refused():
    with pytest.raises(dlviz.ParamsError):
        compute(class_target=2)
    with pytest.raises(dlviz.ParamsError):
        compute(neuron_start=1.0)
    with pytest.raises(dlviz.ParamsError):
        compute(huber_delta=0.0)
