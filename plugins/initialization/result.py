"""What the initialization lesson computes: per-initialiser statistics at step 0, training curves, the
units of each hidden layer after training, and the lesson's formulas shown with them."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

# dlviz.models.INITIALIZERS by display name, English and Chinese.
INITIALIZER_NAMES = {
    "zeros": ("zeros", "全零 (zeros)"),
    "constant": ("constant 0.1", "常数 0.1 (constant)"),
    "small_normal": ("normal σ = 0.01", "小正态 σ = 0.01"),
    "large_normal": ("normal σ = 1", "大正态 σ = 1"),
    "glorot_uniform": ("Glorot uniform", "Glorot 均匀 (Xavier)"),
    "he_normal": ("He normal", "He 正态 (Kaiming)"),
    "lecun_normal": ("LeCun normal", "LeCun 正态"),
}

FORMULAS = (
    dlviz.Formula(
        "Forward variance through a dense layer of n_in inputs (independent, zero-mean weights)",
        "前向方差经过一个有 n_in 个输入的全连接层（权重独立、均值为零）",
        r"\operatorname{Var}(z^{(l)}) = n_{\text{in}}\,\operatorname{Var}(w^{(l)})\,"
        r"\mathbb{E}\big[(a^{(l-1)})^2\big]",
    ),
    dlviz.Formula(
        "Glorot / Xavier (keras.initializers.GlorotUniform)",
        "Glorot / Xavier 初始化 (keras.initializers.GlorotUniform)",
        r"w \sim U\!\left(-\sqrt{\tfrac{6}{n_{\text{in}} + n_{\text{out}}}},\ "
        r"\sqrt{\tfrac{6}{n_{\text{in}} + n_{\text{out}}}}\right),\quad "
        r"\operatorname{Var}(w) = \frac{2}{n_{\text{in}} + n_{\text{out}}}",
    ),
    dlviz.Formula(
        "He / Kaiming (keras.initializers.HeNormal), for ReLU",
        "He / Kaiming 初始化 (keras.initializers.HeNormal)，适用于 ReLU",
        r"\operatorname{Var}(w) = \frac{2}{n_{\text{in}}}",
    ),
    dlviz.Formula(
        "LeCun (keras.initializers.LecunNormal), for SELU and tanh",
        "LeCun 初始化 (keras.initializers.LecunNormal)，适用于 SELU 和 tanh",
        r"\operatorname{Var}(w) = \frac{1}{n_{\text{in}}}",
    ),
    dlviz.Formula(
        "Symmetry: equal weights give equal units and equal gradients, so they stay equal",
        "对称性：权重相同，单元相同，梯度也相同，于是一直相同",
        r"w_{ij} = c\ \forall i, j \;\Rightarrow\; a_j = a_k,\ "
        r"\frac{\partial L}{\partial w_{ij}} = \frac{\partial L}{\partial w_{ik}}",
    ),
)


@dataclasses.dataclass(frozen=True)
class InitializationResult:
    """Per initialiser (rows in the order of `initializers`), per Dense layer (columns, input to output).

    At step 0, on one probe batch of training samples: `activation_std` is the standard deviation of each
    layer's outputs (after its activation), `gradient_norms` the L2 norm of the training loss' gradient
    with respect to each kernel, `weight_std` each kernel's standard deviation as Keras drew it. Then each
    model trains with the same optimiser on the same batches: `train_loss`, `val_loss` and `val_accuracy`
    per epoch (NaN once the loss is no longer finite). After training, `distinct_units` counts the
    different units (incoming weights and bias) of each hidden layer and `unit_outputs` keeps the first
    hidden layer's outputs on a few validation samples.
    """

    dataset_name: str
    activation: str
    depth: int
    width: int
    epochs: int
    batch_size: int
    learning_rate: float
    initializers: tuple[str, ...]
    layers: tuple[str, ...]
    fan_in: tuple[int, ...]
    activation_std: np.ndarray
    gradient_norms: np.ndarray
    weight_std: np.ndarray
    train_loss: dict
    val_loss: dict
    val_accuracy: dict
    distinct_units: np.ndarray
    unit_outputs: dict
    page: dlviz.Page  # the lesson's notes and formulas

    @property
    def hidden_layers(self) -> tuple[str, ...]:
        return self.layers[:-1]

    def final_val_loss(self, initializer: str) -> float:
        return float(self.val_loss[initializer][-1])

    @property
    def symmetric(self) -> tuple[str, ...]:
        """The initialisers whose every hidden layer ended with all its units equal."""
        return tuple(
            name
            for name, counts in zip(self.initializers, self.distinct_units, strict=True)
            if np.all(counts == 1)
        )
