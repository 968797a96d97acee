"""The `regularization` lesson: one over-parameterised MLP on a few noisy samples, trained six ways from
the same initial weights, to show overfitting and what each regularizer does against it."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.subplots import make_subplots
from sklearn.model_selection import train_test_split

import dlviz
from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError, ParamsError
from dlviz.plugin import tr, tr_names
from plugins._shared.lessons import (
    boundary_traces,
    class_grid,
    grid_axes,
    grid_points,
    point_traces,
)

VARIANTS = ("none", "l1", "l2", "dropout", "batch_norm", "early_stopping")
VARIANT_NAMES = {
    "none": ("No regularization", "无正则化"),
    "l1": ("L1", "L1 正则化"),
    "l2": ("L2", "L2 正则化"),
    "dropout": ("Dropout", "随机失活 (dropout)"),
    "batch_norm": ("Batch norm", "批归一化 (batch norm)"),
    "early_stopping": ("Early stopping", "早停 (early stopping)"),
}
VARIANT_COLOURS = dict(
    zip(VARIANTS, ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#ff7f0e"), strict=True)
)
BUNDLED = ("moons", "circles", "xor", "gauss", "spirals")
# Held-out samples of a bundled set: many, so the validation loss measures generalisation, not luck.
VALIDATION_SAMPLES = 400
GRID_RESOLUTION = 60
HISTOGRAM_BINS = 61  # odd: one bin is centred on zero, where L1 piles the weights up
# Batch norm's running statistics follow the batches faster than Keras' default 0.99: training is short.
BATCH_NORM_MOMENTUM = 0.9
# A validation gap above this (in nats of cross-entropy) is reported as overfitting.
OVERFITTING_GAP = 0.15

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


@dataclasses.dataclass(frozen=True)
class Params:
    data: str = dlviz.param(
        "auto",
        label="Data",
        label_zh="数据",
        choices=("auto", *BUNDLED),
        help="auto: the loaded dataset when it is 2-D points or a table, else noisy moons. The others are "
        "bundled 2-D sets with the noise below.",
        help_zh="auto：已加载的数据集是二维点或表格时用它，否则用带噪声的 moons。其余为内置二维数据集，噪声见下。",
    )
    noise: float = dlviz.param(
        0.3,
        label="Noise (bundled sets)",
        label_zh="噪声（内置数据集）",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Standard deviation of the noise of a bundled set (capped at the set's own maximum).",
        help_zh="内置数据集的噪声标准差（不超过该数据集允许的最大值）。",
    )
    n_train: int = dlviz.param(
        100,
        label="Training samples",
        label_zh="训练样本数",
        min=10,
        max=1000,
        step=10,
        help="Few samples make overfitting easy to see; validation uses the held-out split.",
        help_zh="训练样本越少越容易看到过拟合；验证使用留出的测试集。",
    )
    width: int = dlviz.param(
        64,
        label="Units per hidden layer",
        label_zh="每个隐藏层的单元数",
        min=4,
        max=256,
        step=4,
        help="Width of every hidden layer: far more parameters than samples (over-parameterised).",
        help_zh="每个隐藏层的宽度：参数远多于样本（过参数化 (over-parameterised)）。",
    )
    depth: int = dlviz.param(
        2,
        label="Hidden layers",
        label_zh="隐藏层数",
        min=1,
        max=4,
        step=1,
        help="Dense ReLU layers.",
        help_zh="ReLU 全连接层的层数。",
    )
    epochs: int = dlviz.param(
        200,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=20,
        max=3000,
        step=10,
        help="Full passes over the training samples.",
        help_zh="遍历全部训练样本的次数。",
    )
    batch_size: int = dlviz.param(
        25,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Samples per update (Adam); batches are reshuffled every epoch with the seed.",
        help_zh="每次更新（Adam）所用的样本数；每轮按随机种子重新打乱。",
    )
    learning_rate: float = dlviz.param(
        0.01,
        label="Learning rate",
        label_zh="学习率",
        min=1e-4,
        max=1.0,
        log=True,
        help="Adam's learning rate, the same for every variant.",
        help_zh="Adam 的学习率，所有变体相同。",
    )
    l1: float = dlviz.param(
        1e-3,
        label="L1 strength λ₁",
        label_zh="L1 强度 λ₁",
        min=1e-6,
        max=1.0,
        log=True,
        help="keras.regularizers.L1 on every kernel of the L1 variant.",
        help_zh="L1 变体的每个权重矩阵使用 keras.regularizers.L1。",
    )
    l2: float = dlviz.param(
        1e-3,
        label="L2 strength λ₂",
        label_zh="L2 强度 λ₂",
        min=1e-6,
        max=1.0,
        log=True,
        help="keras.regularizers.L2 on every kernel of the L2 variant.",
        help_zh="L2 变体的每个权重矩阵使用 keras.regularizers.L2。",
    )
    dropout: float = dlviz.param(
        0.5,
        label="Dropout rate p",
        label_zh="失活率 p",
        min=0.05,
        max=0.9,
        step=0.05,
        help="Fraction of hidden units dropped at each training step of the dropout variant.",
        help_zh="dropout 变体每个训练步随机丢弃的隐藏单元比例。",
    )
    patience: int = dlviz.param(
        30,
        label="Early-stopping patience",
        label_zh="早停耐心值 (patience)",
        min=1,
        max=500,
        step=1,
        help="Epochs without a better validation loss before early stopping ends training and restores the best weights.",
        help_zh="验证损失连续这么多轮没有改善时，早停结束训练并恢复最佳权重。",
    )
    near_zero: float = dlviz.param(
        0.01,
        label="Near-zero threshold",
        label_zh="近零阈值",
        min=1e-6,
        max=0.5,
        log=True,
        help="Weights with |w| below this count as (near) zero in the histograms.",
        help_zh="|w| 小于此值的权重在直方图中计为（接近）零。",
    )


@dataclasses.dataclass(frozen=True)
class RegularizationResult:
    """Per variant (keys of VARIANTS): per-epoch curves, final losses of the returned model, kernels.

    Losses are the data loss (cross-entropy without the penalty) in inference mode (no dropout, batch norm
    with its running statistics), on the training samples and on the validation split, after every epoch.
    `gap` = final validation loss - final training loss of the model each variant returns (for early
    stopping: the restored best weights). `weights` are every kernel value after training; `initial_weights`
    the kernels all variants started from. 2-D data also keep the grid outputs for the decision boundaries.
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

    @property
    def most_overfit(self) -> str:
        return max(self.gap, key=self.gap.get)

    @property
    def best_variant(self) -> str:
        return min(self.final_val_loss, key=self.final_val_loss.get)


