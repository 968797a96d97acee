"""The minibatch lesson's figures: loss curves, gradient noise against batch size, paths on the PCA plane."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.minibatch.result import MinibatchResult, MinibatchRun

COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#1f77b4", "#8c564b")


def run_label(run: MinibatchRun, language: str) -> str:
    if run.full_batch:
        return tr(language, f"full batch ({run.batch_size})", f"全批量（{run.batch_size}）")
    if run.batch_size == 1:
        return tr(language, "single sample (b = 1)", "单样本（b = 1）")
    return f"b = {run.batch_size}"


def colour(result: MinibatchResult, run: MinibatchRun) -> str:
    return COLOURS[result.runs.index(run) % len(COLOURS)]


def curves_figure(result: MinibatchResult, language: str) -> go.Figure:
    """Training loss against epochs, and against examples seen (log scale, finer than an epoch)."""
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            tr(language, "Against epochs", "随轮数变化"),
            tr(language, "Against examples seen (log scale)", "随已见样本数变化（对数坐标）"),
        ),
    )
    epochs = np.arange(result.epochs + 1)
    for run in result.runs:
        label = run_label(run, language)
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=run.epoch_losses,
                mode="lines+markers",
                name=label,
                legendgroup=label,
                line={"color": colour(result, run)},
                hovertemplate=tr(language, "epoch", "轮次") + " %{x}: %{y:.4f}<extra>" + label + "</extra>",
            ),
            row=1,
            col=1,
        )
        seen = run.examples_seen > 0
        figure.add_trace(
            go.Scatter(
                x=run.examples_seen[seen],
                y=run.losses[seen],
                customdata=run.updates[seen],
                mode="lines",
                name=label,
                legendgroup=label,
                showlegend=False,
                line={"color": colour(result, run)},
                hovertemplate="%{x} "
                + tr(language, "examples, %{customdata} updates", "个样本，%{customdata} 次更新")
                + ": %{y:.4f}<extra>"
                + label
                + "</extra>",
            ),
            row=1,
            col=2,
        )
    figure.update_xaxes(title_text=tr(language, "epoch", "轮次 (epoch)"), row=1, col=1)
    figure.update_xaxes(
        title_text=tr(language, "training examples seen", "已见训练样本数"), type="log", row=1, col=2
    )
    figure.update_yaxes(title_text=tr(language, "training loss (all samples)", "训练损失（全部样本）"))
    figure.update_layout(
        title=tr(
            language,
            f"Same start, same data, SGD η = {result.learning_rate:g}: loss on all {result.n_train} training samples",
            f"相同起点、相同数据，SGD η = {result.learning_rate:g}：全部 {result.n_train} 个训练样本上的损失",
        ),
        legend_title=tr(language, "batch size", "批大小"),
    )
    return figure


def noise_figure(result: MinibatchResult, language: str) -> go.Figure:
    """Mean ‖g_B − ∇L‖ (± its standard deviation) against batch size, at the initial weights."""
    sizes = result.noise_batch_sizes
    partial = sizes < result.n_train
    figure = go.Figure(
        go.Scatter(
            x=sizes[partial],
            y=result.noise_mean[partial],
            error_y={"type": "data", "array": result.noise_std[partial], "visible": True},
            mode="lines+markers",
            name=tr(language, "measured ‖g_B − ∇L‖", "实测 ‖g_B − ∇L‖"),
            marker={"size": 9},
            hovertemplate="b = %{x}: %{y:.4f}<extra></extra>",
        )
    )
    figure.add_hline(
        y=result.full_gradient_norm,
        line={"dash": "dash", "color": "grey"},
        annotation_position="bottom left",
        annotation_text=tr(
            language,
            f"‖∇L‖ = {result.full_gradient_norm:.3g} (full gradient)",
            f"‖∇L‖ = {result.full_gradient_norm:.3g}（全梯度）",
        ),
    )
    figure.update_xaxes(
        type="log", title_text=tr(language, "batch size b (log scale)", "批大小 b（对数坐标）")
    )
    figure.update_yaxes(
        type="log",
        title_text=tr(language, "distance from the full gradient (log scale)", "与全梯度的距离（对数坐标）"),
    )
    figure.update_layout(
        title=tr(
            language,
            f"Noise of the gradient estimate at the initial weights ({result.noise_batches} batches per size; "
            f"full batch: 0)",
            f"初始权重处梯度估计的噪声（每种批大小 {result.noise_batches} 个批次；全批量为 0）",
        ),
        showlegend=True,
    )
    return figure


def plane_figure(result: MinibatchResult, language: str) -> go.Figure:
    """The paths on the PCA plane of all paths, over the training loss there."""
    figure = go.Figure(
        go.Contour(
            x=result.alphas,
            y=result.betas,
            z=np.round(result.plane_losses, 5),
            colorscale="Viridis",
            ncontours=25,
            colorbar={"title": {"text": tr(language, "training loss", "训练损失")}},
            hovertemplate="PC1 %{x:.3f}, PC2 %{y:.3f}: %{z:.4f}<extra></extra>",
            name=tr(language, "loss surface", "损失曲面"),
        )
    )
    for run in result.runs:
        label = run_label(run, language)
        figure.add_trace(
            go.Scatter(
                x=run.coordinates[:, 0],
                y=run.coordinates[:, 1],
                mode="lines+markers",
                name=label,
                line={"color": colour(result, run), "width": 2},
                marker={"size": 4},
                hovertemplate="%{x:.3f}, %{y:.3f}<extra>" + label + "</extra>",
            )
        )
    start = result.runs[0].coordinates[0]
    figure.add_trace(
        go.Scatter(
            x=[start[0]],
            y=[start[1]],
            mode="markers",
            name=tr(language, "common start", "共同起点"),
            marker={"symbol": "star", "size": 16, "color": "white", "line": {"color": "black", "width": 1}},
        )
    )
    first, second = result.explained_variance
    figure.update_layout(
        title=tr(
            language,
            "Paths on the PCA plane of training (landscape plugin), centred on the full-batch end",
            "训练路径在 PCA 平面上的投影（landscape 插件），以全批量训练的终点为中心",
        ),
        xaxis_title=tr(
            language, f"PC1 ({first:.1%} of the paths' variance)", f"PC1（占路径方差的 {first:.1%}）"
        ),
        yaxis_title=tr(
            language, f"PC2 ({second:.1%} of the paths' variance)", f"PC2（占路径方差的 {second:.1%}）"
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        height=600,
    )
    return figure
