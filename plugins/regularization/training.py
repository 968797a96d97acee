"""The regularization lesson's six variants of one MLP, trained from the same initial weights on the same
batches, and their evaluation."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz.datasets import Dataset
from dlviz.errors import ParamsError
from dlviz.plugin import tr
from plugins._shared.classes import predicted_classes
from plugins._shared.lessons import class_grid, grid_axes, grid_points
from plugins.regularization.result import FORMULAS, REGRESSION_FORMULAS, VARIANTS, RegularizationResult

if TYPE_CHECKING:
    from plugins.regularization.plugin import Params

GRID_RESOLUTION = 60
# Batch norm's running statistics follow the batches faster than Keras' default 0.99: training is short.
BATCH_NORM_MOMENTUM = 0.9


@dataclasses.dataclass
class TrainedVariant:
    """One trained variant: the Keras model it returns and its per-epoch history (arrays over epochs)."""

    model: keras.Model
    history: dict
    best_epoch: int
    stopped_epoch: int | None
    initial_kernels: np.ndarray


def task_loss(data: Dataset) -> keras.losses.Loss:
    """The data loss every variant trains on: Keras' mean squared error for regression targets (standardised
    ones, as the dataset keeps them), its cross-entropy for class labels."""
    if data.task == "regression":
        return keras.losses.MeanSquaredError()
    if data.is_binary:
        return keras.losses.BinaryCrossentropy()
    return keras.losses.SparseCategoricalCrossentropy()


def model_targets(data: Dataset, y: np.ndarray) -> np.ndarray:
    """`y` as the model's output is compared with it: a column per regression target or for a sigmoid unit,
    class ids for a softmax."""
    if data.task == "regression":
        return np.asarray(y, np.float32).reshape(len(y), -1)
    if data.is_binary:
        return np.asarray(y, np.float32)[:, None]
    return np.asarray(y, np.int64)


def build_variant(variant: str, data: Dataset, params: Params, seed: int) -> keras.Model:
    """The MLP of one variant, compiled with its own Adam; kernels seeded, so every variant starts equal.
    Its output is linear for regression (one unit per target), sigmoid or softmax for classes."""
    binary = data.is_binary
    regression = data.task == "regression"
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
        data.n_targets,
        activation="linear" if regression else "sigmoid" if binary else "softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(seeds[params.depth])),
        kernel_regularizer=penalty,
        name="output",
    )(hidden)
    model = keras.Model(inputs, outputs, name=f"mlp_{variant}")
    model.compile(optimizer=keras.optimizers.Adam(params.learning_rate), loss=task_loss(data))
    return model


def dense_keras_layers(model: keras.Model) -> list[keras.layers.Dense]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def kernels(model: keras.Model) -> np.ndarray:
    """Every kernel weight of the model's Dense layers, flattened (biases and batch norm excluded)."""
    return np.concatenate([np.ravel(layer.kernel.numpy()) for layer in dense_keras_layers(model)])


# Partial results after these shares of the epochs: an early one for a quick first view, then two more.
PARTIAL_SHARES = (0.1, 0.4, 0.7)