@dataclasses.dataclass
class TrainedVariant:
    """One trained variant: the Keras model it returns and its per-epoch history (arrays over epochs)."""

    model: keras.Model
    history: dict
    best_epoch: int
    stopped_epoch: int | None
    initial_kernels: np.ndarray


class Regularization(dlviz.Plugin):
    """Regularization lesson: the same over-parameterised MLP (far more weights than training samples) trained
    on a few noisy samples six ways from the same initial weights: without regularization, with L1 and L2
    weight penalties, dropout, batch normalization, and early stopping that restores the best weights. It
    shows training against validation loss with the overfitting gap marked, the weight histograms, and for
    2-D data the decision boundaries side by side. Everything is Keras' own: keras.regularizers.L1/L2,
    keras.layers.Dropout and BatchNormalization, keras.callbacks.EarlyStopping, the Adam optimizer.

    简介：正则化 (regularization) 课程：同一个过参数化的多层感知机（权重数量远多于训练样本）在少量带噪声的样本上，
    从相同的初始权重出发用六种方式训练：无正则化、L1 和 L2 权重惩罚、随机失活 (dropout)、批归一化 (batch
    normalization)，以及恢复最佳权重的早停 (early stopping)。图中给出训练损失与验证损失曲线并标出过拟合差距，
    各变体的权重直方图，二维数据还并排画出决策边界 (decision boundary)。所用的全是 Keras 自己的实现：
    keras.regularizers.L1/L2、keras.layers.Dropout 与 BatchNormalization、keras.callbacks.EarlyStopping、Adam 优化器。

    What to look for: without regularization the training loss keeps falling while the validation loss turns
    up after a few dozen epochs: the widening gap is overfitting (过拟合), and the decision boundary bends
    around single noisy points. L1 pushes most weights to (almost) exactly zero, a spike in the histogram,
    leaving a sparse network; L2 shrinks all weights towards zero without zeroing them. Dropout and batch
    normalization add noise to training and usually narrow the gap, but not always: on some data the
    dropout network, run whole at test time, grows overconfident and its validation loss climbs (try the
    breast_cancer table). Early stopping keeps the weights of the epoch with the lowest validation loss
    (the dotted line), so its gap is small by construction. The smoothest boundaries usually have the lowest
    validation loss.

    观察要点：没有正则化时，训练损失一直下降，而验证损失在几十轮之后掉头上升：两者之间不断扩大的差距就是过拟合
    (overfitting)，决策边界会绕着个别噪声点弯曲。L1 把大部分权重压到（几乎）恰好为零，直方图在零处出现尖峰，
    网络变得稀疏 (sparse)；L2 把所有权重向零收缩，但不会变成零。随机失活和批归一化给训练加入噪声，通常能缩小差距，但并非总是如此：在某些数据上，
    测试时完整运行的 dropout 网络会过于自信，验证损失反而上升（可以试试 breast_cancer 表格数据）。    早停保留验证损失最低那一轮（虚线）的权重，因此它的差距天然很小。边界越平滑的模型，验证损失通常越低。

    >>> import dlviz
    >>> result = dlviz.compute("regularization", epochs=40, width=16, data="moons")
    >>> result.dataset_name, len(result.train_loss["none"])
    ('moons', 40)
    >>> len(dlviz.get_plugin("regularization").figures(result))
    4
    """

    name = "regularization"
    title = "Regularization"
    title_zh = "正则化"
    section = "Lessons"
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> RegularizationResult:
        data, notes = lesson_data(ctx, params)
        trained = train_variants(data, params, seed=ctx.seed, progress=ctx.report, language=ctx.language)
        return summarise(data, params, trained, notes)

    def diagnose(self, result: RegularizationResult) -> list[dlviz.Finding]:
        gap = result.gap["none"]
        best = result.best_variant
        lowest, unregularised = result.final_val_loss[best], result.final_val_loss["none"]
        findings = []
        if gap > OVERFITTING_GAP:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Regularization lesson: the unregularised model overfits (validation − training loss {gap:.2f})",
                    f"Lowest validation loss: {VARIANT_NAMES[best][0]} ({lowest:.3f} against {unregularised:.3f}).",
                    headline_zh=f"正则化课程：无正则化的模型过拟合（验证损失 − 训练损失 = {gap:.2f}）",
                    advice_zh=f"验证损失最低的是{VARIANT_NAMES[best][1]}（{lowest:.3f}，无正则化为 {unregularised:.3f}）。",
                )
            )
        return findings

    def figures(self, result: RegularizationResult, language: str = "en") -> list[go.Figure]:
        figures = [_curves(result, language), _gap_bars(result, language), _histograms(result, language)]
        if result.grid_x is not None:
            figures.append(_boundaries(result, language))
        return figures



