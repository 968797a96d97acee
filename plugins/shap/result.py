"""The `shap` plugin's result: SHAP values of the explained samples, and how far they add up."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from plugins._shared.explanation import Explanation

METHOD_LABELS = {"deep": "DeepExplainer", "gradient": "GradientExplainer", "kernel": "KernelExplainer"}
# Relative additivity error above which a result is flagged (and auto moves on from DeepExplainer).
ADDITIVITY_TOLERANCE = 1e-2


@dataclasses.dataclass(frozen=True)
class ShapResult:
    """SHAP values of the explained samples for one class each, and the per-pixel maps of top classes.

    `explanation` is a `shap.Explanation` (values shaped like the inputs, base_values, data, feature_names,
    display_data in the dataset's units). `additivity_error_abs` is max |base + sum(values) - output| over
    the samples, `additivity_error` the same relative to the mean |output|. `as_explanation()` gives the
    values as the `Explanation` every attribution method shares.
    """

    explanation: Any
    method: str
    notes: tuple[str, ...]
    targets: np.ndarray
    class_names: tuple[str, ...]
    outputs: np.ndarray
    additivity_error: float
    additivity_error_abs: float
    feature_values: np.ndarray
    background_size: int
    sample: int
    dependence_feature: int
    interaction_feature: int
    image_shape: tuple | None
    image_samples: np.ndarray
    image_classes: np.ndarray
    image_probabilities: np.ndarray
    image_values: np.ndarray
    score: str  # what the values explain: "probability" of the class, or the raw "output"
    seconds: float
    notes_zh: tuple[str, ...] = ()  # `notes` in Chinese, one for one
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none
    # A regressor: `class_names` name the targets; values, base values and outputs are in the target's
    # units (the dataset's target standardisation undone: SHAP values of a linear rescale scale with it).
    regression: bool = False
    # A time series: (steps, features) of each sample, named by `series_features` (values step by step).
    series_shape: tuple[int, int] | None = None
    series_features: tuple[str, ...] = ()

    @property
    def values(self) -> np.ndarray:
        """SHAP values as (samples, features)."""
        return np.asarray(self.explanation.values).reshape(len(self.targets), -1)

    @property
    def base_values(self) -> np.ndarray:
        return np.asarray(self.explanation.base_values)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.explanation.feature_names)

    @property
    def method_label(self) -> str:
        return METHOD_LABELS[self.method]

    def as_explanation(self) -> Explanation:
        """The SHAP values as an `Explanation`: base value + sum of the values = output, per sample."""
        return Explanation(
            method="shap",
            params=(("explainer", self.method), ("background", self.background_size)),
            values=self.values,
            base_values=self.base_values,
            outputs=self.outputs,
            targets=self.targets,
            score=self.score,
            inputs=np.asarray(self.explanation.data),
            feature_names=self.feature_names,
        )
