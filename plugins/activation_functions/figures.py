"""The activation_functions lesson's figures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.activation_functions.compute import slope_peak
from plugins.activation_functions.result import (
    COLOURS,
    FORMULAS,
    ActivationResult,
    PReluResult,
    SoftmaxResult,
)


def function_label(name: str) -> str:
    return "silu / swish" if name == "silu" else name


def functions_figure(result: ActivationResult, language: str) -> go.Figure:
    figure = go.Figure()
    for name, values in zip(result.functions, result.values, strict=True):
        figure.add_trace(
            go.Scatter(
                x=result.x,
                y=values,
                mode="lines",
                name=f"{function_label(name)}: {FORMULAS[name]}",
                line={"color": COLOURS[name], "width": 2},
                hovertemplate=f"{function_label(name)}(%{{x:.3g}}) = %{{y:.4g}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=tr(
            language,
            "Activation functions f(x) from keras.activations",
            "keras.activations 中的激活函数 f(x)",
        ),
        xaxis_title=tr(language, "input x (pre-activation z = w·a + b)", "输入 x（激活前的值 z = w·a + b）"),
        yaxis_title=tr(language, "output f(x)", "输出 f(x)"),
        legend_title=tr(language, "function", "函数"),
        hovermode="x unified",
    )
    return figure


def derivatives_figure(result: ActivationResult, language: str) -> go.Figure:
    figure = go.Figure()
    for index, name in enumerate(result.functions):
        figure.add_trace(
            go.Scatter(
                x=result.x,
                y=result.derivatives[index],
                mode="lines",
                name=function_label(name),
                legendgroup=name,
                line={"color": COLOURS[name], "width": 2},
                hovertemplate=f"{function_label(name)}′(%{{x:.3g}}) = %{{y:.4g}}<extra></extra>",
            )
        )
        at = float(result.max_slope_at[index])
        if result.x[0] <= at <= result.x[-1]:
            figure.add_trace(
                go.Scatter(
                    x=[at],
                    y=[float(result.max_slopes[index])],
                    mode="markers",
                    name=tr(language, f"max of {function_label(name)}′", f"{function_label(name)}′ 的最大值"),
                    legendgroup=name,
                    showlegend=False,
                    marker={"color": COLOURS[name], "size": 9, "symbol": "diamond"},
                    hovertemplate=tr(language, "max ", "最大值 ")
                    + f"{function_label(name)}′({at:.3g}) = {result.max_slopes[index]:.4g}<extra></extra>",
                )
            )
    if "sigmoid" in result.functions:
        figure.add_annotation(
            x=0,
            y=0.25,
            text=tr(
                language,
                "σ′(0) = σ(0)(1 − σ(0)) = 0.25: the largest slope",
                "σ′(0) = σ(0)(1 − σ(0)) = 0.25：最大斜率",
            ),
            showarrow=True,
            arrowhead=2,
            axref="x",
            ayref="y",
            ax=2.5,
            ay=0.55,
            xanchor="left",
        )
    figure.update_layout(
        title=tr(language, "Derivatives f′(x) by automatic differentiation", "由自动微分算出的导数 f′(x)"),
        xaxis_title=tr(language, "input x", "输入 x"),
        yaxis_title=tr(
            language, "slope f′(x) = df/dx (tf.GradientTape)", "斜率 f′(x) = df/dx（tf.GradientTape）"
        ),
        legend_title=tr(language, "function (◆ = largest slope)", "函数（◆ = 最大斜率）"),
        hovermode="x unified",
    )
    return figure


def depth_figure(result: ActivationResult, language: str) -> go.Figure:
    depth = int(result.depths[-1])
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=(
            tr(
                language,
                "Bound on the derivative product: (max |f′|)<sup>n</sup>",
                "导数连乘的上界：(max |f′|)<sup>n</sup>",
            ),
            tr(
                language,
                f"Measured gradient norm per layer ({depth}-layer MLP, batch of {result.batch_size})",
                f"实测各层梯度范数（{depth} 层 MLP，一批 {result.batch_size} 个样本）",
            ),
        ),
    )
    for index, name in enumerate(result.functions):
        figure.add_trace(
            go.Scatter(
                x=result.depths,
                y=result.bounds[index],
                mode="lines+markers",
                name=f"{function_label(name)} (max |f′| = {result.max_slopes[index]:.3g})",
                legendgroup=f"bound-{name}",
                line={"color": COLOURS[name]},
                hovertemplate=f"{function_label(name)}: ({result.max_slopes[index]:.4g})<sup>%{{x}}</sup> = %{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for network in result.networks:
        colour = COLOURS[network.activation]
        figure.add_trace(
            go.Scatter(
                x=list(network.layers),
                y=network.norms,
                mode="lines+markers",
                name=tr(
                    language,
                    f"{function_label(network.activation)} MLP, measured",
                    f"{function_label(network.activation)} MLP（实测）",
                ),
                legendgroup=f"net-{network.activation}",
                line={"color": colour, "width": 3},
                marker={"size": 8, "symbol": "square"},
                hovertemplate="%{x}: ‖∂L/∂θ‖ = %{y:.3g}<extra>"
                + function_label(network.activation)
                + "</extra>",
            ),
            row=1,
            col=2,
        )
        slope, _ = slope_peak(network.activation)
        if slope < 1:
            # The bound anchored at the last hidden layer, stepping back towards the input.
            hidden = list(network.layers[:-1])
            anchor = network.norms[-2]
            figure.add_trace(
                go.Scatter(
                    x=hidden,
                    y=anchor * slope ** np.arange(len(hidden) - 1, -1, -1, dtype=np.float64),
                    mode="lines",
                    name=tr(
                        language,
                        f"{function_label(network.activation)}: last hidden layer × {slope:.3g}<sup>k</sup>",
                        f"{function_label(network.activation)}：最后隐藏层 × {slope:.3g}<sup>k</sup>",
                    ),
                    legendgroup=f"net-{network.activation}",
                    line={"color": colour, "dash": "dash"},
                    hoverinfo="skip",
                ),
                row=1,
                col=2,
            )
    figure.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    figure.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    figure.update_xaxes(
        title_text=tr(language, "layers n the gradient passes", "梯度经过的层数 n"), row=1, col=1
    )
    figure.update_yaxes(
        title_text=tr(language, "product of slopes (log scale)", "斜率之积（对数坐标）"), row=1, col=1
    )
    figure.update_xaxes(title_text=tr(language, "layer (input → output)", "层（输入 → 输出）"), row=1, col=2)
    figure.update_yaxes(
        title_text=tr(language, "gradient norm ‖∂L/∂θ‖ (log scale)", "梯度范数 ‖∂L/∂θ‖（对数坐标）"),
        row=1,
        col=2,
    )
    figure.update_layout(
        title=tr(
            language,
            "Vanishing gradients: the derivative product against depth",
            "梯度消失 (vanishing gradients)：导数连乘随深度的变化",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
        height=640,
        margin={"b": 170},
    )
    return figure


def softmax_figure(result: SoftmaxResult, language: str) -> go.Figure:
    """Bars of softmax(z / T) beside softmax(z), and the Jacobian ∂p_i/∂z_j as a heat map."""
    indices = [f"z{index + 1} = {value:g}" for index, value in enumerate(result.logits)]
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        horizontal_spacing=0.14,
        subplot_titles=(
            tr(language, "Probabilities p = softmax(z / T)", "概率 p = softmax(z / T)"),
            tr(
                language, "Jacobian ∂p<sub>i</sub>/∂z<sub>j</sub>", "雅可比矩阵 ∂p<sub>i</sub>/∂z<sub>j</sub>"
            ),
        ),
    )
    bars = (
        (result.probabilities, f"T = {result.temperature:g}", "#1f77b4"),
        (result.probabilities_at_one, "T = 1", "#c7c7c7"),
    )
    for probabilities, name, colour in bars[: 1 if result.temperature == 1 else 2]:
        figure.add_trace(
            go.Bar(
                x=indices,
                y=probabilities,
                name=name,
                marker_color=colour,
                text=[f"{value:.3f}" for value in probabilities],
                textposition="outside",
                hovertemplate="%{x}: p = %{y:.4f}<extra>" + name + "</extra>",
            ),
            row=1,
            col=1,
        )
    limit = float(np.abs(result.jacobian).max()) or 1.0
    figure.add_trace(
        go.Heatmap(
            z=np.round(result.jacobian, 5),
            x=[f"z{index + 1}" for index in range(len(result.logits))],
            y=[f"p{index + 1}" for index in range(len(result.logits))],
            zmin=-limit,
            zmax=limit,
            colorscale="RdBu",
            colorbar={"title": {"text": "∂p/∂z"}, "x": 1.02},
            text=np.round(result.jacobian, 3),
            texttemplate="%{text}",
            hovertemplate="∂%{y}/∂%{x} = %{z:.4f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    figure.update_yaxes(autorange="reversed", row=1, col=2)
    figure.update_yaxes(title_text=tr(language, "probability", "概率"), range=[0, 1.1], row=1, col=1)
    figure.update_xaxes(title_text=tr(language, "logit", "logit"), row=1, col=1)
    figure.update_layout(
        title=tr(
            language,
            f"Softmax at temperature T = {result.temperature:g} (keras.activations.softmax)",
            f"温度 T = {result.temperature:g} 时的 softmax（keras.activations.softmax）",
        ),
        barmode="group",
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
        legend_title=tr(language, "temperature", "温度"),
    )
    return figure


def prelu_figure(result: PReluResult, language: str) -> go.Figure:
    """The slopes α each PReLU unit learned (bars, the start as a line), and the trained units' outputs."""
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=(
            tr(language, "Learned slope α of each unit", "各单元学到的斜率 α"),
            tr(
                language,
                "The trained PReLU units: f(x) = max(0, x) + α·min(0, x)",
                "训练后的 PReLU 单元：f(x) = max(0, x) + α·min(0, x)",
            ),
        ),
    )
    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
    for index, (layer, alphas, outputs) in enumerate(
        zip(result.layers, result.alphas, result.outputs, strict=True)
    ):
        colour = colours[index % len(colours)]
        units = [f"{layer}[{unit}]" for unit in range(len(alphas))]
        figure.add_trace(
            go.Bar(
                x=units,
                y=alphas,
                name=layer,
                legendgroup=layer,
                marker_color=colour,
                hovertemplate="%{x}: α = %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        for unit in range(outputs.shape[1]):
            figure.add_trace(
                go.Scatter(
                    x=result.x,
                    y=outputs[:, unit],
                    mode="lines",
                    name=layer,
                    legendgroup=layer,
                    showlegend=False,
                    line={"color": colour, "width": 1.5},
                    hovertemplate=f"{units[unit]} (α = {alphas[unit]:.3f}): f(%{{x:.2f}}) = %{{y:.3f}}<extra></extra>",
                ),
                row=1,
                col=2,
            )
    figure.add_hline(
        y=result.initial_alpha,
        line={"dash": "dash", "color": "black"},
        annotation_text=tr(
            language, f"start α = {result.initial_alpha:g}", f"初始 α = {result.initial_alpha:g}"
        ),
        row=1,
        col=1,
    )
    figure.update_yaxes(title_text="α", row=1, col=1)
    figure.update_xaxes(title_text=tr(language, "unit", "单元"), row=1, col=1)
    figure.update_xaxes(title_text=tr(language, "input x", "输入 x"), row=1, col=2)
    figure.update_yaxes(title_text=tr(language, "output f(x)", "输出 f(x)"), row=1, col=2)
    figure.update_layout(
        title=tr(
            language,
            f"PReLU (keras.layers.PReLU) after {result.epochs} epochs on {result.dataset_name}: "
            f"test accuracy {result.accuracy:.2f}",
            f"PReLU（keras.layers.PReLU）在 {result.dataset_name} 上训练 {result.epochs} 轮后：测试准确率 {result.accuracy:.2f}",
        ),
        legend_title=tr(language, "layer", "层"),
    )
    return figure