# --------------------------------------------------------------------------- data and training


def lesson_data(ctx: dlviz.Context, params: Params) -> tuple[Dataset, list[str]]:
    """The small training set and its validation split: the context's 2-D/tabular data or a bundled set."""
    notes: list[str] = []
    own = ctx.dataset
    if params.data == "auto" and own is not None and own.kind in ("points2d", "tabular"):
        x, y = np.asarray(own.x_train), np.asarray(own.y_train)
        if params.n_train < len(x):
            try:
                x, _, y, _ = train_test_split(
                    x, y, train_size=params.n_train, stratify=y, random_state=ctx.seed
                )
            except ValueError as exc:
                raise DataError(
                    f"Cannot draw {params.n_train} stratified training samples from {own.name!r}: {exc}",
                    "raise 'Training samples' to at least a few per class.",
                ) from exc
        else:
            notes.append(
                (
                    f"{own.name} has {len(x)} training samples: all are used.",
                    f"{own.name} 只有 {len(x)} 个训练样本：全部使用。",
                )
            )
        data = dataclasses.replace(own, x_train=x, y_train=y)
        return data, notes
    name = "moons" if params.data == "auto" else params.data
    limit = datasets.PARAMETERS[name]["noise"]["max"]
    noise = min(params.noise, limit)
    if noise < params.noise:
        notes.append(
            (
                f"{name} allows noise up to {limit}: {noise} used.",
                f"{name} 的噪声最大为 {limit}：使用 {noise}。",
            )
        )
    total = params.n_train + VALIDATION_SAMPLES
    data = datasets.load(
        name, seed=ctx.seed, n_samples=total, noise=noise, test_size=VALIDATION_SAMPLES / total
    )
    return data, notes


