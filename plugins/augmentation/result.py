"""What the augmentation lesson computes: augmented copies of sample images, training curves with and
without augmentation, the imbalance plugin's generated minority images, and the lesson's formulas."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

FORMULAS = (
    dlviz.Formula(
        "Augmentation: train on random label-preserving transforms T of each image",
        "数据增强：在每张图像的随机、保持标签不变的变换 T 上训练",
        r"\min_\theta\ \mathbb{E}_{(x, y)}\, \mathbb{E}_{T}\ \ell\big(f_\theta(T(x)),\, y\big)",
    ),
    dlviz.Formula(
        "Overfitting gap",
        "过拟合差距",
        r"\text{gap} = L_{\text{val}} - L_{\text{train}}",
    ),
)


@dataclasses.dataclass(frozen=True)
class AugmentationResult:
    """`originals` [n, h, w, c] sample training images and `augmented` [n, copies, h, w, c] the outputs of
    the Keras preprocessing layers `layers` (training mode) on them, one call per copy. `history` maps
    "plain" and "augmented" to the per-epoch Keras history (loss, val_loss, accuracy, val_accuracy) of the
    same CNN trained on `n_train` images from the same initial weights. `minority_*`: the imbalance
    plugin's `augment` strategy on a training set where `minority_class` keeps only a few images: those
    originals and the images it generated for that class."""

    dataset_name: str
    layers: tuple[str, ...]
    originals: np.ndarray
    augmented: np.ndarray
    n_train: int
    n_validation: int
    epochs: int
    history: dict
    minority_class: str
    minority_originals: np.ndarray
    minority_generated: np.ndarray
    page: dlviz.Page  # the lesson's notes and formulas

    def final_gap(self, variant: str) -> float:
        return float(self.history[variant]["val_loss"][-1] - self.history[variant]["loss"][-1])
