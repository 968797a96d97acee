"""The normalization lesson's variants: scikit-learn's scalers on the features or a Keras normalisation
layer in the model, one small classifier each from the same initial weights, trained by `model.fit`;
curvature by tf.GradientTape, loss surfaces by the landscape plugin's BatchedLoss."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import dlviz
from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError
from dlviz.plugin import tr
from plugins.landscape.directions import flat_weights
from plugins.landscape.evaluation import BatchedLoss
from plugins.normalization.result import FORMULAS, VARIANT_NAMES, VARIANTS, NormalizationResult

if TYPE_CHECKING:
    from plugins.normalization.plugin import Params

BUNDLED = ("breast_cancer", "wine")
# Variants whose features go through a scaler; the others keep raw features and normalise inside.
SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}
SURFACE_VARIANTS = ("raw", "standard", "minmax")
SURFACE_POINTS = 41


def raw_features(ctx: dlviz.Context, params: Params) -> Dataset:
    """The chosen tabular set with its features back in their own units (the bundled sets are standardised)."""
    own = ctx.dataset
    if params.data == "auto" and own is not None and own.kind == "tabular" and own.task == "classification":
        data = own
    else:
        data = datasets.load("breast_cancer" if params.data == "auto" else params.data, seed=ctx.seed)
    if data.scaler is None:
        return data
    return Dataset.from_arrays(
        data.scaler.inverse_transform(data.x_train),
        data.y_train,
        x_test=data.scaler.inverse_transform(data.x_test),
        y_test=data.y_test,
        name=data.name,
        kind="tabular",
        feature_names=data.feature_names,
        class_names=data.class_names,
        class_names_zh=data.class_names_zh,
        standardize=False,
    )


def features(variant: str, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation features of a variant: scaled by its scikit-learn scaler, or raw."""
    x_train, x_test = np.asarray(data.x_train, np.float32), np.asarray(data.x_test, np.float32)
    if variant not in SCALERS:
        return x_train, x_test
    scaler = SCALERS[variant]().fit(x_train)
    return scaler.transform(x_train).astype(np.float32), scaler.transform(x_test).astype(np.float32)


def build_model(variant: str, data: Dataset, params: Params, seed: int) -> keras.Model:
    """Features [→ normalisation layer] → Dense output; the Dense kernel seeded, so all variants start equal."""
    binary = data.is_binary
    inputs = keras.Input(shape=data.input_shape, name="input")
    hidden = inputs
    if variant == "batch_norm":
        hidden = keras.layers.BatchNormalization(name="batch_norm")(hidden)
    elif variant == "layer_norm":
        hidden = keras.layers.LayerNormalization(name="layer_norm")(hidden)
    outputs = keras.layers.Dense(
        1 if binary else data.n_classes,
        activation="sigmoid" if binary else "softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name="output",
    )(hidden)
    model = keras.Model(inputs, outputs, name=f"classifier_{variant}")
    model.compile(
        optimizer=keras.optimizers.SGD(params.learning_rate),
        loss=keras.losses.BinaryCrossentropy() if binary else keras.losses.SparseCategoricalCrossentropy(),
    )
    return model


