"""The activation_functions lesson's numbers, all from Keras: activations and their derivatives by
tf.GradientTape, the slope peaks, the gradient norms of untrained deep MLPs."""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from dlviz import datasets, models

# The maximum slope of each function is searched on this grid (every function here peaks inside it).
SLOPE_SEARCH = np.linspace(-10.0, 10.0, 20001)
NETWORK_WIDTH = 16
NETWORK_DATASET = "moons"
# A network whose first layer gets less than this fraction of its last hidden layer's gradient is flagged.
VANISHING_RATIO = 1e-2


def evaluate(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """keras.activations `name` at `x` and its derivative by tf.GradientTape (float64)."""
    function = keras.activations.get(name)
    inputs = tf.constant(np.asarray(x, np.float64))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = function(inputs)
    # Elementwise function: the gradient of the sum is each point's own derivative.
    derivative = tape.gradient(outputs, inputs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return outputs.numpy(), derivative.numpy()


@functools.cache
def slope_peak(name: str) -> tuple[float, float]:
    """The largest |f'(x)| of keras.activations `name` on [-10, 10] and the x where it is reached."""
    slope = np.abs(evaluate(name, SLOPE_SEARCH)[1])
    return float(slope.max()), float(SLOPE_SEARCH[np.argmax(slope)])


@functools.lru_cache(maxsize=32)
def network_gradient_norms(
    activation: str, depth: int, batch_size: int, seed: int
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Per-layer gradient norms of an untrained `depth`-hidden-layer MLP on a batch of the moons set.

    Built by `dlviz.models.build` (Glorot-uniform kernels, seeded); the gradient of its compiled binary
    cross-entropy (`model.compute_loss`, inference mode) by one eager tf.GradientTape pass: a single batch
    does not repay tracing a graph. Cached: the same arguments give the same numbers.
    """
    dataset = datasets.load(NETWORK_DATASET, seed=seed, n_samples=max(2 * batch_size, 100))
    model = models.build("mlp", dataset, hidden=(NETWORK_WIDTH,) * depth, activation=activation, seed=seed)
    x = tf.constant(dataset.x_train[:batch_size], tf.float32)
    y = tf.constant(np.reshape(dataset.y_train[:batch_size], (-1, 1)), tf.float32)
    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=False))
    layers = [layer for layer in model.layers if layer.trainable_variables]
    gradients = tape.gradient(loss, [layer.trainable_variables for layer in layers])
    norms = [
        np.sqrt(sum(float(np.sum(np.asarray(g, np.float64) ** 2)) for g in layer_gradients))
        for layer_gradients in gradients
    ]
    return tuple(layer.name for layer in layers), tuple(float(norm) for norm in norms)
