"""What the activation_functions lesson computes: functions and derivatives, the depth bound and measured
gradient norms, softmax at a temperature with its Jacobian, a trained PReLU's slopes."""

from __future__ import annotations

import dataclasses

import numpy as np

# Keras names of the functions shown (keras.activations.get(name)), in teaching order.
FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus")
# Display-only formulas beside the names (the plotted numbers come from keras.activations).
FORMULAS = {
    "sigmoid": "σ(x) = 1 / (1 + e<sup>−x</sup>)",
    "tanh": "tanh(x) = (e<sup>x</sup> − e<sup>−x</sup>) / (e<sup>x</sup> + e<sup>−x</sup>)",
    "relu": "max(0, x)",
    "leaky_relu": "max(αx, x), α = 0.2",
    "elu": "x if x > 0 else α(e<sup>x</sup> − 1)",
    "selu": "λ·(x if x > 0 else α(e<sup>x</sup> − 1))",
    "gelu": "x·Φ(x)",
    "silu": "x·σ(x) (swish)",
    "softplus": "ln(1 + e<sup>x</sup>)",
}
COLOURS = dict(
    zip(
        FUNCTIONS,
        ("#d62728", "#ff7f0e", "#1f77b4", "#17becf", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"),
        strict=True,
    )
)


@dataclasses.dataclass(frozen=True)
class NetworkGradients:
    """Per-layer gradient norms (all variables of the layer) of one untrained MLP, input to output."""

    activation: str
    layers: tuple[str, ...]
    norms: np.ndarray  # [n_layers]

    @property
    def first_to_last_hidden(self) -> float:
        """Gradient norm of the first hidden layer over that of the last hidden layer."""
        return float(self.norms[0] / self.norms[-2]) if self.norms[-2] > 0 else float("nan")


@dataclasses.dataclass(frozen=True)
class ActivationResult:
    functions: tuple[str, ...]
    x: np.ndarray  # [n_points]
    values: np.ndarray  # [n_functions, n_points], keras.activations
    derivatives: np.ndarray  # [n_functions, n_points], by tf.GradientTape
    max_slopes: np.ndarray  # [n_functions] max |f'(x)| over SLOPE_SEARCH
    max_slope_at: np.ndarray  # [n_functions] where it is reached
    depths: np.ndarray  # [depth] 1..n
    bounds: np.ndarray  # [n_functions, depth] max|f'|^n
    networks: tuple[NetworkGradients, ...]
    batch_size: int
    softmax: SoftmaxResult
    prelu: PReluResult


@dataclasses.dataclass(frozen=True)
class SoftmaxResult:
    """keras.activations.softmax of `logits / temperature`, the same at temperature 1, and its Jacobian
    ∂p_i/∂z_j with respect to the logits (by tf.GradientTape)."""

    logits: np.ndarray  # [n]
    temperature: float
    probabilities: np.ndarray  # [n] at `temperature`
    probabilities_at_one: np.ndarray  # [n] at temperature 1
    jacobian: np.ndarray  # [n, n]


@dataclasses.dataclass(frozen=True)
class PReluResult:
    """A small MLP with trainable keras.layers.PReLU activations trained on a bundled set: each PReLU
    layer's slopes α (one per unit) before and after training, and the trained layers' own outputs on `x`
    for every unit (the learned functions)."""

    dataset_name: str
    epochs: int
    layers: tuple[str, ...]
    initial_alpha: float
    alphas: tuple[np.ndarray, ...]  # per layer [units]
    x: np.ndarray  # [n_points]
    outputs: tuple[np.ndarray, ...]  # per layer [n_points, units]
    accuracy: float  # on the set's test split
