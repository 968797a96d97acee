"""What the minibatch lesson computes: each run's loss along its path, the gradient noise per batch size,
the paths on the PCA plane of the landscape plugin, and the lesson's formulas."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

FORMULAS = (
    dlviz.Formula(
        "Full-batch gradient descent: the exact gradient of the training loss",
        "全批量梯度下降：训练损失的精确梯度",
        r"\theta \leftarrow \theta - \eta\, \nabla L(\theta),\quad "
        r"\nabla L(\theta) = \frac{1}{N} \sum_{i=1}^{N} \nabla \ell_i(\theta)",
    ),
    dlviz.Formula(
        "Mini-batch SGD: an unbiased estimate from a batch B of b samples",
        "小批量随机梯度下降：用 b 个样本的批次 B 做无偏估计",
        r"\theta \leftarrow \theta - \eta\, g_B,\quad g_B = \frac{1}{b} \sum_{i \in B} \nabla \ell_i(\theta),"
        r"\quad \mathbb{E}[g_B] = \nabla L(\theta)",
    ),
    dlviz.Formula(
        "Noise of the estimate, measured here: spread of batch gradients around the full gradient",
        "估计的噪声（此处实测）：批次梯度相对全梯度的离散程度",
        r"\text{noise}(b) = \mathbb{E}_B\, \lVert g_B - \nabla L(\theta) \rVert,\quad "
        r"\mathbb{E}\lVert g_B - \nabla L \rVert^2 = \frac{N - b}{N - 1} \cdot \frac{\sigma^2}{b}",
    ),
)


@dataclasses.dataclass(frozen=True)
class MinibatchRun:
    """One training run at one batch size (`batch_size` = the number of training samples: full batch).

    `examples_seen`, `updates` and `losses` are read along the path: the loss is the training loss over
    all training samples (not the batch's), evaluated at the recorded weights. `epoch_losses` is the same
    at the start and after every epoch; `coordinates` the recorded weights on the PCA plane.
    """

    batch_size: int
    full_batch: bool
    examples_seen: np.ndarray
    updates: np.ndarray
    losses: np.ndarray
    epoch_losses: np.ndarray
    coordinates: np.ndarray
    final_accuracy: float


@dataclasses.dataclass(frozen=True)
class MinibatchResult:
    """Runs from the same initial weights, the gradient noise measured there, and the PCA plane of the paths.

    `noise_batch_sizes` / `noise_mean` / `noise_std`: for each batch size, the norm of (mini-batch gradient
    − full gradient) over `noise_batches` random batches drawn without replacement, at the initial weights.
    `alphas`, `betas`, `plane_losses`: the training loss on a grid over the plane through the final
    full-batch weights spanned by the paths' first two principal components (`explained_variance`).
    """

    dataset_name: str
    n_train: int
    n_parameters: int
    epochs: int
    learning_rate: float
    runs: tuple[MinibatchRun, ...]
    noise_batch_sizes: np.ndarray
    noise_mean: np.ndarray
    noise_std: np.ndarray
    noise_batches: int
    full_gradient_norm: float
    alphas: np.ndarray
    betas: np.ndarray
    plane_losses: np.ndarray
    explained_variance: tuple[float, ...]
    page: dlviz.Page  # the lesson's notes and formulas
