"""The generative lesson's GAN: a generator and a discriminator (small MLPs) on seeded 2-D points, trained as
Keras' own GAN example trains them (a `keras.Model` with two optimizers and a `train_step`), with snapshots
of the generated samples and of D(x) on a grid over training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz.plugin import tr
from plugins._shared.lessons import grid_axes, grid_points
from plugins.generative.result import GAN_FORMULAS, SHAPE_NAMES, GANResult

if TYPE_CHECKING:
    from plugins.generative.plugin import Params

REAL_SAMPLES = 2048
MODES = 8
RADIUS = 2.0
MODE_SPREAD = 0.1  # standard deviation of each Gaussian, and the ring's radial noise
SHOWN_SAMPLES = 500  # generated points kept per snapshot, from one fixed batch of noise
GRID_RESOLUTION = 41
HIDDEN = 64
BATCH_SIZE = 128
NOISE_DIM = 2
ADAM_BETA_1 = 0.5  # as in Keras' GAN examples: less momentum keeps the two players from overshooting
MAX_INTERVALS = 25  # snapshots besides the one before training
MIN_INTERVAL_STEPS = 20
# Where a listening page gets the snapshots so far, as fractions of the training.
PARTIAL_FRACTIONS = (0.2, 0.4, 0.6, 0.8)
# A mode holds its share of the samples when at least this fraction of an even share (1/MODES) falls
# within COVER_RADIUS standard deviations of it.
FAIR_SHARE_FRACTION = 0.25
COVER_RADIUS = 3.0


def real_points(shape: str, n: int, seed: int) -> np.ndarray:
    """`n` points of the target distribution: 8 Gaussians on a circle ("gaussians") or a thin ring ("ring")."""
    rng = np.random.default_rng(seed)
    if shape == "gaussians":
        angles = 2 * np.pi * rng.integers(0, MODES, n) / MODES
        centres = RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
        return (centres + rng.normal(0.0, MODE_SPREAD, (n, 2))).astype(np.float32)
    angles = rng.uniform(0.0, 2 * np.pi, n)
    radii = RADIUS + rng.normal(0.0, MODE_SPREAD, n)
    return (radii[:, None] * np.column_stack([np.cos(angles), np.sin(angles)])).astype(np.float32)


def coverage(points: np.ndarray, shape: str) -> tuple[int, float]:
    """How many of the 8 modes hold their share of `points`, and the share of `points` near the data.

    A mode of the Gaussians is its centre, one of the ring a 45° arc of it; a point belongs to the mode whose
    angle is nearest and counts when it lies within 3 σ of it (of the centre for the Gaussians, of the circle
    for the ring). A mode is covered when it holds at least a quarter of an even share of the points.
    """
    angles = np.arctan2(points[:, 1], points[:, 0])
    nearest = np.round(angles / (2 * np.pi / MODES)).astype(int) % MODES
    if shape == "gaussians":
        centre_angles = 2 * np.pi * nearest / MODES
        centres = RADIUS * np.column_stack([np.cos(centre_angles), np.sin(centre_angles)])
        near = np.linalg.norm(points - centres, axis=1) < COVER_RADIUS * MODE_SPREAD
    else:
        near = np.abs(np.linalg.norm(points, axis=1) - RADIUS) < COVER_RADIUS * MODE_SPREAD
    counts = np.bincount(nearest[near], minlength=MODES)
    covered = int(np.sum(counts >= FAIR_SHARE_FRACTION * len(points) / MODES))
    return covered, float(near.mean())


def mlp(inputs: int, outputs: int, name: str, seed: int) -> keras.Sequential:
    layers = [keras.Input((inputs,))]
    for index in range(2):
        layers.append(
            keras.layers.Dense(
                HIDDEN,
                activation="leaky_relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + index),
                name=f"{name}_hidden_{index + 1}",
            )
        )
    layers.append(
        keras.layers.Dense(
            outputs, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2), name=f"{name}_output"
        )
    )
    return keras.Sequential(layers, name=name)


class GAN(keras.Model):
    """Keras' GAN example on 2-D points: per step the discriminator learns real (1) against generated (0),
    `discriminator_steps` times, then the generator learns to make the discriminator say 1 for its points."""

    def __init__(self, noise_dim: int, discriminator_steps: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.noise_dim = noise_dim
        self.discriminator_steps = discriminator_steps
        self.generator = mlp(noise_dim, 2, "generator", seed)
        self.discriminator = mlp(2, 1, "discriminator", seed + 10)
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def discriminator_loss(self, real, noise):
        """Binary cross-entropy of D on real (label 1) and generated (label 0) points, averaged over both."""
        fake = self.generator(noise, training=True)
        points = keras.ops.concatenate([real, fake], axis=0)
        labels = keras.ops.concatenate(
            [keras.ops.ones((keras.ops.shape(real)[0], 1)), keras.ops.zeros_like(fake[:, :1])]
        )
        return self.loss_fn(labels, self.discriminator(points, training=True))

    def generator_loss(self, noise):
        """The non-saturating generator loss: cross-entropy of D on generated points against label 1."""
        logits = self.discriminator(self.generator(noise, training=True), training=True)
        return self.loss_fn(keras.ops.ones_like(logits), logits)

    def train_step(self, real):
        batch = keras.ops.shape(real)[0]
        for _ in range(self.discriminator_steps):
            noise = keras.random.normal((batch, self.noise_dim), seed=self.noise_seed)
            with tf.GradientTape() as tape:
                d_loss = self.discriminator_loss(real, noise)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights, strict=True))
        noise = keras.random.normal((batch, self.noise_dim), seed=self.noise_seed)
        with tf.GradientTape() as tape:
            g_loss = self.generator_loss(noise)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


class Snapshots(keras.callbacks.Callback):
    """Before training and after every interval: the generated points from one fixed batch of noise and D(x)
    on the grid; after every interval also the losses fit reports for it."""

    def __init__(self, gan: GAN, noise: np.ndarray, grid: np.ndarray, on_interval):
        super().__init__()
        self.gan, self.noise, self.grid, self.on_interval = gan, noise, grid, on_interval
        self.generated, self.decision, self.d_loss, self.g_loss = [], [], [], []

    def take(self) -> None:
        self.generated.append(keras.ops.convert_to_numpy(self.gan.generator(self.noise, training=False)))
        logits = self.gan.discriminator(self.grid, training=False)
        self.decision.append(keras.ops.convert_to_numpy(keras.ops.sigmoid(logits))[:, 0])

    def on_train_begin(self, logs=None):
        self.take()

    def on_epoch_end(self, epoch, logs=None):
        self.take()
        self.d_loss.append(float(logs["d_loss"]))
        self.g_loss.append(float(logs["g_loss"]))
        self.on_interval(epoch + 1)


def real_batches(points: np.ndarray, seed: int) -> tf.data.Dataset:
    """The real points in batches, reshuffled every pass in a seeded order, repeated for as many steps as asked."""
    return (
        tf.data.Dataset.from_tensor_slices(points)
        .shuffle(len(points), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(BATCH_SIZE, drop_remainder=True)
    )


def schedule(steps: int) -> tuple[int, int]:
    """Intervals between snapshots and the steps of each: up to MAX_INTERVALS, at least MIN_INTERVAL_STEPS each."""
    intervals = min(MAX_INTERVALS, max(1, steps // MIN_INTERVAL_STEPS))
    return intervals, steps // intervals


def build_gan(params: Params, seed: int) -> GAN:
    gan = GAN(NOISE_DIM, params.discriminator_steps, seed, name="gan")
    gan.compile(
        d_optimizer=keras.optimizers.Adam(params.discriminator_learning_rate, beta_1=ADAM_BETA_1),
        g_optimizer=keras.optimizers.Adam(params.generator_learning_rate, beta_1=ADAM_BETA_1),
    )
    return gan


def train_gan(ctx: dlviz.Context, params: Params) -> GANResult:
    seed = ctx.seed
    intervals, per_interval = schedule(params.gan_steps)
    real = real_points(params.gan_data, REAL_SAMPLES, seed)
    gan = build_gan(params, seed)
    grid_x, grid_y = grid_axes(real, GRID_RESOLUTION)
    noise = np.random.default_rng(seed + 1).normal(size=(SHOWN_SAMPLES, NOISE_DIM)).astype(np.float32)
    partial_at = (
        {round(fraction * intervals) for fraction in PARTIAL_FRACTIONS} if ctx.wants_partial else set()
    )

    def so_far() -> GANResult:
        return gan_result(params, real, grid_x, grid_y, snapshots, per_interval)

    def on_interval(done: int) -> None:
        message = tr(ctx.language, f"GAN: step {done * per_interval}", f"GAN：第 {done * per_interval} 步")
        if 0 < done < intervals and done in partial_at:
            ctx.report_partial(so_far(), done, intervals, message)
        else:
            ctx.report(done / intervals, message)

    snapshots = Snapshots(gan, noise, grid_points(grid_x, grid_y), on_interval)
    gan.fit(
        real_batches(real, seed),
        epochs=intervals,
        steps_per_epoch=per_interval,
        callbacks=[snapshots],
        shuffle=False,  # the batches come shuffled, seeded
        verbose=0,
    )
    return so_far()


def gan_result(params: Params, real, grid_x, grid_y, snapshots: Snapshots, per_interval: int) -> GANResult:
    """The result from the snapshots taken so far (all of them once training is done)."""
    generated = np.stack(snapshots.generated)
    covered, near = zip(*(coverage(points, params.gan_data) for points in generated), strict=True)
    snapshot_steps = np.arange(len(generated)) * per_interval
    steps = int(snapshot_steps[-1])
    return GANResult(
        shape=params.gan_data,
        steps=steps,
        generator_learning_rate=params.generator_learning_rate,
        discriminator_learning_rate=params.discriminator_learning_rate,
        discriminator_steps=params.discriminator_steps,
        real=real[:SHOWN_SAMPLES],
        snapshot_steps=snapshot_steps,
        generated=generated,
        grid_x=grid_x,
        grid_y=grid_y,
        decision=np.stack(snapshots.decision).reshape(len(generated), len(grid_y), len(grid_x)),
        modes_covered=np.asarray(covered),
        near_data=np.asarray(near),
        spread=np.linalg.norm(generated - generated.mean(axis=1, keepdims=True), axis=2).mean(axis=1),
        real_spread=float(np.linalg.norm(real - real.mean(axis=0), axis=1).mean()),
        loss_steps=snapshot_steps[1:],
        d_loss=np.asarray(snapshots.d_loss, np.float64),
        g_loss=np.asarray(snapshots.g_loss, np.float64),
        page=dlviz.Page(notes=gan_notes(params, steps), formulas=GAN_FORMULAS),
    )


def gan_notes(params: Params, steps: int) -> tuple[dlviz.Note, ...]:
    english, chinese = SHAPE_NAMES[params.gan_data]
    return (
        dlviz.Note(
            f"Data: {REAL_SAMPLES} points of {english} (radius {RADIUS:g}, σ = {MODE_SPREAD:g}), drawn with the "
            f"seed. Generator: {NOISE_DIM}-D noise → two Dense({HIDDEN}, leaky ReLU) layers → a 2-D point; "
            f"discriminator: 2-D point → two Dense({HIDDEN}, leaky ReLU) layers → one logit. {steps} steps of "
            f"batch {BATCH_SIZE}, Adam (β₁ = {ADAM_BETA_1:g}) with learning rates {params.generator_learning_rate:g} "
            f"(G) and {params.discriminator_learning_rate:g} (D), {params.discriminator_steps} D update(s) per G "
            f"update. Generated points: the same {SHOWN_SAMPLES} noise vectors at every snapshot. A mode is "
            f"covered when at least a quarter of an even share of them lie within {COVER_RADIUS:g} σ of it.",
            f"数据：{REAL_SAMPLES} 个来自{chinese}的点（半径 {RADIUS:g}，σ = {MODE_SPREAD:g}），按随机种子生成。"
            f"生成器：{NOISE_DIM} 维噪声 → 两个 Dense({HIDDEN}, leaky ReLU) 层 → 一个二维点；判别器：二维点 → 两个 "
            f"Dense({HIDDEN}, leaky ReLU) 层 → 一个 logit。训练 {steps} 步，批大小 {BATCH_SIZE}，Adam "
            f"(β₁ = {ADAM_BETA_1:g})，学习率 {params.generator_learning_rate:g}（G）和 "
            f"{params.discriminator_learning_rate:g}（D），每次更新 G 前更新 D {params.discriminator_steps} 次。"
            f"生成点：每个快照都用同样的 {SHOWN_SAMPLES} 个噪声向量。一个模式 (mode) 附近 {COVER_RADIUS:g} σ 内"
            "至少有平均份额的四分之一的生成点时，算作被覆盖。",
        ),
    )
