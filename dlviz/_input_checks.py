"""The checks `ModelHandle` makes on the data it is given: x against the model's input, y against its
output and loss, the target class of input gradients. Each problem raises a `DataError` (a `ModelError`
when the model is what does not fit) that says what is wrong and how to fix it.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import tensorflow as tf

from dlviz.errors import DataError, ModelError


def named_items(value, names: tuple[str, ...], what: str) -> tuple:
    """`value` as one item per name, in `names` order, from what `model.fit` takes.

    A dict keyed by the names, a list or tuple in their order, or (for a single name) the value itself.
    """
    kind = "inputs" if what == "x" else "outputs"
    if isinstance(value, dict):
        missing = [name for name in names if name not in value]
        if missing:
            raise DataError(
                f"{what} is a dict with keys {sorted(map(str, value))}, but the model's {kind} are named "
                f"{list(names)} (missing: {missing}).",
                f"Key the arrays of {what} by those names, as model.fit takes them.",
            )
        return tuple(value[name] for name in names)
    if len(names) == 1:
        return (value,)
    if isinstance(value, list | tuple) and len(value) == len(names):
        return tuple(value)
    given = f"a {type(value).__name__} of {len(value)}" if isinstance(value, list | tuple) else "one array"
    raise DataError(
        f"The model has {len(names)} {kind} ({', '.join(names)}), but {what} is {given}.",
        f"Pass {what} as a list of {len(names)} arrays in that order or a dict keyed by those names "
        "(as model.fit takes them).",
    )


def check_inputs(
    x, names: tuple[str, ...], shapes: tuple[tuple, ...], dtypes: tuple
) -> tuple[np.ndarray, ...]:
    """One checked array per input (see `named_items` for what `x` may be), all with as many samples."""
    arrays = []
    for name, item, shape, dtype in zip(names, named_items(x, names, "x"), shapes, dtypes, strict=True):
        with _naming("Input", name, several=len(names) > 1):
            arrays.append(check_x(item, shape, dtype))
    counts = {name: len(array) for name, array in zip(names, arrays, strict=True)}
    if len(set(counts.values())) > 1:
        raise DataError(
            f"The inputs have different numbers of samples: {counts}.",
            "Pass one row per sample in every input.",
        )
    return tuple(arrays)


def check_targets(y, n_samples: int, names, shapes, dtypes, kinds) -> tuple[np.ndarray, ...]:
    """One checked label array per output (names, shapes, dtypes and label kinds given per output)."""
    labels = []
    items = named_items(y, names, "y")
    for name, item, shape, dtype, kind in zip(names, items, shapes, dtypes, kinds, strict=True):
        # Labels of a float16 output (mixed precision) stay float32: Keras' losses compute in float32.
        dtype = np.dtype(np.float32) if dtype.kind == "f" and dtype.itemsize < 4 else dtype
        with _naming("Output", name, several=len(names) > 1):
            labels.append(check_y(item, n_samples, shape, dtype, kind))
    return tuple(labels)


@contextmanager
def _naming(kind: str, name: str, several: bool):
    """Prefix a DataError with the input's or output's name when the model has several."""
    try:
        yield
    except DataError as exc:
        if not several:
            raise
        raise DataError(f"{kind} {name!r}: {exc.problem}", exc.fix) from exc


def check_x(x, input_shape: tuple, input_dtype: tf.DType) -> np.ndarray:
    """`x` as an array of the model's input dtype, or a `DataError` naming what does not fit."""
    x = _numeric_array(x, "x")
    if x.ndim == 0 or len(x) == 0:
        raise DataError(f"x is empty (shape {x.shape}).", "Pass at least one sample.")
    expected = (None, *input_shape)
    matches = x.ndim == len(expected) and all(
        want is None or want == got for want, got in zip(expected[1:], x.shape[1:], strict=True)
    )
    if not matches:
        fix = "Pass x with shape (n_samples, " + ", ".join(str(d) for d in input_shape) + ")"
        if x.shape == tuple(input_shape):
            fix += "; for one sample use x[None]"
        features = ""
        if x.ndim == 2 and len(expected) == 2:
            features = f" ({x.shape[1]} features per sample where the model takes {expected[1]})"
        raise DataError(
            f"x has shape {x.shape}, but the model expects {expected}{features}; None is any size.",
            fix + ".",
        )
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        bad = int(np.sum(~np.isfinite(x)))
        raise DataError(
            f"x contains {bad} NaN or infinite value(s).",
            "Remove or impute them (e.g. sklearn.impute.SimpleImputer) before calling the model.",
        )
    return x.astype(input_dtype.as_numpy_dtype, copy=False)


def check_y(y, n_samples: int, outputs_shape: tuple, outputs_dtype: np.dtype, kind: str) -> np.ndarray:
    """`y` as labels of `n_samples` samples for the model's output, or a `DataError` naming what does not fit.

    `kind`: what the labels must look like ("class_ids", "one_hot", "ids_or_one_hot", "binary" or "values"),
    as the model's loss and output activation say.
    """
    y = _numeric_array(y, "y")
    if y.ndim == 0 or len(y) != n_samples:
        raise DataError(
            f"y has {len(y) if y.ndim else 'no'} labels for {n_samples} samples in x.",
            "Pass one label per sample (y[i] belongs to x[i]).",
        )
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        raise DataError("y contains NaN or infinite values.", "Remove those samples or fix the labels.")
    return _check_labels(y, outputs_shape, outputs_dtype, kind)


