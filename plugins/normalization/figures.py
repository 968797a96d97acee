"""The normalization lesson's figures: loss curves, curvature per variant, loss surfaces over two weights."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.normalization.result import VARIANT_NAMES, NormalizationResult

COLOURS = {
    "raw": "#d62728",
    "standard": "#1f77b4",
    "minmax": "#2ca02c",
    "batch_norm": "#9467bd",
    "layer_norm": "#ff7f0e",
}


def variant_label(variant: str, language: str) -> str:
    english, chinese = VARIANT_NAMES[variant]
    return tr(language, english, chinese)


def curves_figure(result: NormalizationResult, language: str) -> go.Figure:
    figure = go.Figure()
    epochs = np.arange(1, result.epochs + 1)
    for variant in result.variants:
        label = variant_label(variant, language)
        for curve, dash, split in (
            (result.train_loss[variant], "solid", tr(language, "training", "训练")),
            (result.val_loss[variant], "dot", tr(language, "validation", "验证")),
        ):
            figure.add_trace(
                go.Scatter(
                    x=epochs,
                    y=curve,
                    mode="lines",
                    name=label,
                    legendgroup=variant,
                    showlegend=dash == "solid",
                    line={"color": COLOURS[variant], "dash": dash},
                    hovertemplate=f"{split} %{{y:.4f}}<extra>{label}</extra>",
                )
            )
    figure.update_layout(
        title=tr(
            language,
            f"Loss on {result.dataset_name} (solid: training, dotted: validation; SGD η = {result.learning_rate:g})",
            f"{result.dataset_name} 上的损失（实线：训练，点线：验证；SGD η = {result.learning_rate:g}）",
        ),
        xaxis_title=tr(language, "epoch", "轮次 (epoch)"),
        yaxis={
            "title": tr(language, "cross-entropy loss (log scale)", "交叉熵损失（对数坐标）"),
            "type": "log",
        },
        legend_title=tr(language, "features", "特征"),
    )
    return figure


def curvature_figure(result: NormalizationResult, language: str) -> go.Figure:
    """Elongation λ_max/λ_min and η·λ_max per variant (log scales), the stability limit 2 marked."""
    labels = [variant_label(variant, language) for variant in result.variants]
    colours = [COLOURS[variant] for variant in result.variants]
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=(
            tr(language, "Elongation κ = λ_max / λ_min", "拉长程度 κ = λ_max / λ_min"),
            tr(language, "Step along the steepest direction η·λ_max", "沿最陡方向的步长 η·λ_max"),
        ),
    )
    for col, values in (
        (1, [result.elongation(variant) for variant in result.variants]),
        (2, [result.stable_step(variant) for variant in result.variants]),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=values,
                marker_color=colours,
                text=[f"{value:.2g}" for value in values],
                textposition="outside",
                showlegend=False,
                hovertemplate="%{x}: %{y:.3g}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        figure.update_yaxes(type="log", exponentformat="power", row=1, col=col)
    figure.add_hline(
        y=2.0,
        line={"dash": "dash", "color": "black"},
        annotation_text=tr(language, "2: gradient descent overshoots above", "2：高于此值梯度下降会越过谷底"),
        row=1,
        col=2,
    )
    figure.update_layout(
        title=tr(
            language,
            "Curvature of the training loss at the start (Hessian eigenvalues, tf.GradientTape)",
            "起点处训练损失的曲率（Hessian 特征值，tf.GradientTape）",
        ),
        margin={"b": 140},
    )
    return figure


def surfaces_figure(result: NormalizationResult, language: str) -> go.Figure:
    """Contours of the training loss over the two weights, one panel per scaling, on the same offsets."""
    shown = [variant for variant in result.variants if variant in result.surfaces]
    steep, flat = result.weight_features
    figure = make_subplots(
        rows=1,
        cols=len(shown),
        horizontal_spacing=0.06,
        subplot_titles=[variant_label(variant, language) for variant in shown],
    )
    offsets = result.grid_offsets
    for col, variant in enumerate(shown, start=1):
        figure.add_trace(
            go.Contour(
                x=offsets,
                y=offsets,
                z=np.round(np.log10(np.maximum(result.surfaces[variant], 1e-12)), 4),
                colorscale="Viridis",
                ncontours=20,
                coloraxis="coloraxis",
                hovertemplate="Δw_a %{x:.3f}, Δw_b %{y:.3f}: log₁₀ L = %{z:.3f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        figure.add_trace(
            go.Scatter(
                x=[0],
                y=[0],
                mode="markers",
                marker={
                    "symbol": "star",
                    "size": 12,
                    "color": "white",
                    "line": {"color": "black", "width": 1},
                },
                name=tr(language, "initial weights", "初始权重"),
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        figure.update_xaxes(title_text=tr(language, f"Δw_a ({steep})", f"Δw_a（{steep}）"), row=1, col=col)
    figure.update_yaxes(title_text=tr(language, f"Δw_b ({flat})", f"Δw_b（{flat}）"), row=1, col=1)
    figure.update_layout(
        title=tr(
            language,
            "Training loss over two output weights (landscape plugin's evaluator): "
            "w_a of the widest-spread feature, w_b of the narrowest",
            "两个输出权重上的训练损失（landscape 插件的求值器）：w_a 属于离散程度最大的特征，w_b 属于最小的特征",
        ),
        coloraxis={"colorscale": "Viridis", "colorbar": {"title": {"text": "log₁₀ L"}}},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        height=480,
    )
    return figure
