"""What the loss_functions lesson computes: loss curves and their gradients, and the neuron's trainings."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Curves:
    """Losses and their gradients at each prediction, one row per loss."""

    losses: tuple[str, ...]
    predictions: np.ndarray  # [n]
    values: np.ndarray  # [n_losses, n] per-sample loss
    gradients: np.ndarray  # [n_losses, n] d loss / d prediction
    logit_gradients: np.ndarray | None = None  # [n_losses, n] d loss / d z with ŷ = sigmoid(z)


@dataclasses.dataclass(frozen=True)
class NeuronTraining:
    """One sigmoid neuron ŷ = σ(w·x + b) trained by SGD on one sample with one loss (values before each step)."""

    loss: str
    losses: np.ndarray  # [steps]
    predictions: np.ndarray  # [steps]
    weight_gradients: np.ndarray  # [steps] dL/dw
    reached: int | None  # first step with |ŷ − y| < REACHED


@dataclasses.dataclass(frozen=True)
class LossResult:
    regression_target: float
    huber_delta: float
    regression: Curves
    class_target: int
    focal_gamma: float
    n_classes: int
    classification: Curves
    neuron_start: float
    neuron_learning_rate: float
    neurons: tuple[NeuronTraining, ...]
