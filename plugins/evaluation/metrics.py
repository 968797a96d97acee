"""Scores of a classifier's or regressor's predictions, every number from scikit-learn's metrics."""

from __future__ import annotations

import numpy as np
from sklearn import metrics
from sklearn.calibration import calibration_curve

from plugins.evaluation.result import Calibration, ClassificationMetrics, Curve, RegressionMetrics

# Top-k accuracy is shown for k = 1 .. MAX_TOP_K (fewer when there are fewer classes).
MAX_TOP_K = 5


def class_scores(outputs: np.ndarray, activation: str | None) -> np.ndarray:
    """Model outputs as one probability column per class: a single sigmoid unit becomes [1 - p, p];
    logits (a linear head) go through Keras' sigmoid or softmax first.

    >>> class_scores(np.array([[0.25]]), "sigmoid").tolist()
    [[0.75, 0.25]]
    """
    import keras

    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        positive = outputs if activation == "sigmoid" else np.asarray(keras.ops.sigmoid(outputs))
        return np.concatenate([1.0 - positive, positive], axis=1)
    if activation in ("softmax", "sigmoid"):
        return outputs
    return np.asarray(keras.ops.softmax(outputs, axis=1), dtype=np.float64)


def classification_metrics(y_true: np.ndarray, scores: np.ndarray) -> ClassificationMetrics:
    """Accuracy, confusion matrix, per-class precision / recall / F1 / support and top-k accuracy."""
    n_classes = scores.shape[1]
    labels = np.arange(n_classes)
    predicted = scores.argmax(axis=1)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, predicted, labels=labels, zero_division=0
    )
    top_k = (
        [
            metrics.top_k_accuracy_score(y_true, scores, k=k, labels=labels)
            for k in range(1, min(MAX_TOP_K, n_classes))
        ]
        if n_classes > 2
        else []
    )
    return ClassificationMetrics(
        accuracy=float(metrics.accuracy_score(y_true, predicted)),
        confusion=metrics.confusion_matrix(y_true, predicted, labels=labels),
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        macro_f1=float(metrics.f1_score(y_true, predicted, labels=labels, average="macro", zero_division=0)),
        top_k=np.asarray(top_k, dtype=np.float64),
    )


def one_vs_rest_curves(y_true: np.ndarray, scores: np.ndarray) -> tuple[tuple[Curve, ...], tuple[Curve, ...]]:
    """ROC and precision-recall curves of each class against the rest (class 1 alone for two classes);
    classes absent from `y_true` have no curve (their true-positive rate is undefined)."""
    n_classes = scores.shape[1]
    roc, pr = [], []
    for index in range(1 if n_classes == 2 else 0, n_classes):
        positive = y_true == index
        if not positive.any() or positive.all():
            continue
        fpr, tpr, _ = metrics.roc_curve(positive, scores[:, index])
        precision, recall, _ = metrics.precision_recall_curve(positive, scores[:, index])
        roc.append(Curve(index, fpr, tpr, float(metrics.roc_auc_score(positive, scores[:, index]))))
        average = float(metrics.average_precision_score(positive, scores[:, index]))
        pr.append(Curve(index, recall, precision, average))
    return tuple(roc), tuple(pr)


def calibration(y_true: np.ndarray, scores: np.ndarray, bins: int) -> Calibration:
    """Reliability of the top-class confidence: how often the model is right at each confidence level."""
    confidence = scores.max(axis=1)
    correct = (scores.argmax(axis=1) == y_true).astype(np.int64)
    # A top-class probability is at least 1/classes: the bins span [1/classes, 1], rescaled to the
    # [0, 1] that calibration_curve bins uniformly.
    low = 1.0 / scores.shape[1]
    rescaled = np.clip((confidence - low) / (1.0 - low), 0.0, 1.0)
    accuracy, mean_rescaled = calibration_curve(correct, rescaled, n_bins=bins, pos_label=1)
    # The sample count of each bin, binned as calibration_curve bins (it returns only non-empty bins).
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], rescaled), minlength=bins)
    counts = counts[counts > 0]
    mean_confidence = low + mean_rescaled * (1.0 - low)
    expected_error = float(np.sum(counts * np.abs(accuracy - mean_confidence)) / counts.sum())
    return Calibration(mean_confidence, accuracy, counts, expected_error)


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> RegressionMetrics:
    """Mean absolute error, root mean squared error and R²."""
    return RegressionMetrics(
        mae=float(metrics.mean_absolute_error(actual, predicted)),
        rmse=float(metrics.root_mean_squared_error(actual, predicted)),
        r2=float(metrics.r2_score(actual, predicted)),
    )
