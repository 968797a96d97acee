"""The metadata a Recorder writes at the top of a run: versions, the model, its layers and variables,
its loss, optimizer and regularisation, and the Recorder's own settings (all JSON)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json

import keras
import numpy as np
import tensorflow as tf

from dlviz._model_introspection import leaf_layers


def run_meta(model, handle, variables, *, dataset, record_layers: dict, settings: dict) -> dict:
    """A run's meta document for ``model`` (wrapped as ``handle``) recorded with ``settings``."""
    meta = {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "dlviz_version": _version("dlviz"),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "model_name": model.name,
        "model_class": type(model).__name__,
        "param_count": int(model.count_params()),
        "regularization": _regularization(model),
        "dataset": dataset,
        "loss": _describe_loss(getattr(model, "loss", None)),
        "optimizer": _optimizer_config(getattr(model, "optimizer", None)),
        "layers": [
            {
                "name": info.name,
                "kind": info.kind,
                "output_shape": list(info.output_shape),
                "params": info.params,
                "activation": info.activation,
                "trainable_paths": list(info.trainable_paths),
            }
            for info in handle.layers
        ],
        "variables": [
            {"path": path, "shape": list(variable.shape), "layer": handle.layer_of_path[path]}
            for path, variable in zip(handle.variable_paths, variables, strict=True)
        ],
        "record_layers": record_layers,
        "recorder": settings,
        "status": "recording",
    }
    return json.loads(json.dumps(meta, default=str))


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _describe_loss(loss):
    """The compiled loss' name; a list or dict of names for a model with one loss per output."""
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, dict):
        return {name: _describe_loss(value) for name, value in loss.items()}
    if isinstance(loss, list | tuple):
        return [_describe_loss(value) for value in loss]
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _regularization(model) -> dict:
    """What regularises the model, read off its leaf layers: the largest dropout rate and L1 / L2 factor
    of any layer (0 when none) and how many batch-normalisation layers it has (for run comparisons)."""
    summary = {"dropout": 0.0, "l1": 0.0, "l2": 0.0, "batch_norm": 0}
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            summary["batch_norm"] += 1
        if "Dropout" in type(layer).__name__ and isinstance(getattr(layer, "rate", None), int | float):
            summary["dropout"] = max(summary["dropout"], float(layer.rate))
        for name in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            regularizer = getattr(layer, name, None)
            for factor in ("l1", "l2"):
                value = getattr(regularizer, factor, None)
                if isinstance(value, int | float | np.floating):
                    summary[factor] = max(summary[factor], float(value))
    return summary


def _optimizer_config(optimizer) -> dict | None:
    if optimizer is None:
        return None
    try:
        config = optimizer.get_config()
    except Exception:  # a custom optimizer without get_config still gets a name
        config = {}
    return {"class": type(optimizer).__name__, **json.loads(json.dumps(config, default=str))}
