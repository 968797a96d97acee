"""The backprop lesson's worked step: the forward and backward pass of the XOR batch by hand in float64,
layer by layer, every local derivative taken by tf.GradientTape on Keras' own activation and loss, as a
`ChainRule`.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from plugins.backprop.model import XOR_INPUTS, xor_loss, xor_targets
from plugins.backprop.result import ChainRule


def _elementwise_slope(function, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """function(z) and its derivative by tf.GradientTape (elementwise functions), float64."""
    tensor = tf.constant(z, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        value = function(tensor)
    return value.numpy(), tape.gradient(
        value, tensor, unconnected_gradients=tf.UnconnectedGradients.ZERO
    ).numpy()


def chain_rule(parameters, hidden_activation: str, outputs: int, grad_tape, update, slots) -> ChainRule:
    """Forward and backward pass of the XOR batch worked out layer by layer, in float64.

    Matrix products and sums are written out; every local derivative comes from tf.GradientTape on
    Keras' own pieces (the hidden activation, the output activation, the loss).
    """
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in parameters)
    x = XOR_INPUTS
    y = tf.constant(xor_targets(outputs))
    output_activation = keras.activations.get("sigmoid" if outputs == 1 else "softmax")
    # Forward.
    z_hidden = x @ w1 + b1
    a_hidden, slope_hidden = _elementwise_slope(keras.activations.get(hidden_activation), z_hidden)
    z_output = a_hidden @ w2 + b2
    y_hat = output_activation(tf.constant(z_output)).numpy()
    sample_losses = xor_loss(outputs, reduction=None)(y, tf.constant(y_hat)).numpy()
    # Local derivative of the loss (the batch mean) with respect to each prediction.
    prediction = tf.constant(y_hat)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        loss = xor_loss(outputs)(y, prediction)
    dloss_dyhat = tape.gradient(loss, prediction).numpy()
    # Local derivative of the output activation: ∂ŷ_k/∂z_m per sample.
    logits = tf.constant(z_output)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        activated = output_activation(logits)
    dyhat_dz = tape.batch_jacobian(activated, logits).numpy()
    # δ of the output layer as Keras computes the loss: from the logits the output activation keeps.
    with tf.GradientTape() as tape:
        tape.watch(logits)
        fused = xor_loss(outputs)(y, output_activation(logits))
    delta_output = tape.gradient(fused, logits).numpy()
    # Backwards through the hidden layer.
    dloss_da_hidden = delta_output @ w2.T
    delta_hidden = dloss_da_hidden * slope_hidden
    grad_chain = np.concatenate(
        [
            (x.T @ delta_hidden).ravel(),
            delta_hidden.sum(axis=0),
            (a_hidden.T @ delta_output).ravel(),
            delta_output.sum(axis=0),
        ]
    )
    return ChainRule(
        z_hidden=z_hidden,
        a_hidden=a_hidden,
        slope_hidden=slope_hidden,
        z_output=z_output,
        y_hat=y_hat,
        sample_losses=np.asarray(sample_losses, np.float64),
        loss=float(loss),
        dloss_dyhat=dloss_dyhat,
        dyhat_dz=dyhat_dz,
        delta_output=delta_output,
        dloss_da_hidden=dloss_da_hidden,
        delta_hidden=delta_hidden,
        grad_chain=grad_chain,
        grad_tape=np.array(grad_tape, np.float64),
        update=np.array(update, np.float64),
        slots=tuple((kind, np.array(values, np.float64)) for kind, values in slots),
    )
