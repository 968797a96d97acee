"""`Explanation`: the one result type of every attribution method (SHAP values, Integrated Gradients,
saliency, SmoothGrad, Gradient x Input, Grad-CAM, LIME), so that code comparing methods reads them alike.

An explanation says, for each explained sample, how much each feature (a table's column, an image's
pixel, or a block of pixels) moved one class's score. Methods that split the score up from a reference
carry that reference's score as `base_values` (SHAP: the mean output over the background; Integrated
Gradients: the score of the baseline input), so that `base_values + values.sum(axis=1)` comes back to
`outputs`, exactly (SHAP's DeepExplainer, KernelExplainer) or up to the method's error (expected
gradients, the path integral's steps). The others (saliency, SmoothGrad, Gradient x Input, Grad-CAM,
LIME's local slopes) have no such reference: their `base_values` is None.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

SCORES = ("probability", "logit", "output")


@dataclasses.dataclass(frozen=True)
class Explanation:
    """What one attribution method says about the explained samples, one class each.

    `values` is (samples, features), a column per name of `feature_names`; `base_values` and `outputs`
    are (samples,) in the units of `score` ("probability", "logit" or "output": the model's raw output);
    `targets` is the class explained for each sample; `inputs` the samples as the model takes them.
    `params` holds the settings that shaped the values, as (name, value) pairs.

    >>> import numpy as np
    >>> explanation = Explanation(
    ...     method="integrated_gradients",
    ...     params=(("baseline", "zeros"), ("steps", 50)),
    ...     values=np.array([[0.25, 0.5]]),
    ...     base_values=np.array([0.125]),
    ...     outputs=np.array([0.875]),
    ...     targets=np.array([1]),
    ...     score="probability",
    ...     inputs=np.array([[1.0, 2.0]]),
    ...     feature_names=("a", "b"),
    ... )
    >>> explanation.param("steps"), explanation.additivity_gap().tolist()
    (50, [0.0])
    """

    method: str
    params: tuple[tuple[str, Any], ...]
    values: np.ndarray
    base_values: np.ndarray | None
    outputs: np.ndarray | None
    targets: np.ndarray
    score: str
    inputs: np.ndarray
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        samples = len(self.targets)
        if self.values.shape != (samples, len(self.feature_names)):
            raise ValueError(
                f"{self.method}: values of shape {self.values.shape} do not hold one row per explained sample "
                f"({samples}) and one column per feature ({len(self.feature_names)})."
            )
        for name in ("base_values", "outputs"):
            column = getattr(self, name)
            if column is not None and np.shape(column) != (samples,):
                raise ValueError(f"{self.method}: {name} of shape {np.shape(column)} is not ({samples},).")
        if len(self.inputs) != samples:
            raise ValueError(f"{self.method}: {len(self.inputs)} inputs for {samples} explained samples.")
        if self.score not in SCORES:
            raise ValueError(f"{self.method}: score {self.score!r} is not one of {SCORES}.")

    def param(self, name: str) -> Any:
        """The value of the setting `name` (KeyError when the method has no such setting)."""
        return dict(self.params)[name]

    def additivity_gap(self) -> np.ndarray:
        """Per sample, base value + sum of the values - output: zero where the values add up exactly.

        Only for methods with a base value and known outputs (ValueError otherwise).
        """
        if self.base_values is None or self.outputs is None:
            raise ValueError(f"{self.method} has no base value to add its values up from.")
        return self.base_values + self.values.sum(axis=1) - self.outputs
