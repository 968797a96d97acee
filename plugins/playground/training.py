"""The playground's network and its training, recorded at every epoch's end.

The decision boundary's animation comes from ONE `model.fit`: a small callback evaluates the model on
the grid, the training and the test points at the end of every epoch, in one compiled function call,
so watching costs little more than training (bench/playground.py measures it against a plain fit).
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz.datasets import Dataset
from dlviz.errors import ModelError, ParamsError
from dlviz.plugin import tr
from plugins._shared.lessons import class_grid, grid_axes, grid_points
from plugins.playground.data import feature_matrix, ordered_features
from plugins.playground.result import FORMULAS, REGRESSION_FORMULAS, PlaygroundResult

if TYPE_CHECKING:
    from plugins.playground.plugin import Params

UNIT_MAP_RESOLUTION = 30
# The class count of a regression set (it names no classes): one linear output trained on the MSE.
REGRESSION = 0
# Points of a 1-D curve per grid point per side of a 2-D map (a curve needs more to look smooth).
CURVE_POINTS_PER_SIDE = 4


def parse_hidden(text: str) -> tuple[int, ...]:
    """'4, 2' -> (4, 2); empty -> (); anything else raises ParamsError."""
    parts = [part for part in re.split(r"[,\s]+", str(text).strip()) if part]
    if not all(part.isdigit() and 1 <= int(part) <= 64 for part in parts) or len(parts) > 6:
        raise ParamsError(
            f"Hidden layers {text!r} are not a list of unit counts.",
            "write up to 6 whole numbers from 1 to 64 separated by commas, e.g. '4, 2', or leave it empty.",
        )
    return tuple(int(part) for part in parts)


def build_model(params: Params, n_features: int, n_classes: int, seed: int) -> keras.Model:
    """The playground's network: Dense hidden layers, sigmoid (2 classes), softmax (more) or linear
    (`REGRESSION`) output, compiled with the matching loss."""
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
    binary, regression = n_classes == 2, n_classes == REGRESSION
    layers.append(
        keras.layers.Dense(
            1 if binary or regression else n_classes,
            activation="linear" if regression else "sigmoid" if binary else "softmax",
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
    if regression:
        model.compile(optimizer=optimizer, loss="mean_squared_error")
    else:
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
    """Labels as the loss wants them: (n, 1) float for a sigmoid or linear unit, (n,) ids for a softmax."""
    if n_classes in (2, REGRESSION):
        return np.asarray(y, np.float32).reshape(len(y), 1)
    return np.asarray(y, np.int64)


class BoundarySnapshots(keras.callbacks.Callback):
    """Records, at every epoch's end, the model's outputs on a grid and its loss and accuracy on the
    training and test points, with ONE call of a compiled function.

    Each split gets its own forward pass inside that function: a model output keeps the logits its
    sigmoid or softmax was computed from, and Keras' cross-entropy uses them (exact even for confidently
    wrong predictions, as in model.fit); a slice of one shared output would fall back to clipped
    probabilities. A regressor (`REGRESSION`) gets the mean squared error and no accuracy.
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
        self._binary, self._regression = n_classes == 2, n_classes == REGRESSION
        if self._regression:
            self._loss = keras.losses.MeanSquaredError()
        elif self._binary:
            self._loss = keras.losses.BinaryCrossentropy()
        else:
            self._loss = keras.losses.SparseCategoricalCrossentropy()
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
        if self._regression:
            return grid, tf.stack([train_loss, test_loss])
        return grid, tf.stack([train_loss, test_loss, train_accuracy, test_accuracy])

    def _accuracy(self, labels, outputs):
        if self._regression:
            return None
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
    data: Dataset, params: Params, seed: int = 0, notes=(), progress=None, language: str = "en", partial=None
):
    """Build, train and record the playground's network on `data`; returns (model, PlaygroundResult).

    `progress(fraction, message)` hears of each epoch, the message in `language`; `partial(result, done,
    epochs)`, when given, gets the result so far after `done` epochs, at PARTIAL_SHARES of the epochs.
    """
    dimensions = data.x_train.shape[1]
    features = ordered_features(params.features, dimensions)
    dropped = sorted(set(params.features) - set(features))
    if dropped:
        notes = [
            *notes,
            (
                f"1-D points have x1 only: {', '.join(dropped)} left out.",
                f"一维数据点只有 x1：未使用 {', '.join(dropped)}。",
            ),
        ]
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
    points = np.concatenate([data.x_train, data.x_test])
    grid_x, grid_y, grid = _grid(points, params.resolution * CURVE_POINTS_PER_SIDE, params.resolution)
    model = build_model(params, len(features), data.n_classes, seed)
    snapshots = BoundarySnapshots(
        feature_matrix(grid, features), (x_train, data.y_train), (x_test, data.y_test), data.n_classes
    )
    recorded = _Recorded(data, params, model, snapshots, features, hidden, notes, points, grid_x, grid_y)
    extra = [_Progress(progress, params.epochs, language)] if progress is not None else []
    if partial is not None:
        extra.append(_Partial(recorded, partial, params.epochs))
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
    return model, recorded.result()


