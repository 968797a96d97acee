"""Softmax with a temperature: keras.activations.softmax of the scaled logits and its Jacobian."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from dlviz.errors import ParamsError
from plugins.activation_functions.result import SoftmaxResult

MAX_LOGITS = 20


def parse_logits(text: str) -> np.ndarray:
    """The logits typed as comma- or space-separated numbers, e.g. "2, 1, 0.1"."""
    parts = [part for part in text.replace(",", " ").replace(";", " ").split() if part]
    try:
        logits = np.array([float(part) for part in parts], np.float64)
    except ValueError as exc:
        raise ParamsError(
            f"Logits {text!r} are not a list of numbers.", "type numbers separated by commas, e.g. 2, 1, 0.1."
        ) from exc
    if not 2 <= len(logits) <= MAX_LOGITS or not np.all(np.isfinite(logits)):
        raise ParamsError(
            f"Logits {text!r}: softmax needs 2 to {MAX_LOGITS} finite numbers, got {len(logits)}.",
            "type between 2 and 20 numbers separated by commas, e.g. 2, 1, 0.1.",
        )
    return logits


def tempered_softmax(logits: np.ndarray, temperature: float) -> SoftmaxResult:
    """keras.activations.softmax(z / T) and its Jacobian with respect to z (float64)."""
    z = tf.constant(np.asarray(logits, np.float64))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        probabilities = keras.activations.softmax(z / temperature, axis=-1)
    # At most 20 rows: an eager loop of backward passes is cheaper than tracing pfor's vectorised graph.
    jacobian = tape.jacobian(probabilities, z, experimental_use_pfor=False)
    return SoftmaxResult(
        logits=np.asarray(logits, np.float64),
        temperature=float(temperature),
        probabilities=probabilities.numpy(),
        probabilities_at_one=keras.activations.softmax(z, axis=-1).numpy(),
        jacobian=jacobian.numpy(),
    )
