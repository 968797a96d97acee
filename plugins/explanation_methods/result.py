"""The `explanation_methods` lesson's result: the three methods' importances on the same units, and how far
they agree."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

METHODS = ("lime", "shap", "integrated_gradients")
METHOD_NAMES = {
    "lime": ("LIME", "LIME"),
    "shap": ("SHAP", "SHAP"),
    "integrated_gradients": ("Integrated Gradients", "积分梯度 (IG)"),
}
PAIRS = (("lime", "shap"), ("lime", "integrated_gradients"), ("shap", "integrated_gradients"))


@dataclasses.dataclass(frozen=True)
class ComparisonResult:
    """Importances of the explained samples by the three methods, on the same units, and their agreement.

    `importances[method]` is (samples, units): units are the features of a table, or the image's blocks
    of `segment` pixels (LIME's segments; SHAP and IG summed per block). `spearman` is (samples, 3, 3), the
    rank correlation of every pair of methods on each sample (of the signed or absolute importances, as
    `compare` says); `agreement` its mean over the samples. `segments` maps each pixel to its unit.
    """

    methods: tuple[str, ...]
    image: bool
    unit_names: tuple[str, ...]
    importances: dict
    targets: np.ndarray
    class_names: tuple[str, ...]
    probabilities: np.ndarray
    compare: str
    spearman: np.ndarray
    agreement: np.ndarray
    sample: int
    inputs: np.ndarray
    segments: np.ndarray | None
    lime_scores: np.ndarray
    shap_method: str
    ig_completeness: float | None
    settings: dict
    page: dlviz.Page  # the lesson's notes and formulas
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none
    regression: bool = False  # a regressor: `class_names` name its targets, `probabilities` are predictions

    def pair(self, first: str, second: str) -> float:
        """Mean rank correlation of two methods."""
        return float(self.agreement[self.methods.index(first), self.methods.index(second)])
