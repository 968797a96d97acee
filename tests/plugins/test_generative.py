"""The generative lesson: the VAE's loss terms against what fit reports, the reparameterisation trick, the
decoded grid, the GAN's determinism, mode collapse, plotted values, refusals."""

import dataclasses
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlviz
from dlviz import datasets
from dlviz.errors import ParamsError
from plugins.generative import Generative
from plugins.generative.figures import GAP
from plugins.generative.gan import MODES, build_gan, coverage, real_points, train_gan
from plugins.generative.plugin import RESULTS, Params, cache_key
from plugins.generative.vae import VAE

CJK = re.compile(r"[\u4e00-\u9fff]")


def params(**values):
    return dlviz.plugin.make_params(Params, values)


def context(language="en", messages=None, partials=None):
    progress = None if messages is None else (lambda fraction, message: messages.append(message))
    partial = None if partials is None else partials.append
    return dataclasses.replace(
        dlviz.registry.make_context(seed=0), language=language, progress=progress, partial=partial
    )


def test_vae_loss_terms_equal_what_fit_reports():
    """One full-batch step of fit: its reported terms are those of the weights before the update and of the ε
    its Sampling layer drew; recomputed here in NumPy from the encoder and decoder with that same ε."""
    images = np.asarray(datasets.load("digits", seed=0).x_train[:64], np.float32)
    vae = VAE(images.shape[1:], kl_weight=0.5, seed=3)
    vae.compile(optimizer=keras.optimizers.Adam(0.01))
    vae(images[:1])
    weights = vae.get_weights()
    state = keras.ops.convert_to_numpy(vae.sampling.seed_generator.state)
    reported = vae.fit(images, batch_size=len(images), epochs=1, shuffle=False, verbose=0).history
    vae.set_weights(weights)
    vae.sampling.seed_generator.state.assign(state)
    epsilon = keras.ops.convert_to_numpy(
        keras.random.normal((len(images), 2), seed=vae.sampling.seed_generator)
    )

    mu, log_var = (keras.ops.convert_to_numpy(part) for part in vae.encoder(images))
    z = mu + np.exp(0.5 * log_var) * epsilon
    pixels = np.clip(keras.ops.convert_to_numpy(vae.decoder(z)), 1e-7, 1 - 1e-7).astype(np.float64)
    bce = -(images * np.log(pixels) + (1 - images) * np.log(1 - pixels))
    reconstruction = bce.sum(axis=(1, 2, 3)).mean()
    kl = (-0.5 * (1 + log_var - mu**2 - np.exp(log_var))).sum(axis=1).mean()
    np.testing.assert_allclose(reported["reconstruction_loss"][0], reconstruction, rtol=1e-4)
    np.testing.assert_allclose(reported["kl_loss"][0], kl, rtol=1e-4)
    np.testing.assert_allclose(reported["total_loss"][0], reconstruction + 0.5 * kl, rtol=1e-4)


def test_gan_losses_equal_what_fit_reports():
    """One step of fit: L_D from the weights before it and its first noise draw, L_G from the updated
    discriminator, the generator before its update and the second draw; recomputed in NumPy from logits."""
    real = real_points("gaussians", 64, seed=0)
    gan = build_gan(params(network="gan"), seed=3)
    g_before, d_before = gan.generator.get_weights(), gan.discriminator.get_weights()
    state = keras.ops.convert_to_numpy(gan.noise_seed.state)
    reported = gan.fit(
        tf.data.Dataset.from_tensor_slices(real).batch(64), epochs=1, shuffle=False, verbose=0
    ).history
    d_after = gan.discriminator.get_weights()
    gan.generator.set_weights(g_before)
    gan.noise_seed.state.assign(state)

    def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
        logits = logits.astype(np.float64)
        return float(np.mean(np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))))

    def logits_of(points) -> np.ndarray:
        return keras.ops.convert_to_numpy(gan.discriminator(points))[:, 0]

    gan.discriminator.set_weights(d_before)
    fake = gan.generator(keras.random.normal((64, 2), seed=gan.noise_seed))
    d_loss = cross_entropy(logits_of(np.concatenate([real, fake])), np.repeat([1.0, 0.0], 64))
    gan.discriminator.set_weights(d_after)
    g_loss = cross_entropy(logits_of(gan.generator(keras.random.normal((64, 2), seed=gan.noise_seed))), 1.0)
    np.testing.assert_allclose(reported["d_loss"][0], d_loss, rtol=1e-5)
    np.testing.assert_allclose(reported["g_loss"][0], g_loss, rtol=1e-5)


