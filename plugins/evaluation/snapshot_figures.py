"""The scores at each weight snapshot of a run: the confusion matrix under a step slider, and the
accuracy / F1 (or MAE / RMSE / R²) curves over the steps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins._shared.snapshots import step_slider
from plugins.evaluation.result import SnapshotMetrics


def classification_snapshot_figures(snapshots: SnapshotMetrics, names, language: str) -> list[go.Figure]:
    return [confusion_over_training(snapshots, names, language), scores_over_training(snapshots, language)]


def _confusion_trace(confusion: np.ndarray, names, language: str) -> go.Heatmap:
    totals = confusion.sum(axis=1, keepdims=True)
    share = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    hover = tr(
        language,
        "true %{y}<br>predicted %{x}<br>samples %{text}<br>share of the true class %{z:.1%}",
        "真实 %{y}<br>预测 %{x}<br>样本数 %{text}<br>占真实类别的比例 %{z:.1%}",
    )
    return go.Heatmap(
        z=share,
        x=list(names),
        y=list(names),
        text=confusion,
        texttemplate="%{text}",
        colorscale="Blues",
        zmin=0,
        zmax=1,
        hovertemplate=hover + "<extra></extra>",
        colorbar={"title": {"text": tr(language, "share", "比例")}},
    )


def confusion_over_training(snapshots: SnapshotMetrics, names, language: str) -> go.Figure:
    """The confusion matrix (cells: counts, colour: share of the true class) at each snapshot, under a slider."""
    steps = snapshots.steps
    metrics = snapshots.classification
    title = tr(
        language,
        "Confusion matrix during training (step {step}, accuracy {accuracy:.1%})",
        "训练过程中的混淆矩阵（步数 {step}，准确率 {accuracy:.1%}）",
    )
    frames = [
        go.Frame(
            name=str(index),
            data=[_confusion_trace(m.confusion, names, language)],
            layout={"title": {"text": title.format(step=int(step), accuracy=m.accuracy)}},
        )
        for index, (step, m) in enumerate(zip(steps, metrics, strict=True))
    ]
    figure = go.Figure(data=frames[-1].data, frames=frames)
    figure.update_layout(
        title=frames[-1].layout.title.text,
        sliders=[step_slider(steps, language)],
        xaxis={"title": tr(language, "predicted class", "预测类别"), "type": "category"},
        yaxis={"title": tr(language, "true class", "真实类别"), "type": "category", "autorange": "reversed"},
        height=560,
    )
    return figure


def scores_over_training(snapshots: SnapshotMetrics, language: str) -> go.Figure:
    steps = snapshots.steps
    step_label = tr(language, "step", "步数")
    figure = go.Figure()
    series = {
        tr(language, "accuracy", "准确率"): [m.accuracy for m in snapshots.classification],
        tr(language, "macro F1", "宏平均 F1"): [m.macro_f1 for m in snapshots.classification],
    }
    for name, values in series.items():
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values,
                mode="lines+markers",
                name=name,
                hovertemplate=f"{step_label} %{{x}}<br>{name} %{{y:.3f}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=tr(language, "Scores at each weight snapshot of the run", "训练记录中每个权重快照的分数"),
        xaxis_title=step_label,
        yaxis={"title": tr(language, "score", "分数"), "range": [0, 1.02]},
        height=380,
    )
    return figure


def regression_snapshot_figure(snapshots: SnapshotMetrics, language: str) -> go.Figure:
    steps = snapshots.steps
    step_label = tr(language, "step", "步数")
    figure = go.Figure()
    for name, values, axis in (
        ("MAE", [m.mae for m in snapshots.regression], "y"),
        ("RMSE", [m.rmse for m in snapshots.regression], "y"),
        ("R²", [m.r2 for m in snapshots.regression], "y2"),
    ):
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values,
                mode="lines+markers",
                name=name,
                yaxis=axis,
                hovertemplate=f"{step_label} %{{x}}<br>{name} %{{y:.3g}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=tr(language, "Errors at each weight snapshot of the run", "训练记录中每个权重快照的误差"),
        xaxis_title=step_label,
        yaxis={"title": tr(language, "error (target units)", "误差（目标值单位）")},
        yaxis2={"title": "R²", "overlaying": "y", "side": "right", "showgrid": False},
        height=380,
    )
    return figure