def build_variant(variant: str, data: Dataset, params: Params, seed: int) -> keras.Model:
    """The MLP of one variant, compiled with its own Adam; kernels seeded, so every variant starts equal."""
    binary = data.is_binary
    penalty = {"l1": keras.regularizers.L1(params.l1), "l2": keras.regularizers.L2(params.l2)}.get(variant)
    seeds = np.random.SeedSequence(seed).generate_state(params.depth + 2) & 0x7FFFFFFF
    inputs = keras.Input(shape=data.input_shape, name="input")
    hidden = keras.layers.Flatten(name="flatten")(inputs) if len(data.input_shape) > 1 else inputs
    for index in range(1, params.depth + 1):
        normalise = variant == "batch_norm"
        hidden = keras.layers.Dense(
            params.width,
            activation=None if normalise else "relu",
            kernel_initializer=keras.initializers.GlorotUniform(seed=int(seeds[index - 1])),
            kernel_regularizer=penalty,
            name=f"hidden_{index}",
        )(hidden)
        if normalise:
            hidden = keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"bn_{index}")(hidden)
            hidden = keras.layers.Activation("relu", name=f"relu_{index}")(hidden)
        if variant == "dropout":
            hidden = keras.layers.Dropout(
                params.dropout, seed=int(seeds[-1]) + index, name=f"dropout_{index}"
            )(hidden)
    outputs = keras.layers.Dense(
        1 if binary else data.n_classes,
        activation="sigmoid" if binary else "softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(seeds[params.depth])),
        kernel_regularizer=penalty,
        name="output",
    )(hidden)
    model = keras.Model(inputs, outputs, name=f"mlp_{variant}")
    model.compile(
        optimizer=keras.optimizers.Adam(params.learning_rate),
        loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy",
    )
    return model


def dense_layers(model: keras.Model) -> list[keras.layers.Dense]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def kernels(model: keras.Model) -> np.ndarray:
    """Every kernel weight of the model's Dense layers, flattened (biases and batch norm excluded)."""
    return np.concatenate([np.ravel(layer.kernel.numpy()) for layer in dense_layers(model)])


