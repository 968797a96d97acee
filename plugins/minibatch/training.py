"""The minibatch lesson's runs: one model of `dlviz.models.build` per batch size, all from the same seeded
initial weights, trained by `model.fit` with plain SGD; weights recorded along the way and evaluated on
the whole training set by the landscape plugin's `BatchedLoss`, projected on its PCA plane."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz import datasets, models
from dlviz.datasets import Dataset
from dlviz.errors import ParamsError
from dlviz.plugin import tr
from plugins.landscape.directions import covering_axis, flat_weights, pca_plane
from plugins.landscape.evaluation import BatchedLoss
from plugins.minibatch.result import FORMULAS, MinibatchResult, MinibatchRun

if TYPE_CHECKING:
    from plugins.minibatch.plugin import Params

BUNDLED = ("moons", "circles", "spirals", "xor", "gauss")
# Weights are recorded this many times per epoch (for batches smaller than that: after every batch).
RECORDS_PER_EPOCH = 8
PLANE_RESOLUTION = 31


def lesson_data(ctx: dlviz.Context, params: Params) -> Dataset:
    """The context's 2-D or tabular classification set for "auto" when there is one, else a bundled set."""
    own = ctx.dataset
    usable = own is not None and own.kind in ("points2d", "tabular") and own.task == "classification"
    if params.data == "auto" and usable:
        return own
    name = "moons" if params.data == "auto" else params.data
    return datasets.load(name, seed=ctx.seed, n_samples=params.samples, noise=0.2)


def build_model(data: Dataset, params: Params, seed: int) -> keras.Model:
    return models.build(
        "mlp",
        data,
        hidden=(params.width,),
        activation="tanh",
        optimizer="sgd",
        learning_rate=params.learning_rate,
        seed=seed,
    )


class WeightRecorder(keras.callbacks.Callback):
    """Flattened weights after every `every`-th batch and at the end of every epoch, with the count of
    examples seen and updates made so far."""

    def __init__(self, batch_size: int, n_samples: int, every: int):
        super().__init__()
        self.batch_size, self.n_samples, self.every = batch_size, n_samples, every
        self.weights: list[np.ndarray] = []
        self.examples: list[int] = []
        self.updates: list[int] = []
        self.epoch_ends: list[int] = []
        self._updates = 0
        self._seen = 0
        self._batch = 0

    def record(self) -> None:
        self.weights.append(flat_weights(self.model))
        self.examples.append(self._seen)
        self.updates.append(self._updates)

    def on_train_begin(self, logs=None):
        self.record()
        self.epoch_ends.append(0)

    def on_train_batch_begin(self, batch, logs=None):
        # The previous batch is done when the next begins. An after-batch hook would make Keras fetch
        # the step's loss and metrics after every step and turn off its asynchronous callback dispatch.
        if batch > 0:
            self._count(batch - 1)
            if batch % self.every == 0:
                self.record()
        self._batch = batch

    def on_epoch_end(self, epoch, logs=None):
        self._count(self._batch)
        self.record()
        self.epoch_ends.append(len(self.weights) - 1)

    def _count(self, batch: int) -> None:
        self._updates += 1
        self._seen += min(self.batch_size, self.n_samples - batch * self.batch_size)


