"""How `Dataset.from_arrays` and `Dataset.from_csv` read, check, encode and split the user's data.

Every problem raises a `DataError` that says what is wrong and how to fix it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from dlviz.errors import DataError


def check_test_size(test_size: Any) -> None:
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise DataError(
            f"test_size must be a fraction strictly between 0 and 1; got {test_size!r}.",
            "Use e.g. test_size=0.2 to hold out 20% of the samples.",
        )


def check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise DataError(f"seed must be an integer from 0 to 2**32 - 1; got {seed!r}.", "Use e.g. seed=0.")


def listing(items: list[str], limit: int = 30, quote: bool = True) -> str:
    shown = ", ".join(repr(i) if quote else i for i in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def read_csv(path_or_buffer: Any, sep: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path_or_buffer, sep=sep, encoding="utf-8-sig")  # spreadsheets often write a BOM
    except FileNotFoundError as exc:
        raise DataError(f"No CSV file at {str(path_or_buffer)!r}.", "Check the path.") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError("The CSV file is empty.", "Give a file with a header row and data rows.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(
            f"The file could not be read as CSV: {exc}",
            f"Save it as UTF-8 text with a header row and {sep!r} between values.",
        ) from exc
    if len(table) == 0:
        raise DataError(
            "The CSV file has a header but no data rows.", "Add at least a few samples per class."
        )
    return table


def feature_array(x: Any, label: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """x as a float64 array, and its column names when it came as a table."""
    if isinstance(x, pd.DataFrame):
        if x.size == 0:
            raise DataError(f"{label} is empty.", "Give at least a few samples per class.")
        return _table_values(x, "Feature column", quote=True), tuple(str(c) for c in x.columns)
    try:
        array = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise DataError(
            f"{label} is not a rectangular array: {exc}",
            f"Give {label} one row per sample, all the same length.",
        ) from exc
    if array.size == 0 or array.ndim == 0:
        raise DataError(f"{label} is empty.", "Give at least a few samples per class.")
    if array.dtype.kind == "O" and array.ndim == 2:  # mixed Python objects: judge column by column
        array = _table_values(pd.DataFrame(array).infer_objects(), f"{label} column", quote=False)
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{label} is not numeric (its values have type {array.dtype}).",
            "Encode text categories as numbers (e.g. one-hot) before building the dataset.",
        )
    if array.ndim not in (2, 3, 4):
        fix = (
            f"For a single feature, pass {label}.reshape(-1, 1)."
            if array.ndim == 1
            else "Give tabular data as (samples, features) and images as (samples, height, width[, channels])."
        )
        raise DataError(f"{label} has {array.ndim} dimension(s), shape {array.shape}.", fix)
    return array.astype(np.float64), None


def _table_values(table: pd.DataFrame, what: str, quote: bool) -> np.ndarray:
    """A table's values as float64 (booleans as 0/1, missing values as NaN); text columns are refused."""
    non_numeric = [
        str(c)
        for c in table.columns
        if not (pd.api.types.is_numeric_dtype(table[c]) or pd.api.types.is_bool_dtype(table[c]))
    ]
    if non_numeric:
        plural = len(non_numeric) > 1
        raise DataError(
            f"{what}{'s' if plural else ''} {listing(non_numeric, quote=quote)} {'are' if plural else 'is'} "
            "not numeric.",
            "Encode text categories as numbers (e.g. one-hot with pandas.get_dummies) or drop those columns.",
        )
    return table.to_numpy(dtype=np.float64, na_value=np.nan)


def with_channel(x: np.ndarray, kind: str) -> np.ndarray:
    return x[..., np.newaxis] if kind == "image" and x.ndim == 3 else x


def resolve_feature_names(
    given: Any, columns: tuple[str, ...] | None, kind: str, sample_shape: tuple[int, ...]
) -> tuple[str, ...]:
    n_features = math.prod(sample_shape)
    if given is not None:
        names_given = tuple(str(n) for n in given)
        if len(names_given) != n_features:
            raise DataError(
                f"{len(names_given)} feature names for {n_features} features.", "Give one name per feature."
            )
        return names_given
    if columns is not None:
        return columns
    if kind == "image":
        height, width, channels = sample_shape
        return tuple(
            f"pixel_{r}_{c}" if channels == 1 else f"pixel_{r}_{c}_{ch}"
            for r in range(height)
            for c in range(width)
            for ch in range(channels)
        )
    if kind == "points2d":
        return ("x1", "x2")
    return tuple(f"feature_{i}" for i in range(n_features))


def check_finite(x: np.ndarray, feature_names: tuple[str, ...], label: str) -> None:
    bad = ~np.isfinite(x)
    if not bad.any():
        return
    where = ""
    if x.ndim == 2:
        per_column = bad.sum(axis=0)
        counts = [f"{feature_names[i]} ({per_column[i]})" for i in np.flatnonzero(per_column)]
        where = " in " + listing(counts, quote=False)
    subject = "The test features have" if label == "x_test" else "The features have"
    raise DataError(
        f"{subject} {int(bad.sum())} missing or infinite value(s){where}.",
        "Drop those rows (pandas: df.dropna()) or fill them in (df.fillna(...)) before building the dataset.",
    )


