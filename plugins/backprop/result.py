"""The backprop lesson's result: the training run of the XOR network step by step (`BackpropResult`)
and the chosen step worked out by the chain rule (`ChainRule`).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ChainRule:
    """One training step worked out by hand in float64 from the weights before it.

    Every array has the four XOR samples first. `delta_output` is ∂L/∂z of the output layer, computed
    like Keras computes the loss (from the logits); `grad_chain` flattens ∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2
    from the chain rule; `grad_tape` is what tf.GradientTape gave for the Keras model at the same weights.
    """

    z_hidden: np.ndarray  # [4, h]
    a_hidden: np.ndarray  # [4, h]
    slope_hidden: np.ndarray  # [4, h] f'(z) by autodiff
    z_output: np.ndarray  # [4, o]
    y_hat: np.ndarray  # [4, o]
    sample_losses: np.ndarray  # [4]
    loss: float
    dloss_dyhat: np.ndarray  # [4, o] ∂L/∂ŷ (L is the batch mean)
    dyhat_dz: np.ndarray  # [4, o, o] ∂ŷ_k/∂z_m
    delta_output: np.ndarray  # [4, o]
    dloss_da_hidden: np.ndarray  # [4, h]
    delta_hidden: np.ndarray  # [4, h]
    grad_chain: np.ndarray  # [P]
    grad_tape: np.ndarray  # [P]
    update: np.ndarray  # [P] weights after − weights before (the Keras optimizer's step)
    slots: tuple[
        tuple[str, np.ndarray], ...
    ]  # optimizer state per parameter after the step, e.g. ("momentum", [P])


@dataclasses.dataclass(frozen=True)
class BackpropResult:
    hidden_units: int
    outputs: int
    hidden_activation: str
    optimizer: str
    learning_rate: float
    seed: int
    step: int
    sample: int
    inputs: np.ndarray  # [4, 2]
    labels: np.ndarray  # [4]
    parameter_names: tuple[str, ...]  # [P], in the order W1 (row-major), b1, W2, b2
    weights: np.ndarray  # [T + 1, P] before step t (the last: after training)
    gradients: np.ndarray  # [T + 1, P] tf.GradientTape at weights[t]
    losses: np.ndarray  # [T + 1]
    hidden: np.ndarray  # [T + 1, 4, h]
    predictions: np.ndarray  # [T + 1, 4, o]
    solved_step: int | None  # first t whose weights classify all four inputs correctly
    chain: ChainRule
    surface_axis: np.ndarray  # [S]
    surface: np.ndarray  # [S, S] P(class 1) at the shown step's weights, rows along x2

    @property
    def max_steps(self) -> int:
        return len(self.weights) - 1

    def unflatten(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """W1 [2, h], b1 [h], W2 [h, o], b2 [o] from a flattened parameter vector."""
        h, o = self.hidden_units, self.outputs
        sizes = np.cumsum([2 * h, h, h * o])
        w1, b1, w2, b2 = np.split(np.asarray(vector), sizes)
        return w1.reshape(2, h), b1, w2.reshape(h, o), b2
