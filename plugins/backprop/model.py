"""The backprop lesson's XOR network in Keras: the four XOR points, the float64 model and its loss,
its full-batch training by a Keras optimizer recorded step by step (`train_xor`: weights, tf.GradientTape
gradients, losses, activations, predictions and optimizer state), the flattened parameters' names and
shapes, whether a state solves XOR, and what the model predicts over the input plane.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from dlviz.models import make_optimizer

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])


def build_xor_model(hidden_units: int, hidden_activation: str, outputs: int, seed: int):
    """The XOR network in float64 as a Keras model, and a probe model on the same layers returning
    (hidden activations, outputs). Glorot-uniform kernels from `seed`, zero biases."""
    kernel_seeds = np.random.SeedSequence(seed).generate_state(2) & 0x7FFFFFFF
    inputs = keras.Input((2,), dtype="float64", name="x")
    hidden = keras.layers.Dense(
        hidden_units,
        activation=hidden_activation,
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(kernel_seeds[0])),
        dtype="float64",
        name="hidden",
    )(inputs)
    output = keras.layers.Dense(
        outputs,
        activation="sigmoid" if outputs == 1 else "softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(kernel_seeds[1])),
        dtype="float64",
        name="output",
    )(hidden)
    return keras.Model(inputs, output, name="xor"), keras.Model(inputs, [hidden, output], name="xor_probe")


def xor_loss(outputs: int, reduction: str | None = "sum_over_batch_size") -> keras.losses.Loss:
    """The loss the XOR network trains with: binary cross-entropy (1 output) or sparse categorical (2)."""
    if outputs == 1:
        return keras.losses.BinaryCrossentropy(reduction=reduction, dtype="float64")
    return keras.losses.SparseCategoricalCrossentropy(reduction=reduction, dtype="float64")


def xor_targets(outputs: int) -> np.ndarray:
    return XOR_LABELS[:, None].astype(np.float64) if outputs == 1 else XOR_LABELS.copy()


@functools.lru_cache(maxsize=16)
def train_xor(
    hidden_units: int,
    hidden_activation: str,
    outputs: int,
    optimizer_name: str,
    learning_rate: float,
    steps: int,
    seed: int,
):
    """Train the XOR network full-batch for `steps` steps; return its trajectory (cached, read-only arrays).

    Returns (weights [T+1, P], gradients [T+1, P], losses [T+1], hidden [T+1, 4, h], predictions
    [T+1, 4, o], slots): entry t holds the weights before step t and what tf.GradientTape computed there
    (the last entry: after training, not applied); slots pairs each optimizer state name ("momentum",
    "velocity", ...) with its value per parameter after each step, [T, P].
    """
    model, probe = build_xor_model(hidden_units, hidden_activation, outputs, seed)
    loss_fn = xor_loss(outputs)
    optimizer = make_optimizer(optimizer_name, learning_rate)
    variables = model.trainable_variables
    optimizer.build(variables)  # its variables must exist before the compiled loop runs
    slot_kinds, slot_variables = _slots(optimizer, variables)
    x = tf.constant(XOR_INPUTS)
    y = tf.constant(xor_targets(outputs))

    def flat(tensors):
        return tf.concat([tf.reshape(tensor, [-1]) for tensor in tensors], axis=0)

    def measure():
        with tf.GradientTape() as tape:
            hidden, predictions = probe(x, training=True)
            loss = loss_fn(y, predictions)
        return flat(variables), tape.gradient(loss, variables), loss, hidden, predictions

    @tf.function
    def train(count):
        records = [tf.TensorArray(tf.float64, size=count + 1) for _ in range(5)]
        slot_records = [tf.TensorArray(tf.float64, size=count) for _ in slot_kinds]
        for index in tf.range(count):
            weights, gradients, loss, hidden, predictions = measure()
            values = (weights, flat(gradients), loss, hidden, predictions)
            records = [record.write(index, value) for record, value in zip(records, values, strict=True)]
            optimizer.apply(gradients, variables)
            slot_records = [
                record.write(index, flat(kind_variables))
                for record, kind_variables in zip(slot_records, slot_variables, strict=True)
            ]
        weights, gradients, loss, hidden, predictions = measure()
        values = (weights, flat(gradients), loss, hidden, predictions)
        records = [record.write(count, value) for record, value in zip(records, values, strict=True)]
        return [record.stack() for record in records], [record.stack() for record in slot_records]

    records, slot_values = train(tf.constant(steps))
    arrays = [np.asarray(record) for record in records]
    slots = tuple((kind, np.asarray(values)) for kind, values in zip(slot_kinds, slot_values, strict=True))
    for array in [*arrays, *(values for _, values in slots)]:
        array.flags.writeable = False
    return (*arrays, slots)


def _slots(optimizer, variables) -> tuple[list[str], list[list]]:
    """The optimizer's per-parameter state variables grouped by kind, each kind in `variables` order."""
    by_kind: dict[str, dict[int, object]] = {}
    for slot in optimizer.variables:
        name = slot.path.split("/", 1)[-1]
        for index, variable in enumerate(variables):
            prefix = variable.path.replace("/", "_") + "_"
            if name.startswith(prefix) and tuple(slot.shape) == tuple(variable.shape):
                by_kind.setdefault(name[len(prefix) :], {})[index] = slot
    kinds = [kind for kind, found in by_kind.items() if len(found) == len(variables)]
    return kinds, [[by_kind[kind][index] for index in range(len(variables))] for kind in kinds]


def parameter_shapes(hidden_units: int, outputs: int) -> list[tuple[int, ...]]:
    return [(2, hidden_units), (hidden_units,), (hidden_units, outputs), (outputs,)]


def split_parameters(vector: np.ndarray, shapes) -> list[np.ndarray]:
    sizes = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]
    return [part.reshape(shape) for part, shape in zip(np.split(vector, sizes), shapes, strict=True)]


def parameter_names(hidden_units: int, outputs: int) -> tuple[str, ...]:
    """Names of the flattened parameters: W1 row-major, b1, W2 row-major, b2."""
    out = output_names(outputs)
    names = [f"w x{i + 1}→h{j + 1}" for i in range(2) for j in range(hidden_units)]
    names += [f"b h{j + 1}" for j in range(hidden_units)]
    names += [f"w h{j + 1}→{out[k]}" for j in range(hidden_units) for k in range(outputs)]
    names += [f"b {out[k]}" for k in range(outputs)]
    return tuple(names)


def output_names(outputs: int) -> list[str]:
    return ["out"] if outputs == 1 else ["out0", "out1"]


def solves_xor(predictions: np.ndarray) -> np.ndarray:
    """Per state, whether all four XOR inputs are classified correctly."""
    if predictions.shape[-1] == 1:
        predicted = predictions[..., 0] > 0.5
    else:
        predicted = predictions.argmax(axis=-1) == 1
    return np.all(predicted == XOR_LABELS.astype(bool), axis=-1)


def probability_surface(parameters, hidden_activation: str, outputs: int, axis: np.ndarray) -> np.ndarray:
    """P(class 1) of the Keras model at these weights over a grid of the input plane."""
    model, _ = build_xor_model(len(parameters[1]), hidden_activation, outputs, 0)
    model.set_weights(parameters)
    x1, x2 = np.meshgrid(axis, axis)
    grid = np.stack([x1.ravel(), x2.ravel()], axis=1)
    predictions = np.asarray(model(tf.constant(grid), training=False))
    return predictions[:, -1].reshape(x1.shape)
