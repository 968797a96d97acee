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
from sklearn.preprocessing import StandardScaler

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
    n_features = feature_name_count(kind, sample_shape)
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
    if kind == "sequence":
        return tuple(f"token_{i}" for i in range(n_features))
    return tuple(f"feature_{i}" for i in range(feature_name_count(kind, sample_shape)))


def feature_name_count(kind: str, sample_shape: tuple[int, ...]) -> int:
    """How many feature names a sample of ``kind`` has: one per feature of a time step for time series,
    one per value otherwise (a pixel, a token position, a column)."""
    return sample_shape[-1] if kind == "timeseries" else math.prod(sample_shape)


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


TASKS = ("classification", "regression", "multilabel")


def label_array(y: Any, label: str, n_samples: int) -> np.ndarray:
    """y as one label per sample (n,) or one row of targets per sample (n, k); missing values refused."""
    array = np.asarray(y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim not in (1, 2):
        raise DataError(
            f"{label} must hold one label per sample; got shape {array.shape}.",
            f"Give one label per sample, shape ({n_samples},), or one row of targets per sample.",
        )
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
    return array


def _zeros_and_ones(y: np.ndarray) -> bool:
    return y.dtype.kind in "biuf" and bool(np.isin(y, (0, 1)).all())


def resolve_task(task: str | None, y: np.ndarray) -> str:
    """The task ``y`` is for: ``task`` when given, else inferred.

    Text, integer and integer-valued labels mean classification, other numbers regression; rows of 0/1
    (not one-hot) mean multilabel, rows of other numbers several regression targets.
    """
    if task is not None:
        if task not in TASKS:
            raise DataError(f"Unknown task {task!r}.", f"Use one of {', '.join(TASKS)}, or None to infer it.")
        return task
    if y.ndim == 2:
        if not _zeros_and_ones(y):
            return "regression"
        if (y.sum(axis=1) == 1).all():
            raise DataError(
                f"y holds one-hot rows of shape {y.shape}.",
                "For one-hot labels pass y.argmax(axis=1); pass task='multilabel' if a sample may have "
                "several labels.",
            )
        return "multilabel"
    if y.dtype.kind == "f" and not np.equal(np.round(y), y).all():
        return "regression"
    return "classification"


def class_label_array(y: np.ndarray, label: str) -> np.ndarray:
    """Labels of a classification task: integers or text, one per sample."""
    if y.ndim != 1:
        raise DataError(
            f"{label} must hold one class label per sample; got shape {y.shape}.",
            f"For one-hot labels pass {label}.argmax(axis=1); pass task='multilabel' for several labels "
            "per sample, or task='regression' for numeric targets.",
        )
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not np.equal(np.round(y), y).all():
            example = y[np.flatnonzero(np.round(y) != y)[0]] if np.isfinite(y).all() else np.inf
            raise DataError(
                f"{label} has non-integer values (e.g. {float(example)}), which are not class labels.",
                "Pass task='regression' to predict those numbers, or give class labels (integers or text).",
            )
        return y.astype(np.int64)
    return y.astype(str) if y.dtype.kind == "O" else y


def regression_targets(y: np.ndarray, label: str) -> np.ndarray:
    """Targets of a regression task as float64, (n,) or (n, k); text and infinities refused."""
    if y.dtype.kind not in "biuf":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{label} holds text ({exc}), but a regression target must be numbers.",
                "Give numeric targets, or task='classification' for class labels.",
            ) from exc
    y = y.astype(np.float64)
    if not np.isfinite(y).all():
        raise DataError(f"{label} holds infinite values.", "Drop those samples or fix their targets.")
    return y


def multilabel_targets(y: np.ndarray, label: str) -> np.ndarray:
    """Targets of a multilabel task: one row of 0/1 per sample, a column per label."""
    if y.ndim != 2 or not _zeros_and_ones(y):
        raise DataError(
            f"A multilabel task needs {label} as rows of 0 and 1, one column per label; got shape {y.shape}.",
            "Give y of shape (samples, labels) with 1 where a label applies (sklearn's MultiLabelBinarizer "
            "makes one from lists of labels).",
        )
    return y.astype(np.int64)


def encode_targets(
    task: str, y: np.ndarray, y_test: np.ndarray | None, class_names: Any, target_names: Any
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...], tuple[str, ...]]:
    """Training and test targets for ``task``, the class names and the target names."""
    if task == "classification":
        test_labels = None if y_test is None else class_label_array(y_test, "y_test")
        ids, test_ids, names_of_classes = encode_labels(class_label_array(y, "y"), test_labels, class_names)
        return ids, test_ids, names_of_classes, ()
    convert = regression_targets if task == "regression" else multilabel_targets
    targets = convert(y, "y")
    test_targets = None if y_test is None else convert(y_test, "y_test")
    if test_targets is not None and test_targets.shape[1:] != targets.shape[1:]:
        raise DataError(
            f"y has targets of shape {targets.shape[1:]} per sample but y_test {test_targets.shape[1:]}.",
            "Give y_test the same target columns as y.",
        )
    width = 1 if targets.ndim == 1 else targets.shape[1]
    if task == "regression":
        if class_names is not None:
            raise DataError(
                "class_names was given for a regression task.",
                "Name the targets with target_names, or pass task='classification' for class labels.",
            )
        default = ("target",) if width == 1 else tuple(f"target_{i}" for i in range(width))
        return targets, test_targets, (), _names(target_names, default, "target_names", "target")
    default = tuple(f"label_{i}" for i in range(width))
    return targets, test_targets, _names(class_names, default, "class_names", "label column"), ()


