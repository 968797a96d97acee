"""The augmentation lesson: outputs are the Keras layers' own with a fixed seed, the CNN with and without
augmentation, the imbalance plugin's generated minority images, plotted values."""

import keras
import numpy as np
import pytest

import dlviz
from plugins.augmentation import Augmentation
from plugins.augmentation.compute import augment_copies, augmentation_layers, minority_images
from plugins.augmentation.plugin import Params


@pytest.fixture(scope="module")
def digits():
    return dlviz.datasets.load("digits", seed=0)


def test_augmented_copies_equal_the_keras_layers_outputs_with_a_fixed_seed(digits):
    params = Params(flip="horizontal", rotation=0.1, zoom=0.2, translation=0.1, contrast=0.3, noise=0.1)
    images = np.asarray(digits.x_train[:3], np.float32)
    copies = augment_copies(augmentation_layers(params, seed=7), images, copies=2)
    fill = {"fill_mode": "constant"}
    keras_own = keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=7),
            keras.layers.RandomRotation(0.1, seed=8, **fill),
            keras.layers.RandomZoom(0.2, seed=9, **fill),
            keras.layers.RandomTranslation(0.1, 0.1, seed=10, **fill),
            keras.layers.RandomContrast(0.3, seed=11),
            keras.layers.GaussianNoise(0.1, seed=12),
        ]
    )
    for copy in range(2):
        np.testing.assert_allclose(copies[:, copy], np.asarray(keras_own(images, training=True)), atol=1e-6)
    assert not np.allclose(copies[:, 0], copies[:, 1])  # every call draws new parameters
    assert not np.allclose(copies[:, 0], images)


def test_zero_factors_leave_every_layer_out():
    params = Params(flip="none", rotation=0.0, zoom=0.0, translation=0.0, contrast=0.0, noise=0.0)
    assert augmentation_layers(params, seed=0) == []


def test_the_imbalance_strategy_generates_minority_images(digits):
    name, originals, generated = minority_images(digits, seed=0)
    assert name == digits.class_label(digits.n_classes - 1)
    assert len(originals) == 4 and len(generated) == 12
    assert generated.shape[1:] == digits.x_train.shape[1:]
    assert generated.min() >= 0.0 and generated.max() <= 1.0


@pytest.fixture(scope="module")
def lesson():
    plugin = Augmentation()
    params = dlviz.plugin.make_params(Params, {"n_train": 60, "epochs": 4, "samples": 2, "copies": 3})
    return plugin, dlviz.registry.run_plugin(plugin, dlviz.registry.make_context(seed=0), params)


@pytest.mark.slow
def test_both_cnns_train_and_the_figures_show_the_images(lesson):
    plugin, result = lesson
    for variant in ("plain", "augmented"):
        assert len(result.history[variant]["loss"]) == result.epochs
    assert all(np.isfinite(result.history[variant]["val_loss"]).all() for variant in result.history)
    grid, curves, minority = plugin.figures(result, "zh")
    assert len(grid.data) == 2 * (1 + 3)
    np.testing.assert_allclose(curves.data[0].y, result.history["plain"]["loss"])
    assert len(minority.data) == len(result.minority_originals) + len(result.minority_generated)
    assert "原图" in grid.layout.annotations[0].text


@pytest.mark.slow
def test_a_tabular_context_falls_back_to_digits():
    ctx = dlviz.registry.make_context(dataset=dlviz.datasets.load("iris"), seed=0)
    result = Augmentation().compute(ctx, Params(n_train=20, epochs=1, samples=1, copies=1))
    assert result.dataset_name == "digits" and result.originals.shape == (1, 8, 8, 1)
