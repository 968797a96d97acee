"""The generative lesson's figures. VAE: the latent space, the decoded grid, the loss terms, one
reparameterised draw, test digits beside their reconstructions. GAN: generated against real points over D(x)
as an animation, the losses, the modes covered."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.lessons import PROBABILITY_SCALE
from plugins._shared.snapshots import step_slider
from plugins.generative.gan import MODES
from plugins.generative.result import SHAPE_NAMES, GANResult, VAEResult

# Ten distinguishable class colours (Plotly's qualitative D3 set), one per digit.
DIGIT_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
TERM_NAMES = {
    "reconstruction_loss": (
        "reconstruction (BCE summed over 64 pixels)",
        "重构项（64 个像素的二元交叉熵之和）",
    ),
    "kl_loss": ("KL divergence from N(0, I)", "与 N(0, I) 的 KL 散度"),
}
REAL_COLOUR = "#555555"
GENERATED_COLOUR = "#d62728"
# Blank pixels between the digits of a picture made of several (NaN: drawn as the background).
GAP = 1


def digit_trace(image: np.ndarray, language: str, **kwargs) -> go.Heatmap:
    """Pixels in [0, 1] as dark ink on white, the same grey scale for every digit."""
    return go.Heatmap(
        z=np.round(image, 3),
        colorscale="Greys",
        zmin=0.0,
        zmax=1.0,
        showscale=False,
        hovertemplate=tr(language, "row %{y}, column %{x}: %{z:.2f}", "第 %{y} 行，第 %{x} 列：%{z:.2f}")
        + "<extra></extra>",
        **kwargs,
    )


def tiled(images: np.ndarray) -> np.ndarray:
    """(rows, cols, h, w) images as one picture with GAP blank pixels between them."""
    rows, cols, height, width = images.shape
    picture = np.full((rows * (height + GAP) - GAP, cols * (width + GAP) - GAP), np.nan)
    for row in range(rows):
        for col in range(cols):
            top, left = row * (height + GAP), col * (width + GAP)
            picture[top : top + height, left : left + width] = images[row, col]
    return picture


def vae_figures(result: VAEResult, language: str) -> list[go.Figure]:
    return [
        latent_figure(result, language),
        grid_figure(result, language),
        terms_figure(result, language),
        reparameterisation_figure(result, language),
        reconstructions_figure(result, language),
    ]


def latent_figure(result: VAEResult, language: str) -> go.Figure:
    figure = go.Figure()
    for index, name in enumerate(result.class_names):
        chosen = result.labels == index
        figure.add_trace(
            go.Scatter(
                x=np.round(result.latent_means[chosen, 0], 4),
                y=np.round(result.latent_means[chosen, 1], 4),
                mode="markers",
                marker={"color": DIGIT_COLOURS[index % len(DIGIT_COLOURS)], "size": 7, "opacity": 0.85},
                name=str(name),
                customdata=np.round(result.latent_sigmas[chosen], 3),
                hovertemplate=tr(language, "digit ", "数字 ")
                + f"{name}<br>μ = (%{{x:.2f}}, %{{y:.2f}})<br>σ = (%{{customdata[0]:.2f}}, %{{customdata[1]:.2f}})"
                "<extra></extra>",
            )
        )
    low, high = float(result.grid_axis[0]), float(result.grid_axis[-1])
    figure.add_shape(
        type="rect", x0=low, x1=high, y0=low, y1=high, line={"color": "black", "dash": "dash", "width": 1}
    )
    figure.add_annotation(
        x=low,
        y=high,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        text=tr(language, "decoded grid", "解码网格"),
    )
    figure.update_layout(
        title=tr(
            language,
            f"Latent space: the encoder's mean μ of each of the {len(result.labels)} test digits, by class "
            f"(β = {result.kl_weight:g})",
            f"隐空间：{len(result.labels)} 个测试数字经编码器得到的均值 μ，按类别着色（β = {result.kl_weight:g}）",
        ),
        xaxis_title=tr(language, "latent z₁", "隐变量 z₁"),
        yaxis={"title": tr(language, "latent z₂", "隐变量 z₂"), "scaleanchor": "x", "scaleratio": 1},
        legend_title=tr(language, "digit", "数字"),
        height=600,
    )
    return figure


def grid_figure(result: VAEResult, language: str) -> go.Figure:
    """The decoded images tiled as the latent plane: z₁ grows to the right, z₂ upwards."""
    axis = result.grid_axis
    size = result.grid_images.shape[2] + GAP
    picture = tiled(result.grid_images[::-1])  # the first row of the picture is the largest z2
    centres = [index * size + (size - GAP - 1) / 2 for index in range(len(axis))]
    labels = [f"{value:.2f}" for value in axis]
    figure = go.Figure(digit_trace(picture, language))
    figure.data[0].hovertemplate = (
        tr(language, "decoded pixel %{z:.2f}", "解码像素 %{z:.2f}") + "<extra></extra>"
    )
    figure.update_layout(
        title=tr(
            language,
            f"Decoder's images on a {len(axis)}x{len(axis)} grid of latent points (quantiles 2% to 98% of N(0, 1))",
            f"解码器在 {len(axis)}x{len(axis)} 个隐变量网格点上生成的图像（N(0, 1) 的 2% 到 98% 分位数）",
        ),
        xaxis={
            "title": tr(language, "latent z₁", "隐变量 z₁"),
            "tickvals": centres,
            "ticktext": labels,
            "showgrid": False,
            "constrain": "domain",
        },
        yaxis={
            "title": tr(language, "latent z₂", "隐变量 z₂"),
            "tickvals": centres,
            "ticktext": labels[::-1],
            "autorange": "reversed",
            "scaleanchor": "x",
            "showgrid": False,
            "constrain": "domain",
        },
        plot_bgcolor="white",
        height=680,
    )
    return figure


def terms_figure(result: VAEResult, language: str) -> go.Figure:
    epochs = np.arange(1, result.epochs + 1)
    names = {term: tr(language, *words) for term, words in TERM_NAMES.items()}
    figure = make_subplots(rows=1, cols=2, subplot_titles=list(names.values()), horizontal_spacing=0.1)
    for col, term in enumerate(TERM_NAMES, start=1):
        for key, dash, split in (
            (term, "solid", tr(language, "training", "训练")),
            (f"val_{term}", "dot", tr(language, "validation (test digits)", "验证（测试数字）")),
        ):
            figure.add_trace(
                go.Scatter(
                    x=epochs,
                    y=result.history[key],
                    mode="lines+markers" if result.epochs < 3 else "lines",
                    name=split,
                    legendgroup=split,
                    showlegend=col == 1,
                    line={"color": "#1f77b4" if dash == "solid" else "#ff7f0e", "dash": dash},
                    hovertemplate=f"{split}: %{{y:.3f}} nats<extra>{names[term]}</extra>",
                ),
                row=1,
                col=col,
            )
        figure.update_xaxes(title_text=tr(language, "epoch", "轮次 (epoch)"), row=1, col=col)
        figure.update_yaxes(title_text=tr(language, "nats per digit", "每个数字的 nats"), row=1, col=col)
    figure.update_layout(
        title=tr(
            language,
            f"The VAE's loss terms as fit reported them: loss = reconstruction + {result.kl_weight:g} · KL "
            f"(last epoch: {result.final('reconstruction_loss'):.2f} + {result.kl_weight:g} · "
            f"{result.final('kl_loss'):.2f})",
            f"fit 报告的 VAE 损失各项：损失 = 重构项 + {result.kl_weight:g} · KL"
            f"（最后一轮：{result.final('reconstruction_loss'):.2f} + {result.kl_weight:g} · "
            f"{result.final('kl_loss'):.2f}）",
        ),
        legend_title=tr(language, "data", "数据"),
    )
    return figure


def reparameterisation_figure(result: VAEResult, language: str) -> go.Figure:
    """Input digit → (μ, σ) and the draw z = μ + σ ⊙ ε in the latent plane → the digit decoded from z."""
    sample = result.sample
    figure = make_subplots(
        rows=1,
        cols=3,
        column_widths=[0.25, 0.5, 0.25],
        horizontal_spacing=0.08,
        subplot_titles=(
            tr(language, f"test digit x (a {sample.label})", f"测试数字 x（{sample.label}）"),
            tr(language, "latent plane: μ, the 1σ ellipse, the draw z", "隐空间：μ、1σ 椭圆与采样点 z"),
            tr(language, "decoder's image of z", "解码器生成的 z 的图像"),
        ),
    )
    figure.add_trace(digit_trace(sample.image, language), row=1, col=1)
    figure.add_trace(digit_trace(sample.decoded, language), row=1, col=3)
    figure.add_trace(
        go.Scatter(
            x=np.round(result.latent_means[:, 0], 4),
            y=np.round(result.latent_means[:, 1], 4),
            mode="markers",
            marker={"color": "#cccccc", "size": 4},
            name=tr(language, "μ of the other test digits", "其他测试数字的 μ"),
            hoverinfo="skip",
        ),
        row=1,
        col=2,
    )
    angle = np.linspace(0, 2 * np.pi, 73)
    figure.add_trace(
        go.Scatter(
            x=np.round(sample.mu[0] + sample.sigma[0] * np.cos(angle), 4),
            y=np.round(sample.mu[1] + sample.sigma[1] * np.sin(angle), 4),
            mode="lines",
            line={"color": "#1f77b4"},
            name=tr(language, "μ ± σ (where z usually falls)", "μ ± σ（z 通常落在其中）"),
            hoverinfo="skip",
        ),
        row=1,
        col=2,
    )
    for point, name, colour, symbol in (
        (sample.mu, "μ", "#1f77b4", "circle"),
        (sample.z, "z = μ + σ ⊙ ε", GENERATED_COLOUR, "x"),
    ):
        figure.add_trace(
            go.Scatter(
                x=[float(point[0])],
                y=[float(point[1])],
                mode="markers",
                marker={"color": colour, "size": 13, "symbol": symbol},
                name=name,
                hovertemplate=f"{name} = (%{{x:.3f}}, %{{y:.3f}})<extra></extra>",
            ),
            row=1,
            col=2,
        )
    figure.add_annotation(
        x=float(sample.z[0]),
        y=float(sample.z[1]),
        ax=float(sample.mu[0]),
        ay=float(sample.mu[1]),
        xref="x2",
        yref="y2",
        axref="x2",
        ayref="y2",
        showarrow=True,
        arrowhead=2,
        arrowcolor=GENERATED_COLOUR,
        text="",
    )
    for col in (1, 3):
        figure.update_yaxes(
            autorange="reversed", scaleanchor=f"x{col}", constrain="domain", visible=False, row=1, col=col
        )
        figure.update_xaxes(constrain="domain", visible=False, row=1, col=col)
    figure.update_xaxes(title_text=tr(language, "latent z₁", "隐变量 z₁"), row=1, col=2)
    figure.update_yaxes(title_text=tr(language, "latent z₂", "隐变量 z₂"), scaleanchor="x2", row=1, col=2)

    def pair(values) -> str:
        return "(" + ", ".join(f"{value:.3f}" for value in values) + ")"

    figure.update_layout(
        title=tr(
            language,
            f"Reparameterisation trick (the model's Sampling layer): z = μ + σ ⊙ ε = {pair(sample.mu)} + "
            f"{pair(sample.sigma)} ⊙ {pair(sample.epsilon)} = {pair(sample.z)}",
            f"重参数化技巧（模型自己的 Sampling 层）：z = μ + σ ⊙ ε = {pair(sample.mu)} + "
            f"{pair(sample.sigma)} ⊙ {pair(sample.epsilon)} = {pair(sample.z)}",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        plot_bgcolor="white",
        height=460,
    )
    return figure


def reconstructions_figure(result: VAEResult, language: str) -> go.Figure:
    """One test digit per class (top row) above its reconstruction decoded from μ (bottom row)."""
    picture = tiled(np.stack([result.originals, result.reconstructions]))
    size = result.originals.shape[1] + GAP
    figure = go.Figure(digit_trace(picture, language))
    figure.update_layout(
        title=tr(
            language,
            "Test digits (top) and the decoder's reconstructions from their μ (bottom)",
            "测试数字（上）与解码器从其 μ 重构的图像（下）",
        ),
        xaxis={
            "title": tr(language, "class", "类别"),
            "tickvals": [index * size + (size - GAP - 1) / 2 for index in range(len(result.originals))],
            "ticktext": [str(result.class_names[label]) for label in result.original_labels],
            "showgrid": False,
            "constrain": "domain",
        },
        yaxis={
            "tickvals": [(size - GAP - 1) / 2, size + (size - GAP - 1) / 2],
            "ticktext": [tr(language, "input", "输入"), tr(language, "reconstruction", "重构")],
            "autorange": "reversed",
            "scaleanchor": "x",
            "showgrid": False,
            "constrain": "domain",
        },
        plot_bgcolor="white",
        height=320,
    )
    return figure


def gan_figures(result: GANResult, language: str) -> list[go.Figure]:
    return [
        animation_figure(result, language),
        losses_figure(result, language),
        coverage_figure(result, language),
    ]


def describe_gan(result: GANResult, language: str) -> str:
    english, chinese = SHAPE_NAMES[result.shape]
    return tr(
        language,
        f"{english}; learning rates G {result.generator_learning_rate:g}, D {result.discriminator_learning_rate:g}; "
        f"{result.discriminator_steps} D update(s) per step",
        f"{chinese}；学习率 G {result.generator_learning_rate:g}，D {result.discriminator_learning_rate:g}；"
        f"每步更新 D {result.discriminator_steps} 次",
    )


def decision_trace(result: GANResult, index: int, language: str) -> go.Heatmap:
    return go.Heatmap(
        x=result.grid_x,
        y=result.grid_y,
        z=np.round(result.decision[index], 3),
        zmin=0.0,
        zmax=1.0,
        zmid=0.5,
        colorscale=[list(stop) for stop in PROBABILITY_SCALE],
        colorbar={"title": {"text": tr(language, "D(x): P(real)", "D(x)：判为真实的概率"), "side": "right"}},
        hovertemplate="x₁ %{x:.2f}, x₂ %{y:.2f}<br>D(x) = %{z:.3f}<extra></extra>",
        name="D(x)",
    )


def generated_trace(result: GANResult, index: int, language: str) -> go.Scatter:
    points = result.generated[index]
    return go.Scatter(
        x=np.round(points[:, 0], 3),
        y=np.round(points[:, 1], 3),
        mode="markers",
        marker={"color": GENERATED_COLOUR, "size": 5, "opacity": 0.8},
        name=tr(language, "generated G(z)", "生成点 G(z)"),
        hovertemplate="G(z) = (%{x:.2f}, %{y:.2f})<extra></extra>",
    )


def snapshot_title(result: GANResult, index: int, language: str) -> str:
    step = int(result.snapshot_steps[index])
    covered, near = int(result.modes_covered[index]), float(result.near_data[index])
    return tr(
        language,
        f"GAN at step {step}: generated points cover {covered} of {MODES} modes, {near:.0%} lie near the data"
        f"<br><sup>{describe_gan(result, language)}; background: the discriminator's D(x)</sup>",
        f"GAN 第 {step} 步：生成点覆盖了 {MODES} 个模式中的 {covered} 个，{near:.0%} 落在数据附近"
        f"<br><sup>{describe_gan(result, language)}；背景：判别器的 D(x)</sup>",
    )


def animation_figure(result: GANResult, language: str) -> go.Figure:
    """D(x) as a heatmap with the real and the generated points on top, one frame per snapshot."""
    last = len(result.snapshot_steps) - 1
    real = go.Scatter(
        x=np.round(result.real[:, 0], 3),
        y=np.round(result.real[:, 1], 3),
        mode="markers",
        marker={"color": REAL_COLOUR, "size": 4, "opacity": 0.5},
        name=tr(language, "real data x", "真实数据 x"),
        hoverinfo="skip",
    )
    figure = go.Figure(
        [decision_trace(result, last, language), real, generated_trace(result, last, language)],
        frames=[
            go.Frame(
                name=str(index),
                data=[decision_trace(result, index, language), generated_trace(result, index, language)],
                traces=[0, 2],
                layout={"title": {"text": snapshot_title(result, index, language)}},
            )
            for index in range(last + 1)
        ],
    )
    figure.update_layout(
        title=snapshot_title(result, last, language),
        xaxis={
            "title": "x₁",
            "range": [float(result.grid_x[0]), float(result.grid_x[-1])],
            "constrain": "domain",
        },
        yaxis={
            "title": "x₂",
            "range": [float(result.grid_y[0]), float(result.grid_y[-1])],
            "scaleanchor": "x",
            "constrain": "domain",
        },
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        sliders=[{**step_slider(result.snapshot_steps, language), "x": 0.12, "len": 0.88}],
        updatemenus=[play_buttons(language)],
        height=680,
    )
    return figure


def play_buttons(language: str) -> dict:
    return {
        "type": "buttons",
        "showactive": False,
        "x": 0.0,
        "y": -0.08,
        "xanchor": "left",
        "yanchor": "top",
        "buttons": [
            {
                "label": tr(language, "▶ play", "▶ 播放"),
                "method": "animate",
                "args": [None, {"frame": {"duration": 300, "redraw": True}, "fromcurrent": False}],
            },
            {
                "label": tr(language, "❚❚ pause", "❚❚ 暂停"),
                "method": "animate",
                "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
            },
        ],
    }


def losses_figure(result: GANResult, language: str) -> go.Figure:
    figure = go.Figure()
    for values, name, colour in (
        (result.d_loss, tr(language, "discriminator loss L_D", "判别器损失 L_D"), "#1f77b4"),
        (result.g_loss, tr(language, "generator loss L_G", "生成器损失 L_G"), GENERATED_COLOUR),
    ):
        figure.add_trace(
            go.Scatter(
                x=result.loss_steps,
                y=values,
                mode="lines+markers",
                name=name,
                line={"color": colour},
                hovertemplate=tr(language, "step ", "步数 ") + "%{x}: %{y:.3f}<extra>" + name + "</extra>",
            )
        )
    figure.add_hline(
        y=math.log(2),
        line={"dash": "dash", "color": "black"},
        annotation_text=tr(
            language, "ln 2: D can only guess (D(x) = 1/2)", "ln 2：判别器只能猜（D(x) = 1/2）"
        ),
    )
    figure.update_layout(
        title=tr(
            language,
            "GAN losses as fit reported them (binary cross-entropy, mean over the steps between snapshots)",
            "fit 报告的 GAN 损失（二元交叉熵，两个快照之间各步的平均）",
        ),
        xaxis_title=tr(language, "training step", "训练步数"),
        yaxis_title=tr(language, "loss (nats)", "损失 (nats)"),
    )
    return figure


def coverage_figure(result: GANResult, language: str) -> go.Figure:
    """Modes covered and the share near the data (top), the spread of the generated points against the
    data's own (bottom), at every snapshot."""
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        specs=[[{"secondary_y": True}], [{}]],
    )
    figure.add_trace(
        go.Scatter(
            x=result.snapshot_steps,
            y=result.modes_covered,
            mode="lines+markers",
            name=tr(language, f"modes covered (of {MODES})", f"覆盖的模式数（共 {MODES} 个）"),
            line={"color": "#2ca02c", "shape": "hv"},
        ),
        row=1,
        col=1,
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=result.snapshot_steps,
            y=np.round(result.near_data, 4),
            mode="lines",
            name=tr(language, "share of generated points near the data", "落在数据附近的生成点比例"),
            line={"color": "#7f7f7f", "dash": "dot"},
        ),
        row=1,
        col=1,
        secondary_y=True,
    )
    figure.add_trace(
        go.Scatter(
            x=result.snapshot_steps,
            y=np.round(result.spread, 4),
            mode="lines+markers",
            name=tr(language, "spread of the generated points", "生成点的分散程度"),
            line={"color": GENERATED_COLOUR},
        ),
        row=2,
        col=1,
    )
    figure.add_hline(
        y=result.real_spread,
        line={"dash": "dash", "color": REAL_COLOUR},
        annotation_text=tr(language, "spread of the real data", "真实数据的分散程度"),
        row=2,
        col=1,
    )
    figure.update_yaxes(
        title_text=tr(language, "modes covered", "覆盖的模式数"),
        range=[-0.2, MODES + 0.2],
        row=1,
        col=1,
        secondary_y=False,
    )
    figure.update_yaxes(
        title_text=tr(language, "share near the data", "数据附近的比例"),
        range=[0, 1.02],
        tick0=0,
        dtick=0.25,
        tickformat=".0%",
        row=1,
        col=1,
        secondary_y=True,
    )
    figure.update_yaxes(
        title_text=tr(language, "mean distance from the centroid", "到质心的平均距离"),
        rangemode="tozero",
        row=2,
        col=1,
    )
    figure.update_xaxes(title_text=tr(language, "training step", "训练步数"), row=2, col=1)
    figure.update_layout(
        title=tr(
            language,
            "Mode coverage over training: a collapsed generator covers 1 or 2 modes at most and its points huddle",
            "训练中的模式覆盖：模式崩溃的生成器最多覆盖 1 到 2 个模式，生成点挤成一团",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        height=600,
    )
    return figure
