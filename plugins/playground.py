"""The `playground` lesson: TensorFlow Playground on a real Keras model, any Keras optimizer included.

The decision boundary's animation comes from ONE `model.fit`: a small callback evaluates the model on
the grid, the training and the test points at the end of every epoch, in one compiled function call,
so watching costs little more than training (bench/playground.py measures it against a plain fit).
"""

from __future__ import annotations

import dataclasses
import inspect
import re

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.subplots import make_subplots

import dlviz
from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError, ModelError, ParamsError
from dlviz.plugin import tr, tr_names
from plugins._shared.lessons import (
    boundary_traces,
    class_grid,
    grid_axes,
    grid_points,
    point_traces,
)

DATASETS = ("circles", "xor", "gauss", "spirals", "moons", "context")
# Sets with a multiclass form (more arms / blobs); the others have two classes.
MULTICLASS_SETS = ("spirals", "gauss")
FEATURES = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin x1": lambda p: np.sin(p[:, 0]),
    "sin x2": lambda p: np.sin(p[:, 1]),
}
FEATURE_LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1^2": "x₁²",
    "x2^2": "x₂²",
    "x1*x2": "x₁·x₂",
    "sin x1": "sin(x₁)",
    "sin x2": "sin(x₂)",
}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus")
# Every optimizer class keras.optimizers exports, except the wrappers around another optimizer.
OPTIMIZERS = tuple(
    sorted(
        name
        for name, cls in vars(keras.optimizers).items()
        if inspect.isclass(cls)
        and issubclass(cls, keras.optimizers.Optimizer)
        and cls is not keras.optimizers.Optimizer
        and name not in ("LossScaleOptimizer", "MultiOptimizer")
    )
)
# Frames drawn in the animation figure hold at most this many grid values (the result keeps every epoch).
FIGURE_GRID_VALUES = 120_000
MAX_UNITS_SHOWN = 8
UNIT_MAP_RESOLUTION = 30

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


