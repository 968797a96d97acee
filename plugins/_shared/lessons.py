"""What the `regularization` and `playground` lessons share: the decision-boundary picture of a
classifier on 2-D points.

A decision boundary is drawn from the model's probabilities on a regular grid over the data: for two
classes P(class 1) on a diverging scale centred at 0.5 (the boundary is the white band, with its 0.5
contour), for more classes the predicted class in that class's colour.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr

# Class colours as in TensorFlow Playground: orange for class 0, blue for class 1, then a qualitative set.
CLASS_COLOURS = ("#d95f02", "#1f5fa8", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
# P(class 1) from a light orange through white at 0.5 to a light blue: the points stay visible on it.
PROBABILITY_SCALE = ((0.0, "#f6b26b"), (0.5, "#ffffff"), (1.0, "#7fb2e5"))
GRID_MARGIN = 0.15
# The colour bar takes the lower half of the right margin, leaving the upper half to the legend.
COLORBAR_PLACE = {"len": 0.5, "y": 0.0, "yanchor": "bottom"}


def grid_axes(points: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced x1 and x2 values covering `points` (n, 2) with a margin, `resolution` each."""
    low, high = points.min(axis=0), points.max(axis=0)
    pad = GRID_MARGIN * np.maximum(high - low, 1e-6)
    return (
        np.linspace(low[0] - pad[0], high[0] + pad[0], resolution, dtype=np.float32),
        np.linspace(low[1] - pad[1], high[1] + pad[1], resolution, dtype=np.float32),
    )


def grid_points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The grid as (len(ys) * len(xs), 2) points, row by row (row = one x2 value), as heatmaps index it."""
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)


def class_grid(probabilities: np.ndarray, ny: int, nx: int) -> np.ndarray:
    """Model outputs on the grid as (ny, nx) P(class 1) for one sigmoid unit, else (ny, nx, classes)."""
    if probabilities.shape[1] == 1:
        return probabilities[:, 0].reshape(ny, nx)
    return probabilities.reshape(ny, nx, probabilities.shape[1])


def boundary_traces(
    xs: np.ndarray, ys: np.ndarray, grid: np.ndarray, class_names, language: str, show_scale: bool = True
) -> list:
    """Heatmap (+ the 0.5 contour for two classes) of a model's outputs on the grid from `class_grid`."""
    if grid.ndim == 2:
        heat = go.Heatmap(
            x=xs,
            y=ys,
            z=np.round(grid, 3),
            zmin=0.0,
            zmax=1.0,
            zmid=0.5,
            colorscale=[list(stop) for stop in PROBABILITY_SCALE],
            showscale=show_scale,
            colorbar={"title": {"text": f"P({class_names[1]})", "side": "right"}, **COLORBAR_PLACE}
            if show_scale
            else None,
            hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>P = %{z:.3f}<extra></extra>",
            name=tr(language, "P(class 1)", "P(类别 1)"),
        )
        contour = go.Contour(
            x=xs,
            y=ys,
            z=np.round(grid, 3),
            contours={"start": 0.5, "end": 0.5, "size": 1.0, "coloring": "none"},
            line={"color": "black", "width": 1.5},
            showscale=False,
            showlegend=show_scale,
            hoverinfo="skip",
            name=tr(language, "decision boundary (P = 0.5)", "决策边界 (P = 0.5)"),
        )
        return [heat, contour]
    classes = grid.shape[2]
    predicted = grid.argmax(axis=2)
    scale = []
    for index in range(classes):
        colour = CLASS_COLOURS[index % len(CLASS_COLOURS)]
        scale += [[index / classes, colour], [(index + 1) / classes, colour]]
    return [
        go.Heatmap(
            x=xs,
            y=ys,
            z=predicted,
            zmin=-0.5,
            zmax=classes - 0.5,
            colorscale=scale,
            opacity=0.45,
            showscale=show_scale,
            colorbar={
                **COLORBAR_PLACE,
                "title": {"text": tr(language, "predicted class", "预测类别"), "side": "right"},
                "tickvals": list(range(classes)),
                "ticktext": [str(name) for name in class_names],
            }
            if show_scale
            else None,
            customdata=np.round(grid.max(axis=2), 3),
            hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>"
            + tr(language, "class", "类别")
            + " %{z}, P = %{customdata:.3f}<extra></extra>",
            name=tr(language, "predicted class", "预测类别"),
        )
    ]


def point_traces(
    x: np.ndarray, y: np.ndarray, class_names, language: str, *, test: bool = False, show_legend: bool = True
) -> list:
    """One scatter per class: training points filled, test points hollow."""
    traces = []
    for index, name in enumerate(class_names):
        chosen = y == index
        if not np.any(chosen):
            continue
        colour = CLASS_COLOURS[index % len(CLASS_COLOURS)]
        split = tr(language, "test", "测试") if test else tr(language, "train", "训练")
        traces.append(
            go.Scatter(
                x=np.round(x[chosen, 0], 4),
                y=np.round(x[chosen, 1], 4),
                mode="markers",
                marker={
                    "color": "rgba(0,0,0,0)" if test else colour,
                    "size": 6,
                    "line": {"color": colour if test else "white", "width": 1.5 if test else 0.8},
                    "symbol": "circle",
                },
                name=f"{name} ({split})",
                legendgroup=f"{split}-{index}",
                showlegend=show_legend,
            )
        )
    return traces
