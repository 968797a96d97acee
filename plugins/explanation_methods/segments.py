"""An image's square blocks of pixels, the units on which the `explanation_methods` lesson compares LIME
(whose segments they are) with SHAP and Integrated Gradients (summed per block)."""

from __future__ import annotations

import numpy as np

from dlviz.plugin import tr


def block_segments(shape, size: int) -> np.ndarray:
    """An (H, W) map of square blocks of `size` pixels, numbered row by row (LIME's segmentation)."""
    height, width = int(shape[0]), int(shape[1])
    per_row = -(-width // size)
    rows, cols = np.arange(height)[:, None] // size, np.arange(width)[None, :] // size
    return (rows * per_row + cols).astype(np.int64)


def per_segment(maps: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(n, H, W) pixel attributions summed within each segment: (n, segments)."""
    count = int(segments.max()) + 1
    flat = segments.ravel()
    return np.stack([np.bincount(flat, weights=m.ravel(), minlength=count) for m in maps])


def block_name(segments: np.ndarray, unit: int, language: str = "en") -> str:
    """A block's name in `language`: the rows and columns of the pixels it covers."""
    rows, cols = np.nonzero(segments == unit)
    rows_text, cols_text = f"{rows.min()}-{rows.max()}", f"{cols.min()}-{cols.max()}"
    return tr(language, f"rows {rows_text}, cols {cols_text}", f"第 {rows_text} 行，第 {cols_text} 列")