def train_run(
    data: Dataset, params: Params, batch_size: int, seed: int
) -> tuple[keras.Model, WeightRecorder]:
    """One run from the lesson's seeded initial weights; batches reshuffled every epoch in a seeded order."""
    model = build_model(data, params, seed)
    n = len(data.x_train)
    batches_per_epoch = math.ceil(n / batch_size)
    recorder = WeightRecorder(batch_size, n, every=max(1, batches_per_epoch // RECORDS_PER_EPOCH))
    batches = (
        tf.data.Dataset.from_tensor_slices((np.asarray(data.x_train, np.float32), data.y_train))
        .shuffle(n, seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    model.fit(batches, epochs=params.epochs, shuffle=False, verbose=0, callbacks=[recorder])
    return model, recorder


def gradient_noise(
    handle: dlviz.ModelHandle, data: Dataset, batch_sizes, draws: int, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean and spread of ‖g_B − ∇L‖ over `draws` random batches per size, at the model's current weights.

    Every batch's gradient (of the compiled loss, `model.compute_loss`, in inference mode) comes from one
    function traced once for any batch size, fed the batch's sample indices: hundreds of draws then cost
    one graph call each.
    """
    model = handle.model
    x, y = (tf.constant(array) for array in handle.prepare(data.x_train, data.y_train))
    variables = model.trainable_variables

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def batch_gradient(indices):
        batch_x, batch_y = tf.gather(x, indices), tf.gather(y, indices)
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x=batch_x, y=batch_y, y_pred=model(batch_x, training=False))
        return tf.concat([tf.reshape(part, [-1]) for part in tape.gradient(loss, variables)], axis=0)

    n = len(data.x_train)
    full = batch_gradient(tf.range(n)).numpy().astype(np.float64)
    rng = np.random.default_rng(seed)
    means, spreads = [], []
    for size in batch_sizes:
        norms = []
        for _ in range(draws if size < n else 1):
            chosen = rng.choice(n, size=size, replace=False).astype(np.int32)
            norms.append(float(np.linalg.norm(batch_gradient(chosen).numpy().astype(np.float64) - full)))
        means.append(float(np.mean(norms)))
        spreads.append(float(np.std(norms)))
    return np.array(means), np.array(spreads), float(np.linalg.norm(full))


def training_accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """The trained model's accuracy on the training set by a Keras accuracy metric on one eager forward
    pass (model.evaluate would trace a test graph for each run)."""
    metric = (
        keras.metrics.BinaryAccuracy()
        if model.output_shape[-1] == 1
        else keras.metrics.SparseCategoricalAccuracy()
    )
    metric.update_state(y, model(x, training=False))
    return float(metric.result())


def train_and_measure(ctx: dlviz.Context, params: Params) -> MinibatchResult:
    """Train every chosen batch size, measure the gradient noise and lay the paths on their PCA plane."""
    data = lesson_data(ctx, params)
    n = len(data.x_train)
    sizes = sorted({n if size == 0 else size for size in params.batch_sizes})
    if not sizes:
        raise ParamsError("No batch size chosen.", "pick at least one batch size.")
    if sizes[-1] > n:
        raise ParamsError(
            f"Batch size {sizes[-1]} exceeds the {n} training samples.",
            f"use batch sizes of at most {n} ('full batch' uses all of them).",
        )
    trained = []
    for index, size in enumerate(sizes):
        ctx.report(
            0.8 * index / len(sizes),
            tr(ctx.language, f"training with batch size {size}", f"以批大小 {size} 训练"),
        )
        trained.append(train_run(data, params, size, ctx.seed))
    ctx.report(0.8, tr(ctx.language, "measuring gradient noise", "测量梯度噪声"))
    start = build_model(data, params, ctx.seed)
    handle = dlviz.wrap(start, data)
    # Every power of two below n as well as the runs' sizes, so the noise curve has its shape.
    noise_sizes = sorted({*sizes, n, *(2**power for power in range(int(math.log2(n)) + 1))})
    mean, spread, full_norm = gradient_noise(handle, data, noise_sizes, params.noise_batches, ctx.seed)

    ctx.report(0.9, tr(ctx.language, "the loss surface of the PCA plane", "PCA 平面上的损失曲面"))
    evaluator = BatchedLoss(handle, data.x_train, data.y_train)
    centre = trained[-1][1].weights[-1]
    paths = [np.stack(recorder.weights) for _, recorder in trained]
    directions, explained, coordinates = pca_plane(paths, centre)
    alphas = covering_axis(coordinates, 0, PLANE_RESOLUTION)
    betas = covering_axis(coordinates, 1, PLANE_RESOLUTION)
    grid = np.stack(np.meshgrid(alphas, betas), axis=-1).reshape(-1, 2)
    plane_losses = evaluator.losses(centre, directions, grid).reshape(len(betas), len(alphas))

    runs = []
    for size, (model, recorder), path, coords in zip(sizes, trained, paths, coordinates, strict=True):
        losses = evaluator.at(path).astype(np.float64)
        accuracy = training_accuracy(model, evaluator.x, evaluator.y)
        runs.append(
            MinibatchRun(
                batch_size=size,
                full_batch=size == n,
                examples_seen=np.asarray(recorder.examples),
                updates=np.asarray(recorder.updates),
                losses=losses,
                epoch_losses=losses[recorder.epoch_ends],
                coordinates=coords.astype(np.float64),
                final_accuracy=accuracy,
            )
        )
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return MinibatchResult(
        dataset_name=data.name,
        n_train=n,
        n_parameters=evaluator.n_params,
        epochs=params.epochs,
        learning_rate=params.learning_rate,
        runs=tuple(runs),
        noise_batch_sizes=np.asarray(noise_sizes),
        noise_mean=mean,
        noise_std=spread,
        noise_batches=params.noise_batches,
        full_gradient_norm=full_norm,
        alphas=np.asarray(alphas, np.float64),
        betas=np.asarray(betas, np.float64),
        plane_losses=np.asarray(plane_losses, np.float64),
        explained_variance=tuple(float(share) for share in explained),
        page=dlviz.Page(notes=notes(data, params), formulas=FORMULAS),
    )


def notes(data: Dataset, params: Params) -> tuple[dlviz.Note, ...]:
    n = len(data.x_train)
    return (
        dlviz.Note(
            f"A {params.width}-unit tanh MLP on {data.name} ({n} training samples), built once per batch size "
            f"by dlviz.models.build with the same seed, so every run starts from the same weights; plain SGD, "
            f"learning rate {params.learning_rate:g}, {params.epochs} epochs. Every loss shown is the loss on "
            "all training samples at the recorded weights (the landscape plugin's BatchedLoss), not the batch's.",
            f"{data.name} 数据（{n} 个训练样本）上有 {params.width} 个 tanh 单元的 MLP，每种批大小用 dlviz.models.build "
            f"以相同随机种子构建一次，所以所有训练都从相同的权重开始；普通 SGD，学习率 {params.learning_rate:g}，"
            f"{params.epochs} 轮。图中的损失都是在记录的权重处、对全部训练样本计算的损失（landscape 插件的 "
            "BatchedLoss），而不是当前批次的损失。",
        ),
    )