def _names(given: Any, default: tuple[str, ...], what: str, per: str) -> tuple[str, ...]:
    if given is None:
        return default
    names = tuple(str(n) for n in given)
    if len(names) != len(default):
        raise DataError(f"{len(names)} {what} for {len(default)} {per}s.", f"Give one name per {per}.")
    return names


def random_split(
    x: np.ndarray, y: np.ndarray, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A shuffled split for targets that are not classes (regression, multilabel)."""
    n_test = math.ceil(test_size * len(y))
    if n_test < 1 or len(y) - n_test < 2:
        raise DataError(
            f"test_size={test_size} of {len(y)} samples leaves {n_test} for testing and {len(y) - n_test} "
            "for training.",
            "Add samples (at least a few dozen), or choose a test_size closer to 0.5.",
        )
    return train_test_split(x, y, test_size=test_size, random_state=seed)


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


KINDS = ("tabular", "image", "points2d", "sequence", "timeseries")


def resolve_kind(kind: str | None, x: np.ndarray, token_ids: bool) -> str:
    """``kind`` checked against the shape of ``x``, or inferred: token ids when a vocabulary was given,
    images from 4 dimensions (or 3 in [0, 1]), "points2d" for two features, else "tabular". A 3-D array
    outside [0, 1] may be images or time series: the caller has to say which."""
    if kind is None:
        if token_ids:
            kind = "sequence"
        elif x.ndim == 3 and (x.min() < 0 or x.max() > 1):
            raise DataError(
                f"x has shape {x.shape} and values from {x.min():g} to {x.max():g}, outside [0, 1]: it may be "
                "time series or unscaled images.",
                "Pass kind='timeseries' for (samples, steps, features) series, or divide 8-bit images by "
                "255 to bring their pixels into [0, 1].",
            )
        elif x.ndim > 2:
            return "image"
        else:
            return "points2d" if x.shape[1] == 2 else "tabular"
    if kind not in KINDS:
        raise DataError(
            f"Unknown dataset kind {kind!r}.", f"Use one of {', '.join(KINDS)}, or None to infer it."
        )
    dimensions = {"image": (3, 4), "timeseries": (3,)}.get(kind, (2,))
    if x.ndim not in dimensions:
        fix = {
            "image": "Reshape flat pixels, e.g. x.reshape(len(x), 8, 8, 1).",
            "timeseries": "Give series as (samples, steps, features); one feature: x[..., None].",
            "sequence": "Give one row of token ids per sample, padded to one length.",
        }.get(kind, "Flatten samples with x.reshape(len(x), -1), or use kind='image'.")
        wanted = {
            "image": "images shaped (samples, height, width[, channels])",
            "timeseries": "series shaped (samples, steps, features)",
            "sequence": "token ids shaped (samples, steps)",
        }.get(kind, "x shaped (samples, features)")
        raise DataError(f"kind={kind!r} needs {wanted}; got {x.shape}.", fix)
    if kind == "points2d" and x.shape[1] != 2:
        raise DataError(
            f"kind='points2d' needs exactly 2 features; x has {x.shape[1]}.", "Use kind='tabular'."
        )
    return kind


def vocabulary_of(
    x: np.ndarray, x_test: np.ndarray | None, vocabulary_size: Any, vocabulary: Any
) -> tuple[int, tuple[str, ...]]:
    """The vocabulary size and words of token-id sequences, checked against the ids they hold."""
    words = () if vocabulary is None else tuple(str(word) for word in vocabulary)
    ids = x if x_test is None else np.concatenate([x.ravel(), x_test.ravel()])
    if (ids < 0).any() or not np.equal(np.round(ids), ids).all():
        raise DataError(
            "Token ids must be non-negative integers.",
            "Map each token to an integer 0..vocabulary_size-1 (keras.layers.StringLookup does this).",
        )
    if vocabulary_size is None:
        size = len(words) if words else int(ids.max()) + 1
    elif isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, numbers.Integral):
        raise DataError(f"vocabulary_size must be an integer; got {vocabulary_size!r}.", "Use e.g. 1000.")
    else:
        size = int(vocabulary_size)
    if words and len(words) != size:
        raise DataError(
            f"The vocabulary lists {len(words)} words for a vocabulary size of {size}.",
            "Give one word per token id, or leave vocabulary_size out.",
        )
    if ids.max() >= size or size < 2:
        raise DataError(
            f"Token ids go up to {int(ids.max())}, but the vocabulary size is {size}.",
            "Pass vocabulary_size larger than the largest id (and at least 2).",
        )
    return size, words


def series_scaler(x_train: np.ndarray) -> StandardScaler:
    """A scaler of each feature of time series (samples, steps, features), fitted over all training steps."""
    return StandardScaler().fit(x_train.reshape(-1, x_train.shape[-1]))


def scaled(scaler: StandardScaler, x: np.ndarray) -> np.ndarray:
    """``x`` (tabular rows, time series or regression targets) scaled by ``scaler``, shape kept."""
    return scaler.transform(x.reshape(-1, 1 if x.ndim == 1 else x.shape[-1])).reshape(x.shape)


def target_scaler(y_train: np.ndarray) -> StandardScaler:
    return StandardScaler().fit(y_train.reshape(len(y_train), -1))
