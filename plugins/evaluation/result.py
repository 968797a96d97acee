"""The `evaluation` plugin's results: classification metrics, the gallery of confident mistakes, regression
metrics, and the same metrics at each weight snapshot of a run."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from dlviz.plugin import tr_names


@dataclasses.dataclass(frozen=True)
class Curve:
    """One class's one-vs-rest curve: ROC (x = false positive rate, y = true positive rate, area = AUC)
    or precision-recall (x = recall, y = precision, area = average precision)."""

    class_index: int
    x: np.ndarray
    y: np.ndarray
    area: float


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Reliability diagram of the top-class confidence: per non-empty bin, mean confidence, accuracy and
    sample count; `expected_error` is the count-weighted mean |accuracy - confidence| (ECE)."""

    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    expected_error: float


@dataclasses.dataclass(frozen=True)
class ClassificationMetrics:
    """Scores of one set of predictions (scikit-learn's metrics). `confusion[i, j]`: samples of true class
    i predicted as j. Per class: precision, recall, F1, support. `top_k[k - 1]`: top-k accuracy."""

    accuracy: float
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    macro_f1: float
    top_k: np.ndarray


@dataclasses.dataclass(frozen=True)
class GalleryItem:
    """A misclassified sample, the model's confidence in its wrong class, and why (an attribution map)."""

    index: int  # position in the evaluated split
    true_class: int
    predicted_class: int
    confidence: float
    inputs: np.ndarray  # the sample as the model sees it: (H, W, C) or (features,)
    values: np.ndarray  # (features,) in the dataset's own units (tables), else the flattened image
    attribution: np.ndarray | None  # (H, W) for images, (features,) for tables; None for token sequences
    text: str = ""  # a token sequence's words


@dataclasses.dataclass(frozen=True)
class Gallery:
    """The most confidently wrong samples, with the attribution map of the class predicted for each (by
    `method`, through the attributions plugin) where the input has a gradient."""

    method: str  # "saliency" or "grad_cam"; "" when no map is shown (token sequences)
    kind: str  # how a sample is shown: "image", "table" (its features) or "text" (its words)
    feature_names: tuple[str, ...]
    items: tuple[GalleryItem, ...]


@dataclasses.dataclass(frozen=True)
class SnapshotMetrics:
    """Metrics at each weight snapshot of a run (the last one is the run's end, not the model shown)."""

    steps: np.ndarray
    classification: tuple[ClassificationMetrics, ...] = ()
    regression: tuple[RegressionMetrics, ...] = ()


@dataclasses.dataclass(frozen=True)
class ClassificationResult:
    """Everything the evaluation of a classifier shows."""

    split: str
    n_samples: int
    class_names: tuple[str, ...]
    metrics: ClassificationMetrics
    roc: tuple[Curve, ...]
    precision_recall: tuple[Curve, ...]
    calibration: Calibration
    calibration_bins: int
    gallery: Gallery | None
    snapshots: SnapshotMetrics | None
    page: dlviz.Page
    class_names_zh: tuple[str, ...] = ()

    def names(self, language: str) -> tuple[str, ...]:
        """Class names in `language` (English when the dataset has no Chinese names)."""
        return tr_names(language, self.class_names, self.class_names_zh)


@dataclasses.dataclass(frozen=True)
class RegressionMetrics:
    """MAE, RMSE and R² of one set of predictions (scikit-learn's metrics; the mean over several targets)."""

    mae: float
    rmse: float
    r2: float


@dataclasses.dataclass(frozen=True)
class RegressionResult:
    """Predicted against actual targets (samples, targets) in the user's units, their residuals and scores
    (averaged over the targets when there are several)."""

    split: str
    actual: np.ndarray
    predicted: np.ndarray
    target_names: tuple[str, ...]
    metrics: RegressionMetrics
    snapshots: SnapshotMetrics | None
    page: dlviz.Page

    @property
    def residuals(self) -> np.ndarray:
        """Actual minus predicted."""
        return self.actual - self.predicted
