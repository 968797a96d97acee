"""The loss_functions lesson as figures: regression and classification losses with their gradients, and
the neuron trained with MSE against cross-entropy."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.loss_functions.losses import FORMULAS, NAMES, NAMES_ZH
from plugins.loss_functions.neuron import REACHED
from plugins.loss_functions.result import LossResult

COLOURS = {
    "mse": "#1f77b4",
    "mae": "#2ca02c",
    "huber": "#9467bd",
    "bce": "#d62728",
    "focal": "#ff7f0e",
    "cce": "#8c564b",
}
# Categorical cross-entropy is dotted: for y = 1 it lies on binary cross-entropy.
DASHES = {"mse": "dash", "cce": "dot"}
GRADIENT_AXIS_LIMIT = 10.0


def _name(loss: str, language: str) -> str:
    return NAMES_ZH[loss] if language == "zh" else NAMES[loss]


def regression_figure(result: LossResult, language: str) -> go.Figure:
    curves = result.regression
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(tr(language, "loss L(ŷ)", "损失 L(ŷ)"), tr(language, "gradient ∂L/∂ŷ", "梯度 ∂L/∂ŷ")),
    )
    for index, loss in enumerate(curves.losses):
        label = f"{_name(loss, language)}: {FORMULAS[loss]}"
        if loss == "huber":
            label += f", δ = {result.huber_delta:g}"
        for column, values in ((1, curves.values[index]), (2, curves.gradients[index])):
            figure.add_trace(
                go.Scatter(
                    x=curves.predictions,
                    y=values,
                    mode="lines",
                    name=label,
                    legendgroup=loss,
                    showlegend=column == 1,
                    line={"color": COLOURS[loss], "width": 2},
                    hovertemplate="ŷ = %{x:.3g}: %{y:.4g}<extra>" + _name(loss, language) + "</extra>",
                ),
                row=1,
                col=column,
            )
    for column in (1, 2):
        figure.add_vline(x=result.regression_target, line_dash="dot", line_color="grey", row=1, col=column)
        figure.update_xaxes(title_text=tr(language, "prediction ŷ", "预测值 ŷ"), row=1, col=column)
    figure.update_yaxes(title_text=tr(language, "loss per sample", "单个样本的损失"), row=1, col=1)
    figure.update_yaxes(
        title_text=tr(language, "∂L/∂ŷ (tf.GradientTape)", "∂L/∂ŷ（tf.GradientTape）"), row=1, col=2
    )
    figure.update_layout(
        title=tr(
            language,
            f"Regression losses for the target y = {result.regression_target:g}",
            f"回归损失（目标值 y = {result.regression_target:g}）",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"b": 120},
        height=480,
    )
    return figure


def classification_figure(result: LossResult, language: str) -> go.Figure:
    curves = result.classification
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            tr(language, "loss L(ŷ)", "损失 L(ŷ)"),
            tr(language, "gradient ∂L/∂ŷ", "梯度 ∂L/∂ŷ"),
            tr(
                language,
                "gradient through the sigmoid ∂L/∂z, ŷ = σ(z)",
                "经过 sigmoid 的梯度 ∂L/∂z，ŷ = σ(z)",
            ),
        ),
    )
    panels = ((1, curves.values), (2, curves.gradients), (3, curves.logit_gradients))
    for index, loss in enumerate(curves.losses):
        label = f"{_name(loss, language)}: {FORMULAS[loss]}"
        if loss == "focal":
            label += f", γ = {result.focal_gamma:g}"
        if loss == "cce":
            label += tr(language, f", {result.n_classes} classes", f"，{result.n_classes} 类")
        for column, values in panels:
            figure.add_trace(
                go.Scatter(
                    x=curves.predictions,
                    y=values[index],
                    mode="lines",
                    name=label,
                    legendgroup=loss,
                    showlegend=column == 1,
                    line={
                        "color": COLOURS[loss],
                        "width": 3 if loss == "bce" else 2,
                        "dash": DASHES.get(loss),
                    },
                    hovertemplate="ŷ = %{x:.3f}: %{y:.4g}<extra>" + _name(loss, language) + "</extra>",
                ),
                row=1,
                col=column,
            )
    for column in (1, 2, 3):
        figure.add_vline(x=result.class_target, line_dash="dot", line_color="grey", row=1, col=column)
        figure.update_xaxes(
            title_text=tr(language, "predicted probability of class 1, ŷ", "预测为类别 1 的概率 ŷ"),
            range=[0, 1],
            row=1,
            col=column,
        )
    figure.update_yaxes(
        title_text=tr(language, "loss per sample", "单个样本的损失"), rangemode="tozero", row=1, col=1
    )
    figure.update_yaxes(
        title_text=tr(language, "∂L/∂ŷ (clipped to ±10)", "∂L/∂ŷ（显示范围 ±10）"),
        range=[-GRADIENT_AXIS_LIMIT, GRADIENT_AXIS_LIMIT],
        row=1,
        col=2,
    )
    figure.update_yaxes(title_text="∂L/∂z", row=1, col=3)
    # Points at binary cross-entropy's straight line at ŷ = 0.5, from the side no other curve takes.
    below = result.class_target == 1
    figure.add_annotation(
        text=tr(language, "cross-entropy: ∂L/∂z = ŷ − y", "交叉熵：∂L/∂z = ŷ − y"),
        xref="x3",
        yref="y3",
        x=0.5,
        y=0.5 - result.class_target,
        ax=50 if below else -50,
        ay=50 if below else -50,
        showarrow=True,
        arrowhead=2,
        bgcolor="rgba(255,255,255,0.8)",
    )
    figure.update_layout(
        title=tr(
            language,
            f"Classification losses for the target y = {result.class_target}",
            f"分类损失（目标类别 y = {result.class_target}）",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"b": 130},
        height=500,
    )
    return figure


def neuron_figure(result: LossResult, language: str) -> go.Figure:
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            tr(language, "loss", "损失"),
            tr(language, "prediction ŷ (target 0)", "预测值 ŷ（目标 0）"),
            tr(language, "gradient |∂L/∂w| (log scale)", "梯度 |∂L/∂w|（对数坐标）"),
        ),
    )
    for neuron in result.neurons:
        steps = np.arange(len(neuron.losses))
        colour = COLOURS[neuron.loss]
        name = tr(language, "cross-entropy", "交叉熵") if neuron.loss == "bce" else _name("mse", language)
        for column, values in (
            (1, neuron.losses),
            (2, neuron.predictions),
            (3, np.abs(neuron.weight_gradients)),
        ):
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=values,
                    mode="lines",
                    name=name,
                    legendgroup=neuron.loss,
                    showlegend=column == 1,
                    line={"color": colour, "width": 2},
                    hovertemplate=tr(language, "step", "步") + " %{x}: %{y:.4g}<extra>" + name + "</extra>",
                ),
                row=1,
                col=column,
            )
        if neuron.reached is not None:
            figure.add_trace(
                go.Scatter(
                    x=[neuron.reached],
                    y=[neuron.predictions[neuron.reached]],
                    mode="markers+text",
                    text=[tr(language, f"step {neuron.reached}", f"第 {neuron.reached} 步")],
                    textposition="top right",
                    marker={"color": colour, "size": 10, "symbol": "star"},
                    name=tr(
                        language, f"{name} reaches |ŷ − y| < {REACHED}", f"{name} 达到 |ŷ − y| < {REACHED}"
                    ),
                    legendgroup=neuron.loss,
                ),
                row=1,
                col=2,
            )
    figure.add_hrect(y0=0, y1=REACHED, fillcolor="green", opacity=0.1, line_width=0, row=1, col=2)
    for column in (1, 2, 3):
        figure.update_xaxes(title_text=tr(language, "SGD step", "SGD 步数"), row=1, col=column)
    figure.update_yaxes(title_text=tr(language, "training loss", "训练损失"), row=1, col=1)
    figure.update_yaxes(title_text="ŷ = σ(w·x + b)", range=[0, 1], row=1, col=2)
    figure.update_yaxes(title_text="|∂L/∂w|", type="log", exponentformat="power", row=1, col=3)
    figure.update_layout(
        title=tr(
            language,
            f"One sigmoid neuron from a confidently wrong start (ŷ = {result.neuron_start:g}), "
            f"SGD η = {result.neuron_learning_rate:g}",
            f"单个 sigmoid 神经元从“自信地错了”的起点（ŷ = {result.neuron_start:g}）开始训练，"
            f"SGD η = {result.neuron_learning_rate:g}",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"b": 110},
        height=460,
    )
    return figure
