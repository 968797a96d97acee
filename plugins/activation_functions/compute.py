"""The activation_functions lesson's numbers, all from Keras: activations and their derivatives by
tf.GradientTape, the slope peaks, the gradient norms of untrained deep MLPs."""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

import dlviz
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

    Built by `dlviz.models.build` (Glorot-uniform kernels, seeded) and measured by `dlviz.wrap(model).gradients`
    (the compiled binary cross-entropy). Cached: the same arguments give the same numbers.
    """
    dataset = datasets.load(NETWORK_DATASET, seed=seed, n_samples=max(2 * batch_size, 100))
    model = models.build("mlp", dataset, hidden=(NETWORK_WIDTH,) * depth, activation=activation, seed=seed)
    handle = dlviz.wrap(model, dataset)
    gradients = handle.gradients(dataset.x_train[:batch_size], dataset.y_train[:batch_size])
    squares: dict[str, float] = {}
    for path, values in gradients.items():
        layer = handle.layer_of_path[path]
        squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.asarray(values, np.float64) ** 2))
    layers = tuple(info.name for info in handle.layers if info.name in squares)
    return layers, tuple(float(np.sqrt(squares[layer])) for layer in layers)
