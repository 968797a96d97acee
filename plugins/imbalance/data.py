"""Labels and class counts of the imbalance workbench's data: class ids or a multi-label indicator
matrix (`Targets`), per-class counts, which classes are the minority, thinning chosen classes of the
training split (`reduce_classes`), the fingerprint that shows the test split was never touched, and
class weights as an array.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from dlviz.errors import DataError, ParamsError


@dataclasses.dataclass(frozen=True)
class Targets:
    """Labels as class ids (n,) or, for multi-label data, a 0/1 indicator matrix (n, labels)."""

    train: np.ndarray
    test: np.ndarray
    n_classes: int
    class_names: tuple[str, ...]
    multilabel: bool
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none

    @classmethod
    def of(cls, dataset) -> Targets:
        train, train_multi = _as_targets(dataset.y_train, "y_train")
        test, test_multi = _as_targets(dataset.y_test, "y_test")
        if train_multi != test_multi:
            raise DataError(
                "y_train and y_test disagree: one is multi-label, the other has one class per sample.",
                "give both splits the same kind of labels.",
            )
        names = tuple(str(name) for name in (getattr(dataset, "class_names", None) or ()))
        if train_multi:
            n_classes = train.shape[1]
        else:
            n_classes = max(len(names), int(max(train.max(initial=0), test.max(initial=0))) + 1)
        names_zh = tuple(str(name) for name in (getattr(dataset, "class_names_zh", None) or ()))
        if len(names) != n_classes:
            names = tuple(str(c) for c in range(n_classes))
        if len(names_zh) != n_classes:
            names_zh = ()
        return cls(train, test, n_classes, names, train_multi, names_zh)


def _as_targets(y, what: str) -> tuple[np.ndarray, bool]:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        if y.size and (np.any(y < 0) or np.any(y != np.round(y))):
            raise DataError(
                f"{what} holds values that are not class ids.", "pass integer class ids 0..n_classes-1."
            )
        return y.astype(np.int64), False
    if y.ndim == 2 and np.isin(y, (0, 1)).all():
        if np.all(y.sum(axis=1) == 1):
            return y.argmax(axis=1).astype(np.int64), False
        return y.astype(np.int64), True
    raise DataError(
        f"{what} has shape {y.shape}; expected class ids (n,), one-hot rows, or a 0/1 multi-label matrix.",
        "pass integer class ids of shape (n,).",
    )


def class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    if y.ndim == 2:
        return y.sum(axis=0).astype(np.int64)
    return np.bincount(y, minlength=n_classes).astype(np.int64)


def minority_classes(counts: np.ndarray) -> tuple[int, ...]:
    """Classes with at most two thirds of the largest class's samples; the rarest one when none has."""
    rare = np.flatnonzero(counts * 1.5 <= counts.max())
    if rare.size == 0:
        rare = np.array([int(np.argmin(counts))])
    return tuple(int(c) for c in rare)


def thin_classes(x, y, targets: Targets, params, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep `keep_fraction` of the training samples of `reduce_classes` (at least one each)."""
    if not params.reduce_classes:
        return x, y
    if targets.multilabel:
        raise ParamsError(
            "reduce_classes thins classes of single-label data; this target is multi-label.",
            "leave reduce_classes empty.",
        )
    unknown = [c for c in params.reduce_classes if c >= targets.n_classes]
    if unknown:
        raise ParamsError(
            f"reduce_classes names class id(s) {unknown}, but this dataset has classes 0..{targets.n_classes - 1}.",
            f"pick class ids below {targets.n_classes}.",
        )
    random = np.random.RandomState(seed)
    keep = np.ones(len(y), bool)
    for cls in sorted(set(params.reduce_classes)):
        members = np.flatnonzero(y == cls)
        kept = max(1, int(round(params.keep_fraction * len(members))))
        dropped = random.permutation(members)[kept:]
        keep[dropped] = False
    return x[keep], y[keep]


def fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:20]


def weights_array(class_weight: dict | None, n_classes: int) -> np.ndarray:
    if not class_weight:
        return np.ones(n_classes)
    return np.array([class_weight.get(c, 1.0) for c in range(n_classes)], dtype=np.float64)
