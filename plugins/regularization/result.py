"""What the regularization lesson computes: per-variant curves, losses and weights, and the lesson's formulas
shown with them."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

VARIANTS = ("none", "l1", "l2", "dropout", "batch_norm", "early_stopping")
VARIANT_NAMES = {
    "none": ("No regularization", "无正则化"),
    "l1": ("L1", "L1 正则化"),
    "l2": ("L2", "L2 正则化"),
    "dropout": ("Dropout", "随机失活 (dropout)"),
    "batch_norm": ("Batch norm", "批归一化 (batch norm)"),
    "early_stopping": ("Early stopping", "早停 (early stopping)"),
}

FORMULAS = (
    dlviz.Formula(
        "Overfitting gap",
        "过拟合差距 (generalization gap)",
        r"\text{gap} = L_{\text{val}}(\theta) - L_{\text{train}}(\theta)",
    ),
    dlviz.Formula(
        "L1 regularization (keras.regularizers.L1)",
        "L1 正则化 (keras.regularizers.L1)",
        r"J(\theta) = L(\theta) + \lambda_1 \sum_i |w_i|",
    ),
    dlviz.Formula(
        "L2 regularization (keras.regularizers.L2)",
        "L2 正则化 (keras.regularizers.L2)",
        r"J(\theta) = L(\theta) + \lambda_2 \sum_i w_i^2",
    ),
    dlviz.Formula(
        "Dropout (training only; keras.layers.Dropout)",
        "随机失活 Dropout（仅训练时；keras.layers.Dropout）",
        r"\tilde h_j = \frac{m_j\, h_j}{1 - p},\quad m_j \sim \text{Bernoulli}(1 - p)",
    ),
    dlviz.Formula(
        "Batch normalization (keras.layers.BatchNormalization)",
        "批归一化 (keras.layers.BatchNormalization)",
        r"\hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}},\quad y = \gamma \hat x + \beta",
    ),
    dlviz.Formula(
        "Early stopping (keras.callbacks.EarlyStopping, restore_best_weights=True)",
        "早停 (keras.callbacks.EarlyStopping，restore_best_weights=True)",
        r"t^* = \arg\min_{t} L_{\text{val}}(\theta_t),\quad \text{stop at } t^* + \text{patience},\quad \theta \leftarrow \theta_{t^*}",
    ),
)

REGRESSION_FORMULAS = (
    dlviz.Formula(
        "Mean squared error on standardised targets (keras.losses.MeanSquaredError)",
        "标准化目标上的均方误差 (keras.losses.MeanSquaredError)",
        r"L = \frac{1}{n}\sum_i (\hat z_i - z_i)^2,\quad z = \frac{y - \mu_y}{\sigma_y},"
        r"\quad \text{MSE}_{\text{units}} = \sigma_y^2\, L",
    ),
)


@dataclasses.dataclass(frozen=True)
class RegularizationResult:
    """Per variant (keys of VARIANTS): per-epoch curves, final losses of the returned model, kernels.

    Losses are the data loss (cross-entropy for classes, mean squared error on the standardised targets for
    regression; without the penalty) in inference mode (no dropout, batch norm
    with its running statistics), on the training samples and on the validation split, after every epoch.
    `gap` = final validation loss - final training loss of the model each variant returns (for early
    stopping: the restored best weights). `weights` are every kernel value after training; `initial_weights`
    the kernels all variants started from. 2-D class data also keep the grid outputs for the decision
    boundaries. Regression (``task``) has no accuracies (empty dicts); it keeps each variant's final mean
    squared errors in the targets' units (σ² times the standardised ones), its validation predictions in units
    (n, targets) and the validation targets in units.
    """

    dataset_name: str
    kind: str
    class_names: tuple[str, ...]
    n_train: int
    n_validation: int
    n_parameters: int
    settings: dict
    train_loss: dict
    val_loss: dict
    train_accuracy: dict
    val_accuracy: dict
    final_train_loss: dict
    final_val_loss: dict
    final_val_accuracy: dict
    gap: dict
    best_epoch: dict
    stopped_epoch: int | None
    weights: dict
    initial_weights: np.ndarray
    near_zero_threshold: float
    near_zero: dict
    grid_x: np.ndarray | None
    grid_y: np.ndarray | None
    grid_outputs: dict
    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    page: dlviz.Page  # the lesson's notes and formulas
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none
    task: str = "classification"
    target_names: tuple[str, ...] = ()
    target_names_zh: tuple[str, ...] = ()  # empty when the dataset has no Chinese names
    final_train_mse_in_units: dict = dataclasses.field(default_factory=dict)
    final_val_mse_in_units: dict = dataclasses.field(default_factory=dict)
    val_predictions_in_units: dict = dataclasses.field(default_factory=dict)
    y_validation_in_units: np.ndarray | None = None

    @property
    def most_overfit(self) -> str:
        return max(self.gap, key=self.gap.get)

    @property
    def best_variant(self) -> str:
        return min(self.final_val_loss, key=self.final_val_loss.get)
