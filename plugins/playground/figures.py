"""A playground run as figures: the decision boundary's animation, the losses, each unit over the plane."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr, tr_names
from plugins._shared.lessons import boundary_traces, point_traces
from plugins.playground.data import FEATURE_LABELS
from plugins.playground.result import PlaygroundResult

# Frames drawn in the animation figure hold at most this many grid values (the result keeps every epoch).
FIGURE_GRID_VALUES = 120_000
MAX_UNITS_SHOWN = 8


def describe(result: PlaygroundResult, language: str) -> str:
    layers = ", ".join(map(str, result.hidden)) or tr(language, "none", "无")
    penalty = tr(language, "none", "无") if result.regularization == "none" else result.regularization
    features = ", ".join(FEATURE_LABELS[f] for f in result.features)
    return tr(
        language,
        f"{result.dataset_name}; features {features}; hidden [{layers}] {result.activation}; "
        f"{result.optimizer} lr {result.learning_rate:g}; regularization {penalty}",
        f"{result.dataset_name}；特征 {features}；隐藏层 [{layers}] {result.activation}；"
        f"{result.optimizer} 学习率 {result.learning_rate:g}；正则化 {penalty}",
    )


def frame_indices(result: PlaygroundResult) -> list[int]:
    per_frame = result.frames[0].size * 2  # heatmap and contour both carry the grid
    count = max(2, min(result.epochs, FIGURE_GRID_VALUES // per_frame))
    return sorted(set(np.linspace(0, result.epochs - 1, count).round().astype(int).tolist()))


def animation_figure(result: PlaygroundResult, language: str) -> go.Figure:
    shown = frame_indices(result)
    last = shown[-1]
    names = tr_names(language, result.class_names, result.class_names_zh)
    boundary = boundary_traces(result.grid_x, result.grid_y, result.frames[last], names, language)
    points = point_traces(result.x_train, result.y_train, names, language) + point_traces(
        result.x_test, result.y_test, names, language, test=True
    )
    figure = go.Figure(boundary + points)

    def caption(index: int) -> str:
        return tr(
            language,
            f"epoch {index + 1}: test loss {result.test_loss[index]:.3f}, test accuracy {result.test_accuracy[index]:.0%}",
            f"第 {index + 1} 轮：测试损失 {result.test_loss[index]:.3f}，测试准确率 {result.test_accuracy[index]:.0%}",
        )

    figure.frames = [
        go.Frame(
            data=boundary_traces(result.grid_x, result.grid_y, result.frames[index], names, language),
            traces=list(range(len(boundary))),
            name=str(index + 1),
            layout={"annotations": [caption_annotation(caption(index))]},
        )
        for index in shown
    ]
    figure.update_layout(
        title=tr(language, "Decision boundary over training: ", "决策边界随训练的变化：")
        + describe(result, language),
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
            "title": {"text": tr(language, "class (split)", "类别（数据划分）")},
            "y": 1.0,
            "yanchor": "top",
        },
        annotations=[caption_annotation(caption(last))],
        height=620,
        **animation_controls(shown, language),
        margin={"b": 120},
    )
    return figure


def animation_controls(shown: list[int], language: str) -> dict:
    """Layout of an animation over the epochs `shown` (0-based): play and pause buttons, an epoch slider."""
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "showactive": False,
                "x": 0.0,
                "y": -0.12,
                "xanchor": "left",
                "buttons": [
                    {
                        "label": tr(language, "▶ play", "▶ 播放"),
                        "method": "animate",
                        "args": [None, {"frame": {"duration": 120, "redraw": True}, "fromcurrent": False}],
                    },
                    {
                        "label": tr(language, "❚❚ pause", "❚❚ 暂停"),
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                    },
                ],
            }
        ],
        "sliders": [
            {
                "active": len(shown) - 1,
                "x": 0.18,
                "y": -0.08,
                "len": 0.8,
                "currentvalue": {"prefix": tr(language, "epoch ", "轮次 ")},
                "steps": [
                    {
                        "label": str(index + 1),
                        "method": "animate",
                        "args": [
                            [str(index + 1)],
                            {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"},
                        ],
                    }
                    for index in shown
                ],
            }
        ],
    }


def caption_annotation(text: str) -> dict:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "bottom",
        "showarrow": False,
    }


def loss_figure(result: PlaygroundResult, language: str) -> go.Figure:
    epochs = np.arange(1, result.epochs + 1)
    figure = go.Figure(
        [
            go.Scatter(
                x=epochs,
                y=result.train_loss,
                mode="lines",
                name=tr(language, "training loss", "训练损失"),
                line={"color": "#4C78A8"},
            ),
            go.Scatter(
                x=epochs,
                y=result.test_loss,
                mode="lines",
                name=tr(language, "test loss", "测试损失"),
                line={"color": "#F58518", "dash": "dash"},
            ),
        ]
    )
    title = tr(
        language,
        f"Loss: training {result.train_loss[-1]:.3f}, test {result.test_loss[-1]:.3f} after {result.epochs} epochs",
        f"损失：{result.epochs} 轮后训练 {result.train_loss[-1]:.3f}，测试 {result.test_loss[-1]:.3f}",
    )
    if len(result.test_accuracy):
        title += tr(
            language,
            f" (accuracy {result.train_accuracy[-1]:.0%} / {result.test_accuracy[-1]:.0%})",
            f"（准确率 {result.train_accuracy[-1]:.0%} / {result.test_accuracy[-1]:.0%}）",
        )
    loss_name = (
        tr(language, "mean squared error (inference mode, no penalty)", "均方误差 MSE（推理模式，不含惩罚项）")
        if result.task == "regression"
        else tr(language, "cross-entropy (nats, inference mode, no penalty)", "交叉熵（nats，推理模式，不含惩罚项）")
    )
    figure.update_layout(
        title=title,
        xaxis_title=tr(language, "epoch", "轮次 (epoch)"),
        yaxis_title=loss_name,
        legend_title_text=tr(language, "split", "数据划分"),
    )
    return figure


def unit_maps_figure(result: PlaygroundResult, language: str) -> go.Figure:
    rows = [
        (
            tr(language, "input features", "输入特征"),
            result.feature_maps,
            [FEATURE_LABELS[f] for f in result.features],
        )
    ]
    for layer, maps in result.unit_maps.items():
        rows.append((layer, maps, [f"{layer} #{unit + 1}" for unit in range(len(maps))]))
    cols = min(MAX_UNITS_SHOWN, max(len(maps) for _, maps, _ in rows))
    titles = []
    for _, maps, labels in rows:
        titles += [labels[c] if c < len(maps) else "" for c in range(cols)]
    figure = make_subplots(
        rows=len(rows), cols=cols, subplot_titles=titles, horizontal_spacing=0.02, vertical_spacing=0.08
    )
    for row, (_, maps, _) in enumerate(rows, start=1):
        for col in range(min(cols, len(maps))):
            values = maps[col]
            scale = float(np.max(np.abs(values))) or 1.0
            figure.add_trace(
                go.Heatmap(
                    x=result.unit_grid_x,
                    y=result.unit_grid_y,
                    z=np.round(values / scale, 3),
                    coloraxis="coloraxis",
                    customdata=np.round(values, 3),
                    hovertemplate="x1 %{x:.2f}, x2 %{y:.2f}<br>%{customdata}<extra></extra>",
                ),
                row=row,
                col=col + 1,
            )
    for index in range(1, len(rows) * cols + 1):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"xaxis{suffix}"].update(showticklabels=False)
        figure.layout[f"yaxis{suffix}"].update(showticklabels=False, scaleanchor=f"x{suffix}")
    figure.update_annotations(font_size=10)
    hidden_note = "" if result.unit_maps else tr(language, " (no hidden layer)", "（没有隐藏层）")
    figure.update_layout(
        title=tr(
            language,
            f"Units: each input feature and hidden unit over the plane (x₁ right, x₂ up){hidden_note}",
            f"各单元：每个输入特征和隐藏单元在平面上的响应（x₁ 向右，x₂ 向上）{hidden_note}",
        ),
        coloraxis={
            "colorscale": "RdBu_r",
            "cmin": -1.0,
            "cmax": 1.0,
            "cmid": 0.0,
            "colorbar": {
                "title": {
                    "text": tr(language, "output / max |output|", "输出 / 最大 |输出|"),
                    "side": "right",
                }
            },
        },
        height=170 * len(rows) + 120,
        width=max(600, 130 * cols + 160),
    )
    return figure
