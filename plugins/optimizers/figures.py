"""The optimizer race's figures, in English or Chinese: the contour map with every path (animated,
with a step slider and play button), the loss per step and the 3-D surface. Each builder takes the
plugin's `RaceResult`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins.optimizers.functions import TestFunction, function_grid
from plugins.optimizers.race import OPTIMIZERS
from plugins.optimizers.result import RaceResult

SURFACE_POINTS = 70
MAX_FRAMES = 30
MAX_TRAIL_POINTS = 120
CONTOUR_DELTA = 1e-5
SURFACE_DELTA = 1e-3


def contour_figure(result: RaceResult, language: str) -> go.Figure:
    spec = result.spec
    height = _Heights.of(result, CONTOUR_DELTA)
    colors = {"colorscale": "Viridis"} if height.log else {"colorscale": "RdBu_r", "zmid": 0.0}
    figure = go.Figure()
    figure.add_trace(
        go.Contour(
            x=_rounded(result.x),
            y=_rounded(result.y),
            z=_rounded(height(result.z)),
            **colors,
            ncontours=30,
            contours={"coloring": "heatmap", "showlines": True},
            line={"width": 0.5, "color": "rgba(255,255,255,0.35)"},
            colorbar={
                "title": {
                    "text": tr(language, "f(x, y) (log scale)", "f(x, y)（对数刻度）")
                    if height.log
                    else "f(x, y)"
                },
                **height.ticks(float(np.nanmax(result.z))),
            },
            name="f(x, y)",
            hovertemplate="x=%{x:.3f}<br>y=%{y:.3f}<extra></extra>",
            showlegend=False,
        )
    )
    minima = np.asarray(spec.minima)
    saddle = spec.min_value is None
    figure.add_trace(
        go.Scatter(
            x=minima[:, 0].tolist(),
            y=minima[:, 1].tolist(),
            mode="markers",
            marker={
                "symbol": "x" if saddle else "star",
                "size": 16,
                "color": "white",
                "line": {"width": 1.5},
            },
            name=tr(language, "saddle point", "鞍点") if saddle else tr(language, "minimum", "极小值"),
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[float(result.start[0])],
            y=[float(result.start[1])],
            mode="markers",
            marker={
                "symbol": "circle",
                "size": 12,
                "color": "white",
                "line": {"width": 2, "color": "black"},
            },
            name=tr(language, "start", "起点"),
        )
    )
    frame_steps = _frame_steps(result.steps)
    first_path_trace = len(figure.data)
    for index, key in enumerate(result.optimizers):
        label = _label(result, index)
        color = OPTIMIZERS[key].color
        path = result.paths[index]
        figure.add_trace(
            go.Scatter(
                x=_rounded(path[:, 0]),
                y=_rounded(path[:, 1]),
                mode="lines",
                line={"color": color, "width": 2},
                name=label,
                legendgroup=key,
                hovertemplate=f"{OPTIMIZERS[key].label}<br>x=%{{x:.4f}}<br>y=%{{y:.4f}}<extra></extra>",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=_rounded(path[-1:, 0]),
                y=_rounded(path[-1:, 1]),
                mode="markers",
                marker={"color": color, "size": 10, "line": {"color": "white", "width": 1}},
                legendgroup=key,
                showlegend=False,
                hoverinfo="skip",
            )
        )
    path_traces = list(range(first_path_trace, len(figure.data)))
    figure.frames = [
        go.Frame(name=str(step), data=_frame_data(result, step), traces=path_traces) for step in frame_steps
    ]
    play = tr(language, "Play", "播放")
    pause = tr(language, "Pause", "暂停")
    figure.update_layout(
        title=tr(language, "Optimizer race: ", "优化器赛跑：") + f"{_title(spec, language)}, {spec.text}",
        xaxis={"title": {"text": "x"}, "range": result.x_range, "constrain": "domain"},
        yaxis={"title": {"text": "y"}, "range": result.y_range},
        legend={"orientation": "h", "x": 0.0, "y": 1.02, "yanchor": "bottom"},
        height=680,
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0.0,
                "y": -0.12,
                "xanchor": "left",
                "direction": "left",
                "buttons": [
                    {
                        "label": f"▶ {play}",
                        "method": "animate",
                        "args": [
                            None,
                            {
                                "frame": {"duration": 120, "redraw": False},
                                "fromcurrent": True,
                                "mode": "immediate",
                            },
                        ],
                    },
                    {
                        "label": f"❚❚ {pause}",
                        "method": "animate",
                        "args": [
                            [None],
                            {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                        ],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": len(frame_steps) - 1,
                "x": 0.22,
                "y": -0.08,
                "len": 0.78,
                "currentvalue": {"prefix": tr(language, "step ", "步数 "), "font": {"size": 13}},
                "font": {"size": 9},
                "steps": [
                    {
                        "label": str(step),
                        "method": "animate",
                        "args": [
                            [str(step)],
                            {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                        ],
                    }
                    for step in frame_steps
                ],
            }
        ],
        margin={"t": 140, "b": 120},
    )
    return figure


def _frame_data(result: RaceResult, step: int) -> list[go.Scatter]:
    data = []
    for path in result.paths:
        trail = path[: step + 1]
        if len(trail) > MAX_TRAIL_POINTS:
            keep = np.unique(np.linspace(0, len(trail) - 1, MAX_TRAIL_POINTS).round().astype(int))
            trail = trail[keep]
        data.append(go.Scatter(x=_rounded(trail[:, 0]), y=_rounded(trail[:, 1])))
        data.append(go.Scatter(x=_rounded(path[step : step + 1, 0]), y=_rounded(path[step : step + 1, 1])))
    return data


def loss_figure(result: RaceResult, language: str) -> go.Figure:
    spec = result.spec
    steps = np.arange(result.steps + 1)
    figure = go.Figure()
    log_gap = spec.min_value is not None
    for index, key in enumerate(result.optimizers):
        values = result.losses[index] - spec.min_value if log_gap else result.losses[index]
        if log_gap:
            values = np.maximum(values, 1e-12)
        figure.add_trace(
            go.Scatter(
                x=steps.tolist(),
                y=_rounded(values),
                mode="lines",
                name=_label(result, index),
                line={"color": OPTIMIZERS[key].color},
            )
        )
    y_title = (
        tr(language, "f(x, y) − f(minimum) (log scale)", "f(x, y) − f(极小值)（对数坐标）")
        if log_gap
        else "f(x, y)"
    )
    # On the saddle the loss falls without bound once a path escapes; show the plotted region's values.
    y_range = (
        None if log_gap else [1.1 * float(np.nanmin(result.z)), 1.1 * float(np.nanmax(result.losses[:, 0]))]
    )
    figure.update_layout(
        title=tr(language, "Loss per step: ", "每步损失：") + _title(spec, language),
        xaxis_title=tr(language, "step (optimizer updates)", "步数（优化器更新次数）"),
        yaxis={
            "title": {"text": y_title},
            "type": "log" if log_gap else "linear",
            "exponentformat": "power",
            "range": y_range,
        },
        legend_title_text=tr(language, "optimizer (learning rate)", "优化器（学习率）"),
    )
    return figure


def surface_figure(result: RaceResult, language: str) -> go.Figure:
    spec = result.spec
    height = _Heights.of(result, SURFACE_DELTA)
    x, y, z = function_grid(spec, result.x_range, result.y_range, SURFACE_POINTS)
    lift = 0.01 * float(np.ptp(height(z)))
    figure = go.Figure(
        go.Surface(
            x=_rounded(x),
            y=_rounded(y),
            z=_rounded(height(z)),
            **({"colorscale": "Viridis"} if height.log else {"colorscale": "RdBu_r", "cmid": 0.0}),
            opacity=0.85,
            showscale=False,
            name="f(x, y)",
            hoverinfo="skip",
        )
    )
    for index, key in enumerate(result.optimizers):
        path = result.paths[index]
        keep = np.unique(np.linspace(0, len(path) - 1, min(len(path), 300)).round().astype(int))
        path = path[keep]
        inside = (
            (path[:, 0] >= result.x_range[0])
            & (path[:, 0] <= result.x_range[1])
            & (path[:, 1] >= result.y_range[0])
            & (path[:, 1] <= result.y_range[1])
        )
        path = np.where(inside[:, None], path, np.nan)
        with np.errstate(all="ignore"):
            lifted = (
                height(spec.formula(path[:, 0].astype(np.float64), path[:, 1].astype(np.float64), np)) + lift
            )
        figure.add_trace(
            go.Scatter3d(
                x=_rounded(path[:, 0]),
                y=_rounded(path[:, 1]),
                z=_rounded(lifted),
                mode="lines",
                line={"color": OPTIMIZERS[key].color, "width": 5},
                name=_label(result, index),
            )
        )
    minima = np.asarray(spec.minima)
    figure.add_trace(
        go.Scatter3d(
            x=minima[:, 0].tolist(),
            y=minima[:, 1].tolist(),
            z=_rounded(height(spec.formula(minima[:, 0], minima[:, 1], np)) + lift),
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": 5,
                "color": "white",
                "line": {"width": 1, "color": "black"},
            },
            name=tr(language, "saddle point", "鞍点")
            if spec.min_value is None
            else tr(language, "minimum", "极小值"),
        )
    )
    figure.update_layout(
        title=tr(language, "3-D surface: ", "三维曲面：") + _title(spec, language),
        scene={
            "xaxis": {"title": {"text": "x"}, "range": result.x_range},
            "yaxis": {"title": {"text": "y"}, "range": result.y_range},
            "zaxis": {
                "title": {
                    "text": tr(language, "f(x, y) (log scale)", "f(x, y)（对数刻度）")
                    if height.log
                    else "f(x, y)"
                },
                **height.ticks(float(np.nanmax(z))),
            },
            "camera": {"eye": {"x": -1.2, "y": -1.6, "z": 1.5}},
        },
        legend_title_text=tr(language, "optimizer (learning rate)", "优化器（学习率）"),
        height=640,
    )
    return figure


def _label(result: RaceResult, index: int) -> str:
    key = result.optimizers[index]
    return f"{OPTIMIZERS[key].label} (η={result.learning_rates[index]:g})"


def _title(spec: TestFunction, language: str) -> str:
    return tr(language, spec.title, spec.title_zh)


def _frame_steps(steps: int) -> list[int]:
    return np.unique(np.linspace(0, steps, min(steps + 1, MAX_FRAMES)).round().astype(int)).tolist()


@dataclasses.dataclass(frozen=True)
class _Heights:
    """How f maps to contour levels and surface heights, with axis ticks labelled in f itself.

    Functions with a minimum are shown in log10(f − floor + δ), so the shallow valley around the
    minimum gets as many contour levels as the steep walls; `floor` is the lowest value plotted.
    A larger δ flattens the deepest part of the valley (the 3-D view uses one so the paths stay
    visible). The saddle, whose values are signed and unbounded below, is shown as it is.
    """

    floor: float
    delta: float
    log: bool

    @classmethod
    def of(cls, result: RaceResult, delta_fraction: float) -> _Heights:
        low, high = float(np.nanmin(result.z)), float(np.nanmax(result.z))
        if result.spec.min_value is None:
            return cls(floor=low, delta=0.0, log=False)
        floor = min(low, result.spec.min_value)
        return cls(floor=floor, delta=max((high - floor) * delta_fraction, 1e-12), log=True)

    def __call__(self, values) -> np.ndarray:
        values = np.asarray(values, np.float64)
        if not self.log:
            return values
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(values - self.floor, 0.0) + self.delta)

    def ticks(self, top: float) -> dict:
        """Tick positions and labels for an axis or colour bar whose values run up to f = `top`."""
        if not self.log:
            return {}
        gaps = 10.0 ** np.arange(
            math.ceil(math.log10(self.delta)), math.ceil(math.log10(top - self.floor)) + 1
        )
        return {
            "tickvals": [float(v) for v in self(self.floor + gaps)],
            "ticktext": [f"{self.floor + gap:.3g}" for gap in gaps],
        }


def _rounded(values) -> list:
    """Plain floats with 5 significant digits (None for NaN), to keep the figures' JSON small."""
    array = np.asarray(values, np.float64)
    out = np.array(
        [float(f"{value:.5g}") if np.isfinite(value) else None for value in array.ravel()], dtype=object
    )
    return out.reshape(array.shape).tolist()
