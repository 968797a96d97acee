"""The playground's points and the features the network sees: bundled 2-D sets (more classes for spirals
and gauss), regression sets as TensorFlow Playground has (a plane and Gaussian bumps over the plane, the
bundled 1-D curve) or the context's, and x1, x2, x1², ... computed from each point."""

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
CLASSIFICATION_SETS = ("circles", "xor", "gauss", "spirals", "moons")
REGRESSION_SETS = ("plane", "multigauss", "curve")
# Centres and signs of the bumps of "multigauss" (TensorFlow Playground's "multi Gaussian" regression set).
BUMPS = ((-0.6, 0.6, 1.0), (0.0, 0.6, -1.0), (0.6, 0.6, 1.0), (-0.6, -0.6, -1.0), (0.0, -0.6, 1.0), (0.6, -0.6, -1.0))
BUMP_WIDTH = 0.3
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


def ordered_features(chosen, dimensions: int = 2) -> tuple[str, ...]:
    """The chosen features in the canonical order, those of x1 alone for 1-D points; at least one is required."""
    usable = [name for name in FEATURES if dimensions == 2 or "x2" not in name]
    features = tuple(name for name in usable if name in set(chosen))
    if not features:
        raise ParamsError(
            "No input feature is selected" + ("." if dimensions == 2 else " that 1-D points have (x1 only)."),
            "select at least one feature, e.g. " + ("x1 and x2." if dimensions == 2 else "x1 and x1^2."),
        )
    return features


def playground_data(ctx: dlviz.Context, params: Params) -> tuple[Dataset, list[str]]:
    """The 2-D points, split into training and test: bundled (any class count for spirals/gauss) or the context's."""
    notes: list[str] = []
    test_size = 1.0 - params.train_fraction
    if params.problem == "regression":
        return _regression_data(ctx, params, test_size), notes
    if params.data in REGRESSION_SETS:
        raise ParamsError(
            f"{params.data} is a regression set: its targets are numbers, not classes.",
            f"set the problem to regression, or pick one of {', '.join(CLASSIFICATION_SETS)}.",
        )
    if params.data == "context":
        data = ctx.dataset
        if data is None or data.kind != "points2d" or data.task != "classification":
            raise DataError(
                "The playground's 'context' data needs a loaded classification dataset of 2-D points.",
                "load a 2-D dataset (or a CSV with two feature columns and a class column), pick a bundled set, "
                "or set the problem to regression for a regression set.",
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


def _regression_data(ctx: dlviz.Context, params: Params, test_size: float) -> Dataset:
    """Points with a number to predict: the plane, the Gaussian bumps, the 1-D curve, or the context's
    regression set of one or two features and one target."""
    if params.data == "context":
        data = ctx.dataset
        if data is None or data.task != "regression" or data.n_features > 2 or len(data.target_names) != 1:
            raise DataError(
                "The playground's 'context' data in regression mode needs a loaded regression set of one or "
                "two features and one target.",
                "load one (e.g. the curve), or pick plane, multigauss or curve.",
            )
        return data
    if params.data not in REGRESSION_SETS:
        raise ParamsError(
            f"{params.data} is a classification set: its points have classes, not numbers to predict.",
            f"pick one of {', '.join(REGRESSION_SETS)} for regression, or set the problem to classification.",
        )
    if params.data == "curve":
        noise = min(params.noise, datasets.PARAMETERS["curve"]["noise"]["max"])
        return datasets.load("curve", seed=ctx.seed, n_samples=params.n_samples, noise=noise, test_size=test_size)
    rng = np.random.default_rng(ctx.seed)
    x = rng.uniform(-1.0, 1.0, (params.n_samples, 2))
    if params.data == "plane":
        y = (x[:, 0] + x[:, 1]) / 2.0
    else:
        centres, signs = np.array([bump[:2] for bump in BUMPS]), np.array([bump[2] for bump in BUMPS])
        distances = ((x[:, None, :] - centres[None]) ** 2).sum(axis=-1)
        y = (signs * np.exp(-distances / (2 * BUMP_WIDTH**2))).sum(axis=1)
    return Dataset.from_arrays(
        x,
        y + rng.normal(0.0, params.noise, len(y)),
        test_size=test_size,
        seed=ctx.seed,
        name=params.data,
        kind="points2d",
        task="regression",
        feature_names=("x1", "x2"),
        target_names=("y",),
        target_names_zh=("y",),
        standardize=False,
    )


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
