"""PReLU as a trainable Keras layer: a small MLP with keras.layers.PReLU activations trained on a bundled
set, and the slopes α it learned."""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from dlviz import datasets
from plugins.activation_functions.result import PReluResult

PRELU_DATASET = "moons"
PRELU_WIDTH = 8
PRELU_LAYERS = 2
# He et al. (2015) start every slope at 0.25 (Keras' own default would be 0: a plain ReLU).
INITIAL_ALPHA = 0.25
PRELU_LEARNING_RATE = 0.03
PRELU_BATCH = 50
CURVE_POINTS = 101


@functools.lru_cache(maxsize=8)
def train_prelu(epochs: int, seed: int) -> PReluResult:
    """Train Dense → PReLU twice, then a sigmoid unit, on the bundled moons set with Adam (model.fit).

    Cached: the same arguments give the same result without training again.
    """
    data = datasets.load(PRELU_DATASET, seed=seed, n_samples=400, noise=0.2)
    seeds = np.random.SeedSequence(seed).generate_state(PRELU_LAYERS + 1) & 0x7FFFFFFF
    layers: list[keras.layers.Layer] = [keras.Input(shape=data.input_shape, name="input")]
    for index in range(1, PRELU_LAYERS + 1):
        layers += [
            keras.layers.Dense(
                PRELU_WIDTH,
                kernel_initializer=keras.initializers.HeNormal(seed=int(seeds[index - 1])),
                name=f"hidden_{index}",
            ),
            keras.layers.PReLU(
                alpha_initializer=keras.initializers.Constant(INITIAL_ALPHA), name=f"prelu_{index}"
            ),
        ]
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="output"))
    model = keras.Sequential(layers, name="prelu_mlp")
    # No compiled metrics: the accuracy is measured once after training, not after every step.
    model.compile(optimizer=keras.optimizers.Adam(PRELU_LEARNING_RATE), loss="binary_crossentropy")
    batches = (
        tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
        .shuffle(len(data.x_train), seed=int(seeds[-1]), reshuffle_each_iteration=True)
        .batch(PRELU_BATCH)
    )
    model.fit(batches, epochs=epochs, shuffle=False, verbose=0)
    prelus = [layer for layer in model.layers if isinstance(layer, keras.layers.PReLU)]
    x = np.linspace(-3.0, 3.0, CURVE_POINTS, dtype=np.float32)
    grid = np.repeat(x[:, None], PRELU_WIDTH, axis=1)
    # One eager forward pass: model.evaluate would trace a test graph for these 100-odd points.
    accuracy = keras.metrics.BinaryAccuracy()
    accuracy.update_state(np.reshape(data.y_test, (-1, 1)), model(data.x_test, training=False))
    return PReluResult(
        dataset_name=data.name,
        epochs=epochs,
        layers=tuple(layer.name for layer in prelus),
        initial_alpha=INITIAL_ALPHA,
        alphas=tuple(np.ravel(layer.alpha.numpy()).astype(np.float64) for layer in prelus),
        x=x.astype(np.float64),
        outputs=tuple(np.asarray(layer(grid), np.float64) for layer in prelus),
        accuracy=float(accuracy.result()),
    )
