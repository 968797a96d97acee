"""The playground's points and the features the network sees: bundled 2-D sets (more classes for spirals
and gauss) or the context's, and x1, x2, x1², ... computed from each point."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError, ParamsError

if TYPE_CHECKING:
    from plugins.playground.plugin import Params

# Sets with a multiclass form (more arms / blobs); the others have two classes.
MULTICLASS_SETS = ("spirals", "gauss")
FEATURES = {
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin x1": lambda p: np.sin(p[:, 0]),
    "sin x2": lambda p: np.sin(p[:, 1]),
}
FEATURE_LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1^2": "x₁²",
    "x2^2": "x₂²",
    "x1*x2": "x₁·x₂",
    "sin x1": "sin(x₁)",
    "sin x2": "sin(x₂)",
}


def feature_matrix(points: np.ndarray, features) -> np.ndarray:
    """The chosen features of 2-D points as (n, len(features)) float32, in the order given."""
    points = np.asarray(points, dtype=np.float64)
    return np.column_stack([FEATURES[name](points) for name in features]).astype(np.float32)


def ordered_features(chosen) -> tuple[str, ...]:
    """The chosen features in the canonical order; at least one is required."""
    features = tuple(name for name in FEATURES if name in set(chosen))
    if not features:
        raise ParamsError("No input feature is selected.", "select at least one feature, e.g. x1 and x2.")
    return features


def playground_data(ctx: dlviz.Context, params: Params) -> tuple[Dataset, list[str]]:
    """The 2-D points, split into training and test: bundled (any class count for spirals/gauss) or the context's."""
    notes: list[str] = []
    test_size = 1.0 - params.train_fraction
    if params.data == "context":
        data = ctx.dataset
        if data is None or data.kind != "points2d":
            raise DataError(
                "The playground's 'context' data needs a loaded dataset of 2-D points.",
                "load a 2-D dataset (or a CSV with two feature columns), or pick a bundled set.",
            )
        return data, notes
    limit = datasets.PARAMETERS[params.data]["noise"]["max"]
    noise = min(params.noise, limit)
    if noise < params.noise:
        notes.append(
            (
                f"{params.data} allows noise up to {limit}: {noise} used.",
                f"{params.data} 的噪声最大为 {limit}：使用 {noise}。",
            )
        )
    if params.classes > 2 and params.data not in MULTICLASS_SETS:
        notes.append(
            (
                f"{params.data} has two classes; 'Classes' applies to spirals and gauss.",
                f"{params.data} 只有两个类别；“类别数”只作用于 spirals 和 gauss。",
            )
        )
    if params.classes == 2 or params.data not in MULTICLASS_SETS:
        data = datasets.load(
            params.data, seed=ctx.seed, n_samples=params.n_samples, noise=noise, test_size=test_size
        )
        return data, notes
    x, y = _multiclass_points(params.data, params.classes, params.n_samples, noise, ctx.seed)
    data = Dataset.from_arrays(
        x,
        y,
        test_size=test_size,
        seed=ctx.seed,
        name=f"{params.data} ({params.classes} classes)",
        kind="points2d",
        feature_names=("x1", "x2"),
        class_names=tuple(
            f"{'arm' if params.data == 'spirals' else 'blob'} {c + 1}" for c in range(params.classes)
        ),
        class_names_zh=tuple(
            f"{'旋臂' if params.data == 'spirals' else '团'} {c + 1}" for c in range(params.classes)
        ),
        standardize=False,
    )
    return data, notes


def _multiclass_points(
    name: str, classes: int, n: int, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """k spiral arms (dlviz.datasets' spiral, turned by 2π/k per arm) or k Gaussian blobs on a circle."""
    rng = np.random.default_rng(seed)
    sizes = np.full(classes, n // classes) + (np.arange(classes) < n % classes)
    parts = []
    for index, size in enumerate(sizes):
        if name == "spirals":
            radius = rng.uniform(0.05, 1.0, size)
            angle = 1.75 * 2 * np.pi * radius + index * 2 * np.pi / classes
            parts.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        else:
            centre = 0.8 * np.array(
                [np.cos(2 * np.pi * index / classes), np.sin(2 * np.pi * index / classes)]
            )
            parts.append(rng.normal(centre, 0.3, (size, 2)))
    x = np.concatenate(parts) + rng.normal(0.0, noise, (n, 2))
    return x, np.repeat(np.arange(classes), sizes)
