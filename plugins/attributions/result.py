"""The `attributions` plugin's result: the maps of every method, IG's completeness, the sanity check."""

from __future__ import annotations

import dataclasses

import numpy as np

from plugins._shared.explain import feature_names as input_feature_names
from plugins._shared.explanation import Explanation

METHODS = ("integrated_gradients", "saliency", "smoothgrad", "gradient_x_input", "grad_cam")
METHOD_NAMES = {
    "integrated_gradients": ("Integrated Gradients", "积分梯度 (Integrated Gradients)"),
    "saliency": ("Saliency (gradient)", "显著图 (saliency map)"),
    "smoothgrad": ("SmoothGrad", "SmoothGrad (平滑梯度)"),
    "gradient_x_input": ("Gradient × Input", "梯度 × 输入 (Gradient × Input)"),
    "grad_cam": ("Grad-CAM", "Grad-CAM (类激活图)"),
}
# Mean rank correlation with the trained model's maps, after randomising every layer, above which a
# method is flagged: its maps stay the same whatever the weights, so they do not explain the model.
SANITY_LIMIT = 0.5
# Relative completeness error of Integrated Gradients above which more steps are advised.
COMPLETENESS_LIMIT = 0.05


@dataclasses.dataclass(frozen=True)
class SanityCheck:
    """Cascading randomisation. Stage 0 is the trained model; stage k has the weights of the top k groups of
    layers randomised (one layer per group unless the model has more trainable layers than the stages
    asked for; `stages[k]` names the lowest layer randomised so far). `correlations[method][k]` is the mean
    Spearman rank correlation between the trained and the stage-k maps of |attribution|,
    `signed_correlations` the same of the signed maps; `maps[method]` holds the shown sample's map at
    every stage."""

    stages: tuple[str, ...]
    correlations: dict[str, np.ndarray]
    signed_correlations: dict[str, np.ndarray]
    maps: dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class AttributionResult:
    """Attribution maps of the explained samples, one class each.

    `maps[method]` is (samples, H, W) for images (channels summed) or (samples, features) for tables.
    `ig_sums` and `ig_deltas` are, per sample, the sum of Integrated Gradients and score(x) - score(baseline);
    `completeness_error` is max |sum - delta| divided by mean |delta|. `outputs` is the explained score of
    each sample at its input, in `score`'s units. `as_explanation(method)` gives one method's maps as the
    `Explanation` every attribution method shares.
    """

    methods: tuple[str, ...]
    maps: dict[str, np.ndarray]
    inputs: np.ndarray
    feature_values: np.ndarray
    feature_names: tuple[str, ...]
    image: bool
    targets: np.ndarray
    probabilities: np.ndarray
    class_names: tuple[str, ...]
    score: str
    outputs: np.ndarray
    baseline: str
    steps: int
    smoothgrad_samples: int
    smoothgrad_noise: float  # the noise's standard deviation, as a fraction of the training inputs' range
    grad_cam_layer: str | None
    ig_sums: np.ndarray | None
    ig_deltas: np.ndarray | None
    completeness_error: float | None
    sanity: SanityCheck | None
    sample: int
    notes: tuple[str, ...]
    seconds: float
    notes_zh: tuple[str, ...] = ()  # `notes` in Chinese, one for one
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none
    # A regressor: `class_names` name the targets, `probabilities` and `outputs` are predictions and the
    # maps attributions in the target's units (the dataset's target standardisation undone).
    regression: bool = False
    # A time series: (steps, features) of each sample, named by `series_features`; its maps are
    # (samples, steps * features), step by step.
    series_shape: tuple[int, int] | None = None
    series_features: tuple[str, ...] = ()
    # Token ids: each explained sequence's words (the vocabulary's, or '#id'); its maps are (samples, steps),
    # one attribution per token, summed over the Embedding's dimensions.
    tokens: tuple[tuple[str, ...], ...] = ()

    def as_explanation(self, method: str) -> Explanation:
        """The maps of `method` (one of `methods`) as an `Explanation`, a value per pixel (channels summed)
        or per feature. Integrated Gradients' base value is the score of its baseline input, so that base
        value + sum of the values = output up to the completeness error; the other methods have none."""
        if method not in self.methods:
            raise KeyError(f"{method!r} was not computed; this result holds {', '.join(self.methods)}.")
        maps = self.maps[method]
        names = input_feature_names(None, (*maps.shape[1:], 1)) if self.image else self.feature_names
        base = self.outputs - self.ig_deltas if method == "integrated_gradients" else None
        params = {
            "integrated_gradients": (("baseline", self.baseline), ("steps", self.steps)),
            "smoothgrad": (("samples", self.smoothgrad_samples), ("noise", self.smoothgrad_noise)),
            "grad_cam": (("layer", self.grad_cam_layer),),
        }
        return Explanation(
            method=method,
            params=params.get(method, ()),
            values=maps.reshape(len(maps), -1),
            base_values=base,
            outputs=self.outputs,
            targets=self.targets,
            score=self.score,
            inputs=self.inputs,
            feature_names=names,
        )