@dataclasses.dataclass(frozen=True)
class Params:
    data: str = dlviz.param(
        "circles",
        label="Data",
        label_zh="数据",
        choices=DATASETS,
        help="A bundled 2-D set, or 'context' for the loaded dataset when it has two features.",
        help_zh="内置二维数据集，或选 context 使用已加载的二维数据集。",
    )
    classes: int = dlviz.param(
        2,
        label="Classes (spirals, gauss)",
        label_zh="类别数（spirals、gauss）",
        min=2,
        max=6,
        step=1,
        help="More than two classes gives spirals more arms and gauss more blobs (softmax output).",
        help_zh="大于 2 时 spirals 有更多旋臂、gauss 有更多团簇（输出层用 softmax）。",
    )
    noise: float = dlviz.param(
        0.1,
        label="Noise",
        label_zh="噪声",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Standard deviation of the noise (capped at the set's own maximum).",
        help_zh="噪声标准差（不超过该数据集允许的最大值）。",
    )
    n_samples: int = dlviz.param(
        400,
        label="Points",
        label_zh="点数",
        min=50,
        max=2000,
        step=50,
        help="Points generated, split into training and test.",
        help_zh="生成的点数，划分为训练集和测试集。",
    )
    train_fraction: float = dlviz.param(
        0.5,
        label="Ratio of training data",
        label_zh="训练数据比例",
        min=0.1,
        max=0.9,
        step=0.05,
        help="Fraction of the points used for training; the rest is the test split.",
        help_zh="用于训练的点所占比例；其余为测试集。",
    )
    features: tuple = dlviz.param(
        ("x1", "x2"),
        label="Features",
        label_zh="输入特征",
        choices=tuple(FEATURES),
        multiple=True,
        help="Inputs the network sees, computed from the point (x1, x2).",
        help_zh="网络看到的输入，由点 (x1, x2) 计算得到。",
    )
    hidden: str = dlviz.param(
        "4, 2",
        label="Hidden layers (units each)",
        label_zh="隐藏层（每层单元数）",
        help="Units of each hidden layer, comma separated, e.g. '4, 2'; empty for none (logistic regression).",
        help_zh="每个隐藏层的单元数，用逗号分隔，例如 '4, 2'；留空表示没有隐藏层（逻辑回归）。",
    )
    activation: str = dlviz.param(
        "tanh",
        label="Activation",
        label_zh="激活函数",
        choices=ACTIVATIONS,
        help="keras.activations function of every hidden layer.",
        help_zh="每个隐藏层使用的 keras.activations 函数。",
    )
    optimizer: str = dlviz.param(
        "Adam",
        label="Optimizer",
        label_zh="优化器",
        choices=OPTIMIZERS,
        help="Any optimizer class of keras.optimizers, with its default settings and the learning rate below.",
        help_zh="keras.optimizers 中的任意优化器类，使用默认设置和下面的学习率。",
    )
    learning_rate: float = dlviz.param(
        0.03,
        label="Learning rate",
        label_zh="学习率",
        min=1e-5,
        max=10.0,
        log=True,
        help="Step size of the optimizer.",
        help_zh="优化器的步长。",
    )
    regularization: str = dlviz.param(
        "none",
        label="Regularization",
        label_zh="正则化",
        choices=("none", "L1", "L2"),
        help="Penalty on every kernel (keras.regularizers).",
        help_zh="对每个权重矩阵的惩罚 (keras.regularizers)。",
    )
    regularization_rate: float = dlviz.param(
        1e-3,
        label="Regularization rate",
        label_zh="正则化系数",
        min=1e-6,
        max=1.0,
        log=True,
        help="λ of the penalty.",
        help_zh="惩罚项的系数 λ。",
    )
    batch_size: int = dlviz.param(
        10,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Points per gradient step.",
        help_zh="每个梯度步使用的点数。",
    )
    epochs: int = dlviz.param(
        40,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=300,
        step=1,
        help="Passes over the training points; one animation frame per epoch.",
        help_zh="遍历训练点的次数；每轮一帧动画。",
    )
    resolution: int = dlviz.param(
        40,
        label="Grid resolution",
        label_zh="网格分辨率",
        min=10,
        max=80,
        step=5,
        help="Grid points per side where the boundary is evaluated.",
        help_zh="每边计算决策边界的网格点数。",
    )


@dataclasses.dataclass(frozen=True)
class PlaygroundResult:
    """One training run of the playground's network, recorded at the end of every epoch.

    `frames[e]` is the model's output on the grid after epoch e + 1: (ny, nx) P(class 1) for two classes,
    (ny, nx, classes) probabilities otherwise. Losses are Keras' cross-entropy in inference mode on the
    training and test points at the same moments. `unit_maps[layer]` is (units, ny', nx') the hidden units'
    outputs after training on a coarser grid (`unit_grid_x`, `unit_grid_y`), `feature_maps` the input
    features on it.
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

    @property
    def epochs(self) -> int:
        return len(self.frames)


class Playground(dlviz.Plugin):
    """TensorFlow Playground on a real Keras model: pick a 2-D dataset (circles, xor, gauss, spirals, moons,
    more classes for spirals and gauss), the input features (x1, x2, x1², x2², x1·x2, sin x1, sin x2), the
    hidden layers and their units, the activation, the learning rate, any Keras optimizer, L1/L2
    regularization and the batch size, and watch the decision boundary form epoch by epoch. The animation
    replays the boundary recorded at every epoch's end during one model.fit (no retraining per frame);
    beside it each hidden unit's response over the plane and the training and test loss.

    简介：在真正的 Keras 模型上运行的 TensorFlow Playground：选择二维数据集（circles、xor、gauss、spirals、
    moons，spirals 和 gauss 可有更多类别）、输入特征（x1、x2、x1²、x2²、x1·x2、sin x1、sin x2）、隐藏层及其单元数、
    激活函数、学习率、任意 Keras 优化器、L1/L2 正则化和批大小，然后逐轮观察决策边界 (decision boundary) 的形成。
    动画回放的是同一次 model.fit 中每轮结束时记录下的边界（不是每帧重新训练）；旁边是每个隐藏单元在平面上的响应，
    以及训练损失和测试损失。

    What to look for: a network without hidden layers draws a straight boundary (logistic regression): it
    cannot separate circles or xor from x1 and x2, but it can once x1² and x2² (circles) or x1·x2 (xor)
    are given as features: good features replace layers. With hidden layers, each unit of the first layer
    draws one line (its response map is a ramp); later units combine them into curves. Spirals need
    several layers and many epochs. Watch the test loss: when it rises while the training loss keeps falling,
    the network has started to overfit; L2 or fewer units smooth the boundary. Too large a learning rate
    makes the boundary jump between epochs; too small a rate barely moves it.

    观察要点：没有隐藏层的网络只能画出一条直线边界（即逻辑回归）：仅用 x1、x2 无法分开 circles 或 xor，但加入 x1²、
    x2²（circles）或 x1·x2（xor）特征后就可以：好的特征可以代替网络层。有隐藏层时，第一层的每个单元画出一条直线
    （其响应图是一个斜坡），后面的单元把这些直线组合成曲线。spirals 需要多层和较多的训练轮数。注意测试损失：
    训练损失继续下降而测试损失上升时，网络开始过拟合 (overfitting)；L2 正则化或减少单元数能让边界更平滑。
    学习率过大时边界在各轮之间跳动；过小时边界几乎不动。

    >>> import dlviz
    >>> result = dlviz.compute("playground", data="xor", features=("x1", "x2", "x1*x2"), hidden="", epochs=5)
    >>> result.dataset_name, result.frames.shape
    ('xor', (5, 40, 40))
    >>> [figure.layout.title.text.split(":")[0] for figure in dlviz.get_plugin("playground").figures(result)]
    ['Decision boundary over training', 'Loss', 'Units']
    """

    name = "playground"
    title = "Playground"
    title_zh = "神经网络游乐场 (Playground)"
    section = "Lessons"
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> PlaygroundResult:
        data, notes = playground_data(ctx, params)
        _, result = train_playground(
            data, params, seed=ctx.seed, notes=notes, progress=ctx.report, language=ctx.language
        )
        return result

    def diagnose(self, result: PlaygroundResult) -> list[dlviz.Finding]:
        if result.epochs < 5:
            return []
        best = int(np.argmin(result.test_loss))
        if (
            result.test_loss[-1] > 1.1 * result.test_loss[best]
            and result.train_loss[-1] < result.train_loss[best]
        ):
            return [
                dlviz.Finding(
                    "info",
                    f"Playground: the test loss rose after epoch {best + 1} while the training loss kept falling",
                    "The network overfits the training points: add L2 regularization, fewer units, or more data.",
                    step=best + 1,
                    headline_zh=f"游乐场：第 {best + 1} 轮之后测试损失上升，而训练损失仍在下降",
                    advice_zh="网络过拟合 (overfitting) 了训练点：加入 L2 正则化、减少单元数，或增加数据。",
                )
            ]
        return []

    def figures(self, result: PlaygroundResult, language: str = "en") -> list[go.Figure]:
        return [_animation(result, language), _losses(result, language), _unit_maps(result, language)]



# --------------------------------------------------------------------------- data, features, model


def feature_matrix(points: np.ndarray, features) -> np.ndarray:
    """The chosen features of 2-D points as (n, len(features)) float32, in the order given."""
    points = np.asarray(points, dtype=np.float64)
    return np.column_stack([FEATURES[name](points) for name in features]).astype(np.float32)


def parse_hidden(text: str) -> tuple[int, ...]:
    """'4, 2' -> (4, 2); empty -> (); anything else raises ParamsError."""
    parts = [part for part in re.split(r"[,\s]+", str(text).strip()) if part]
    if not all(part.isdigit() and 1 <= int(part) <= 64 for part in parts) or len(parts) > 6:
        raise ParamsError(
            f"Hidden layers {text!r} are not a list of unit counts.",
            "write up to 6 whole numbers from 1 to 64 separated by commas, e.g. '4, 2', or leave it empty.",
        )
    return tuple(int(part) for part in parts)


def ordered_features(chosen) -> tuple[str, ...]:
    """The chosen features in the canonical order; at least one is required."""
    features = tuple(name for name in FEATURES if name in set(chosen))
    if not features:
        raise ParamsError("No input feature is selected.", "select at least one feature, e.g. x1 and x2.")
    return features


def playground_data(ctx: dlviz.Context, params: Params) -> tuple[Dataset, list[str]]:
    """The 2-D points, split into training and test: bundled (any class count for spirals/gauss) or the context's."""
    notes: list[str] = []
    test_size = 1.0 - params.train_fraction
    if params.data == "context":
        data = ctx.dataset
        if data is None or data.kind != "points2d":
            raise DataError(
                "The playground's 'context' data needs a loaded dataset of 2-D points.",
                "load a 2-D dataset (or a CSV with two feature columns), or pick a bundled set.",
            )
        return data, notes
    limit = datasets.PARAMETERS[params.data]["noise"]["max"]
    noise = min(params.noise, limit)
    if noise < params.noise:
        notes.append(
            (
                f"{params.data} allows noise up to {limit}: {noise} used.",
                f"{params.data} 的噪声最大为 {limit}：使用 {noise}。",
            )
        )
    if params.classes > 2 and params.data not in MULTICLASS_SETS:
        notes.append(
            (
                f"{params.data} has two classes; 'Classes' applies to spirals and gauss.",
                f"{params.data} 只有两个类别；“类别数”只作用于 spirals 和 gauss。",
            )
        )
    if params.classes == 2 or params.data not in MULTICLASS_SETS:
        data = datasets.load(
            params.data, seed=ctx.seed, n_samples=params.n_samples, noise=noise, test_size=test_size
        )
        return data, notes
    x, y = _multiclass_points(params.data, params.classes, params.n_samples, noise, ctx.seed)
    data = Dataset.from_arrays(
        x,
        y,
        test_size=test_size,
        seed=ctx.seed,
        name=f"{params.data} ({params.classes} classes)",
        kind="points2d",
        feature_names=("x1", "x2"),
        class_names=tuple(
            f"{'arm' if params.data == 'spirals' else 'blob'} {c + 1}" for c in range(params.classes)
        ),
        class_names_zh=tuple(
            f"{'旋臂' if params.data == 'spirals' else '团'} {c + 1}" for c in range(params.classes)
        ),
        standardize=False,
    )
    return data, notes


def _multiclass_points(
    name: str, classes: int, n: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """k spiral arms (dlviz.datasets' spiral, turned by 2π/k per arm) or k Gaussian blobs on a circle."""
    rng = np.random.default_rng(seed)
    sizes = np.full(classes, n // classes) + (np.arange(classes) < n % classes)
    parts = []
    for index, size in enumerate(sizes):
        if name == "spirals":
            radius = rng.uniform(0.05, 1.0, size)
            angle = 1.75 * 2 * np.pi * radius + index * 2 * np.pi / classes
            parts.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        else:
            centre = 0.8 * np.array(
                [np.cos(2 * np.pi * index / classes), np.sin(2 * np.pi * index / classes)]
            )
            parts.append(rng.normal(centre, 0.3, (size, 2)))
    x = np.concatenate(parts) + rng.normal(0.0, noise, (n, 2))
    return x, np.repeat(np.arange(classes), sizes)


def build_model(params: Params, n_features: int, n_classes: int, seed: int) -> keras.Model:
    """The playground's network: Dense hidden layers, sigmoid (2 classes) or softmax output, compiled."""
    hidden = parse_hidden(params.hidden)
    penalty = {"L1": keras.regularizers.L1, "L2": keras.regularizers.L2}.get(params.regularization)
    regularizer = penalty(params.regularization_rate) if penalty else None
    seeds = np.random.SeedSequence(seed).generate_state(len(hidden) + 1) & 0x7FFFFFFF
    layers = [keras.Input(shape=(n_features,), name="features")]
    for index, units in enumerate(hidden, start=1):
        layers.append(
            keras.layers.Dense(
                units,
                activation=params.activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=int(seeds[index - 1])),
                kernel_regularizer=regularizer,
                name=f"hidden_{index}",
            )
        )
    binary = n_classes == 2
    layers.append(
        keras.layers.Dense(
            1 if binary else n_classes,
            activation="sigmoid" if binary else "softmax",
            kernel_initializer=keras.initializers.GlorotUniform(seed=int(seeds[-1])),
            kernel_regularizer=regularizer,
            name="output",
        )
    )
    try:
        optimizer = getattr(keras.optimizers, params.optimizer)(learning_rate=params.learning_rate)
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"keras.optimizers.{params.optimizer} could not be built: {exc}", "pick another optimizer."
        ) from exc
    model = keras.Sequential(layers, name="playground")
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def training_data(features: np.ndarray, labels: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Batches reshuffled every epoch in an order fixed by `seed` (so a run repeats exactly)."""
    return (
        tf.data.Dataset.from_tensor_slices((features, labels))
        .shuffle(len(features), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )


def label_array(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels as the loss wants them: (n, 1) float for a sigmoid unit, (n,) ids for a softmax."""
    return np.asarray(y, np.float32)[:, None] if n_classes == 2 else np.asarray(y, np.int64)


class BoundarySnapshots(keras.callbacks.Callback):
    """Records, at every epoch's end, the model's outputs on a grid and its loss and accuracy on the
    training and test points, with ONE call of a compiled function.

    Each split gets its own forward pass inside that function: a model output keeps the logits its
    sigmoid or softmax was computed from, and Keras' cross-entropy uses them (exact even for confidently
    wrong predictions, as in model.fit); a slice of one shared output would fall back to clipped
    probabilities.
    """

    def __init__(self, grid: np.ndarray, train: tuple, test: tuple, n_classes: int):
        super().__init__()
        self._grid = tf.constant(np.asarray(grid, np.float32))
        self._train = (
            tf.constant(np.asarray(train[0], np.float32)),
            tf.constant(label_array(train[1], n_classes)),
        )
        self._test = (
            tf.constant(np.asarray(test[0], np.float32)),
            tf.constant(label_array(test[1], n_classes)),
        )
        self._binary = n_classes == 2
        self._loss = (
            keras.losses.BinaryCrossentropy()
            if self._binary
            else keras.losses.SparseCategoricalCrossentropy()
        )
        self._snapshot = None
        self.grids: list[np.ndarray] = []
        self.metrics: list[np.ndarray] = []

    def set_model(self, model):
        super().set_model(model)
        self._snapshot = tf.function(self._evaluate, autograph=False)

    def _evaluate(self):
        scores = []
        for features, labels in (self._train, self._test):
            outputs = self.model(features, training=False)
            scores.append((self._loss(labels, outputs), self._accuracy(labels, outputs)))
        (train_loss, train_accuracy), (test_loss, test_accuracy) = scores
        grid = self.model(self._grid, training=False)
        return grid, tf.stack([train_loss, test_loss, train_accuracy, test_accuracy])

    def _accuracy(self, labels, outputs):
        if self._binary:
            hits = tf.equal(tf.cast(outputs > 0.5, tf.float32), labels)
        else:
            hits = tf.equal(tf.argmax(outputs, axis=1, output_type=tf.int64), labels)
        return tf.reduce_mean(tf.cast(hits, tf.float32))

    def on_epoch_end(self, epoch, logs=None):
        grid, metrics = self._snapshot()
        self.grids.append(grid.numpy())
        self.metrics.append(metrics.numpy())


class _Progress(keras.callbacks.Callback):
    def __init__(self, report, epochs, language="en"):
        super().__init__()
        self._report, self._epochs, self._language = report, epochs, language

    def on_epoch_end(self, epoch, logs=None):
        done = f"{epoch + 1}/{self._epochs}"
        self._report((epoch + 1) / self._epochs, tr(self._language, f"epoch {done}", f"第 {done} 轮"))


def fit_with_snapshots(model, features, labels, snapshots, epochs, batch_size, seed, callbacks=()):
    """The playground's training loop: one model.fit with the snapshot callback."""
    model.fit(
        training_data(features, labels, batch_size, seed),
        epochs=epochs,
        verbose=0,
        shuffle=False,  # the dataset reshuffles itself, from the seed
        callbacks=[snapshots, *callbacks],
    )
    return snapshots


def train_playground(
    data: Dataset, params: Params, seed: int = 0, notes=(), progress=None, language: str = "en"
):
    """Build, train and record the playground's network on `data`; returns (model, PlaygroundResult).

    `progress(fraction, message)` hears of each epoch, the message in `language`.
    """
    features = ordered_features(params.features)
    hidden = parse_hidden(params.hidden)
    if params.batch_size > len(data.x_train):
        notes = [
            *notes,
            (
                f"Batch size {params.batch_size} is more than the {len(data.x_train)} training points: one batch per epoch.",
                f"批大小 {params.batch_size} 超过了 {len(data.x_train)} 个训练点：每轮只有一批。",
            ),
        ]
    x_train, x_test = feature_matrix(data.x_train, features), feature_matrix(data.x_test, features)
    grid_x, grid_y = grid_axes(np.concatenate([data.x_train, data.x_test]), params.resolution)
    grid = grid_points(grid_x, grid_y)
    model = build_model(params, len(features), data.n_classes, seed)
    snapshots = BoundarySnapshots(
        feature_matrix(grid, features), (x_train, data.y_train), (x_test, data.y_test), data.n_classes
    )
    extra = [_Progress(progress, params.epochs, language)] if progress is not None else []
    try:
        fit_with_snapshots(
            model,
            x_train,
            label_array(data.y_train, data.n_classes),
            snapshots,
            params.epochs,
            params.batch_size,
            seed,
            extra,
        )
    except (tf.errors.OpError, ValueError, TypeError) as exc:
        raise ModelError(
            f"Training with {params.optimizer} failed: {exc}",
            "pick another optimizer or a smaller learning rate.",
        ) from exc
    frames = np.stack([class_grid(g, len(grid_y), len(grid_x)) for g in snapshots.grids]).astype(np.float32)
    metrics = np.stack(snapshots.metrics)
    if not np.all(np.isfinite(metrics[:, :2])):
        notes = [
            *notes,
            (
                "The loss became NaN or infinite: the learning rate is too large for this optimizer.",
                "损失变成了 NaN 或无穷大：对这个优化器来说学习率太大了。",
            ),
        ]
    unit_x, unit_y = grid_axes(np.concatenate([data.x_train, data.x_test]), UNIT_MAP_RESOLUTION)
    unit_points = grid_points(unit_x, unit_y)
    unit_features = feature_matrix(unit_points, features)
    unit_maps = {}
    hidden_layers = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    if hidden_layers:
        probe = keras.Model(model.inputs, [layer.output for layer in hidden_layers])
        outputs = probe(tf.constant(unit_features), training=False)
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        for layer, values in zip(hidden_layers, outputs, strict=True):
            unit_maps[layer.name] = (
                np.asarray(values).T.reshape(-1, len(unit_y), len(unit_x)).astype(np.float32)
            )
    result = PlaygroundResult(
        dataset_name=data.name,
        class_names=tuple(data.class_names),
        class_names_zh=tuple(getattr(data, "class_names_zh", ())),
        features=features,
        hidden=hidden,
        activation=params.activation,
        optimizer=params.optimizer,
        learning_rate=params.learning_rate,
        regularization=params.regularization
        if params.regularization == "none"
        else f"{params.regularization} ({params.regularization_rate:g})",
        n_parameters=int(model.count_params()),
        x_train=np.asarray(data.x_train),
        y_train=np.asarray(data.y_train),
        x_test=np.asarray(data.x_test),
        y_test=np.asarray(data.y_test),
        grid_x=grid_x,
        grid_y=grid_y,
        frames=frames,
        train_loss=metrics[:, 0],
        test_loss=metrics[:, 1],
        train_accuracy=metrics[:, 2],
        test_accuracy=metrics[:, 3],
        unit_grid_x=unit_x,
        unit_grid_y=unit_y,
        unit_maps=unit_maps,
        feature_maps=unit_features.T.reshape(len(features), len(unit_y), len(unit_x)),
        page=dlviz.Page(tuple(dlviz.Note(*note) for note in notes), FORMULAS),
    )
    return model, result


# --------------------------------------------------------------------------- figures


def _describe(result: PlaygroundResult, language: str) -> str:
    layers = ", ".join(map(str, result.hidden)) or tr(language, "none", "无")
    penalty = tr(language, "none", "无") if result.regularization == "none" else result.regularization
    features = ", ".join(FEATURE_LABELS[f] for f in result.features)
    return tr(
        language,
        f"{result.dataset_name}; features {features}; hidden [{layers}] {result.activation}; "
        f"{result.optimizer} lr {result.learning_rate:g}; regularization {penalty}",
        f"{result.dataset_name}；特征 {features}；隐藏层 [{layers}] {result.activation}；"
        f"{result.optimizer} 学习率 {result.learning_rate:g}；正则化 {penalty}",
    )


def _frame_indices(result: PlaygroundResult) -> list[int]:
    per_frame = result.frames[0].size * 2  # heatmap and contour both carry the grid
    count = max(2, min(result.epochs, FIGURE_GRID_VALUES // per_frame))
    return sorted(set(np.linspace(0, result.epochs - 1, count).round().astype(int).tolist()))


def _animation(result: PlaygroundResult, language: str) -> go.Figure:
    shown = _frame_indices(result)
    last = shown[-1]
    names = tr_names(language, result.class_names, result.class_names_zh)
    boundary = boundary_traces(result.grid_x, result.grid_y, result.frames[last], names, language)
    points = point_traces(result.x_train, result.y_train, names, language) + point_traces(
        result.x_test, result.y_test, names, language, test=True
    )
    figure = go.Figure(boundary + points)

    def caption(index: int) -> str:
        return tr(
            language,
            f"epoch {index + 1}: test loss {result.test_loss[index]:.3f}, test accuracy {result.test_accuracy[index]:.0%}",
            f"第 {index + 1} 轮：测试损失 {result.test_loss[index]:.3f}，测试准确率 {result.test_accuracy[index]:.0%}",
        )

    figure.frames = [
        go.Frame(
            data=boundary_traces(result.grid_x, result.grid_y, result.frames[index], names, language),
            traces=list(range(len(boundary))),
            name=str(index + 1),
            layout={"annotations": [_caption_annotation(caption(index))]},
        )
        for index in shown
    ]
    figure.update_layout(
        title=tr(language, "Decision boundary over training: ", "决策边界随训练的变化：")
        + _describe(result, language),
        xaxis={
            "title": "x₁",
            "range": [float(result.grid_x[0]), float(result.grid_x[-1])],
            "constrain": "domain",
        },
        yaxis={
            "title": "x₂",
            "range": [float(result.grid_y[0]), float(result.grid_y[-1])],
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
        legend={
            "title": {"text": tr(language, "class (split)", "类别（数据划分）")},
            "y": 1.0,
            "yanchor": "top",
        },
        annotations=[_caption_annotation(caption(last))],
        height=620,
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0.0,
                "y": -0.12,
                "xanchor": "left",
                "buttons": [
                    {
                        "label": tr(language, "▶ play", "▶ 播放"),
                        "method": "animate",
                        "args": [None, {"frame": {"duration": 120, "redraw": True}, "fromcurrent": False}],
                    },
                    {
                        "label": tr(language, "❚❚ pause", "❚❚ 暂停"),
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": len(shown) - 1,
                "x": 0.18,
                "y": -0.08,
                "len": 0.8,
                "currentvalue": {"prefix": tr(language, "epoch ", "轮次 ")},
                "steps": [
                    {
                        "label": str(index + 1),
                        "method": "animate",
                        "args": [
                            [str(index + 1)],
                            {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"},
                        ],
                    }
                    for index in shown
                ],
            }
        ],
        margin={"b": 120},
    )
    return figure


def _caption_annotation(text: str) -> dict:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "bottom",
        "showarrow": False,
    }


def _losses(result: PlaygroundResult, language: str) -> go.Figure:
    epochs = np.arange(1, result.epochs + 1)
    figure = go.Figure(
        [
            go.Scatter(
                x=epochs,
                y=result.train_loss,
                mode="lines",
                name=tr(language, "training loss", "训练损失"),
                line={"color": "#4C78A8"},
            ),
            go.Scatter(
                x=epochs,
                y=result.test_loss,
                mode="lines",
                name=tr(language, "test loss", "测试损失"),
                line={"color": "#F58518", "dash": "dash"},
            ),
        ]
    )
    figure.update_layout(
        title=tr(
            language,
            f"Loss: training {result.train_loss[-1]:.3f}, test {result.test_loss[-1]:.3f} after {result.epochs} epochs "
            f"(accuracy {result.train_accuracy[-1]:.0%} / {result.test_accuracy[-1]:.0%})",
            f"损失：{result.epochs} 轮后训练 {result.train_loss[-1]:.3f}，测试 {result.test_loss[-1]:.3f}"
            f"（准确率 {result.train_accuracy[-1]:.0%} / {result.test_accuracy[-1]:.0%}）",
        ),
        xaxis_title=tr(language, "epoch", "轮次 (epoch)"),
        yaxis_title=tr(
            language,
            "cross-entropy (nats, inference mode, no penalty)",
            "交叉熵（nats，推理模式，不含惩罚项）",
        ),
        legend_title_text=tr(language, "split", "数据划分"),
    )
    return figure


def _unit_maps(result: PlaygroundResult, language: str) -> go.Figure:
    rows = [
        (
            tr(language, "input features", "输入特征"),
            result.feature_maps,
            [FEATURE_LABELS[f] for f in result.features],
        )
    ]
    for layer, maps in result.unit_maps.items():
        rows.append((layer, maps, [f"{layer} #{unit + 1}" for unit in range(len(maps))]))
    cols = min(MAX_UNITS_SHOWN, max(len(maps) for _, maps, _ in rows))
    titles = []
    for _, maps, labels in rows:
        titles += [labels[c] if c < len(maps) else "" for c in range(cols)]
    figure = make_subplots(
        rows=len(rows), cols=cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.08
    )
    for row, (_, maps, _) in enumerate(rows, start=1):
        for col in range(min(cols, len(maps))):
            values = maps[col]
            scale = float(np.max(np.abs(values))) or 1.0
            figure.add_trace(
                go.Heatmap(
                    x=result.unit_grid_x,
                    y=result.unit_grid_y,
                    z=np.round(values / scale, 3),
                    coloraxis="coloraxis",
                    customdata=np.round(values, 3),
                    hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>%{customdata}<extra></extra>",
                ),
                row=row,
                col=col + 1,
            )
    for index in range(1, len(rows) * cols + 1):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"xaxis{suffix}"].update(showticklabels=False)
        figure.layout[f"yaxis{suffix}"].update(showticklabels=False, scaleanchor=f"x{suffix}")
    figure.update_annotations(font_size=10)
    hidden_note = "" if result.unit_maps else tr(language, " (no hidden layer)", "（没有隐藏层）")
    figure.update_layout(
        title=tr(
            language,
            f"Units: each input feature and hidden unit over the plane (x₁ right, x₂ up){hidden_note}",
            f"各单元：每个输入特征和隐藏单元在平面上的响应（x₁ 向右，x₂ 向上）{hidden_note}",
        ),
        coloraxis={
            "colorscale": "RdBu_r",
            "cmin": -1.0,
            "cmax": 1.0,
            "cmid": 0.0,
            "colorbar": {
                "title": {
                    "text": tr(language, "output / max |output|", "输出 / 最大 |输出|"),
                    "side": "right",
                }
            },
        },
        height=170 * len(rows) + 120,
        width=max(600, 130 * cols + 160),
    )
    return figure
