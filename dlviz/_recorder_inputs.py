"""The Recorder's arguments checked before training starts: its counts, its probe (as `model.fit` takes
inputs: one array, or a list or dict of arrays for several inputs or outputs) and its logdir (a local
folder or a URL)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from dlviz._run_storage import RemotePath, location, reach_fix
from dlviz.errors import DataError, RunError


def positive_int(value, name: str, minimum: int, example: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise RunError(
            f"{name} must be an integer >= {minimum}, got {value!r}.", f"Use e.g. {name}={example}."
        )
    return int(value)


def check_probe(probe):
    if probe is None:
        return None, None
    if isinstance(probe, tuple | list) and len(probe) == 2:
        x, y = probe
    elif isinstance(probe, tuple | list) and not is_array_list(probe):
        raise DataError(
            f"probe must be (x, y) or x; got a sequence of {len(probe)} items.",
            "Pass probe=(x, y) or probe=x.",
        )
    else:
        x, y = probe, None
    x = numeric_arrays(x, "probe x")
    n = sample_count(x)
    for name, array in named_arrays(x, "probe x"):
        if array.ndim == 0 or len(array) == 0:
            raise DataError(
                f"The {name} is empty (shape {array.shape}).", "Pass at least one sample, e.g. x_train[:64]."
            )
        if len(array) != n:
            raise DataError(
                f"The probe's inputs have different numbers of samples ({len(array)} in {name}, {n} in "
                "the first).",
                "Pass one row per sample in every input.",
            )
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise DataError(
                f"The {name} contains {int(np.sum(~np.isfinite(array)))} NaN or infinite value(s).",
                "Use samples without missing values (impute or drop them first).",
            )
    if y is None:
        return x, None
    y = numeric_arrays(y, "probe y")
    for name, array in named_arrays(y, "probe y"):
        if array.ndim == 0 or len(array) != n:
            raise DataError(
                f"The probe has {n} inputs but {len(array) if array.ndim else 'no'} labels in {name}.",
                "Pass x and y of the same length, e.g. probe=(x_train[:64], y_train[:64]).",
            )
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise DataError(f"The {name} contains NaN or infinite values.", "Use samples with valid labels.")
    return x, y


def is_array_list(values) -> bool:
    """A list or tuple of arrays (the inputs of a model with several), not nested numbers of one array."""
    return isinstance(values, list | tuple) and all(
        isinstance(item, np.ndarray | tf.Tensor) or getattr(item, "ndim", 0) >= 1 for item in values
    )


def numeric_arrays(values, what: str):
    """Each array of `values` (one array, a list or a dict of arrays) as a numpy array, structure kept."""
    if isinstance(values, dict):
        return {name: numeric(array, f"{what} [{name!r}]") for name, array in values.items()}
    if is_array_list(values):
        return [numeric(array, f"{what} [{index}]") for index, array in enumerate(values)]
    return numeric(values, what)


def named_arrays(values, what: str) -> list[tuple[str, np.ndarray]]:
    if isinstance(values, dict):
        return [(f"{what} [{name!r}]", array) for name, array in values.items()]
    if isinstance(values, list):
        return [(f"{what} [{index}]", array) for index, array in enumerate(values)]
    return [(what, values)]


def sample_count(values) -> int:
    first = named_arrays(values, "")[0][1]
    return len(first) if first.ndim else 0


def numeric(values, what: str) -> np.ndarray:
    try:
        array = np.asarray(values)
    except Exception as exc:
        raise DataError(f"The {what} cannot be read as an array: {exc}", "Pass a numpy array.") from exc
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(
            f"The {what} has dtype {array.dtype}; numbers are needed.", "Encode it as numbers first."
        )
    return array


def probe_for_model(handle, x, y):
    """The probe as tensors of the dtypes and shapes the model expects, or a DataError saying why not."""
    try:
        if y is None:
            x_checked, y_checked = handle.prepare(x), None
        else:
            x_checked, y_checked = handle.prepare(x, y)
    except DataError as exc:
        raise DataError(f"The probe does not fit the model: {exc.problem}", exc.fix) from exc
    return tf.nest.map_structure(tf.constant, x_checked), (
        None if y_checked is None else tf.nest.map_structure(tf.constant, y_checked)
    )


def check_logdir(logdir) -> Path | RemotePath | None:
    """The logdir as a location (a local path, or a URL such as ``gs://bucket/runs/exp1``), refused when
    it is a file or a folder that is not empty. A worker of a multi-worker cluster that is not the chief
    (by ``TF_CONFIG``) writes nothing, so its logdir is not checked: the chief may have created it."""
    if logdir is None:
        return None
    path = location(logdir)
    if not is_chief_by_tf_config():
        return path
    try:
        is_file = path.exists() and not path.is_dir()
        is_busy = not is_file and path.is_dir() and any(path.iterdir())
        holds_run = is_busy and (path / "meta.json").exists()
    except OSError as exc:  # a URL whose file system refuses: no credentials, unknown scheme, ...
        raise RunError(f"logdir {path} cannot be reached ({exc}).", reach_fix(path)) from exc
    if is_file:
        raise RunError(
            f"logdir {path} is an existing file.",
            "Pass a folder path that does not exist yet (it is created).",
        )
    if is_busy:
        raise RunError(
            f"logdir {path} is not empty" + (" (it holds a run already)." if holds_run else "."),
            "Give each run its own new folder, e.g. logdir='runs/exp2'.",
        )
    return path


def is_chief_by_tf_config() -> bool:
    """Whether this process is the one that writes in the cluster ``TF_CONFIG`` describes (True without
    one): its chief, or worker 0 of a cluster without a chief, as MultiWorkerMirroredStrategy decides."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except json.JSONDecodeError:
        return True
    task, cluster = config.get("task") or {}, config.get("cluster") or {}
    if not task or not cluster:
        return True
    if "chief" in cluster:
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0
