"""Long series thinned for drawing: a figure needs a few thousand points per line, not 100,000 steps.

The run keeps every value; only what is drawn is thinned, by min/max decimation (`downsample_indices`).
"""

from __future__ import annotations

import numpy as np

MAX_DRAWN_POINTS = 2000


def downsample_indices(values, max_points: int = MAX_DRAWN_POINTS) -> np.ndarray:
    """Indices of at most `max_points` samples of a series that keep its envelope, for drawing it.

    Min/max decimation: the samples between the first and the last are cut into ``(max_points - 2) // 2``
    runs of consecutive samples, and each run keeps its lowest and its highest finite value, in order;
    the first and last samples are always kept. A spike or a dip that taking every n-th sample (stride)
    would step over is still drawn at its height. A run of samples that are all NaN keeps its first
    one (as its min and max), so the gap stays visible. A series of at most `max_points` samples keeps
    them all.

    >>> values = np.zeros(100_000)
    >>> values[43_210] = 5.0
    >>> kept = downsample_indices(values, max_points=100)
    >>> len(kept) <= 100, int(kept[0]), int(kept[-1]), bool(43_210 in kept)
    (True, 0, 99999, True)
    """
    values = np.asarray(values, np.float64)
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    if max_points < 4:  # no room for a run's min and max beside the ends: evenly spaced samples
        return np.unique(np.linspace(0, n - 1, max(max_points, 1)).round().astype(np.int64))
    buckets = (max_points - 2) // 2
    bounds = np.linspace(1, n - 1, buckets + 1).round().astype(np.int64)
    finite = np.isfinite(values)
    low = np.where(finite, values, np.inf)
    high = np.where(finite, values, -np.inf)
    kept = [np.array([0, n - 1])]
    starts, ends = bounds[:-1], bounds[1:]
    nonempty = ends > starts
    starts, ends = starts[nonempty], ends[nonempty]
    # Per run, the positions of its min and max: reduceat gives the values, a search the positions.
    run_of = np.repeat(np.arange(len(starts)), ends - starts)
    inside = np.arange(starts[0], ends[-1])
    minima = np.minimum.reduceat(low[inside], starts - starts[0])
    maxima = np.maximum.reduceat(high[inside], starts - starts[0])
    at_min = low[inside] == minima[run_of]
    at_max = high[inside] == maxima[run_of]
    for mask in (at_min, at_max):
        chosen = inside[mask]
        runs = run_of[mask]
        kept.append(chosen[np.r_[True, runs[1:] != runs[:-1]]] if len(chosen) else chosen)
    return np.unique(np.concatenate(kept))


def downsample(x, y, max_points: int = MAX_DRAWN_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """The line (x, y) thinned for drawing by `downsample_indices` (min/max decimation)."""
    kept = downsample_indices(y, max_points)
    return np.asarray(x)[kept], np.asarray(y)[kept]