def train_variants(
    data: Dataset, params: Params, seed: int = 0, progress=None, language: str = "en", partial=None
) -> dict[str, TrainedVariant]:
    """Train the six variants from the same initial weights on the same batches, one compiled epoch for all.

    `progress(fraction, message)`, when given, hears how far training has come, the message in `language`;
    `partial(trained, done, epochs)`, when given, gets the variants trained so far after `done` epochs, at
    PARTIAL_SHARES of the epochs (their models still training: read them at once, never keep them).

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
    start = [layer.get_weights() for layer in dense_keras_layers(models["none"])]
    for model in models.values():
        for layer, weights in zip(dense_keras_layers(model), start, strict=True):
            layer.set_weights(weights)
        model.optimizer.build(model.trainable_variables)
    initial = {variant: kernels(model) for variant, model in models.items()}
    binary, regression = data.is_binary, data.task == "regression"
    loss = task_loss(data)
    x = tf.constant(np.asarray(data.x_train, np.float32))
    xv = tf.constant(np.asarray(data.x_test, np.float32))
    y, yv = tf.constant(model_targets(data, data.y_train)), tf.constant(model_targets(data, data.y_test))
    n = len(data.x_train)
    n_batches = -(-n // params.batch_size)

    def scores(model, features, targets):
        # One forward pass per split: the output tensor keeps its logits, from which Keras' cross-entropy
        # is exact even for confidently wrong predictions (a slice of it would fall back to clipped
        # probabilities).
        outputs = model(features, training=False)
        if regression:  # no accuracy for numbers: the curves are the losses alone
            return loss(targets, outputs), tf.constant(np.nan, tf.float32)
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
    partial_epochs = {round(share * params.epochs) for share in PARTIAL_SHARES} - {0, params.epochs}
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
        if partial is not None and index + 1 in partial_epochs:
            so_far = _trained(models, history, index + 1, min(es_epochs, index + 1), initial, regression)
            partial(so_far, index + 1, params.epochs)
    stopper.on_train_end()
    return _trained(models, history, params.epochs, es_epochs, initial, regression)


def _trained(models, history, epochs_run, es_epochs, initial, regression) -> dict[str, TrainedVariant]:
    """Each variant's model and curves after `epochs_run` epochs (early stopping's after `es_epochs`)."""
    trained = {}
    for position, (variant, model) in enumerate(models.items()):
        runs = es_epochs if variant == "early_stopping" else epochs_run
        curves = history[:runs, position]
        record = {"loss": curves[:, 0].copy(), "val_loss": curves[:, 2].copy()}
        if not regression:
            record.update(accuracy=curves[:, 1].copy(), val_accuracy=curves[:, 3].copy())
        trained[variant] = TrainedVariant(
            model=model,
            history=record,
            best_epoch=int(np.argmin(curves[:, 2])) + 1,
            stopped_epoch=es_epochs if variant == "early_stopping" and es_epochs < epochs_run else None,
            initial_kernels=initial[variant],
        )
    return trained


def loss_and_accuracy(
    model: keras.Model, data_x: np.ndarray, data_y: np.ndarray, binary: bool
) -> tuple[float, float]:
    """Data loss (Keras' cross-entropy, inference mode) and accuracy of `model` on one split."""
    outputs = model(tf.constant(np.asarray(data_x, np.float32)), training=False)
    if binary:
        targets = np.asarray(data_y, np.float32)[:, None]
        value = keras.losses.BinaryCrossentropy()(targets, outputs)
    else:
        value = keras.losses.SparseCategoricalCrossentropy()(np.asarray(data_y, np.int64), outputs)
    return float(value), float(np.mean(predicted_classes(outputs.numpy()) == np.asarray(data_y)))


@dataclasses.dataclass(frozen=True)
class RegressionScores:
    """A regressor's mean squared error on one split: on the standardised targets it trains on, and in the
    targets' own units (scaled by each target's standard deviation squared); its predictions in units."""

    mse: float
    mse_in_units: float
    predictions_in_units: np.ndarray


def regression_scores(model: keras.Model, data: Dataset, x: np.ndarray, y: np.ndarray) -> RegressionScores:
    """Keras' mean squared error of `model` (inference mode) on one split of a regression `data`."""
    outputs = model(tf.constant(np.asarray(x, np.float32)), training=False).numpy()
    targets = model_targets(data, y)
    in_units = data.in_target_units(outputs).reshape(targets.shape)
    targets_in_units = data.in_target_units(targets).reshape(targets.shape)
    mse = keras.losses.MeanSquaredError()
    return RegressionScores(
        mse=float(mse(targets, outputs)),
        mse_in_units=float(mse(targets_in_units, in_units)),
        predictions_in_units=in_units.astype(np.float32),
    )


def summarise(
    data: Dataset, params: Params, trained: dict[str, TrainedVariant], notes: list[str]
) -> RegularizationResult:
    """The lesson's result from the trained variants: final losses of the models they return, their
    kernels, and for 2-D class data their outputs on a grid (the decision boundaries); for regression their
    mean squared errors also in the targets' units and their validation predictions; `notes` go on its page."""
    binary, regression = data.is_binary, data.task == "regression"
    final_train, final_val, final_accuracy, weights = {}, {}, {}, {}
    train_units, val_units, predictions = {}, {}, {}
    for variant, run in trained.items():
        if regression:
            train = regression_scores(run.model, data, data.x_train, data.y_train)
            validation = regression_scores(run.model, data, data.x_test, data.y_test)
            final_train[variant], final_val[variant] = train.mse, validation.mse
            train_units[variant], val_units[variant] = train.mse_in_units, validation.mse_in_units
            predictions[variant] = validation.predictions_in_units
        else:
            final_train[variant], _ = loss_and_accuracy(run.model, data.x_train, data.y_train, binary)
            final_val[variant], final_accuracy[variant] = loss_and_accuracy(
                run.model, data.x_test, data.y_test, binary
            )
        weights[variant] = kernels(run.model)
    grid_x = grid_y = None
    grid_outputs = {}
    if data.kind == "points2d" and not regression:
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
        train_accuracy={v: run.history["accuracy"] for v, run in trained.items() if not regression},
        val_accuracy={v: run.history["val_accuracy"] for v, run in trained.items() if not regression},
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
        page=dlviz.Page(
            tuple(dlviz.Note(*note) for note in notes), FORMULAS + (REGRESSION_FORMULAS if regression else ())
        ),
        task=data.task,
        target_names=tuple(data.target_names),
        target_names_zh=tuple(data.target_names_zh),
        final_train_mse_in_units=train_units,
        final_val_mse_in_units=val_units,
        val_predictions_in_units=predictions,
        y_validation_in_units=(
            data.in_target_units(model_targets(data, data.y_test)).astype(np.float32) if regression else None
        ),
    )
