"""Directions in weight space: the model's weights as one vector, filter-normalised random directions
and the PCA plane of training trajectories (Li et al. 2018), with grid axes that cover them."""

from __future__ import annotations

import math

import numpy as np


def flat_weights(model) -> np.ndarray:
    """The trainable weights of `model` as one float32 vector, in `model.trainable_variables` order."""
    return np.concatenate([np.asarray(v.numpy(), np.float32).ravel() for v in model.trainable_variables])


def filter_normalized_direction(model, rng: np.random.Generator) -> np.ndarray:
    """A random direction in weight space, filter-normalised as in Li et al. 2018 (ignore='biasbn').

    Each weight tensor of two or more dimensions gets a Gaussian direction whose every filter (the
    slice for one output unit: Keras keeps output units on the last axis, so Dense kernel columns
    and Conv kernel [..., k]) is rescaled to the norm of the same filter of the weights. Biases and
    batch-norm parameters (one-dimensional tensors) get a zero direction, as the paper does.
    """
    parts = []
    for variable in model.trainable_variables:
        weights = np.asarray(variable.numpy(), np.float32)
        if weights.ndim <= 1:
            parts.append(np.zeros(weights.size, np.float32))
            continue
        direction = rng.standard_normal(weights.shape).astype(np.float32)
        axes = tuple(range(weights.ndim - 1))
        weight_norms = np.sqrt(np.sum(weights.astype(np.float64) ** 2, axis=axes, keepdims=True))
        direction_norms = np.sqrt(np.sum(direction.astype(np.float64) ** 2, axis=axes, keepdims=True))
        parts.append((direction * (weight_norms / (direction_norms + 1e-10))).astype(np.float32).ravel())
    return np.concatenate(parts)


def filter_norms(model, vector: np.ndarray) -> list[np.ndarray]:
    """The norm of every filter of `vector` laid out like the model's trainable weights (for checks)."""
    norms, offset = [], 0
    for variable in model.trainable_variables:
        shape = tuple(variable.shape)
        part = vector[offset : offset + math.prod(shape)].reshape(shape).astype(np.float64)
        offset += math.prod(shape)
        axes = tuple(range(part.ndim - 1))
        norms.append(np.sqrt(np.sum(part**2, axis=axes)) if part.ndim > 1 else np.abs(part))
    return norms


def pca_plane(trajectories: list[np.ndarray], centre: np.ndarray):
    """The first two PCA directions of the trajectories' weights minus `centre` (Li et al. 2018).

    Returns (directions [2, n_params], explained variance ratio [2], coordinates of each
    trajectory on the plane [n_i, 2]), the coordinates being (weights − centre) · direction.
    """
    from sklearn.decomposition import PCA

    deltas = [np.asarray(t, np.float64) - centre for t in trajectories]
    pca = PCA(n_components=2, svd_solver="full").fit(np.concatenate(deltas))
    directions = pca.components_.astype(np.float32)
    coordinates = [delta @ pca.components_.T for delta in deltas]
    return directions, pca.explained_variance_ratio_.astype(np.float64), coordinates


def covering_axis(coordinates: list[np.ndarray], axis: int, points: int) -> np.ndarray:
    """`points` evenly spaced values covering every trajectory point and the origin with a margin.

    The spacing is chosen so that 0 (the trained weights) is one of the values.
    """
    values = np.concatenate([c[:, axis] for c in coordinates] + [np.zeros(1)])
    low, high = float(values.min()), float(values.max())
    margin = 0.15 * max(high - low, 1e-6)
    low, high = low - margin, high + margin
    step = (high - low) / (points - 1)
    first = min(round(low / step), 0)
    return (first + np.arange(points)) * step
