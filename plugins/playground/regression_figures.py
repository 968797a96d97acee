"""A playground regression run as figures: the predicted surface over the plane (2-D points) or the
predicted curve (1-D points) epoch by epoch, and each unit's response along x1 for 1-D points."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.lessons import COLORBAR_PLACE
from plugins.playground.data import FEATURE_LABELS
from plugins.playground.figures import animation_controls, caption_annotation, describe, frame_indices
from plugins.playground.result import PlaygroundResult

# Predicted values as TensorFlow Playground colours them: orange for low, white at zero, blue for high.
VALUE_SCALE = ((0.0, "#e8892b"), (0.5, "#ffffff"), (1.0, "#2c6db5"))
UNIT_COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D")


def _target(result: PlaygroundResult, language: str) -> str:
    return tr(language, result.target_name or "y", result.target_name_zh or result.target_name or "y")


def _caption(result: PlaygroundResult, index: int, language: str) -> str:
    return tr(
        language,
        f"epoch {index + 1}: test MSE {result.test_loss[index]:.4f}",
        f"第 {index + 1} 轮：测试均方误差 {result.test_loss[index]:.4f}",
    )


def surface_figure(result: PlaygroundResult, language: str) -> go.Figure:
    """The predicted value over the plane after each epoch, under the points coloured by their target."""
    shown = frame_indices(result)
    last = shown[-1]
    target = _target(result, language)
    values = np.concatenate([result.y_train, result.y_test, result.frames[last].ravel()])
    limit = float(np.max(np.abs(values))) or 1.0

    def surface(index: int) -> go.Heatmap:
        return go.Heatmap(
            x=result.grid_x,
            y=result.grid_y,
            z=np.round(result.frames[index], 4),
            zmin=-limit,
            zmax=limit,
            zmid=0.0,
            colorscale=[list(stop) for stop in VALUE_SCALE],
            colorbar={
                "title": {"text": tr(language, f"predicted {target}", f"预测的{target}"), "side": "right"}
            }
            | COLORBAR_PLACE,
            hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>" + target + " = %{z:.3f}<extra></extra>",
            name=tr(language, "prediction", "预测值"),
        )

    points = [
        go.Scatter(
            x=x[:, 0],
            y=x[:, 1],
            mode="markers",
            marker={
                "color": y,
                "colorscale": [list(stop) for stop in VALUE_SCALE],
                "cmin": -limit,
                "cmax": limit,
                "size": 7,
                "symbol": "circle-open" if test else "circle",
                "line": {"color": "#333333", "width": 1.2 if test else 0.6},
            },
            name=tr(language, "test points", "测试点") if test else tr(language, "training points", "训练点"),
            hovertemplate=f"x1 %{{x:.2f}}, x2 %{{y:.2f}}<br>{target} = %{{marker.color:.3f}}<extra></extra>",
        )
        for x, y, test in ((result.x_train, result.y_train, False), (result.x_test, result.y_test, True))
    ]
    figure = go.Figure([surface(last), *points])
    figure.frames = [
        go.Frame(
            data=[surface(index)],
            traces=[0],
            name=str(index + 1),
            layout={"annotations": [caption_annotation(_caption(result, index, language))]},
        )
        for index in shown
    ]
    figure.update_layout(
        title=tr(language, "Predicted surface over training", "预测曲面随训练的变化")
        + f"<br><sup>{describe(result, language)}</sup>",
        xaxis={
            "title": "x₁",
            "range": [float(result.grid_x[0]), float(result.grid_x[-1])],
            "constrain": "domain",
        },
        yaxis={
            "title": "x₂",
            "range": [float(result.grid_y[0]), float(result.grid_y[-1])],
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
        },
        legend={
            "title": {"text": tr(language, "points (colour = target)", "数据点（颜色 = 目标值）")},
            "y": 1.0,
        },
        annotations=[caption_annotation(_caption(result, last, language))],
        height=620,
        margin={"b": 120},
        **animation_controls(shown, language),
    )
    return figure


def curve_figure(result: PlaygroundResult, language: str) -> go.Figure:
    """The predicted curve along x1 after each epoch, over the training and test points."""
    shown = frame_indices(result)
    last = shown[-1]
    target = _target(result, language)

    def curve(index: int) -> go.Scatter:
        return go.Scatter(
            x=result.grid_x,
            y=np.round(result.frames[index], 4),
            mode="lines",
            line={"color": "#222222", "width": 2.5},
            name=tr(language, "prediction", "预测值"),
            hovertemplate="x1 %{x:.3f}<br>" + target + " = %{y:.3f}<extra></extra>",
        )

    points = [
        go.Scatter(
            x=x[:, 0],
            y=y,
            mode="markers",
            marker={
                "color": "rgba(0,0,0,0)" if test else "#1f5fa8",
                "size": 6,
                "line": {"color": "#d95f02" if test else "white", "width": 1.5 if test else 0.5},
            },
            name=tr(language, "test points", "测试点") if test else tr(language, "training points", "训练点"),
        )
        for x, y, test in ((result.x_train, result.y_train, False), (result.x_test, result.y_test, True))
    ]
    figure = go.Figure([curve(last), *points])
    figure.frames = [
        go.Frame(
            data=[curve(index)],
            traces=[0],
            name=str(index + 1),
            layout={"annotations": [caption_annotation(_caption(result, index, language))]},
        )
        for index in shown
    ]
    values = np.concatenate([result.y_train, result.y_test, result.frames.ravel()])
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    pad = 0.1 * max(high - low, 1e-6)
    figure.update_layout(
        title=tr(language, "Predicted curve over training", "预测曲线随训练的变化")
        + f"<br><sup>{describe(result, language)}</sup>",
        xaxis={"title": "x₁", "range": [float(result.grid_x[0]), float(result.grid_x[-1])]},
        # A fixed range, so the frames do not rescale the axis as the curve moves.
        yaxis={"title": target, "range": [low - pad, high + pad]},
        annotations=[caption_annotation(_caption(result, last, language))],
        height=560,
        margin={"b": 120},
        **animation_controls(shown, language),
    )
    return figure


def unit_curves_figure(result: PlaygroundResult, language: str) -> go.Figure:
    """Each input feature and hidden unit along x1 (1-D points), a panel per layer, scaled to max |output|."""
    rows = [
        (
            tr(language, "input features", "输入特征"),
            result.feature_maps,
            [FEATURE_LABELS[f] for f in result.features],
        )
    ]
    for layer, maps in result.unit_maps.items():
        rows.append((layer, maps, [f"{layer} #{unit + 1}" for unit in range(len(maps))]))
    figure = make_subplots(
        rows=len(rows),
        cols=1,
        subplot_titles=[title for title, _, _ in rows],
        shared_xaxes=True,
        vertical_spacing=0.08,
    )
    for row, (_, maps, labels) in enumerate(rows, start=1):
        for unit, (values, label) in enumerate(zip(maps, labels, strict=True)):
            scale = float(np.max(np.abs(values))) or 1.0
            figure.add_trace(
                go.Scatter(
                    x=result.unit_grid_x,
                    y=np.round(values / scale, 4),
                    mode="lines",
                    line={"color": UNIT_COLOURS[unit % len(UNIT_COLOURS)]},
                    name=label,
                    customdata=np.round(values, 4),
                    hovertemplate="x1 %{x:.2f}<br>%{customdata}<extra>" + label + "</extra>",
                ),
                row=row,
                col=1,
            )
        figure.update_yaxes(range=[-1.05, 1.05], row=row, col=1)
    figure.update_xaxes(title_text="x₁", row=len(rows), col=1)
    hidden_note = "" if result.unit_maps else tr(language, " (no hidden layer)", "（没有隐藏层）")
    figure.update_layout(
        title=tr(
            language,
            f"Units: each input feature and hidden unit along x₁ (output / max |output|){hidden_note}",
            f"各单元：每个输入特征和隐藏单元沿 x₁ 的响应（输出 / 最大 |输出|）{hidden_note}",
        ),
        height=200 * len(rows) + 140,
        legend={"title": {"text": tr(language, "unit", "单元")}},
    )
    return figure
