"""The range test's figure: loss against learning rate (log axis), with its marked points."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins.lr_finder.result import RangeTest


def range_figure(result: RangeTest, language: str) -> go.Figure:
    rates, smoothed = result.learning_rates, result.smoothed
    loss = tr(language, "loss", "损失")
    rate = tr(language, "learning rate", "学习率")
    traces = [
        go.Scatter(
            x=rates,
            y=result.losses,
            mode="lines",
            name=tr(language, "loss of each batch", "每批的损失"),
            line={"color": "#BBBBBB", "width": 1},
            hovertemplate=f"{rate} %{{x:.2e}}<br>{loss} %{{y:.4g}}<extra></extra>",
        ),
        go.Scatter(
            x=rates,
            y=smoothed,
            mode="lines",
            name=tr(language, "smoothed", "平滑后"),
            line={"color": "#4C78A8", "width": 3},
            hovertemplate=f"{rate} %{{x:.2e}}<br>{loss} %{{y:.4g}}<extra></extra>",
        ),
    ]
    marks = [
        (
            result.steepest,
            tr(language, "steepest descent (suggested)", "下降最快处（建议值）"),
            "#2CA02C",
            "star",
        ),
        (result.minimum, tr(language, "minimum", "最低点"), "#FF7F0E", "circle"),
    ]
    if result.diverged is not None:
        marks.append(
            (result.diverged, tr(language, "divergence (test stopped)", "发散（测试停止）"), "#D62728", "x")
        )
    for index, name, colour, symbol in marks:
        traces.append(
            go.Scatter(
                x=[rates[index]],
                y=[smoothed[index]],
                mode="markers",
                name=f"{name}: {rates[index]:.1e}",
                marker={
                    "color": colour,
                    "size": 14,
                    "symbol": symbol,
                    "line": {"width": 1, "color": "black"},
                },
                hovertemplate=f"{name}<br>{rate} %{{x:.2e}}<br>{loss} %{{y:.4g}}<extra></extra>",
            )
        )
    # Up to the divergence mark (past it the loss may be huge or NaN), so the falling part fills the plot.
    shown = smoothed[: (result.diverged if result.diverged is not None else len(smoothed) - 1) + 1]
    shown = shown[np.isfinite(shown)]
    low, high = float(shown.min()), float(shown.max())
    pad = (high - low) * 0.15 or 0.1
    figure = go.Figure(traces)
    figure.add_vline(x=result.suggested_learning_rate, line={"color": "#2CA02C", "dash": "dash"})
    start = (
        tr(language, "run's first weights", "训练记录的初始权重")
        if result.start == "initial"
        else tr(language, "current weights", "当前权重")
    )
    figure.update_layout(
        title=tr(
            language,
            f"Learning-rate range test ({result.optimizer}, batches of {result.batch_size}, from the {start}): "
            f"suggested {result.suggested_learning_rate:.1e}",
            f"学习率范围测试（{result.optimizer}，每批 {result.batch_size} 个样本，从{start}开始）："
            f"建议学习率 {result.suggested_learning_rate:.1e}",
        ),
        xaxis={
            "type": "log",
            "title": {"text": tr(language, "learning rate (log scale)", "学习率（对数坐标）")},
            "exponentformat": "power",
        },
        yaxis={"title": {"text": loss}, "range": [low - pad, high + 2 * pad]},
        legend={"orientation": "h", "y": -0.25},
        height=480,
    )
    return figure