@pytest.fixture(scope="module")
def vae_lesson():
    messages, partials = [], []
    plugin = Generative()
    result = dlviz.registry.run_plugin(
        plugin, context("zh", messages, partials), params(vae_epochs=2, grid_size=5, kl_weight=0.8)
    )
    return plugin, result, messages, partials


def test_reparameterised_draw_is_mu_plus_sigma_times_epsilon(vae_lesson):
    _, result, _, _ = vae_lesson
    sample = result.sample
    np.testing.assert_allclose(sample.z, sample.mu + sample.sigma * sample.epsilon, rtol=1e-5, atol=1e-6)
    assert np.all(sample.sigma > 0)
    assert f"{sample.z[0]:.3f}" in sample.latex() and r"\odot" in sample.latex()
    assert result.page.formulas[-1].latex == sample.latex()


def test_decoded_grid_and_loss_terms(vae_lesson):
    plugin, result, messages, partials = vae_lesson
    assert result.grid_images.shape == (5, 5, 8, 8)
    assert np.all(np.isfinite(result.grid_images))
    assert result.grid_images.min() >= 0 and result.grid_images.max() <= 1
    np.testing.assert_allclose(result.grid_axis, -result.grid_axis[::-1], atol=1e-6)  # symmetric about 0
    assert np.all(np.diff(result.grid_axis) > 0)
    for split in ("", "val_"):
        np.testing.assert_allclose(
            result.history[f"{split}total_loss"],
            result.history[f"{split}reconstruction_loss"] + 0.8 * result.history[f"{split}kl_loss"],
            rtol=1e-5,
        )
    assert result.latent_means.shape == (len(result.labels), 2)
    assert messages and all(CJK.search(message) for message in messages)
    assert [finding.severity for finding in plugin.diagnose(result)] == ["info"]
    (halfway,) = partials  # the model after its first epoch, drawn while the second trains
    assert halfway.epochs == 1 and len(halfway.history["kl_loss"]) == 1
    assert halfway.history["kl_loss"][0] == result.history["kl_loss"][0]
    assert len(plugin.figures(halfway, "en")) == 5


def test_vae_figures_plot_the_computed_values(vae_lesson):
    plugin, result, _, _ = vae_lesson
    latent, grid, terms, draw, reconstructions = plugin.figures(result, "zh")
    np.testing.assert_allclose(latent.data[0].x, np.round(result.latent_means[result.labels == 0, 0], 4))
    picture = np.asarray(grid.data[0].z, dtype=float)
    assert picture.shape == (5 * 8 + 4 * GAP, 5 * 8 + 4 * GAP)
    # The picture's top-left digit is decoded at the smallest z1 and the largest z2.
    np.testing.assert_allclose(picture[:8, :8], np.round(result.grid_images[-1, 0], 3))
    np.testing.assert_allclose(terms.data[0].y, result.history["reconstruction_loss"])
    np.testing.assert_allclose(terms.data[1].y, result.history["val_reconstruction_loss"])
    assert (
        f"{result.sample.epsilon[1]:.3f}" in draw.layout.title.text and "重参数化" in draw.layout.title.text
    )
    np.testing.assert_allclose(
        np.asarray(reconstructions.data[0].z, dtype=float)[:8, :8], np.round(result.originals[0], 3)
    )
    for figure in (latent, grid, terms, draw, reconstructions):
        assert CJK.search(figure.layout.title.text)