def train_variants(
    data: Dataset, params: Params, seed: int = 0, progress=None, language: str = "en"
) -> dict[str, TrainedVariant]:
    """Train the six variants from the same initial weights on the same batches, one compiled epoch for all.

    `progress(fraction, message)`, when given, hears how far training has come, the message in `language`.

    Early stopping is Keras' own EarlyStopping callback (monitor val_loss, restore_best_weights=True),
    told each epoch's validation loss; once it stops, its model is no longer updated and the callback
    restores its best weights at the end, as in model.fit.
    """
    if params.batch_size > len(data.x_train):
        raise ParamsError(
            f"Batch size {params.batch_size} exceeds the {len(data.x_train)} training samples.",
            f"use a batch size of at most {len(data.x_train)}.",
        )
    models = {variant: build_variant(variant, data, params, seed) for variant in VARIANTS}
    start = [layer.get_weights() for layer in dense_layers(models["none"])]
    for model in models.values():
        for layer, weights in zip(dense_layers(model), start, strict=True):
            layer.set_weights(weights)
        model.optimizer.build(model.trainable_variables)
    initial = {variant: kernels(model) for variant, model in models.items()}
    binary = data.is_binary
    loss = keras.losses.BinaryCrossentropy() if binary else keras.losses.SparseCategoricalCrossentropy()
    x = tf.constant(np.asarray(data.x_train, np.float32))
    xv = tf.constant(np.asarray(data.x_test, np.float32))
    labels = (lambda y: np.asarray(y, np.float32)[:, None]) if binary else (lambda y: np.asarray(y, np.int64))
    y, yv = tf.constant(labels(data.y_train)), tf.constant(labels(data.y_test))
    n = len(data.x_train)
    n_batches = -(-n // params.batch_size)

    def scores(model, features, targets):
        # One forward pass per split: the output tensor keeps its logits, from which Keras' cross-entropy
        # is exact even for confidently wrong predictions (a slice of it would fall back to clipped
        # probabilities).
        outputs = model(features, training=False)
        if binary:
            predicted = tf.cast(outputs > 0.5, tf.float32)
        else:
            predicted = tf.argmax(outputs, axis=1, output_type=tf.int64)
        return loss(targets, outputs), tf.reduce_mean(tf.cast(tf.equal(predicted, targets), tf.float32))

    def evaluation(model):
        """Loss and accuracy on the training and the validation samples."""
        return tf.stack([*scores(model, x, y), *scores(model, xv, yv)])

    def step(model, features, targets):
        with tf.GradientTape() as tape:
            outputs = model(features, training=True)
            total = loss(targets, outputs)
            if model.losses:
                total = total + tf.add_n(model.losses)
        variables = model.trainable_variables
        model.optimizer.apply(tape.gradient(total, variables), variables)

    @tf.function
    def epoch(order, early_stopping_active):
        # A graph loop over the batches, so each model's training step is traced once, not once per batch.
        for batch in tf.range(n_batches):
            chosen = order[batch * params.batch_size : tf.minimum((batch + 1) * params.batch_size, n)]
            features, targets = tf.gather(x, chosen), tf.gather(y, chosen)
            for variant, model in models.items():
                if variant != "early_stopping":
                    step(model, features, targets)
            if early_stopping_active:
                step(models["early_stopping"], features, targets)
        return tf.stack([evaluation(model) for model in models.values()])

    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=params.patience, restore_best_weights=True
    )
    stopper.set_model(models["early_stopping"])
    stopper.on_train_begin()
    rng = np.random.default_rng(seed)
    history = np.zeros((params.epochs, len(VARIANTS), 4), np.float32)
    es_epochs = params.epochs
    for index in range(params.epochs):
        order = tf.constant(rng.permutation(n).astype(np.int32))
        active = index < es_epochs
        history[index] = epoch(order, tf.constant(active)).numpy()
        if active:
            es_index = VARIANTS.index("early_stopping")
            stopper.on_epoch_end(
                index,
                {"loss": float(history[index, es_index, 0]), "val_loss": float(history[index, es_index, 2])},
            )
            if models["early_stopping"].stop_training:
                es_epochs = index + 1
        if progress is not None and index % max(1, params.epochs // 10) == 0:
            progress(index / params.epochs, tr(language, "training six variants", "训练六个变体"))
    stopper.on_train_end()
    trained = {}
    for position, (variant, model) in enumerate(models.items()):
        runs = es_epochs if variant == "early_stopping" else params.epochs
        curves = history[:runs, position]
        trained[variant] = TrainedVariant(
            model=model,
            history={
                "loss": curves[:, 0].copy(),
                "accuracy": curves[:, 1].copy(),
                "val_loss": curves[:, 2].copy(),
                "val_accuracy": curves[:, 3].copy(),
            },
            best_epoch=int(np.argmin(curves[:, 2])) + 1,
            stopped_epoch=es_epochs if variant == "early_stopping" and es_epochs < params.epochs else None,
            initial_kernels=initial[variant],
        )
    return trained


def evaluate(model: keras.Model, data_x: np.ndarray, data_y: np.ndarray, binary: bool) -> tuple[float, float]:
    """Data loss (Keras' cross-entropy, inference mode) and accuracy of `model` on one split."""
    outputs = model(tf.constant(np.asarray(data_x, np.float32)), training=False)
    if binary:
        targets = np.asarray(data_y, np.float32)[:, None]
        value = keras.losses.BinaryCrossentropy()(targets, outputs)
        predicted = (outputs.numpy()[:, 0] > 0.5).astype(np.int64)
    else:
        value = keras.losses.SparseCategoricalCrossentropy()(np.asarray(data_y, np.int64), outputs)
        predicted = outputs.numpy().argmax(axis=1)
    return float(value), float(np.mean(predicted == np.asarray(data_y)))


def summarise(
    data: Dataset, params: Params, trained: dict[str, TrainedVariant], notes: list[str]
) -> RegularizationResult:
    binary = data.is_binary
    final_train, final_val, final_accuracy, weights = {}, {}, {}, {}
    for variant, run in trained.items():
        final_train[variant], _ = evaluate(run.model, data.x_train, data.y_train, binary)
        final_val[variant], final_accuracy[variant] = evaluate(run.model, data.x_test, data.y_test, binary)
        weights[variant] = kernels(run.model)
    grid_x = grid_y = None
    grid_outputs = {}
    if data.kind == "points2d":
        points = np.concatenate([data.x_train, data.x_test])
        grid_x, grid_y = grid_axes(points, GRID_RESOLUTION)
        grid = tf.constant(grid_points(grid_x, grid_y))
        for variant, run in trained.items():
            outputs = run.model(grid, training=False).numpy()
            grid_outputs[variant] = class_grid(outputs, len(grid_y), len(grid_x)).astype(np.float32)
    es = trained["early_stopping"]
    return RegularizationResult(
        dataset_name=data.name,
        kind=data.kind,
        class_names=tuple(data.class_names),
        class_names_zh=tuple(getattr(data, "class_names_zh", ())),
        n_train=len(data.x_train),
        n_validation=len(data.x_test),
        n_parameters=int(trained["none"].model.count_params()),
        settings={
            "l1": params.l1,
            "l2": params.l2,
            "dropout": params.dropout,
            "patience": params.patience,
            "learning_rate": params.learning_rate,
            "width": params.width,
            "depth": params.depth,
            "epochs": params.epochs,
            "batch_size": params.batch_size,
        },
        train_loss={v: run.history["loss"] for v, run in trained.items()},
        val_loss={v: run.history["val_loss"] for v, run in trained.items()},
        train_accuracy={v: run.history["accuracy"] for v, run in trained.items()},
        val_accuracy={v: run.history["val_accuracy"] for v, run in trained.items()},
        final_train_loss=final_train,
        final_val_loss=final_val,
        final_val_accuracy=final_accuracy,
        gap={v: final_val[v] - final_train[v] for v in trained},
        best_epoch={v: run.best_epoch for v, run in trained.items()},
        stopped_epoch=es.stopped_epoch,
        weights=weights,
        initial_weights=trained["none"].initial_kernels,
        near_zero_threshold=params.near_zero,
        near_zero={v: float(np.mean(np.abs(w) < params.near_zero)) for v, w in weights.items()},
        grid_x=grid_x,
        grid_y=grid_y,
        grid_outputs=grid_outputs,
        x_train=np.asarray(data.x_train),
        y_train=np.asarray(data.y_train),
        x_validation=np.asarray(data.x_test),
        y_validation=np.asarray(data.y_test),
        page=dlviz.Page(tuple(dlviz.Note(*note) for note in notes), FORMULAS),
    )


# --------------------------------------------------------------------------- figures


def _name(variant: str, language: str) -> str:
    return tr(language, *VARIANT_NAMES[variant])


def _strength(result: RegularizationResult, variant: str, language: str) -> str:
    settings = result.settings
    return {
        "l1": f"λ₁ = {settings['l1']:g}",
        "l2": f"λ₂ = {settings['l2']:g}",
        "dropout": f"p = {settings['dropout']:g}",
        "early_stopping": tr(language, f"patience {settings['patience']}", f"耐心值 {settings['patience']}"),
    }.get(variant, "")


def _panel_titles(result: RegularizationResult, language: str, extra) -> list[str]:
    titles = []
    for variant in VARIANTS:
        strength = _strength(result, variant, language)
        titles.append(f"{_name(variant, language)}{f' ({strength})' if strength else ''}{extra(variant)}")
    return titles


def _grid_figure(titles: list[str]) -> go.Figure:
    return make_subplots(
        rows=2, cols=3, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.14
    )


def _cell(index: int) -> dict:
    return {"row": index // 3 + 1, "col": index % 3 + 1}


def _curves(result: RegularizationResult, language: str) -> go.Figure:
    figure = _grid_figure(
        _panel_titles(
            result,
            language,
            lambda v: tr(language, f": gap {result.gap[v]:.2f}", f"：差距 {result.gap[v]:.2f}"),
        )
    )
    top = max(float(np.max(result.val_loss[v])) for v in VARIANTS)
    top = min(top, 4.0 * max(result.final_val_loss.values())) * 1.08
    for index, variant in enumerate(VARIANTS):
        epochs = np.arange(1, len(result.train_loss[variant]) + 1)
        first = index == 0
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=result.train_loss[variant],
                mode="lines",
                line={"color": "#4C78A8"},
                name=tr(language, "training loss", "训练损失"),
                legendgroup="train",
                showlegend=first,
            ),
            **_cell(index),
        )
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=result.val_loss[variant],
                mode="lines",
                line={"color": "#F58518"},
                fill="tonexty",
                fillcolor="rgba(214, 39, 40, 0.15)",
                name=tr(language, "validation loss (gap shaded)", "验证损失（阴影为差距）"),
                legendgroup="val",
                showlegend=first,
            ),
            **_cell(index),
        )
        best = result.best_epoch[variant]
        label = (
            tr(language, f"restored: epoch {best}", f"恢复：第 {best} 轮")
            if variant == "early_stopping"
            else tr(language, f"lowest val: {best}", f"验证最低：{best}")
        )
        figure.add_vline(
            x=best,
            line_dash="dot",
            line_color="#54A24B",
            annotation_text=label,
            annotation_font_size=10,
            annotation_position="top right",
            **_cell(index),
        )
        end = best if variant == "early_stopping" else len(epochs)
        train_end, val_end = result.final_train_loss[variant], result.final_val_loss[variant]
        figure.add_trace(
            go.Scatter(
                x=[end, end],
                y=[train_end, val_end],
                mode="lines+markers",
                line={"color": "#d62728", "width": 3},
                marker={"symbol": "line-ew", "size": 10, "line": {"width": 2, "color": "#d62728"}},
                name=tr(language, "overfitting gap of the returned model", "返回模型的过拟合差距"),
                legendgroup="gap",
                showlegend=first,
                hovertemplate=tr(
                    language, "gap %{customdata:.3f}<extra></extra>", "差距 %{customdata:.3f}<extra></extra>"
                ),
                customdata=[val_end - train_end] * 2,
            ),
            **_cell(index),
        )
    if result.stopped_epoch is not None:
        figure.add_vline(
            x=result.stopped_epoch,
            line_dash="dash",
            line_color="grey",
            annotation_text=tr(language, f"stopped: {result.stopped_epoch}", f"停止：{result.stopped_epoch}"),
            annotation_font_size=10,
            annotation_position="bottom right",
            **_cell(VARIANTS.index("early_stopping")),
        )
    figure.update_xaxes(range=[0, result.settings["epochs"] + 1])
    figure.update_xaxes(title_text=tr(language, "epoch", "轮次 (epoch)"), row=2)
    figure.update_yaxes(range=[0, top])
    figure.update_yaxes(title_text=tr(language, "cross-entropy (nats)", "交叉熵 (nats)"), col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Training vs validation loss: {result.dataset_name}, {result.n_train} training samples, "
            f"{result.n_parameters:,} parameters",
            f"训练损失与验证损失：{result.dataset_name}，{result.n_train} 个训练样本，{result.n_parameters:,} 个参数",
        ),
        legend={"orientation": "h", "y": -0.12},
        height=680,
    )
    return figure


