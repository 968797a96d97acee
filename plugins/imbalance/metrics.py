"""The imbalance workbench's scores of one strategy on the test split, from scikit-learn (imported inside
`score` and `_pr_curve`): per-class and averaged metrics, the precision-recall curve and the binary
threshold sweep, and which strategy scored best.
"""

from __future__ import annotations

import numpy as np

# Thresholds of the binary threshold sweep; 0.5 is among them (the slider starts there).
THRESHOLDS = np.round(np.arange(0.02, 0.99, 0.02), 2)
MAX_CURVE_POINTS = 300


def score(y_true, probabilities, multilabel, n_classes, minority, focus, binary) -> dict:
    """Every metric of one strategy on the test split, from scikit-learn."""
    from sklearn import metrics

    if multilabel:
        indicator = y_true
        predictions = (probabilities >= 0.5).astype(np.int64)
        confusion = metrics.multilabel_confusion_matrix(indicator, predictions)
        balanced = float(
            np.mean(
                [
                    metrics.balanced_accuracy_score(indicator[:, k], predictions[:, k])
                    for k in range(n_classes)
                ]
            )
        )
        accuracy = float(np.mean(indicator == predictions))
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            indicator, predictions, zero_division=0
        )
    else:
        indicator = np.eye(n_classes, dtype=np.int64)[y_true]
        predictions = probabilities.argmax(axis=1)
        labels = list(range(n_classes))
        confusion = metrics.confusion_matrix(y_true, predictions, labels=labels)
        balanced = float(metrics.balanced_accuracy_score(y_true, predictions))
        accuracy = float(np.trace(confusion) / max(len(y_true), 1))
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            y_true, predictions, labels=labels, zero_division=0
        )
    roc_per_class = np.full(n_classes, np.nan)
    ap_per_class = np.full(n_classes, np.nan)
    for k in range(n_classes):
        column = indicator[:, k]
        if 0 < column.sum() < len(column):
            roc_per_class[k] = metrics.roc_auc_score(column, probabilities[:, k])
            ap_per_class[k] = metrics.average_precision_score(column, probabilities[:, k])
    present = [c for c in minority if support[c] > 0]
    scores = probabilities[:, focus]
    curve_precision, curve_recall = _pr_curve(indicator[:, focus], scores)
    thresholds = _threshold_sweep(indicator[:, focus], scores) if binary else (np.zeros(0),) * 3
    return {
        "predictions": predictions,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "roc_auc_per_class": roc_per_class,
        "ap_per_class": ap_per_class,
        "confusion": confusion,
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        # sklearn's macro F1 is this mean of the per-class F1 scores (a second call would only re-validate).
        "macro_f1": float(np.mean(f1)),
        # Binary: ROC-AUC is the same for either class; PR-AUC is the minority class's (the informative one).
        "roc_auc": _nanmean(roc_per_class),
        "pr_auc": float(ap_per_class[focus]) if binary else _nanmean(ap_per_class),
        "minority_recall": float(np.mean(recall[present])) if present else float("nan"),
        "pr_curve_precision": curve_precision,
        "pr_curve_recall": curve_recall,
        "threshold_precision": thresholds[0],
        "threshold_recall": thresholds[1],
        "threshold_f1": thresholds[2],
    }


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _pr_curve(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics import precision_recall_curve

    if truth.sum() == 0:
        return np.zeros(0), np.zeros(0)
    precision, recall, _ = precision_recall_curve(truth, scores)
    if len(precision) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(precision) - 1, MAX_CURVE_POINTS).round().astype(int))
        precision, recall = precision[keep], recall[keep]
    return precision, recall


def _threshold_sweep(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 of the focus class when it is predicted for scores >= each threshold."""
    predicted = scores[None, :] >= THRESHOLDS[:, None]
    positive = truth.astype(bool)[None, :]
    true_pos = (predicted & positive).sum(axis=1)
    predicted_pos = predicted.sum(axis=1)
    # Precision is undefined (NaN, a gap in the plot) where nothing is predicted; F1 is 0 there, as in sklearn.
    precision = np.divide(
        true_pos, predicted_pos, out=np.full(len(THRESHOLDS), np.nan), where=predicted_pos > 0
    )
    recall = true_pos / max(int(positive.sum()), 1)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(THRESHOLDS)), where=total > 0)
    return precision, recall, f1


def best_strategy(outcomes, metric: str) -> str | None:
    scored = [(getattr(o, metric), o.strategy) for o in outcomes if np.isfinite(getattr(o, metric))]
    if not scored:
        return None
    best = max(value for value, _ in scored)
    return next(name for value, name in scored if value == best)
