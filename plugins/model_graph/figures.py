"""The graph figure: edges as polylines, nodes coloured by a statistic, a slider over recorded steps."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins.model_graph.result import ModelGraphResult, statistic_name

ROW_PX = 30  # vertical room per rank: one line of label text
FIGURE_WIDTH_PX = 900  # what labels are fitted to (the dashboard's figures are about as wide)
CHAR_PX = 7  # width of one label character at LABEL_SIZE
LABEL_SIZE = 11
NO_VALUE = "#BBBBBB"


def shown_values(result: ModelGraphResult) -> np.ndarray:
    """The colour value of each node at each step: log10 for log-scale statistics, NaN where none."""
    values = result.values.astype(np.float64)
    if result.log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log10(values), np.nan)
    return values


def labels(result: ModelGraphResult) -> list[str]:
    """A node's name where it fits beside the node on its rank (always for the last node of a rank)."""
    span = max(float(np.ptp(result.x)) if len(result.x) else 0.0, 1.0) + 2.0
    unit_px = FIGURE_WIDTH_PX / span
    return [
        node.name if result.gaps[index] * unit_px - 14 >= CHAR_PX * len(node.name) else ""
        for index, node in enumerate(result.nodes)
    ]


def graph_figure(result: ModelGraphResult, language: str) -> go.Figure:
    values = shown_values(result)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    has_value = np.isfinite(values).any(axis=1)
    name = statistic_name(result.statistic, language)
    parameters = tr(language, "parameters", "参数")
    output = tr(language, "output", "输出")
    step_word = tr(language, "step", "步数")
    hover = [
        f"<b>{node.name}</b> ({node.kind})<br>{output} {node.output_shape}<br>{parameters} {node.params:,}"
        + (f"<br>{len(node.members)} " + tr(language, "layers", "层") if len(node.members) > 1 else "")
        for node in result.nodes
    ]
    xs, ys = [], []
    for path in result.edge_paths:
        xs += [*path[:, 0].tolist(), None]
        ys += [*path[:, 1].tolist(), None]
    text = labels(result)
    coloured = np.flatnonzero(has_value)
    plain = np.flatnonzero(~has_value)
    # A fixed length at the top: a tall graph (MobileNetV2 is ~4,800 px) would stretch it off screen.
    colorbar = {"title": {"text": name}, "lenmode": "pixels", "len": 320, "y": 1, "yanchor": "top"}
    if result.log_scale:
        # Whole decades when the values span several, else five ticks between them.
        ticks = (
            np.arange(math.ceil(low), math.floor(high) + 1) if high - low >= 2 else np.linspace(low, high, 5)
        )
        colorbar.update(tickvals=ticks.tolist(), ticktext=[f"{10.0**tick:.2g}" for tick in ticks])
    last = values.shape[1] - 1
    traces = [
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#999999", "width": 1},
            hoverinfo="skip",
            showlegend=False,
            name=tr(language, "connections", "连接"),
        ),
        go.Scatter(
            x=result.x[plain],
            y=result.y[plain],
            mode="markers+text",
            text=[text[i] for i in plain],
            textposition="middle right",
            textfont={"size": LABEL_SIZE},
            marker={
                "size": 12,
                "color": NO_VALUE,
                "symbol": "square",
                "line": {"width": 1, "color": "#666666"},
            },
            hovertext=[hover[i] for i in plain],
            hoverinfo="text",
            showlegend=False,
            name=tr(language, "no value", "无数值"),
        ),
        go.Scatter(
            x=result.x[coloured],
            y=result.y[coloured],
            mode="markers+text",
            text=[text[i] for i in coloured],
            textposition="middle right",
            textfont={"size": LABEL_SIZE},
            marker={
                "size": 14,
                "color": np.nan_to_num(values[coloured, last], nan=low),
                "cmin": low,
                "cmax": high,
                "colorscale": "Viridis",
                "colorbar": colorbar,
                "symbol": "square",
                "line": {"width": 1, "color": "#333333"},
            },
            customdata=result.values[coloured, last],
            hovertext=[hover[i] for i in coloured],
            hovertemplate=f"%{{hovertext}}<br>{name} %{{customdata:.3g}}<extra></extra>",
            showlegend=False,
            name=name,
        ),
    ]
    layout = {
        "title": {
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 20},
            "text": tr(
                language,
                f"{result.model_name}: layers and connections, coloured by {name}",
                f"{result.model_name}：各层及其连接，按{name}着色",
            ),
        },
        "height": max(420, ROW_PX * (int(-result.y.min()) + 1) + 160) + (90 if len(result.steps) > 1 else 0),
        "xaxis": {"visible": False, "range": [float(result.x.min()) - 1, float(result.x.max()) + 2.5]},
        "yaxis": {"visible": False},
        "plot_bgcolor": "white",
        "margin": {"l": 20, "r": 20, "t": 160 if len(result.steps) > 1 else 70, "b": 20},
        "hoverlabel": {"align": "left"},
    }
    if len(result.steps) > 1:
        layout["sliders"] = [
            {
                "active": last,
                "currentvalue": {"prefix": f"{tr(language, 'training step', '训练步数 (step)')}: "},
                "y": 1,
                "yanchor": "bottom",
                "pad": {"t": 0, "b": 10},  # above the graph: tall ones scroll
                "steps": [
                    {
                        "label": str(int(step)),
                        "method": "restyle",
                        "args": [
                            {
                                "marker.color": [np.nan_to_num(values[coloured, k], nan=low)],
                                "customdata": [result.values[coloured, k]],
                            },
                            [2],
                        ],
                    }
                    for k, step in enumerate(result.steps)
                ],
            }
        ]
        layout["title"]["text"] += f" ({step_word} {int(result.steps[0])}–{int(result.steps[-1])})"
    return go.Figure(traces, layout)
