"""What a playground run records, and the lesson's formulas shown with it."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

FORMULAS = (
    dlviz.Formula(
        "Neuron of a hidden layer (keras.layers.Dense)",
        "隐藏层的神经元 (keras.layers.Dense)",
        r"h_j^{(l)} = f\Big(\sum_i w_{ij}^{(l)}\, h_i^{(l-1)} + b_j^{(l)}\Big)",
    ),
    dlviz.Formula(
        "Input features",
        "输入特征",
        r"\phi(x) \subseteq \{x_1,\ x_2,\ x_1^2,\ x_2^2,\ x_1 x_2,\ \sin x_1,\ \sin x_2\}",
    ),
    dlviz.Formula(
        "Output and loss: sigmoid + binary cross-entropy (softmax + categorical cross-entropy for more classes)",
        "输出与损失：sigmoid + 二元交叉熵（多类别时为 softmax + 分类交叉熵）",
        r"p = \sigma(z),\quad L = -\frac{1}{N}\sum_n \big[y_n \log p_n + (1 - y_n)\log(1 - p_n)\big] + \lambda\, \Omega(w)",
    ),
    dlviz.Formula(
        "Regularization penalty",
        "正则化惩罚项",
        r"\Omega_{L1}(w) = \sum |w|,\qquad \Omega_{L2}(w) = \sum w^2",
    ),
    dlviz.Formula("Decision boundary", "决策边界", r"\{x : p(x) = 0.5\}"),
)


REGRESSION_FORMULAS = (
    FORMULAS[0],
    FORMULAS[1],
    dlviz.Formula(
        "Output and loss of regression: one linear unit + mean squared error",
        "回归的输出与损失：一个线性单元 + 均方误差 (MSE)",
        r"\hat y = z,\quad L = \frac{1}{N}\sum_n (y_n - \hat y_n)^2 + \lambda\, \Omega(w)",
    ),
    FORMULAS[3],
)


@dataclasses.dataclass(frozen=True)
class PlaygroundResult:
    """One training run of the playground's network, recorded at the end of every epoch.

    `frames[e]` is the model's output on the grid after epoch e + 1: (ny, nx) P(class 1) for two classes,
    (ny, nx, classes) probabilities otherwise. Losses are Keras' cross-entropy in inference mode on the
    training and test points at the same moments. `unit_maps[layer]` is (units, ny', nx') the hidden units'
    outputs after training on a coarser grid (`unit_grid_x`, `unit_grid_y`), `feature_maps` the input
    features on it.
    A regression run (`task` "regression") records the predicted value instead: frames (ny, nx) over the
    plane, or (nx,) along x1 for 1-D points (`grid_y` and `unit_grid_y` empty, unit and feature maps
    (units, nx)); its losses are Keras' mean squared error and its accuracies are empty.
    """

    dataset_name: str
    class_names: tuple[str, ...]
    features: tuple[str, ...]
    hidden: tuple[int, ...]
    activation: str
    optimizer: str
    learning_rate: float
    regularization: str
    n_parameters: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    frames: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    unit_grid_x: np.ndarray
    unit_grid_y: np.ndarray
    unit_maps: dict
    feature_maps: np.ndarray
    page: dlviz.Page  # the lesson's notes and formulas
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none
    task: str = "classification"
    target_name: str = ""  # a regression set's target, in English and Chinese
    target_name_zh: str = ""

    @property
    def epochs(self) -> int:
        return len(self.frames)