def _gap_bars(result: RegularizationResult, language: str) -> go.Figure:
    names = [_name(v, language) for v in VARIANTS]
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=[result.final_train_loss[v] for v in VARIANTS],
                name=tr(language, "training loss", "训练损失"),
                marker_color="#4C78A8",
            ),
            go.Bar(
                x=names,
                y=[result.final_val_loss[v] for v in VARIANTS],
                name=tr(language, "validation loss", "验证损失"),
                marker_color="#F58518",
                text=[
                    tr(
                        language,
                        f"gap {result.gap[v]:.2f}<br>acc {result.final_val_accuracy[v]:.0%}",
                        f"差距 {result.gap[v]:.2f}<br>准确率 {result.final_val_accuracy[v]:.0%}",
                    )
                    for v in VARIANTS
                ],
                textposition="outside",
            ),
        ]
    )
    best = result.best_variant
    figure.update_layout(
        barmode="group",
        title=tr(
            language,
            f"Overfitting gap of each returned model (lowest validation loss: {_name(best, language)})",
            f"各返回模型的过拟合差距（验证损失最低：{_name(best, language)}）",
        ),
        xaxis_title=tr(language, "variant (same initial weights)", "变体（相同的初始权重）"),
        yaxis_title=tr(language, "cross-entropy after training (nats)", "训练结束时的交叉熵 (nats)"),
        legend_title_text=tr(language, "split", "数据划分"),
    )
    return figure


