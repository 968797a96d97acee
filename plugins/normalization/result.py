"""What the normalization lesson computes: per variant the loss curves, the curvature of the loss at the
start (Hessian eigenvalues), the loss surface over two weights, and the lesson's formulas."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

VARIANTS = ("raw", "standard", "minmax", "batch_norm", "layer_norm")
VARIANT_NAMES = {
    "raw": ("raw features", "原始特征"),
    "standard": ("standardised (StandardScaler)", "标准化 (StandardScaler)"),
    "minmax": ("min-max scaled (MinMaxScaler)", "最小-最大缩放 (MinMaxScaler)"),
    "batch_norm": ("raw + BatchNormalization layer", "原始特征 + BatchNormalization 层"),
    "layer_norm": ("raw + LayerNormalization layer", "原始特征 + LayerNormalization 层"),
}

FORMULAS = (
    dlviz.Formula(
        "Standardisation (sklearn StandardScaler, fitted on the training split)",
        "标准化（sklearn StandardScaler，在训练集上拟合）",
        r"x'_j = \frac{x_j - \mu_j}{\sigma_j}",
    ),
    dlviz.Formula(
        "Min-max scaling (sklearn MinMaxScaler)",
        "最小-最大缩放（sklearn MinMaxScaler）",
        r"x'_j = \frac{x_j - \min_j}{\max_j - \min_j}",
    ),
    dlviz.Formula(
        "Gradient descent is stable only while the step fits the steepest curvature",
        "只有当步长适应最陡的曲率时，梯度下降才稳定",
        r"\eta\,\lambda_{\max}(\nabla^2 L) < 2,\qquad "
        r"\text{elongation} = \kappa = \frac{\lambda_{\max}}{\lambda_{\min}}",
    ),
    dlviz.Formula(
        "Effective learning rate along the flattest direction",
        "沿最平坦方向的有效学习率",
        r"\eta\,\lambda_{\min} = \frac{\eta\,\lambda_{\max}}{\kappa}",
    ),
)


@dataclasses.dataclass(frozen=True)
class NormalizationResult:
    """Per variant (keys of VARIANTS that were chosen): per-epoch training and validation loss,
    the Hessian eigenvalues of the training loss at the initial weights (all trainable weights, by
    tf.GradientTape), and the training loss on a grid of two output-layer weights (those of the features
    with the largest and the smallest raw spread, `weight_features`) around the initial weights,
    evaluated by the landscape plugin's BatchedLoss; `grid_offsets` are the offsets from the initial
    values along both weights."""

    dataset_name: str
    variants: tuple[str, ...]
    epochs: int
    learning_rate: float
    feature_spread: np.ndarray  # raw standard deviation of every feature
    weight_features: tuple[str, str]
    train_loss: dict
    val_loss: dict
    eigenvalues: dict
    grid_offsets: np.ndarray
    surfaces: dict
    page: dlviz.Page  # the lesson's notes and formulas

    def elongation(self, variant: str) -> float:
        """λ_max / λ_min of the Hessian at the start (eigenvalues at or below 1e-12 λ_max left out)."""
        values = self.eigenvalues[variant]
        top = float(values.max())
        positive = values[values > 1e-12 * top]
        return top / float(positive.min())

    def stable_step(self, variant: str) -> float:
        """η·λ_max: gradient descent along the steepest direction diverges above 2."""
        return self.learning_rate * float(self.eigenvalues[variant].max())
