"""A SimpleRNN, LSTM or GRU layer unrolled step by step with keras.ops on the layer's own weights
(`layer.cell.kernel`, `recurrent_kernel`, `bias` and its activations), so that every gate value on the
page is one the layer itself computes; and backpropagation through time on that unroll.

Keras packs the gates side by side in the kernel's columns: i, f, c, o for LSTM, z, r, h for GRU. A GRU
with `reset_after=True` (the default) has two bias rows, the input's and the recurrent one, and applies
the reset gate after the recurrent matrix product.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from dlviz.errors import ModelError
from plugins.recurrent.result import GATES

LAYER_CELLS = {keras.layers.SimpleRNN: "simple_rnn", keras.layers.LSTM: "lstm", keras.layers.GRU: "gru"}


def cell_type(layer: keras.layers.Layer) -> str:
    """The cell of a SimpleRNN, LSTM or GRU layer ("simple_rnn", "lstm" or "gru"); a ModelError for any
    other layer or a configuration this unroll does not reproduce."""
    cell = LAYER_CELLS.get(type(layer))
    if cell is None:
        raise ModelError(
            f"{layer.name} is a {type(layer).__name__}, not a SimpleRNN, LSTM or GRU layer.",
            "unroll one of keras.layers.SimpleRNN, LSTM or GRU.",
        )
    if layer.go_backwards or getattr(layer.cell, "dropout", 0) or getattr(layer.cell, "recurrent_dropout", 0):
        raise ModelError(
            f"{layer.name} reads its sequence backwards or uses dropout; the step-by-step unroll shows "
            "the plain forward pass only.",
            "unroll a layer with go_backwards=False and no dropout.",
        )
    return cell


def unroll(layer: keras.layers.Layer, x, state_offsets=None) -> dict:
    """Run `layer`'s cell over `x` (batch, steps, features) one step at a time from zero states.

    Returns (batch, steps, units) tensors: "hidden" (h_t), the gates of `GATES[cell]` and, for an LSTM,
    "cell" (c_t). `state_offsets` (batch, steps, units), when given, is added to each h_t before the next
    step reads it: with zeros, the gradient of a loss with respect to it is ∂L/∂h_t through every later
    step (backpropagation through time).
    """
    cell_name = cell_type(layer)
    cell = layer.cell
    x = ops.convert_to_tensor(x, "float32")
    batch, steps = x.shape[0], x.shape[1]
    hidden = ops.zeros((batch, cell.units))
    carry = ops.zeros((batch, cell.units))
    step = {"simple_rnn": _simple_rnn_step, "lstm": _lstm_step, "gru": _gru_step}[cell_name]
    records: dict[str, list] = {"hidden": [], **{gate: [] for gate in GATES[cell_name]}}
    if cell_name == "lstm":
        records["cell"] = []
    for t in range(steps):
        hidden, carry, values = step(cell, x[:, t, :], hidden, carry)
        if state_offsets is not None:
            hidden = hidden + state_offsets[:, t, :]
        values["hidden"] = hidden
        for name, value in values.items():
            records[name].append(value)
    return {name: ops.stack(values, axis=1) for name, values in records.items()}


def _simple_rnn_step(cell, x_t, h_prev, carry):
    z = ops.matmul(x_t, cell.kernel) + ops.matmul(h_prev, cell.recurrent_kernel)
    if cell.use_bias:
        z = z + cell.bias
    return cell.activation(z), carry, {}


def _lstm_step(cell, x_t, h_prev, c_prev):
    z = ops.matmul(x_t, cell.kernel) + ops.matmul(h_prev, cell.recurrent_kernel)
    if cell.use_bias:
        z = z + cell.bias
    z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
    i, f, o = cell.recurrent_activation(z_i), cell.recurrent_activation(z_f), cell.recurrent_activation(z_o)
    candidate = cell.activation(z_c)
    c = f * c_prev + i * candidate
    h = o * cell.activation(c)
    return h, c, {"input": i, "forget": f, "candidate": candidate, "output": o, "cell": c}


def _gru_step(cell, x_t, h_prev, carry):
    units = cell.units
    x_proj = ops.matmul(x_t, cell.kernel)
    input_bias = recurrent_bias = None
    if cell.use_bias:
        input_bias, recurrent_bias = (cell.bias[0], cell.bias[1]) if cell.reset_after else (cell.bias, None)
        x_proj = x_proj + input_bias
    x_z, x_r, x_h = ops.split(x_proj, 3, axis=-1)
    if cell.reset_after:
        h_proj = ops.matmul(h_prev, cell.recurrent_kernel)
        if recurrent_bias is not None:
            h_proj = h_proj + recurrent_bias
        h_z, h_r, h_h = ops.split(h_proj, 3, axis=-1)
    else:
        h_z, h_r = ops.split(ops.matmul(h_prev, cell.recurrent_kernel[:, : 2 * units]), 2, axis=-1)
    z = cell.recurrent_activation(x_z + h_z)
    r = cell.recurrent_activation(x_r + h_r)
    if cell.reset_after:
        candidate = cell.activation(x_h + r * h_h)
    else:
        candidate = cell.activation(x_h + ops.matmul(r * h_prev, cell.recurrent_kernel[:, 2 * units :]))
    h = z * h_prev + (1.0 - z) * candidate
    return h, carry, {"update": z, "reset": r, "candidate": candidate}


def layer_outputs(layer: keras.layers.Layer, x) -> tuple[np.ndarray, np.ndarray | None]:
    """The layer's own per-step hidden states (batch, steps, units) and, for an LSTM, its final cell state
    (batch, units): a twin built from its config with return_sequences and return_state, on its weights."""
    config = {**layer.get_config(), "return_sequences": True, "return_state": True}
    twin = type(layer).from_config(config)
    twin.build((None, *np.shape(x)[1:]))
    twin.set_weights(layer.get_weights())
    outputs = twin(ops.convert_to_tensor(x, "float32"))
    sequence = ops.convert_to_numpy(outputs[0])
    cell_state = ops.convert_to_numpy(outputs[2]) if len(outputs) == 3 else None
    return sequence, cell_state


def state_gradient_norms(layer: keras.layers.Layer, head: keras.layers.Layer, x, y) -> np.ndarray:
    """Per step t, the mean over the sequences of ‖∂L/∂h_t‖ (steps,), L the binary cross-entropy of
    `head`(h_T) against `y` (per sequence: each sequence's gradient is that of its own loss), by
    tf.GradientTape through the unroll."""
    x = ops.convert_to_tensor(x, "float32")
    offsets = tf.zeros((x.shape[0], x.shape[1], layer.cell.units))
    targets = ops.convert_to_tensor(np.asarray(y, np.float32)[:, None])
    with tf.GradientTape() as tape:
        tape.watch(offsets)
        final = unroll(layer, x, offsets)["hidden"][:, -1, :]
        loss = ops.sum(keras.losses.binary_crossentropy(targets, head(final)))
    gradients = ops.convert_to_numpy(tape.gradient(loss, offsets))
    return np.linalg.norm(gradients.astype(np.float64), axis=-1).mean(axis=0)