def hessian_eigenvalues(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Eigenvalues of the Hessian of the compiled loss in all trainable weights, in training mode (batch
    normalisation uses the batch's statistics, as the first update does), by nested tf.GradientTape."""
    variables = model.trainable_variables
    x, y = tf.constant(x), tf.constant(model_targets(model, y))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = model.loss(y, model(x, training=True))
        gradient = tf.concat([tf.reshape(part, [-1]) for part in inner.gradient(loss, variables)], axis=0)
    blocks = outer.jacobian(gradient, variables)
    hessian = tf.concat([tf.reshape(block, [gradient.shape[0], -1]) for block in blocks], axis=1).numpy()
    return np.linalg.eigvalsh((hessian + hessian.T).astype(np.float64) / 2)


def model_targets(model: keras.Model, y: np.ndarray) -> np.ndarray:
    return np.asarray(y, np.float32)[:, None] if model.output_shape[-1] == 1 else np.asarray(y)


def surface(
    model: keras.Model, x: np.ndarray, y: np.ndarray, indices: tuple[int, int], offsets
) -> np.ndarray:
    """Training loss on the grid of offsets of two output-kernel weights from their initial values."""
    handle = dlviz.wrap(model)
    evaluator = BatchedLoss(handle, x, y)
    centre = flat_weights(model)
    directions = np.zeros((2, evaluator.n_params), np.float32)
    for row, index in enumerate(indices):
        directions[row, index] = (
            1.0  # the kernel comes first among the trainable weights of a Dense-only model
        )
    grid = np.stack(np.meshgrid(offsets, offsets), axis=-1).reshape(-1, 2)
    return evaluator.losses(centre, directions, grid).reshape(len(offsets), len(offsets)).astype(np.float64)


def train_variants(ctx: dlviz.Context, params: Params) -> NormalizationResult:
    variants = tuple(variant for variant in VARIANTS if variant in params.variants)
    if not variants:
        raise dlviz.ParamsError("No variant chosen.", "pick at least one variant.")
    data = raw_features(ctx, params)
    if data.kind != "tabular":
        raise DataError(f"{data.name} is not a table of features.", "choose breast_cancer or wine.")
    spread = np.asarray(data.x_train, np.float64).std(axis=0)
    steep, flat = int(np.argmax(spread)), int(np.argmin(spread))
    names = data.feature_names
    n_outputs = 1 if data.is_binary else data.n_classes
    offsets = np.linspace(-params.surface_range, params.surface_range, SURFACE_POINTS)
    train_loss, val_loss, eigenvalues, surfaces = {}, {}, {}, {}

    def result(trained: tuple[str, ...]) -> NormalizationResult:
        """The lesson on the variants trained so far (a page draws each one as soon as it exists)."""
        return NormalizationResult(
            dataset_name=data.name,
            variants=trained,
            epochs=params.epochs,
            learning_rate=params.learning_rate,
            feature_spread=spread,
            weight_features=(names[steep], names[flat]),
            train_loss=dict(train_loss),
            val_loss=dict(val_loss),
            eigenvalues=dict(eigenvalues),
            grid_offsets=offsets,
            surfaces=dict(surfaces),
            page=dlviz.Page(notes=notes(data, params, spread), formulas=FORMULAS),
        )

    for index, variant in enumerate(variants):
        english, chinese = VARIANT_NAMES[variant]
        ctx.report(index / len(variants), tr(ctx.language, f"training on {english}", f"训练：{chinese}"))
        x_train, x_test = features(variant, data)
        eigenvalues[variant] = hessian_eigenvalues(
            build_model(variant, data, params, ctx.seed), x_train, data.y_train
        )
        model = build_model(variant, data, params, ctx.seed)
        if variant in SURFACE_VARIANTS:
            indices = (steep * n_outputs, flat * n_outputs)
            surfaces[variant] = surface(model, x_train, data.y_train, indices, offsets)
        history = model.fit(
            x_train,
            data.y_train,
            validation_data=(x_test, data.y_test),
            epochs=params.epochs,
            batch_size=params.batch_size,
            shuffle=False,  # the same batches for every variant
            verbose=0,
        ).history
        train_loss[variant] = np.asarray(history["loss"], np.float64)
        val_loss[variant] = np.asarray(history["val_loss"], np.float64)
        if index + 1 < len(variants):
            ctx.report_partial(
                result(variants[: index + 1]),
                index + 1,
                len(variants),
                tr(ctx.language, f"trained on {english}", f"已训练：{chinese}"),
            )
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return result(variants)


def notes(data: Dataset, params: Params, spread: np.ndarray) -> tuple[dlviz.Note, ...]:
    return (
        dlviz.Note(
            f"{data.name}: {len(spread)} features whose raw standard deviations range from {spread.min():.3g} to "
            f"{spread.max():.3g}. One Dense output layer (logistic regression) per variant, the same initial "
            f"kernel, SGD with learning rate {params.learning_rate:g}, batch size {params.batch_size}, the same "
            "batches. Curvature: Hessian eigenvalues of the training loss at the initial weights. Surfaces: "
            "the training loss when only the two output weights of the steepest and the flattest feature move.",
            f"{data.name}：{len(spread)} 个特征，原始标准差从 {spread.min():.3g} 到 {spread.max():.3g}。每个变体一个 "
            f"Dense 输出层（逻辑回归），初始权重相同，SGD 学习率 {params.learning_rate:g}，批大小 {params.batch_size}，"
            "批次相同。曲率：初始权重处训练损失的 Hessian 特征值。曲面：只改变最陡与最平坦两个特征的输出权重时的训练损失。",
        ),
    )
