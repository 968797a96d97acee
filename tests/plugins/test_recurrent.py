"""The recurrent lesson: the keras.ops unroll equals Keras' own layers, its BPTT gradients equal a tape
through the layers themselves, the training is deterministic, figures plot the computed values, refusals."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlviz
from dlviz.errors import ModelError, ParamsError
from plugins.recurrent import Recurrent
from plugins.recurrent.plugin import Params, comparison_advice
from plugins.recurrent.task import memory_task
from plugins.recurrent.training import build_model, head_name, train_lesson
from plugins.recurrent.unroll import layer_outputs, state_gradient_norms, unroll

STEPS, FEATURES, UNITS = 6, 2, 4
TINY = dataclasses.replace(Params(), lengths=(3,), unrolled_length=3, units=UNITS, n_samples=100, epochs=2)


def perturbed(layer: keras.layers.Layer) -> keras.layers.Layer:
    """`layer` built with every weight moved off its initial value (biases start at zero, which would hide
    a bias applied in the wrong place)."""
    layer.build((None, STEPS, FEATURES))
    rng = np.random.default_rng(1)
    layer.set_weights([w + rng.normal(0.0, 0.4, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


LAYERS = {
    "simple_rnn": lambda: keras.layers.SimpleRNN(UNITS),
    "lstm": lambda: keras.layers.LSTM(UNITS),
    "gru": lambda: keras.layers.GRU(UNITS),
    "gru_reset_before": lambda: keras.layers.GRU(UNITS, reset_after=False),
    "lstm_relu_no_bias": lambda: keras.layers.LSTM(UNITS, activation="relu", use_bias=False),
}


@pytest.fixture(scope="module")
def sequences():
    return np.random.default_rng(0).normal(size=(5, STEPS, FEATURES)).astype(np.float32)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_unrolled_states_equal_the_layers_own_outputs(kind, sequences):
    layer = perturbed(LAYERS[kind]())
    values = {name: keras.ops.convert_to_numpy(value) for name, value in unroll(layer, sequences).items()}
    own_sequence, own_cell_state = layer_outputs(layer, sequences)
    np.testing.assert_allclose(values["hidden"], own_sequence, atol=1e-5)
    for gate in ("input", "forget", "output", "update", "reset"):
        if gate in values:
            assert np.all((values[gate] > 0) & (values[gate] < 1)), gate  # sigmoid gates
    if kind.startswith("lstm"):
        np.testing.assert_allclose(values["cell"][:, -1], own_cell_state, atol=1e-5)
        for step in range(STEPS - 1):  # every earlier c_t: the layer's return_state on the first t steps
            _, prefix_cell_state = layer_outputs(layer, sequences[:, : step + 1])
            np.testing.assert_allclose(values["cell"][:, step], prefix_cell_state, atol=1e-5)
    else:
        assert own_cell_state is None and "cell" not in values


def gradient_norm_through_layer(layer, head, x, y, step: int) -> float:
    """Mean over the sequences of ‖∂L/∂h_step‖, by a tape through the Keras layer itself: the layer runs
    up to `step`, and again from the watched state h_step (and c_step, held) to the end."""
    twin = type(layer).from_config({**layer.get_config(), "return_sequences": False, "return_state": True})
    twin.build((None, *x.shape[1:]))
    twin.set_weights(layer.get_weights())
    _, hidden, *carry = twin(x[:, : step + 1])  # the output, then the states: h (and c)
    targets = tf.constant(y.astype(np.float32)[:, None])
    with tf.GradientTape() as tape:
        tape.watch(hidden)
        final = (
            hidden if step == x.shape[1] - 1 else twin(x[:, step + 1 :], initial_state=[hidden, *carry])[0]
        )
        loss = tf.reduce_sum(keras.losses.binary_crossentropy(targets, head(final)))
    return float(np.linalg.norm(tape.gradient(loss, hidden).numpy(), axis=-1).mean())


@pytest.fixture(scope="module")
def untrained():
    task = memory_task(0, 5, 1.0, 20, 12)
    return task, build_model(task, TINY, seed=0)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_bptt_gradient_norms_equal_a_tape_through_the_layer(cell, untrained):
    task, model = untrained
    layer, head = model.get_layer(cell), model.get_layer(head_name(cell))
    norms = state_gradient_norms(layer, head, task.x_test, task.y_test)
    assert norms.shape == (task.steps,) and np.all(norms > 0)
    expected = [
        gradient_norm_through_layer(layer, head, task.x_test, task.y_test, t) for t in range(task.steps)
    ]
    np.testing.assert_allclose(norms, expected, rtol=1e-4)


def test_memory_task_is_seeded_and_only_the_first_step_tells_the_label():
    task = memory_task(3, 4, 0.5, 200, 50)
    again = memory_task(3, 4, 0.5, 200, 50)
    np.testing.assert_array_equal(task.x_train, again.x_train)
    assert task.x_train.shape == (200, 5, 1) and task.x_test.shape == (50, 5, 1)
    np.testing.assert_array_equal(task.x_train[:, 0, 0], 2.0 * task.y_train - 1.0)
    assert 0.4 < task.x_train[:, 1:].std() < 0.6
    assert not np.array_equal(memory_task(4, 4, 0.5, 200, 50).x_train, task.x_train)


@pytest.fixture(scope="module")
def lesson():
    """The tiny lesson trained twice from seed 0, the second time reporting its progress in Chinese."""
    messages = []
    english = dlviz.registry.make_context(seed=0)
    chinese = dataclasses.replace(
        english, language="zh", progress=lambda fraction, text: messages.append(text)
    )
    return train_lesson(TINY, 0, english), train_lesson(TINY, 0, chinese), messages


@pytest.mark.slow
def test_training_is_deterministic_with_the_seed_and_its_unroll_matches_the_layers(lesson):
    result, again, messages = lesson
    assert messages and all("训练" in message for message in messages)
    for cell in result.cells:
        np.testing.assert_array_equal(result.accuracy[cell], again.accuracy[cell])
        np.testing.assert_array_equal(
            result.gradient_norms["trained"][cell], again.gradient_norms["trained"][cell]
        )
        assert 0.0 <= result.accuracy_at(cell, 3) <= 1.0
        trace = result.traces[cell]
        assert trace.hidden.shape == (4, UNITS) and trace.layer_gap < 1e-5
        assert 0.0 < trace.probability < 1.0
    assert result.traces["lstm"].cell_state.shape == (4, UNITS)
    assert set(result.traces["gru"].gates) == {"update", "reset", "candidate"}
    np.testing.assert_array_equal(np.sign(result.sequence[0]), 2 * result.label - 1)


@pytest.mark.slow
def test_figures_plot_the_computed_values(lesson):
    result, _, _ = lesson
    plugin = Recurrent()
    hidden, lstm, gru, gradients, accuracy = plugin.figures(result, "zh")
    np.testing.assert_allclose(hidden.data[0].y, np.round(result.sequence, 4))
    np.testing.assert_allclose(hidden.data[2].z, np.round(result.traces["lstm"].hidden.T, 4))
    assert len(hidden.frames) == len(result.sequence)
    first = np.array(hidden.frames[0].data[0].z, dtype=float)
    assert np.all(np.isfinite(first[:, 0])) and np.all(np.isnan(first[:, 1:]))
    np.testing.assert_allclose(lstm.data[0].z, np.round(result.traces["lstm"].gates["forget"].T, 4))
    np.testing.assert_allclose(lstm.data[3].z, np.round(result.traces["lstm"].cell_state.T, 4))
    np.testing.assert_allclose(gru.data[0].z, np.round(result.traces["gru"].gates["update"].T, 4))
    np.testing.assert_allclose(gradients.data[0].y, result.gradient_norms["initial"]["simple_rnn"])
    np.testing.assert_allclose(gradients.data[4].y, result.gradient_norms["trained"]["lstm"])
    assert gradients.layout.yaxis.type == "log" and gradients.layout.yaxis2.type == "log"
    np.testing.assert_allclose(accuracy.data[2].y, result.accuracy["gru"])
    assert "遗忘门" in lstm.layout.annotations[0].text and "随时间反向传播" in gradients.layout.title.text
    findings = plugin.diagnose(result)
    assert findings[0].severity == "info" and "SimpleRNN" in findings[0].headline_zh


@pytest.mark.slow
def test_the_vanishing_warning_needs_a_vanished_gradient_and_a_failed_simple_rnn(lesson):
    result, _, _ = lesson
    norms = {stage: dict(cells) for stage, cells in result.gradient_norms.items()}
    norms["trained"]["simple_rnn"] = np.array([1e-9, 1e-5, 1e-2, 1.0])
    for simple_rnn_accuracy, warned in ((0.5, True), (1.0, False)):
        accuracy = {**result.accuracy, "simple_rnn": np.array([simple_rnn_accuracy])}
        changed = dataclasses.replace(result, gradient_norms=norms, accuracy=accuracy)
        severities = [finding.severity for finding in Recurrent().diagnose(changed)]
        assert severities == (["info", "warning"] if warned else ["info"])


def test_the_advice_follows_which_cell_learned():
    assert "gated cells" in comparison_advice(0.5, 0.99)[0]
    assert "SimpleRNN learned" in comparison_advice(0.99, 0.5)[0]
    assert "alike" in comparison_advice(0.9, 0.95)[0]
    assert all(
        "门" in comparison_advice(*pair)[1] or "单元" in comparison_advice(*pair)[1]
        for pair in ((0.5, 0.99), (0.99, 0.5), (0.9, 0.95))
    )


def test_refusals_say_what_to_change():
    ctx = dlviz.registry.make_context(seed=0)
    with pytest.raises(ParamsError, match="at least one length"):
        Recurrent().compute(ctx, dataclasses.replace(TINY, lengths=()))
    with pytest.raises(ParamsError, match="below 50"):
        Recurrent().compute(ctx, dataclasses.replace(TINY, sample=50))
    with pytest.raises(ModelError, match="not a SimpleRNN, LSTM or GRU"):
        unroll(keras.layers.Dense(3), np.zeros((1, 2, 1)))
    with pytest.raises(ModelError, match="dropout"):
        unroll(perturbed(keras.layers.LSTM(2, dropout=0.5)), np.zeros((1, 2, FEATURES)))
