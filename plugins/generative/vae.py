"""The generative lesson's VAE: an encoder to a 2-D latent space and a decoder back to 8x8 digits, trained as
Keras' own VAE example trains one (a `keras.Model` whose `train_step` reports the reconstruction and KL terms
as metrics); then the encoded test digits, a grid decoded across the latent plane and one sample drawn
through the reparameterisation trick."""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf
from keras import ops

import dlviz
from dlviz import datasets
from dlviz.plugin import tr
from plugins.generative.result import VAE_FORMULAS, Reparameterisation, VAEResult

if TYPE_CHECKING:
    from plugins.generative.plugin import Params

LATENT_DIM = 2
HIDDEN = 128
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
# The decoded grid spans these quantiles of the prior N(0, 1) along each latent axis.
GRID_QUANTILES = (0.02, 0.98)
TERMS = ("reconstruction_loss", "kl_loss", "total_loss")
# Where a listening page gets the model as trained so far, as fractions of the epochs.
PARTIAL_FRACTIONS = (0.25, 0.5, 0.75)


class Sampling(keras.layers.Layer):
    """The reparameterisation trick: z = μ + σ ⊙ ε with σ = exp(½ log σ²) and ε ~ N(0, I) from a seeded
    generator, or the ε given (to show or to test one draw)."""

    def __init__(self, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean, z_log_var, epsilon=None):
        if epsilon is None:
            epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def dense(units: int, activation: str | None, name: str, seed: int) -> keras.layers.Dense:
    return keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name=name,
    )


def build_encoder(image_shape: tuple[int, ...], seed: int) -> keras.Model:
    images = keras.Input(image_shape, name="image")
    hidden = dense(HIDDEN, "relu", "encoder_hidden", seed)(keras.layers.Flatten()(images))
    z_mean = dense(LATENT_DIM, None, "z_mean", seed + 1)(hidden)
    z_log_var = dense(LATENT_DIM, None, "z_log_var", seed + 2)(hidden)
    return keras.Model(images, [z_mean, z_log_var], name="encoder")


def build_decoder(image_shape: tuple[int, ...], seed: int) -> keras.Model:
    z = keras.Input((LATENT_DIM,), name="z")
    hidden = dense(HIDDEN, "relu", "decoder_hidden", seed + 3)(z)
    pixels = dense(int(np.prod(image_shape)), "sigmoid", "pixels", seed + 4)(hidden)
    return keras.Model(z, keras.layers.Reshape(image_shape)(pixels), name="decoder")


class VAE(keras.Model):
    """Keras' VAE example: loss = reconstruction (binary cross-entropy summed over the pixels) + β · KL
    divergence of q(z|x) = N(μ, σ²) from the prior N(0, I), both averaged over the batch and reported."""

    def __init__(self, image_shape: tuple[int, ...], kl_weight: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.kl_weight = kl_weight
        self.encoder = build_encoder(image_shape, seed)
        self.decoder = build_decoder(image_shape, seed)
        self.sampling = Sampling(seed, name="sampling")
        self.trackers = {term: keras.metrics.Mean(name=term) for term in TERMS}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        z_mean, z_log_var = self.encoder(images, training=training)
        return self.decoder(self.sampling(z_mean, z_log_var), training=training)

    def loss_terms(self, images, training=False, epsilon=None) -> dict:
        z_mean, z_log_var = self.encoder(images, training=training)
        reconstruction = self.decoder(self.sampling(z_mean, z_log_var, epsilon), training=training)
        reconstruction_loss = ops.mean(
            ops.sum(keras.losses.binary_crossentropy(images, reconstruction), axis=(1, 2))
        )
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl, axis=1))
        return {
            "reconstruction_loss": reconstruction_loss,
            "kl_loss": kl_loss,
            "total_loss": reconstruction_loss + self.kl_weight * kl_loss,
        }

    def _report(self, terms: dict) -> dict:
        for term, tracker in self.trackers.items():
            tracker.update_state(terms[term])
        return {term: tracker.result() for term, tracker in self.trackers.items()}

    def train_step(self, images):
        with tf.GradientTape() as tape:
            terms = self.loss_terms(images, training=True)
        grads = tape.gradient(terms["total_loss"], self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        return self._report(terms)

    def test_step(self, images):
        return self._report(self.loss_terms(images))


class EpochLog(keras.callbacks.Callback):
    """The terms fit reports for every epoch (training and validation), and a call after each epoch."""

    def __init__(self, on_epoch):
        super().__init__()
        self.on_epoch = on_epoch
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch, logs=None):
        for term, value in (logs or {}).items():
            self.history.setdefault(term, []).append(float(value))
        self.on_epoch(epoch + 1)


