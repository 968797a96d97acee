"""The imbalance workbench's result: the training points in 2-D (`ScatterPanel`), each strategy's
scores on the untouched test split (`Outcome`), and everything the figures draw (`ImbalanceResult`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from plugins.imbalance.metrics import best_strategy
from plugins.imbalance.resampling import Skipped


@dataclasses.dataclass(frozen=True)
class ScatterPanel:
    """Training points in 2-D (features or PCA), a random subset that keeps the class ratio."""

    title: str
    xy: np.ndarray
    labels: np.ndarray
    added: np.ndarray
    total: int


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One strategy trained and scored on the untouched test split."""

    strategy: str
    train_counts: np.ndarray
    class_weights: np.ndarray
    probabilities: np.ndarray
    predictions: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    roc_auc_per_class: np.ndarray
    ap_per_class: np.ndarray
    confusion: np.ndarray
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    roc_auc: float
    pr_auc: float
    minority_recall: float
    pr_curve_precision: np.ndarray
    pr_curve_recall: np.ndarray
    threshold_precision: np.ndarray
    threshold_recall: np.ndarray
    threshold_f1: np.ndarray
    loss_history: np.ndarray
    test_fingerprint: str
    fit_seconds: float
    total_seconds: float


@dataclasses.dataclass(frozen=True)
class ImbalanceResult:
    """Everything the figures draw: the data's imbalance, each strategy's scores, and what was skipped."""

    dataset_name: str
    kind: str
    class_names: tuple[str, ...]
    multilabel: bool
    binary: bool
    n_train: int
    n_test: int
    train_counts: np.ndarray
    test_counts: np.ndarray
    minority_classes: tuple[int, ...]
    focus_class: int
    reduced_classes: tuple[int, ...]
    keep_fraction: float
    explained_variance: tuple[float, ...]
    scatter: tuple[ScatterPanel, ...]
    outcomes: tuple[Outcome, ...]
    skipped: tuple[Skipped, ...]
    thresholds: np.ndarray
    test_fingerprint: str
    majority_share: float
    architecture: str
    epochs: int
    seed: int
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none
    page: dlviz.Page = dlviz.Page()  # notes on the page, e.g. that a class of balanced data was made rare

    def outcome(self, strategy: str) -> Outcome:
        """The outcome of `strategy` (KeyError if it did not run)."""
        for outcome in self.outcomes:
            if outcome.strategy == strategy:
                return outcome
        raise KeyError(strategy)

    @property
    def best_minority_recall(self) -> str | None:
        return best_strategy(self.outcomes, "minority_recall")

    @property
    def best_balanced_accuracy(self) -> str | None:
        return best_strategy(self.outcomes, "balanced_accuracy")
