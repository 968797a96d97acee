"""The initialization lesson's models: one MLP of `dlviz.models.build` per initialiser, measured at step 0
by one eager pass, then trained by `model.fit` on the same shuffled batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz import datasets, models
from dlviz.datasets import Dataset
from dlviz.errors import ParamsError
from dlviz.plugin import tr
from plugins.initialization.result import FORMULAS, INITIALIZER_NAMES, InitializationResult

if TYPE_CHECKING:
    from plugins.initialization.plugin import Params

BUNDLED = ("moons", "circles", "spirals", "xor", "gauss")
PROBE_SAMPLES = 256
# Validation samples whose first-hidden-layer outputs the symmetry picture shows.
SHOWN_SAMPLES = 24
# Units whose incoming weights and bias agree to this many decimals count as one.
UNIT_DECIMALS = 6


def lesson_data(ctx: dlviz.Context, params: Params) -> Dataset:
    """The context's 2-D or tabular classification set for "auto" when there is one, else a bundled set."""
    own = ctx.dataset
    usable = own is not None and own.kind in ("points2d", "tabular") and own.task == "classification"
    if params.data == "auto" and usable:
        return own
    name = "moons" if params.data == "auto" else params.data
    return datasets.load(name, seed=ctx.seed, n_samples=params.samples)


def build_model(data: Dataset, params: Params, initializer: str, seed: int) -> keras.Model:
    """The lesson's MLP drawn by `initializer`, compiled with plain SGD (no adaptive step hides a bad start)."""
    return models.build(
        "mlp",
        data,
        hidden=(params.width,) * params.depth,
        activation=params.activation,
        optimizer="sgd",
        learning_rate=params.learning_rate,
        initializer=initializer,
        seed=seed,
    )


def dense_names(model: keras.Model) -> tuple[str, ...]:
    return tuple(layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense))


def dense_outputs(model: keras.Model, x) -> dict[str, tf.Tensor]:
    """Every Dense layer's output on `x` (inference mode), by calling the Sequential model's layers in turn."""
    outputs, h = {}, x
    for layer in model.layers:
        h = layer(h, training=False)
        if isinstance(layer, keras.layers.Dense):
            outputs[layer.name] = h
    return outputs