def image_batches(images: np.ndarray, seed: int) -> tf.data.Dataset:
    """The training digits in batches, reshuffled every epoch in a seeded order."""
    return (
        tf.data.Dataset.from_tensor_slices(images)
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .batch(BATCH_SIZE)
    )


def grid_axis(size: int) -> np.ndarray:
    """Latent values at evenly spaced quantiles of the prior N(0, 1): the decoded grid's rows and columns."""
    quantiles = np.linspace(*GRID_QUANTILES, size)
    return np.asarray([NormalDist().inv_cdf(q) for q in quantiles], np.float32)


def decode_grid(decoder: keras.Model, axis: np.ndarray) -> np.ndarray:
    """(n, n, h, w) images decoded at z = (axis[j], axis[i]): row i holds z2 = axis[i], column j z1 = axis[j]."""
    z1, z2 = np.meshgrid(axis, axis)
    points = np.column_stack([z1.ravel(), z2.ravel()]).astype(np.float32)
    images = ops.convert_to_numpy(decoder(points, training=False))
    return images.reshape(len(axis), len(axis), *images.shape[1:3])


def reparameterise(vae: VAE, image: np.ndarray, label: int, seed: int) -> Reparameterisation:
    """One digit through the encoder, one ε from Keras' seeded normal, z from the model's own Sampling layer."""
    z_mean, z_log_var = vae.encoder(image[None], training=False)
    epsilon = keras.random.normal(ops.shape(z_mean), seed=seed)
    z = vae.sampling(z_mean, z_log_var, epsilon=epsilon)
    return Reparameterisation(
        image=image[..., 0],
        label=int(label),
        mu=ops.convert_to_numpy(z_mean)[0],
        sigma=ops.convert_to_numpy(ops.exp(0.5 * z_log_var))[0],
        epsilon=ops.convert_to_numpy(epsilon)[0],
        z=ops.convert_to_numpy(z)[0],
        decoded=ops.convert_to_numpy(vae.decoder(z, training=False))[0, ..., 0],
        decoded_mean=ops.convert_to_numpy(vae.decoder(z_mean, training=False))[0, ..., 0],
    )


def build_vae(image_shape: tuple[int, ...], params: Params, seed: int) -> VAE:
    vae = VAE(image_shape, params.kl_weight, seed, name="vae")
    vae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    return vae


def train_vae(ctx: dlviz.Context, params: Params) -> VAEResult:
    data = datasets.load("digits", seed=ctx.seed)
    x_train = np.asarray(data.x_train, np.float32)
    x_test = np.asarray(data.x_test, np.float32)
    vae = build_vae(data.input_shape, params, ctx.seed)
    partial_at = (
        {round(fraction * params.vae_epochs) for fraction in PARTIAL_FRACTIONS}
        if ctx.wants_partial
        else set()
    )

    def so_far() -> VAEResult:
        return vae_result(vae, data, params, log.history, ctx.seed)

    def on_epoch(epoch: int) -> None:
        message = tr(ctx.language, f"VAE: epoch {epoch}", f"VAE：第 {epoch} 轮")
        if 0 < epoch < params.vae_epochs and epoch in partial_at:
            ctx.report_partial(so_far(), epoch, params.vae_epochs, message)
        else:
            ctx.report(epoch / params.vae_epochs, message)

    log = EpochLog(on_epoch)
    vae.fit(
        image_batches(x_train, ctx.seed),
        epochs=params.vae_epochs,
        validation_data=x_test,
        callbacks=[log],
        shuffle=False,  # the batches come shuffled, seeded
        verbose=0,
    )
    return so_far()


