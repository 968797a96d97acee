"""The backprop lesson: every number of the worked step equals what Keras and tf.GradientTape compute."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlviz
from dlviz import registry
from dlviz.plugin import make_params
from plugins.backprop import Backprop
from plugins.backprop.model import XOR_INPUTS, build_xor_model, parameter_names, xor_loss, xor_targets
from plugins.backprop.plugin import Params

TOLERANCE = 1e-6


def compute(**values):
    plugin = Backprop()
    return plugin, registry.run_plugin(plugin, registry.make_context(), make_params(Params, values))


@pytest.fixture(scope="module")
def default():
    return compute()


@pytest.fixture(scope="module")
def softmax_sgd():
    return compute(
        outputs=2,
        hidden_units=4,
        hidden_activation="tanh",
        optimizer="sgd",
        learning_rate=2.0,
        max_steps=60,
        step=37,
        sample=3,
    )


def tape_at(result, state):
    """Forward values and tf.GradientTape gradients of a freshly built Keras XOR model at weights[state]."""
    model, probe = build_xor_model(result.hidden_units, result.hidden_activation, result.outputs, seed=123)
    model.set_weights(list(result.unflatten(result.weights[state])))
    x = tf.constant(XOR_INPUTS)
    with tf.GradientTape() as tape:
        hidden, predictions = probe(x)
        loss = xor_loss(result.outputs)(tf.constant(xor_targets(result.outputs)), predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    flat = np.concatenate([np.ravel(g) for g in gradients])
    return np.asarray(hidden), np.asarray(predictions), float(loss), flat


@pytest.mark.parametrize("case", ["default", "softmax_sgd"])
def test_chain_rule_equals_gradient_tape(case, request):
    _, result = request.getfixturevalue(case)
    chain = result.chain
    hidden, predictions, loss, gradients = tape_at(result, result.step)
    np.testing.assert_allclose(chain.grad_chain, gradients, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(chain.grad_tape, gradients, atol=1e-12, rtol=0)
    np.testing.assert_allclose(chain.a_hidden, hidden, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(chain.y_hat, predictions, atol=TOLERANCE, rtol=0)
    assert chain.loss == pytest.approx(loss, abs=TOLERANCE)
    assert chain.sample_losses.mean() == pytest.approx(loss, abs=TOLERANCE)


@pytest.mark.parametrize("case", ["default", "softmax_sgd"])
def test_every_local_derivative_composes(case, request):
    _, result = request.getfixturevalue(case)
    chain = result.chain
    w1, b1, w2, b2 = result.unflatten(result.weights[result.step])
    np.testing.assert_allclose(chain.z_hidden, XOR_INPUTS @ w1 + b1, atol=1e-12)
    np.testing.assert_allclose(chain.z_output, chain.a_hidden @ w2 + b2, atol=1e-12)
    # The output δ: ∂L/∂ŷ times the output activation's Jacobian, and Keras' (ŷ − y)/N from the logits.
    np.testing.assert_allclose(
        np.einsum("nk,nkm->nm", chain.dloss_dyhat, chain.dyhat_dz), chain.delta_output, atol=TOLERANCE
    )
    one_hot = np.eye(2)[result.labels] if result.outputs == 2 else result.labels[:, None]
    np.testing.assert_allclose(chain.delta_output, (chain.y_hat - one_hot) / 4, atol=1e-12)
    np.testing.assert_allclose(chain.dloss_da_hidden, chain.delta_output @ w2.T, atol=1e-12)
    np.testing.assert_allclose(chain.delta_hidden, chain.dloss_da_hidden * chain.slope_hidden, atol=1e-12)
    if result.hidden_activation == "tanh":
        np.testing.assert_allclose(chain.slope_hidden, 1 - np.tanh(chain.z_hidden) ** 2, atol=1e-12)
    else:
        np.testing.assert_allclose(chain.slope_hidden, chain.a_hidden * (1 - chain.a_hidden), atol=1e-12)


def test_recorded_trajectory_is_the_keras_model(default):
    _, result = default
    for state in (0, 17, result.max_steps):
        hidden, predictions, loss, gradients = tape_at(result, state)
        np.testing.assert_allclose(result.hidden[state], hidden, atol=1e-12)
        np.testing.assert_allclose(result.predictions[state], predictions, atol=1e-12)
        assert result.losses[state] == pytest.approx(loss, abs=1e-12)
        np.testing.assert_allclose(result.gradients[state], gradients, atol=1e-12)


def test_updates_are_the_keras_optimizers(default, softmax_sgd):
    _, result = softmax_sgd
    learning_rate = np.float64(np.float32(2.0))  # Keras keeps the learning rate in float32
    np.testing.assert_allclose(result.chain.update, -learning_rate * result.chain.grad_tape, atol=1e-12)
    assert result.chain.slots == ()
    # The first Adam step, replayed by a fresh keras.optimizers.Adam.
    _, adam = default
    model, _ = build_xor_model(adam.hidden_units, adam.hidden_activation, adam.outputs, seed=0)
    np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in model.get_weights()]), adam.weights[0])
    optimizer = keras.optimizers.Adam(learning_rate=0.1)
    shapes = [v.shape for v in model.trainable_variables]
    gradients = [tf.constant(g) for g in adam.unflatten(adam.gradients[0])]
    optimizer.apply(
        [tf.reshape(g, s) for g, s in zip(gradients, shapes, strict=True)], model.trainable_variables
    )
    after = np.concatenate([np.ravel(v) for v in model.get_weights()])
    np.testing.assert_allclose(after - adam.weights[0], adam.chain.update, atol=1e-12)
    assert [kind for kind, _ in adam.chain.slots] == ["momentum", "velocity"]
    momentum = dict(adam.chain.slots)["momentum"]
    np.testing.assert_allclose(momentum, 0.1 * adam.chain.grad_tape, atol=1e-12)  # (1 − β₁)·g after one step


def test_default_training_solves_xor(default):
    plugin, result = default
    assert result.solved_step is not None and 0 < result.solved_step < result.max_steps
    final = result.predictions[-1][:, 0]
    np.testing.assert_array_equal(final > 0.5, result.labels == 1)
    assert result.losses[-1] < result.losses[0] / 10
    (finding,) = plugin.diagnose(result)
    assert finding.severity == "ok" and f"step {result.solved_step}" in finding.headline


def test_two_hidden_units_can_get_stuck():
    plugin, result = compute(hidden_units=2, max_steps=150)
    assert result.solved_step is None
    (finding,) = plugin.diagnose(result)
    assert finding.severity == "warning" and "hidden units" in finding.advice


def test_parameter_names_follow_the_keras_variables():
    assert parameter_names(2, 1) == (
        "w x1→h1",
        "w x1→h2",
        "w x2→h1",
        "w x2→h2",
        "b h1",
        "b h2",
        "w h1→out",
        "w h2→out",
        "b out",
    )
    model, _ = build_xor_model(3, "sigmoid", 2, seed=0)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == len(parameter_names(3, 2))


def test_figures_show_the_computed_numbers(default, softmax_sgd):
    plugin, result = softmax_sgd
    for language in ("en", "zh"):
        network, backward, forward, chain, update, training, surface = plugin.figures(result, language)
        # Animation: one frame per shown state, a slider step per frame, the chosen step shown first.
        names = [frame.name for frame in network.frames]
        assert [step.args[0][0] for step in network.layout.sliders[0].steps] == names
        assert str(result.step) in names and "0" in names and str(result.max_steps) in names
        assert network.layout.sliders[0].active == names.index(str(result.step))
        edge_labels = next(trace for trace in network.data if trace.mode == "text").text
        weights = result.weights[result.step]
        assert list(edge_labels) == [
            f"{weights[i]:.3g}" for i, n in enumerate(result.parameter_names) if n[0] == "w"
        ]
        gradient_labels = next(trace for trace in backward.data if trace.mode == "text").text
        grads = result.chain.grad_chain
        assert list(gradient_labels) == [
            f"{grads[i]:.3g}" for i, n in enumerate(result.parameter_names) if n[0] == "w"
        ]
        cells = update.data[0].cells.values
        assert list(cells[0]) == list(result.parameter_names)
        np.testing.assert_allclose(
            [float(v) for v in cells[3]], result.chain.grad_chain, rtol=1e-7, atol=1e-15
        )
        np.testing.assert_allclose(
            [float(v) for v in cells[4]], result.chain.grad_tape, rtol=1e-7, atol=1e-15
        )
        forward_cells = forward.data[0].cells.values
        np.testing.assert_allclose(
            [float(v) for v in forward_cells[2][:2]],
            result.chain.z_hidden[0, :1].tolist() + result.chain.a_hidden[0, :1].tolist(),
            rtol=1e-5,
        )
        assert len(chain.data[0].cells.values[0]) == 2 + 4 + 2 + result.hidden_units * 5
        np.testing.assert_array_equal(training.data[0].y, result.losses)
        np.testing.assert_array_equal(surface.data[0].z, result.surface)
    assert "反向传播" in backward.layout.title.text


def test_the_decision_surface_names_the_class_in_the_language(default):
    plugin, result = default
    for language, title in (("en", "P(class 1)"), ("zh", "P(类别 1)")):
        surface = plugin.figures(result, language)[-1]
        assert surface.data[0].colorbar.title.text == title


def test_bad_params_are_refused():
    with pytest.raises(dlviz.ParamsError, match="past the last training step"):
        compute(step=10, max_steps=10)
    with pytest.raises(dlviz.ParamsError):
        compute(outputs=3)
    with pytest.raises(dlviz.ParamsError):
        compute(hidden_units=5)
    with pytest.raises(dlviz.ParamsError):
        compute(optimizer="lbfgs")
