"""The augmentation lesson's numbers, all from Keras: its preprocessing layers on sample images, a CNN of
`dlviz.models.build` trained with and without them, and the imbalance plugin's `augment` resampling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np

import dlviz
from dlviz import datasets, models
from dlviz.datasets import Dataset
from dlviz.errors import DataError
from dlviz.plugin import tr
from plugins.augmentation.result import FORMULAS, AugmentationResult
from plugins.imbalance.resampling import resample

if TYPE_CHECKING:
    from plugins.augmentation.plugin import Params

VALIDATION_IMAGES = 300
# The imbalanced set handed to the imbalance plugin's augment strategy: this many images per class,
# and only MINORITY_IMAGES of the last class.
IMAGES_PER_CLASS = 20
MINORITY_IMAGES = 4
MINORITY_SHOWN = 12


def image_data(ctx: dlviz.Context) -> Dataset:
    """The context's image set, else the bundled digits."""
    own = ctx.dataset
    if own is not None and own.kind == "image" and own.task == "classification":
        return own
    return datasets.load("digits", seed=ctx.seed)


def augmentation_layers(params: Params, seed: int) -> list[keras.layers.Layer]:
    """The chosen Keras preprocessing layers, each seeded; a zero factor leaves its layer out."""
    fill = {"fill_mode": "constant"}  # dark background outside the image, as digits have
    layers: list[keras.layers.Layer] = []
    if params.flip != "none":
        layers.append(keras.layers.RandomFlip(params.flip, seed=seed))
    if params.rotation:
        layers.append(keras.layers.RandomRotation(params.rotation, seed=seed + 1, **fill))
    if params.zoom:
        layers.append(keras.layers.RandomZoom(params.zoom, seed=seed + 2, **fill))
    if params.translation:
        layers.append(
            keras.layers.RandomTranslation(params.translation, params.translation, seed=seed + 3, **fill)
        )
    if params.contrast:
        layers.append(keras.layers.RandomContrast(params.contrast, seed=seed + 4))
    if params.noise:
        layers.append(keras.layers.GaussianNoise(params.noise, seed=seed + 5))
    return layers


def augment_copies(layers: list[keras.layers.Layer], images: np.ndarray, copies: int) -> np.ndarray:
    """`copies` calls of the layers in training mode on `images`: [n, copies, h, w, c]."""
    augmenter = keras.Sequential(layers)
    outputs = [np.asarray(augmenter(images, training=True)) for _ in range(copies)]
    return np.stack(outputs, axis=1).astype(np.float32)


def fit_cnn(data: Dataset, params: Params, layers: list[keras.layers.Layer], seed: int) -> dict:
    """The zoo's CNN (same seed, same initial weights), with the augmentation layers in front when given."""
    cnn = models.build("cnn", data, hidden=(32,), learning_rate=params.learning_rate, seed=seed)
    model = cnn
    if layers:
        inputs = keras.Input(shape=data.input_shape, name="input")
        model = keras.Model(inputs, cnn(keras.Sequential(layers, name="augmentation")(inputs)))
        model.compile(
            optimizer=models.make_optimizer("adam", params.learning_rate),
            loss=cnn.loss,
            metrics=["accuracy"],
        )
    history = model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_test, data.y_test),
        epochs=params.epochs,
        batch_size=params.batch_size,
        shuffle=False,  # the same batches for both
        verbose=0,
    ).history
    return {
        key: np.asarray(history[key], np.float64) for key in ("loss", "val_loss", "accuracy", "val_accuracy")
    }


def minority_images(data: Dataset, seed: int) -> tuple[str, np.ndarray, np.ndarray]:
    """The imbalance plugin's augment strategy on an imbalanced draw: the minority originals and its new images."""
    minority = data.n_classes - 1
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [
            rng.permutation(np.flatnonzero(data.y_train == c))[
                : MINORITY_IMAGES if c == minority else IMAGES_PER_CLASS
            ]
            for c in range(data.n_classes)
        ]
    )
    x, y = np.asarray(data.x_train[chosen], np.float32), np.asarray(data.y_train[chosen])
    resampled = resample("augment", x, y, n_classes=data.n_classes, kind="image", seed=seed)
    generated = resampled.x[resampled.added & (resampled.y == minority)][:MINORITY_SHOWN]
    return data.class_label(minority), x[y == minority], generated


def compute_augmentation(ctx: dlviz.Context, params: Params) -> AugmentationResult:
    full = image_data(ctx)
    if full.x_train.ndim != 4:
        raise DataError(f"{full.name} is not a set of images.", "load an image dataset such as digits.")
    layers = augmentation_layers(params, ctx.seed)
    samples = np.asarray(full.x_train[: params.samples], np.float32)
    ctx.report(0.05, tr(ctx.language, "augmenting sample images", "增强示例图像"))
    augmented = (
        augment_copies(layers, samples, params.copies)
        if layers
        else samples[:, None].repeat(params.copies, 1)
    )
    subset = Dataset.from_arrays(
        full.x_train[: params.n_train],
        full.y_train[: params.n_train],
        x_test=full.x_test[:VALIDATION_IMAGES],
        y_test=full.y_test[:VALIDATION_IMAGES],
        name=full.name,
        kind="image",
        class_names=full.class_names,
        class_names_zh=full.class_names_zh,
        standardize=False,
    )
    history = {}
    for fraction, variant in ((0.1, "plain"), (0.5, "augmented")):
        ctx.report(
            fraction,
            tr(
                ctx.language,
                f"training the CNN ({variant})",
                f"训练 CNN（{'不增强' if variant == 'plain' else '增强'}）",
            ),
        )
        history[variant] = fit_cnn(
            subset, params, augmentation_layers(params, ctx.seed) if variant == "augmented" else [], ctx.seed
        )
    ctx.report(
        0.9, tr(ctx.language, "the imbalance plugin's augment strategy", "imbalance 插件的数据增强策略")
    )
    minority, minority_originals, generated = minority_images(full, ctx.seed)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return AugmentationResult(
        dataset_name=full.name,
        layers=tuple(type(layer).__name__ for layer in layers),
        originals=samples,
        augmented=augmented,
        n_train=len(subset.x_train),
        n_validation=len(subset.x_test),
        epochs=params.epochs,
        history=history,
        minority_class=minority,
        minority_originals=minority_originals,
        minority_generated=generated,
        page=dlviz.Page(
            notes=(
                dlviz.Note(
                    f"The CNN of dlviz.models.build, trained by Adam on the first {len(subset.x_train)} training images of "
                    f"{full.name}, validated on {len(subset.x_test)} held-out images; the augmented model has the "
                    "preprocessing layers in front of the same CNN with the same initial weights (they act only in "
                    "training). The imbalance plugin's images: its augment strategy (plugins.imbalance.resampling) on a "
                    f"draw with {IMAGES_PER_CLASS} images per class and {MINORITY_IMAGES} of the last class.",
                    f"dlviz.models.build 的 CNN，用 Adam 在 {full.name} 的前 {len(subset.x_train)} 张训练图像上训练，在 "
                    f"{len(subset.x_test)} 张留出图像上验证；增强模型在同一个 CNN（相同初始权重）前面加上预处理层（只在训练时起作用）。"
                    f"imbalance 插件的图像：它的 augment 策略（plugins.imbalance.resampling）作用于每类 {IMAGES_PER_CLASS} 张、"
                    f"最后一类只有 {MINORITY_IMAGES} 张的抽样。",
                ),
            ),
            formulas=FORMULAS,
        ),
    )