def label_array(y: Any, label: str, n_samples: int) -> np.ndarray:
    array = np.asarray(y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        fix = (
            f"For one-hot labels pass {label}.argmax(axis=1); multi-label targets are not supported."
            if array.ndim == 2
            else f"Give one label per sample, shape ({n_samples},)."
        )
        raise DataError(f"{label} must hold one label per sample; got shape {array.shape}.", fix)
    if len(array) != n_samples:
        x_label = "x_test" if label == "y_test" else "x"
        raise DataError(
            f"{x_label} has {n_samples} samples but {label} has {len(array)} labels.",
            "Give exactly one label per sample, in the same order.",
        )
    missing = pd.isna(array)
    if missing.any():
        subject = "The test labels have" if label == "y_test" else "The labels have"
        raise DataError(
            f"{subject} {int(missing.sum())} missing value(s).",
            "Drop the samples without a label, or label them.",
        )
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or not np.equal(np.round(array), array).all():
            example = (
                array[np.flatnonzero(np.round(array) != array)[0]] if np.isfinite(array).all() else np.inf
            )
            raise DataError(
                f"{label} has non-integer values (e.g. {float(example)}): dlviz datasets are for classification.",
                "Give class labels (integers or text), or bin a continuous target into classes.",
            )
        array = array.astype(np.int64)
    if array.dtype.kind == "O":
        array = array.astype(str)
    return array


def encode_labels(
    y: np.ndarray, y_test: np.ndarray | None, class_names: Any
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    if class_names is not None:
        names_given = tuple(str(n) for n in class_names)
        if len(set(names_given)) != len(names_given):
            raise DataError(f"class_names has duplicates: {names_given}.", "Give each class a distinct name.")
        if len(names_given) < 2:
            raise DataError(
                f"class_names has {len(names_given)} name(s).", "A classifier needs at least two classes."
            )
        ids = _ids_from_names(y, names_given)
        test_ids = None if y_test is None else _ids_from_names(y_test, names_given)
        names_out = names_given
    else:
        values = np.unique(y)
        names_out = tuple(str(v) for v in values.tolist())
        ids = np.searchsorted(values, y).astype(np.int64)
        test_ids = None
        if y_test is not None:
            unseen = sorted({str(v) for v in np.setdiff1d(np.unique(y_test), values).tolist()})
            if unseen:
                raise DataError(
                    f"y_test has classes that y does not: {listing(unseen)}.",
                    "Train on every class you test on, or drop those test samples.",
                )
            test_ids = np.searchsorted(values, y_test).astype(np.int64)
    present = np.unique(ids)
    if len(present) < 2:
        only = names_out[present[0]] if len(present) else "none"
        raise DataError(
            f"The labels hold only one class ({only!r}); a classifier needs at least two.",
            "Check the target column, or add samples of the other classes.",
        )
    return ids, test_ids, names_out


def _ids_from_names(labels: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    if labels.dtype.kind in "iu":
        outside = (labels < 0) | (labels >= len(class_names))
        if outside.any():
            raise DataError(
                f"Labels {listing(sorted(set(labels[outside].tolist())))} are not class ids 0..{len(class_names) - 1} "
                f"for class_names {class_names}.",
                "Give integer labels as ids into class_names, or omit class_names.",
            )
        return labels.astype(np.int64)
    lookup = {name: i for i, name in enumerate(class_names)}
    as_text = labels.astype(str)
    unknown = sorted(set(as_text.tolist()) - set(lookup))
    if unknown:
        raise DataError(
            f"Labels {listing(unknown)} are not in class_names {class_names}.",
            "Add them to class_names, or omit class_names to take the classes from the labels.",
        )
    return np.array([lookup[label] for label in as_text], dtype=np.int64)


def stratified_split(
    x: np.ndarray, ids: np.ndarray, class_names: tuple[str, ...], test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    counts = np.bincount(ids, minlength=len(class_names))
    too_small = [f"{class_names[i]!r} ({counts[i]})" for i in np.flatnonzero((counts > 0) & (counts < 2))]
    if too_small:
        raise DataError(
            f"A stratified split needs at least 2 samples per class; these classes have 1: {', '.join(too_small)}.",
            "Add samples of those classes, drop them, or pass x_test and y_test yourself.",
        )
    n_classes = int((counts > 0).sum())
    n_test = math.ceil(test_size * len(ids))
    if n_test < n_classes or len(ids) - n_test < n_classes:
        raise DataError(
            f"test_size={test_size} of {len(ids)} samples leaves {n_test} for testing and {len(ids) - n_test} "
            f"for training, but both need at least one sample of each of the {n_classes} classes.",
            "Choose a test_size closer to 0.5 or add samples.",
        )
    try:
        return train_test_split(x, ids, test_size=test_size, random_state=seed, stratify=ids)
    except ValueError as exc:
        raise DataError(f"The stratified split failed: {exc}", "Add samples or change test_size.") from exc


def check_pixel_range(*images: np.ndarray) -> None:
    low = min(float(i.min()) for i in images)
    high = max(float(i.max()) for i in images)
    if low < 0 or high > 1:
        raise DataError(
            f"Image pixels must lie in [0, 1]; these range from {low:g} to {high:g}.",
            "Divide 8-bit images by 255 (or by the largest possible value) first.",
        )


def frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    copy = np.array(array, dtype=dtype, copy=True)
    copy.setflags(write=False)
    return copy