def vae_result(vae: VAE, data: datasets.Dataset, params: Params, history: dict, seed: int) -> VAEResult:
    """The result of the model as trained so far, with the terms of the epochs so far."""
    x_test = np.asarray(data.x_test, np.float32)
    y_test = np.asarray(data.y_test)
    z_mean, z_log_var = vae.encoder(x_test, training=False)
    firsts = np.asarray([np.flatnonzero(y_test == label)[0] for label in np.unique(y_test)])
    originals = x_test[firsts]
    reconstructions = vae.decoder(vae.encoder(originals, training=False)[0], training=False)
    axis = grid_axis(params.grid_size)
    sample = reparameterise(vae, x_test[0], y_test[0], seed)
    epochs = len(history["total_loss"])
    return VAEResult(
        epochs=epochs,
        kl_weight=params.kl_weight,
        n_train=len(data.x_train),
        history={term: np.asarray(values, np.float64) for term, values in history.items()},
        latent_means=ops.convert_to_numpy(z_mean),
        latent_sigmas=ops.convert_to_numpy(ops.exp(0.5 * z_log_var)),
        labels=y_test,
        class_names=data.class_names,
        grid_axis=axis,
        grid_images=decode_grid(vae.decoder, axis),
        originals=originals[..., 0],
        reconstructions=ops.convert_to_numpy(reconstructions)[..., 0],
        original_labels=y_test[firsts],
        sample=sample,
        page=dlviz.Page(
            notes=vae_notes(params, len(data.x_train), epochs),
            formulas=(*VAE_FORMULAS, sample_formula(sample)),
        ),
    )


def sample_formula(sample: Reparameterisation) -> dlviz.Formula:
    return dlviz.Formula(
        f"This draw for the first test digit (a {sample.label}), computed by the model's Sampling layer",
        f"第一个测试数字（{sample.label}）的这次采样，由模型自己的 Sampling 层计算",
        sample.latex(),
    )


def vae_notes(params: Params, n_train: int, epochs: int) -> tuple[dlviz.Note, ...]:
    return (
        dlviz.Note(
            f"Bundled digits (8x8 pixels in [0, 1]): {n_train} training digits, the test digits for validation "
            f"and the pictures. Encoder: 64 pixels → Dense({HIDDEN}, ReLU) → μ and log σ² (2 each); decoder: "
            f"z → Dense({HIDDEN}, ReLU) → 64 sigmoid pixels. {epochs} epochs of batch {BATCH_SIZE}, "
            f"Adam ({LEARNING_RATE:g}), β = {params.kl_weight:g}. The loss terms are the model's own metrics as "
            "fit reported them (per-epoch means over the batches; validation after each epoch).",
            f"内置手写数字（8x8 像素，取值 [0, 1]）：{n_train} 个训练样本，测试样本用于验证和作图。编码器：64 个像素 → "
            f"Dense({HIDDEN}, ReLU) → μ 和 log σ²（各 2 维）；解码器：z → Dense({HIDDEN}, ReLU) → 64 个 sigmoid 像素。"
            f"训练 {epochs} 轮，批大小 {BATCH_SIZE}，Adam（{LEARNING_RATE:g}），β = {params.kl_weight:g}。"
            "损失各项就是模型自己的指标，即 fit 报告的值（每轮各批次的平均；每轮结束后在验证集上计算）。",
        ),
    )