def step_zero(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per Dense layer: output spread, kernel-gradient norm and kernel spread of the untrained model.

    One eager pass of the layers under a tf.GradientTape gives the outputs and the gradient of the compiled
    loss (`model.compute_loss`) together: a single batch does not repay tracing a graph.
    """
    names = dense_names(model)
    layers = [model.get_layer(name) for name in names]
    x = tf.constant(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        outputs = dense_outputs(model, x)
        loss = model.compute_loss(x=x, y=np.reshape(y, (len(y), -1)), y_pred=outputs[names[-1]])
    gradients = tape.gradient(loss, [layer.kernel for layer in layers])
    return (
        np.array([float(np.std(outputs[name].numpy())) for name in names]),
        np.array([float(np.linalg.norm(np.asarray(g, np.float64))) for g in gradients]),
        np.array([float(np.std(layer.kernel.numpy())) for layer in layers]),
    )


def distinct_units(layer: keras.layers.Dense) -> int:
    """How many different units a Dense layer has: its units' incoming weights and bias, compared."""
    units = np.vstack([layer.kernel.numpy(), layer.bias.numpy()[None, :]]).T
    return int(len(np.unique(np.round(units, UNIT_DECIMALS), axis=0)))


def batches(data: Dataset, batch_size: int, seed: int) -> tf.data.Dataset:
    """The training split in batches reshuffled every epoch in the same seeded order for every model."""
    x = np.asarray(data.x_train, np.float32)
    return (
        tf.data.Dataset.from_tensor_slices((x, np.asarray(data.y_train)))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )


def finite_curve(values) -> np.ndarray:
    """A history curve with every value from the first non-finite one on as NaN (a diverged run)."""
    curve = np.asarray(values, np.float64)
    bad = np.flatnonzero(~np.isfinite(curve))
    if len(bad):
        curve[bad[0] :] = np.nan
    return curve


def compute_initialization(ctx: dlviz.Context, params: Params) -> InitializationResult:
    """Measure and train the lesson's MLP once per chosen initialiser (see `InitializationResult`)."""
    initializers = tuple(name for name in models.INITIALIZERS if name in params.initializers)
    if not initializers:
        raise ParamsError("No initialiser chosen.", "pick at least one initialiser.")
    data = lesson_data(ctx, params)
    if params.batch_size > len(data.x_train):
        raise ParamsError(
            f"Batch size {params.batch_size} exceeds the {len(data.x_train)} training samples.",
            f"use a batch size of at most {len(data.x_train)}.",
        )
    probe_x, probe_y = data.x_train[:PROBE_SAMPLES], data.y_train[:PROBE_SAMPLES]
    shown = np.asarray(data.x_test[:SHOWN_SAMPLES], np.float32)
    rows: list[tuple[np.ndarray, ...]] = []
    train_loss, val_loss, val_accuracy, unit_outputs = {}, {}, {}, {}
    counts = []
    fan_in = (int(np.prod(data.input_shape)),) + (params.width,) * params.depth

    def result(trained: tuple[str, ...], layers: tuple[str, ...]) -> InitializationResult:
        """The lesson on the initialisers trained so far (a page draws each one as soon as it exists)."""
        return InitializationResult(
            dataset_name=data.name,
            activation=params.activation,
            depth=params.depth,
            width=params.width,
            epochs=params.epochs,
            batch_size=params.batch_size,
            learning_rate=params.learning_rate,
            initializers=trained,
            layers=layers,
            fan_in=fan_in,
            activation_std=np.stack([row[0] for row in rows]),
            gradient_norms=np.stack([row[1] for row in rows]),
            weight_std=np.stack([row[2] for row in rows]),
            train_loss=dict(train_loss),
            val_loss=dict(val_loss),
            val_accuracy=dict(val_accuracy),
            distinct_units=np.array(counts),
            unit_outputs=dict(unit_outputs),
            page=dlviz.Page(notes=notes(data, params), formulas=FORMULAS),
        )

    for index, name in enumerate(initializers):
        english, chinese = INITIALIZER_NAMES[name]
        ctx.report(
            index / len(initializers), tr(ctx.language, f"training from {english}", f"训练：{chinese}")
        )
        model = build_model(data, params, name, ctx.seed)
        rows.append(step_zero(model, probe_x, probe_y))
        history = model.fit(
            batches(data, params.batch_size, ctx.seed),
            validation_data=(data.x_test, data.y_test),
            epochs=params.epochs,
            shuffle=False,  # the batches shuffle themselves, in the same order for every model
            verbose=0,
        ).history
        train_loss[name] = finite_curve(history["loss"])
        val_loss[name] = finite_curve(history["val_loss"])
        val_accuracy[name] = finite_curve(history["val_accuracy"])
        hidden = [model.get_layer(layer) for layer in dense_names(model)[:-1]]
        counts.append([distinct_units(layer) for layer in hidden])
        unit_outputs[name] = dense_outputs(model, shown)[hidden[0].name].numpy()
        if index + 1 < len(initializers):
            ctx.report_partial(
                result(initializers[: index + 1], dense_names(model)),
                index + 1,
                len(initializers),
                tr(ctx.language, f"trained from {english}", f"已训练：{chinese}"),
            )
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return result(initializers, dense_names(model))


def notes(data: Dataset, params: Params) -> tuple[dlviz.Note, ...]:
    return (
        dlviz.Note(
            f"{params.depth} hidden layers of {params.width} {params.activation} units on {data.name} "
            f"({len(data.x_train)} training samples), built by dlviz.models.build with each initialiser of "
            f"keras.initializers and the same seed; biases start at zero. Step 0: one batch of up to "
            f"{PROBE_SAMPLES} training samples. Training: SGD, learning rate {params.learning_rate:g}, "
            f"batch size {params.batch_size}, the same shuffled batches for every initialiser.",
            f"{data.name} 数据（{len(data.x_train)} 个训练样本）上 {params.depth} 个隐藏层、每层 {params.width} 个 "
            f"{params.activation} 单元，由 dlviz.models.build 以 keras.initializers 中的各初始化方法和相同的随机种子"
            f"构建；偏置从零开始。第 0 步：最多 {PROBE_SAMPLES} 个训练样本的一批。训练：SGD，学习率 "
            f"{params.learning_rate:g}，批大小 {params.batch_size}，每种初始化使用相同的打乱批次。",
        ),
    )