def _histograms(result: RegularizationResult, language: str) -> go.Figure:
    threshold = result.near_zero_threshold
    titles = _panel_titles(
        result,
        language,
        lambda v: tr(language, f": {result.near_zero[v]:.0%} near 0", f"：{result.near_zero[v]:.0%} 接近 0"),
    )
    figure = _grid_figure(titles)
    limit = float(
        np.quantile(np.abs(np.concatenate([result.initial_weights, *result.weights.values()])), 0.995)
    )
    edges = np.linspace(-limit, limit, HISTOGRAM_BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    initial = np.histogram(np.clip(result.initial_weights, -limit, limit), edges)[0] / len(
        result.initial_weights
    )
    for index, variant in enumerate(VARIANTS):
        weights = result.weights[variant]
        counts = np.histogram(np.clip(weights, -limit, limit), edges)[0] / len(weights)
        figure.add_trace(
            go.Bar(
                x=centres,
                y=100 * counts,
                width=edges[1] - edges[0],
                marker_color=VARIANT_COLOURS[variant],
                name=_name(variant, language),
                showlegend=False,
                hovertemplate="w ≈ %{x:.3f}: %{y:.1f}%<extra></extra>",
            ),
            **_cell(index),
        )
        figure.add_trace(
            go.Scatter(
                x=centres,
                y=100 * initial,
                mode="lines",
                line={"color": "grey", "shape": "hvh", "width": 1},
                name=tr(language, "initial weights (all variants)", "初始权重（所有变体相同）"),
                legendgroup="initial",
                showlegend=index == 0,
            ),
            **_cell(index),
        )
        figure.add_vrect(
            x0=-threshold, x1=threshold, fillcolor="rgba(0,0,0,0.08)", line_width=0, **_cell(index)
        )
    figure.update_xaxes(title_text=tr(language, "kernel weight value", "权重值"), row=2)
    figure.update_yaxes(type="log", dtick=1, range=[-2, 2.05])
    figure.update_yaxes(title_text=tr(language, "% of weights (log scale)", "权重占比 %（对数刻度）"), col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Weight histograms after training (grey band: |w| < {threshold:g}; values beyond ±{limit:.2f} in the end bins)",
            f"训练后的权重直方图（灰色带：|w| < {threshold:g}；超出 ±{limit:.2f} 的值计入两端的柱）",
        ),
        legend={"orientation": "h", "y": -0.12},
        height=640,
        bargap=0,
    )
    return figure