def _check_labels(y: np.ndarray, outputs_shape: tuple, outputs_dtype: np.dtype, kind: str) -> np.ndarray:
    width = outputs_shape[-1]
    if kind in ("class_ids", "one_hot", "ids_or_one_hot"):
        return _check_classes(y, width, kind, outputs_dtype)
    if y.ndim == 1 and width == 1:
        y = y.reshape(-1, 1)
    if y.shape[1:] != outputs_shape[1:]:
        raise DataError(
            f"y has shape {y.shape}, but the model's output has shape {(None, *outputs_shape[1:])}.",
            "Pass one target per output unit and sample.",
        )
    if kind == "binary" and np.any((y < 0) | (y > 1)):
        bad = np.unique(y[(y < 0) | (y > 1)])[:5].tolist()
        raise DataError(
            f"y contains {bad}, but a sigmoid output with binary cross-entropy needs labels 0 or 1.",
            "Map the two classes to 0 and 1 (e.g. y = (y == positive_class).astype(int)), or use a "
            "softmax output with one unit per class.",
        )
    return y.astype(outputs_dtype)


def _check_classes(y: np.ndarray, width: int, kind: str, outputs_dtype: np.dtype) -> np.ndarray:
    if kind != "class_ids" and y.ndim == 2 and y.shape[1] == width != 1:
        return y.astype(outputs_dtype)
    if kind != "one_hot" and (y.ndim == 1 or y.shape == (len(y), 1)):
        ids = y.reshape(len(y))
        _check_class_ids(ids, width)
        return ids.astype(np.int64)
    expected, fix = {
        "class_ids": (
            "class ids of shape (n,)",
            f"Pass class ids 0..{width - 1} (y.argmax(axis=1) turns one-hot rows into ids).",
        ),
        "one_hot": (
            f"one-hot labels of shape (n, {width}) (its loss is categorical cross-entropy)",
            f"Pass keras.utils.to_categorical(y, {width}), or compile with "
            "sparse_categorical_crossentropy to use class ids.",
        ),
        "ids_or_one_hot": (
            f"class ids of shape (n,) or one-hot labels of shape (n, {width})",
            f"Pass class ids 0..{width - 1} or one-hot rows of width {width}.",
        ),
    }[kind]
    raise DataError(f"y has shape {y.shape}, but the model's {width}-unit output expects {expected}.", fix)


def check_target(target, n: int, outputs_shape: tuple) -> np.ndarray:
    """`target` of `input_gradients` as one class id per sample (-1: the predicted class)."""
    width = outputs_shape[-1] if len(outputs_shape) == 2 else None
    if width is None:
        raise ModelError(
            f"input_gradients needs an output of shape (n, units); this model's is {outputs_shape}.",
            "Use a model whose output is one vector per sample.",
        )
    if target is None or width == 1:
        if target not in (None, 0):
            raise DataError(
                f"target {target!r} is out of range for a single-unit output.", "Use target=None or 0."
            )
        return np.full(n, -1, dtype=np.int64)
    targets = np.asarray(target)
    if targets.ndim == 0:
        targets = np.full(n, targets)
    if targets.shape != (n,) or not np.issubdtype(targets.dtype, np.integer):
        raise DataError(
            f"target must be a class index or {n} integer class indices; got shape {targets.shape}, "
            f"dtype {targets.dtype}.",
            "Pass an int, one int per sample, or None for the predicted class.",
        )
    _check_class_ids(targets, width, what="target")
    return targets.astype(np.int64)


def _numeric_array(values, what: str) -> np.ndarray:
    if isinstance(values, tf.Tensor):
        values = values.numpy()
    try:
        array = np.asarray(values)
    except Exception as exc:
        raise DataError(
            f"{what} cannot be read as an array: {exc}", f"Pass {what} as a numpy array."
        ) from exc
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{what} has dtype {array.dtype}; dlviz needs numbers.",
            f"Encode non-numeric columns of {what} as numbers first.",
        )
    return array


def _check_class_ids(ids: np.ndarray, n_classes: int, what: str = "y") -> None:
    if np.issubdtype(ids.dtype, np.floating) and np.any(ids != np.round(ids)):
        raise DataError(
            f"{what} contains non-integer class ids.", f"Pass integer class ids 0..{n_classes - 1}."
        )
    bad = ids[(ids < 0) | (ids >= n_classes)]
    if bad.size:
        raise DataError(
            f"{what} contains class id(s) {np.unique(bad)[:5].tolist()}, but the output layer has "
            f"{n_classes} unit(s) (classes 0..{n_classes - 1}).",
            f"Use class ids 0..{n_classes - 1}, or give the output layer one unit per class.",
        )