def test_coverage_counts_the_modes_a_sample_holds():
    real = real_points("gaussians", 800, seed=1)
    assert coverage(real, "gaussians") == (MODES, pytest.approx(0.989, abs=0.02))  # 3 σ holds 98.9% in 2-D
    one_mode = real[np.linalg.norm(real - real[0], axis=1) < 0.5]
    assert coverage(one_mode, "gaussians")[0] == 1
    ring = real_points("ring", 800, seed=1)
    assert coverage(ring, "ring")[0] == MODES
    assert coverage(np.zeros((50, 2), np.float32), "ring") == (0, 0.0)


@pytest.fixture(scope="module")
def gan_pair():
    """The same small GAN trained twice, through the plugin and then past its kept results, reporting in
    English and in Chinese."""
    english, chinese, partials = [], [], []
    small = params(network="gan", gan_steps=100)
    RESULTS.clear()  # another test (the docstring's) may have trained this one already
    return (
        Generative().compute(context("en", english), small),
        train_gan(context("zh", chinese, partials), small),
        english,
        chinese,
        partials,
    )


def test_gan_snapshots_are_deterministic_with_the_seed(gan_pair):
    first, second, english, chinese, _ = gan_pair
    for field in (
        "generated",
        "decision",
        "d_loss",
        "g_loss",
        "modes_covered",
    ):  # the second one drew partials
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    assert first.generated.shape == (6, 500, 2) and first.decision.shape == (6, 41, 41)
    assert np.all((first.decision >= 0) & (first.decision <= 1))
    assert len(english) == len(chinese) == 5
    assert [partial.steps for partial in gan_pair[4]] == [20, 40, 60, 80]
    np.testing.assert_array_equal(gan_pair[4][1].generated, first.generated[:3])
    np.testing.assert_array_equal(gan_pair[4][1].d_loss, first.d_loss[:2])
    assert not any(CJK.search(message) for message in english)
    assert all(CJK.search(message) for message in chinese)


def test_gan_figures_animate_the_snapshots(gan_pair):
    result = gan_pair[0]
    animation, losses, modes = Generative().figures(result, "en")
    assert len(animation.frames) == len(result.snapshot_steps)
    np.testing.assert_allclose(animation.frames[2].data[0].z, np.round(result.decision[2], 3))
    np.testing.assert_allclose(animation.frames[2].data[1].x, np.round(result.generated[2, :, 0], 3))
    assert [step["label"] for step in animation.layout.sliders[0].steps] == [
        str(step) for step in result.snapshot_steps
    ]
    np.testing.assert_allclose(losses.data[0].y, result.d_loss)
    np.testing.assert_allclose(modes.data[0].y, result.modes_covered)


@pytest.mark.slow
def test_a_fast_generator_collapses_onto_few_modes():
    healthy = train_gan(context(), params(network="gan", gan_steps=600))
    collapsed = train_gan(context(), params(network="gan", gan_steps=600, generator_learning_rate=0.01))
    assert healthy.modes_covered[-1] >= 6
    assert collapsed.modes_covered[-1] <= 2
    assert collapsed.spread[-1] < 0.5 * healthy.spread[-1]
    assert Generative().diagnose(collapsed)[0].severity == "warning"
    assert Generative().diagnose(healthy)[0].severity == "info"


def test_results_are_kept_per_seed_and_model_controls(gan_pair):
    kept = gan_pair[0]
    assert Generative().compute(context("zh"), params(network="gan", gan_steps=100, vae_epochs=9)) is kept
    digits = dataclasses.replace(context(), dataset=datasets.load("digits", seed=0))
    assert Generative().shared_result_key(digits, params()) == ""  # one result for every session
    key = cache_key(0, params(network="gan", gan_steps=100))
    assert key != cache_key(1, params(network="gan", gan_steps=100))
    assert key != cache_key(0, params(network="gan", gan_steps=200))
    assert key != cache_key(0, params(gan_steps=100))  # the VAE


def test_refusals_say_what_to_change():
    with pytest.raises(ParamsError, match="not one of its choices"):
        params(network="diffusion")
    with pytest.raises(ParamsError, match="outside its range"):
        params(gan_steps=10)
