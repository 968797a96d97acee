"""The initialization lesson's figures: step-0 spread and gradients per layer, training curves, and the
first hidden layer's units after training."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.initialization.result import INITIALIZER_NAMES, InitializationResult

COLOURS = {
    "zeros": "#7f7f7f",
    "constant": "#bcbd22",
    "small_normal": "#17becf",
    "large_normal": "#d62728",
    "glorot_uniform": "#1f77b4",
    "he_normal": "#2ca02c",
    "lecun_normal": "#9467bd",
}
SYMMETRY_COLUMNS = 4


def initializer_label(name: str, language: str) -> str:
    english, chinese = INITIALIZER_NAMES[name]
    return tr(language, english, chinese)


def step_zero_figure(result: InitializationResult, language: str) -> go.Figure:
    """Output spread and kernel-gradient norm per layer at step 0, one line per initialiser (log scales)."""
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=(
            tr(language, "Spread of each layer's outputs: std(a)", "各层输出的离散程度：std(a)"),
            tr(language, "Gradient norm of each kernel ‖∂L/∂W‖", "各权重矩阵的梯度范数 ‖∂L/∂W‖"),
        ),
    )
    flat = []
    for row, name in enumerate(result.initializers):
        label = initializer_label(name, language)
        for col, values in ((1, result.activation_std[row]), (2, result.gradient_norms[row])):
            shown = np.where(values > 0, values, np.nan)
            figure.add_trace(
                go.Scatter(
                    x=list(result.layers),
                    y=shown,
                    mode="lines+markers",
                    name=label,
                    legendgroup=name,
                    showlegend=col == 1,
                    line={"color": COLOURS[name], "width": 2},
                    hovertemplate="%{x}: %{y:.3g}<extra>" + label + "</extra>",
                ),
                row=1,
                col=col,
            )
        if not np.any(result.activation_std[row] > 0) and not np.any(result.gradient_norms[row] > 0):
            flat.append(label)
    if flat:
        figure.add_annotation(
            text=tr(language, "all zero (not drawn on a log scale): ", "全为零（对数坐标上不画）：")
            + ", ".join(flat),
            xref="paper",
            yref="paper",
            x=0,
            y=1.12,
            showarrow=False,
            xanchor="left",
        )
    for col in (1, 2):
        figure.update_yaxes(type="log", exponentformat="power", row=1, col=col)
        figure.update_xaxes(
            title_text=tr(language, "layer (input → output)", "层（输入 → 输出）"), row=1, col=col
        )
    figure.update_yaxes(
        title_text=tr(language, "std of outputs (log scale)", "输出标准差（对数坐标）"), row=1, col=1
    )
    figure.update_yaxes(
        title_text=tr(language, "gradient norm (log scale)", "梯度范数（对数坐标）"), row=1, col=2
    )
    figure.update_layout(
        title=tr(
            language,
            f"Step 0, before any update: {result.depth} × {result.width} {result.activation} units",
            f"第 0 步（尚未更新）：{result.depth} × {result.width} 个 {result.activation} 单元",
        ),
        legend_title=tr(language, "initialiser", "初始化方法"),
        margin={"t": 110},
    )
    return figure


def curves_figure(result: InitializationResult, language: str) -> go.Figure:
    """Training (solid) and validation (dotted) loss, and validation accuracy, per epoch and initialiser."""
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            tr(language, "Loss (solid: training, dotted: validation)", "损失（实线：训练，点线：验证）"),
            tr(language, "Validation accuracy", "验证准确率"),
        ),
    )
    epochs = np.arange(1, result.epochs + 1)
    for name in result.initializers:
        label = initializer_label(name, language)
        colour = COLOURS[name]
        for curve, dash, split in (
            (result.train_loss[name], "solid", tr(language, "training", "训练")),
            (result.val_loss[name], "dot", tr(language, "validation", "验证")),
        ):
            figure.add_trace(
                go.Scatter(
                    x=epochs,
                    y=curve,
                    mode="lines",
                    name=label,
                    legendgroup=name,
                    showlegend=dash == "solid",
                    line={"color": colour, "dash": dash},
                    hovertemplate=f"{split} %{{y:.4f}}<extra>{label}</extra>",
                ),
                row=1,
                col=1,
            )
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=result.val_accuracy[name],
                mode="lines",
                name=label,
                legendgroup=name,
                showlegend=False,
                line={"color": colour},
                hovertemplate="%{y:.3f}<extra>" + label + "</extra>",
            ),
            row=1,
            col=2,
        )
    figure.update_xaxes(title_text=tr(language, "epoch", "轮次 (epoch)"))
    figure.update_yaxes(title_text=tr(language, "cross-entropy loss", "交叉熵损失"), row=1, col=1)
    figure.update_yaxes(title_text=tr(language, "accuracy", "准确率"), range=[0, 1.02], row=1, col=2)
    figure.update_layout(
        title=tr(
            language,
            f"Training from each start (SGD, learning rate {result.learning_rate:g}, same batches)",
            f"从各初始值开始训练（SGD，学习率 {result.learning_rate:g}，相同批次）",
        ),
        legend_title=tr(language, "initialiser", "初始化方法"),
    )
    return figure


def symmetry_figure(result: InitializationResult, language: str) -> go.Figure:
    """The first hidden layer's outputs after training (samples × units), one heat map per initialiser."""
    names = result.initializers
    columns = min(len(names), SYMMETRY_COLUMNS)
    rows = math.ceil(len(names) / columns)
    first = result.hidden_layers[0]
    titles = [
        tr(
            language,
            f"{initializer_label(name, language)}<br>{counts[0]} of {result.width} units distinct",
            f"{initializer_label(name, language)}<br>{result.width} 个单元中 {counts[0]} 个不同",
        )
        for name, counts in zip(names, result.distinct_units, strict=True)
    ]
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.05, vertical_spacing=0.2
    )
    for index, name in enumerate(names):
        outputs = result.unit_outputs[name]
        figure.add_trace(
            go.Heatmap(
                z=np.round(outputs, 4),
                x=np.arange(1, outputs.shape[1] + 1),
                y=np.arange(1, outputs.shape[0] + 1),
                coloraxis="coloraxis",
                hovertemplate=tr(language, "unit", "单元")
                + " %{x}, "
                + tr(language, "sample", "样本")
                + " %{y}: %{z:.3g}<extra>"
                + initializer_label(name, language)
                + "</extra>",
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_xaxes(title_text=tr(language, "unit", "单元"), row=rows)
    figure.update_yaxes(title_text=tr(language, "sample", "样本"), col=1)
    figure.update_layout(
        title=tr(
            language,
            f"Symmetry: outputs of {first} after training (identical columns = identical units)",
            f"对称性：训练后 {first} 的输出（各列相同 = 各单元相同）",
        ),
        coloraxis={
            "colorscale": "RdBu",
            "cmid": 0,
            "colorbar": {"title": {"text": tr(language, "output", "输出")}},
        },
        height=280 * rows + 160,
        margin={"t": 130},
    )
    return figure
