"""How far the explanation methods agree: Spearman rank correlations of their importances, per sample and
on average, and the spread of their normalised importances per unit."""

from __future__ import annotations

import numpy as np

from plugins.explanation_methods.result import METHODS, ComparisonResult


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN when either side is constant."""
    from scipy.stats import rankdata

    ra, rb = rankdata(a), rankdata(b)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def agreement_matrices(importances: dict, compare: str) -> np.ndarray:
    """(samples, methods, methods) rank correlations of every pair of methods on each sample."""
    n = len(importances[METHODS[0]])
    result = np.ones((n, len(METHODS), len(METHODS)))
    for sample in range(n):
        for i, first in enumerate(METHODS):
            for j in range(i + 1, len(METHODS)):
                a, b = importances[first][sample], importances[METHODS[j]][sample]
                if compare == "magnitude":
                    a, b = np.abs(a), np.abs(b)
                result[sample, i, j] = result[sample, j, i] = spearman(a, b)
    return result


def mean_agreement(spearman: np.ndarray) -> np.ndarray:
    """The mean over samples of each pair's correlation, skipping samples where it is undefined (NaN)."""
    finite = np.isfinite(spearman)
    total = np.where(finite, spearman, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def normalised(values: np.ndarray) -> np.ndarray:
    """Each row divided by its largest |value| (methods have different units)."""
    scale = np.max(np.abs(values), axis=-1, keepdims=True)
    return values / np.where(scale > 0, scale, 1.0)


def disagreement(result: ComparisonResult, sample: int) -> np.ndarray:
    """Per unit: the spread (standard deviation) of the methods' normalised importances for one sample."""
    stacked = np.stack([normalised(result.importances[m][sample]) for m in result.methods])
    if result.compare == "magnitude":
        stacked = np.abs(stacked)
    return stacked.std(axis=0)
