"""The lesson's losses as Keras computes them, per sample, and their gradients by `tf.GradientTape`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import dlviz
from plugins.loss_functions.result import Curves

REGRESSION = ("mse", "mae", "huber")
CLASSIFICATION = ("bce", "focal", "cce", "mse")
NAMES = {
    "mse": "MSE",
    "mae": "MAE",
    "huber": "Huber",
    "bce": "binary cross-entropy",
    "focal": "binary focal",
    "cce": "categorical cross-entropy",
}
NAMES_ZH = {
    "mse": "均方误差 (MSE)",
    "mae": "平均绝对误差 (MAE)",
    "huber": "Huber",
    "bce": "二元交叉熵",
    "focal": "二元 focal loss",
    "cce": "多类交叉熵",
}
# Display-only formulas (the numbers come from keras.losses).
FORMULAS = {
    "mse": "(ŷ − y)²",
    "mae": "|ŷ − y|",
    "huber": "½(ŷ − y)² if |ŷ − y| ≤ δ else δ(|ŷ − y| − ½δ)",
    "bce": "−[y ln ŷ + (1 − y) ln(1 − ŷ)]",
    "focal": "−(1 − p<sub>t</sub>)<sup>γ</sup> ln p<sub>t</sub>",
    "cce": "−Σ<sub>k</sub> y<sub>k</sub> ln ŷ<sub>k</sub>",
}


def regression_loss(name: str, delta: float = 1.0) -> keras.losses.Loss:
    """The keras.losses object of a regression loss, per sample (no reduction)."""
    if name == "mse":
        return keras.losses.MeanSquaredError(reduction=None, dtype="float64")
    if name == "mae":
        return keras.losses.MeanAbsoluteError(reduction=None, dtype="float64")
    if name == "huber":
        return keras.losses.Huber(delta=delta, reduction=None, dtype="float64")
    raise dlviz.ParamsError(f"Unknown regression loss {name!r}.", f"use one of {REGRESSION}.")


def classification_loss(name: str, y, y_hat, gamma: float = 2.0, n_classes: int = 3):
    """Per-sample keras.losses value of a classification loss; `y_hat` is the probability of class 1.

    For categorical cross-entropy class 1 gets `y_hat` and the other `n_classes - 1` classes share
    `1 - y_hat`; the target is the one-hot vector of class `y`.
    """
    y = tf.convert_to_tensor(y, tf.float64)
    y_hat = tf.convert_to_tensor(y_hat, tf.float64)
    if name == "bce":
        return keras.losses.BinaryCrossentropy(reduction=None, dtype="float64")(y[:, None], y_hat[:, None])
    if name == "focal":
        return keras.losses.BinaryFocalCrossentropy(gamma=gamma, reduction=None, dtype="float64")(
            y[:, None], y_hat[:, None]
        )
    if name == "mse":
        return keras.losses.MeanSquaredError(reduction=None, dtype="float64")(y[:, None], y_hat[:, None])
    if name == "cce":
        rest = (1.0 - y_hat)[:, None] / (n_classes - 1) * tf.ones((1, n_classes - 1), tf.float64)
        probabilities = tf.concat([rest[:, :1], y_hat[:, None], rest[:, 1:]], axis=1)
        one_hot = tf.one_hot(tf.cast(y, tf.int32), n_classes, dtype=tf.float64)
        return keras.losses.CategoricalCrossentropy(reduction=None, dtype="float64")(one_hot, probabilities)
    raise dlviz.ParamsError(f"Unknown classification loss {name!r}.", f"use one of {CLASSIFICATION}.")


def loss_curves(names, y: np.ndarray, predictions: np.ndarray, loss_of) -> Curves:
    """Each loss of `names` at every prediction and its gradient against the prediction, by
    `tf.GradientTape`; `loss_of(name, y, y_hat)` gives the per-sample losses."""
    values, gradients = [], []
    for name in names:
        y_hat = tf.constant(predictions, tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(y_hat)
            loss = loss_of(name, tf.constant(y, tf.float64), y_hat)
        # Per-sample losses: the gradient of their sum is each prediction's own derivative.
        values.append(np.asarray(loss, np.float64))
        gradients.append(
            tape.gradient(loss, y_hat, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()
        )
    return Curves(tuple(names), predictions, np.stack(values), np.stack(gradients))


def logit_gradient(
    name: str, y: np.ndarray, probabilities: np.ndarray, gamma: float, n_classes: int
) -> np.ndarray:
    """d loss / d z where ŷ = keras.activations.sigmoid(z), at the logits of `probabilities`."""
    z = tf.constant(np.log(probabilities) - np.log1p(-probabilities), tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = classification_loss(name, y, keras.activations.sigmoid(z), gamma, n_classes)
    return tape.gradient(loss, z).numpy()
