"""One sigmoid neuron trained by SGD from a confidently wrong start, with one loss."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from plugins.loss_functions.result import NeuronTraining

NEURON_INPUT, NEURON_TARGET = 1.0, 0.0
# The neuron has reached its target once its prediction is this close to it.
REACHED = 0.1


def train_neuron(loss: str, start: float, learning_rate: float, steps: int) -> NeuronTraining:
    """Train ŷ = σ(w·x + b) (a Keras Dense(1, sigmoid)) on x = 1, y = 0 with keras.optimizers.SGD.

    w and b both start at logit(start) / 2, so the first prediction is `start`. Records the loss, the
    prediction and dL/dw before every step.
    """
    initial = float(np.log(start) - np.log1p(-start)) / 2.0
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(
                1,
                activation="sigmoid",
                kernel_initializer=keras.initializers.Constant(initial),
                bias_initializer=keras.initializers.Constant(initial),
                name="neuron",
            ),
        ]
    )
    loss_fn = keras.losses.MeanSquaredError() if loss == "mse" else keras.losses.BinaryCrossentropy()
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    x = tf.constant([[NEURON_INPUT]])
    y = tf.constant([[NEURON_TARGET]])
    kernel, bias = model.trainable_variables
    optimizer.build([kernel, bias])  # its variables must exist before the compiled loop runs

    @tf.function
    def train(count):
        records = tf.TensorArray(tf.float32, size=count)
        for index in tf.range(count):
            with tf.GradientTape() as tape:
                prediction = model(x, training=True)
                value = loss_fn(y, prediction)
            kernel_gradient, bias_gradient = tape.gradient(value, [kernel, bias])
            optimizer.apply_gradients([(kernel_gradient, kernel), (bias_gradient, bias)])
            records = records.write(index, tf.stack([value, prediction[0, 0], kernel_gradient[0, 0]]))
        return records.stack()

    records = train(tf.constant(steps)).numpy().astype(np.float64)
    close = np.flatnonzero(np.abs(records[:, 1] - NEURON_TARGET) < REACHED)
    return NeuronTraining(
        loss=loss,
        losses=records[:, 0],
        predictions=records[:, 1],
        weight_gradients=records[:, 2],
        reached=int(close[0]) if close.size else None,
    )