# Partial results after these shares of the epochs: an early one for a quick first view, then two more.
PARTIAL_SHARES = (0.1, 0.4, 0.7)


class _Partial(keras.callbacks.Callback):
    """Hands `partial(result, done, epochs)` the result so far at PARTIAL_SHARES of the epochs (it runs after
    the snapshot callback, so the epoch's frame is in)."""

    def __init__(self, recorded: _Recorded, partial, epochs: int):
        super().__init__()
        self._recorded, self._partial, self._epochs = recorded, partial, epochs
        self._at = {round(share * epochs) for share in PARTIAL_SHARES} - {0, epochs}

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self._at:
            self._partial(self._recorded.result(), epoch + 1, self._epochs)


@dataclasses.dataclass
class _Recorded:
    """What the playground records while its model trains; `result()` reads it at any epoch's end."""

    data: Dataset
    params: Params
    model: keras.Model
    snapshots: BoundarySnapshots
    features: tuple[str, ...]
    hidden: tuple[int, ...]
    notes: list
    points: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray

    def result(self) -> PlaygroundResult:
        data, params, model, snapshots, features = (
            self.data,
            self.params,
            self.model,
            self.snapshots,
            self.features,
        )
        notes, points, grid_x, grid_y = self.notes, self.points, self.grid_x, self.grid_y
        dimensions = data.x_train.shape[1]
        if data.n_classes == REGRESSION:
            shape = (len(grid_y), len(grid_x)) if dimensions == 2 else (len(grid_x),)
            frames = np.stack([g[:, 0].reshape(shape) for g in snapshots.grids]).astype(np.float32)
        else:
            frames = np.stack([class_grid(g, len(grid_y), len(grid_x)) for g in snapshots.grids]).astype(
                np.float32
            )
        metrics = np.stack(snapshots.metrics)
        if not np.all(np.isfinite(metrics[:, :2])):
            notes = [
                *notes,
                (
                    "The loss became NaN or infinite: the learning rate is too large for this optimizer.",
                    "损失变成了 NaN 或无穷大：对这个优化器来说学习率太大了。",
                ),
            ]
        unit_x, unit_y, unit_points = _grid(
            points, UNIT_MAP_RESOLUTION * CURVE_POINTS_PER_SIDE, UNIT_MAP_RESOLUTION
        )
        unit_shape = (len(unit_y), len(unit_x)) if dimensions == 2 else (len(unit_x),)
        unit_features = feature_matrix(unit_points, features)
        unit_maps = {}
        hidden_layers = [layer for layer in model.layers if layer.name.startswith("hidden_")]
        if hidden_layers:
            probe = keras.Model(model.inputs, [layer.output for layer in hidden_layers])
            outputs = probe(tf.constant(unit_features), training=False)
            outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
            for layer, values in zip(hidden_layers, outputs, strict=True):
                unit_maps[layer.name] = np.asarray(values).T.reshape(-1, *unit_shape).astype(np.float32)
        return PlaygroundResult(
            dataset_name=data.name,
            class_names=tuple(data.class_names),
            class_names_zh=tuple(getattr(data, "class_names_zh", ())),
            features=features,
            hidden=self.hidden,
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
            train_accuracy=metrics[:, 2] if metrics.shape[1] > 2 else np.zeros(0, np.float32),
            test_accuracy=metrics[:, 3] if metrics.shape[1] > 2 else np.zeros(0, np.float32),
            unit_grid_x=unit_x,
            unit_grid_y=unit_y,
            unit_maps=unit_maps,
            feature_maps=unit_features.T.reshape(len(features), *unit_shape),
            page=dlviz.Page(
                tuple(dlviz.Note(*note) for note in notes),
                REGRESSION_FORMULAS if data.n_classes == REGRESSION else FORMULAS,
            ),
            task=data.task,
            target_name=data.target_names[0] if data.target_names else "",
            target_name_zh=data.target_names_zh[0] if data.target_names_zh else "",
        )


def _grid(
    points: np.ndarray, curve_points: int, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x1 and x2 values over `points` and the grid's points: `resolution` per side for 2-D points, a
    `curve_points` line (x2 empty) for 1-D ones."""
    if points.shape[1] == 1:
        xs, _ = grid_axes(np.column_stack([points, points]), curve_points)
        return xs, np.zeros(0, np.float32), xs[:, None]
    xs, ys = grid_axes(points, resolution)
    return xs, ys, grid_points(xs, ys)