def _boundaries(result: RegularizationResult, language: str) -> go.Figure:
    titles = _panel_titles(
        result,
        language,
        lambda v: tr(
            language,
            f": val acc {result.final_val_accuracy[v]:.0%}",
            f"：验证准确率 {result.final_val_accuracy[v]:.0%}",
        ),
    )
    figure = _grid_figure(titles)
    for index, variant in enumerate(VARIANTS):
        for trace in boundary_traces(
            result.grid_x,
            result.grid_y,
            result.grid_outputs[variant],
            tr_names(language, result.class_names, result.class_names_zh),
            language,
            show_scale=index == 0,
        ):
            figure.add_trace(trace, **_cell(index))
        for trace in point_traces(
            result.x_train,
            result.y_train,
            tr_names(language, result.class_names, result.class_names_zh),
            language,
            show_legend=index == 0,
        ):
            figure.add_trace(trace, **_cell(index))
    for index in range(1, 7):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", scaleratio=1)
    figure.update_xaxes(title_text="x₁", row=2)
    figure.update_yaxes(title_text="x₂", col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Decision boundaries side by side (the {result.n_train} training points shown)",
            f"决策边界并排比较（图中为 {result.n_train} 个训练点）",
        ),
        legend={"orientation": "h", "y": -0.1},
        height=700,
    )
    return figure
