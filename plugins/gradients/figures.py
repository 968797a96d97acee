"""The figures of the `gradients` plugin, drawn from its result."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.records import histogram_heatmaps, image_trace, layer_colours
from plugins.gradients.result import GradientsResult, Saliency

# Update-to-weight ratios inside this band (around the rule of thumb 1e-3) look healthy.
RATIO_BAND = (10**-3.5, 10**-2.5)


def result_figures(result: GradientsResult, language: str = "en") -> list[go.Figure]:
    """Every figure `result` holds data for, in page order, with titles in `language`."""
    if result.source == "batch":
        figures = [_batch_bars(result, language), _batch_histograms(result, language)]
    else:
        figures = [_norm_lines(result, language), _norm_heatmap(result, language)]
        if result.histograms is not None and result.histograms.layers:
            figures.append(
                histogram_heatmaps(
                    result.histograms,
                    title=tr(language, "Gradient histograms over training", "梯度直方图随训练的变化")
                    + _source_note(result, language),
                    value_label=tr(language, "gradient value", "梯度值"),
                    language=language,
                )
            )
        if result.update_ratios.size:
            figures.append(_ratio_lines(result, language))
    if result.saliency is not None:
        figures.append(_saliency_figure(result.saliency, language))
    return figures


def _positive(values: np.ndarray) -> np.ndarray:
    """Values a log axis can show; zero, negative and non-finite values become gaps."""
    values = np.asarray(values, np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _source_note(result: GradientsResult, language: str) -> str:
    """A subtitle saying which batches a run's gradients were taken on."""
    if result.gradient_source == "step":
        note = tr(
            language,
            "gradients of the batches trained on (at the end of each fit: of the probe batch)",
            "训练所用批次上的梯度（每次 fit 结束时：探针批次 (probe batch) 上的梯度）",
        )
    elif result.gradient_source == "probe":
        note = tr(language, "gradients of a fixed probe batch", "固定探针批次 (probe batch) 上的梯度")
    else:
        return ""
    return f"<br><sup>{note}</sup>"


def _step_axis(language: str) -> str:
    return tr(language, "training step", "训练步数 (step)")


def _norm_lines(result: GradientsResult, language: str) -> go.Figure:
    figure = go.Figure()
    colours = layer_colours(len(result.layers))
    colour_of = dict(zip(result.layers, colours, strict=True))
    for layer, row in zip(result.layers, result.norms, strict=True):
        figure.add_trace(
            go.Scatter(
                x=result.steps,
                y=_positive(row),
                mode="lines",
                name=layer,
                legendgroup="this run",
                legendgrouptitle_text=tr(language, "this run", "当前训练"),
                line={"color": colour_of[layer], "width": 2},
            )
        )
    dashes = ("dash", "dot", "dashdot", "longdash")
    for number, other in enumerate(result.other_runs):
        label = other.text(language)
        for layer, row in zip(other.layers, other.norms, strict=True):
            figure.add_trace(
                go.Scatter(
                    x=other.steps,
                    y=_positive(row),
                    mode="lines",
                    name=f"{layer} ({label})",
                    legendgroup=label,
                    legendgrouptitle_text=label,
                    line={
                        "color": colour_of.get(layer, "#888"),
                        "dash": dashes[number % len(dashes)],
                        "width": 1.5,
                    },
                )
            )
    shown = _positive(result.norms)
    floor = np.nanmin(shown, initial=np.inf) / 10 if np.isfinite(shown).any() else 1e-8
    ceiling = np.nanmax(shown, initial=-np.inf) * 10 if np.isfinite(shown).any() else 1.0
    # One rung per layer below the lowest line (above the highest), so that markers of several layers stay apart.
    rung = {layer: 1.5**index for index, layer in enumerate(result.layers)}
    for trace in _unplottable(
        result,
        language,
        zero_at=lambda layer: floor / rung[layer],
        broken_at=lambda layer: ceiling * rung[layer],
    ):
        figure.add_trace(trace)
    figure.update_layout(
        title=tr(language, "Gradient norm per layer (log scale)", "各层梯度范数（对数坐标）")
        + _source_note(result, language),
        xaxis_title=_step_axis(language),
        yaxis={
            "title": tr(language, "gradient L2 norm ‖∇W‖", "梯度 L2 范数 ‖∇W‖"),
            "type": "log",
            "exponentformat": "power",
        },
        legend_title_text=tr(language, "layer (input → output)", "层（输入 → 输出）"),
    )
    return figure


def _unplottable(result: GradientsResult, language: str, *, zero_at, broken_at) -> list[go.Scatter]:
    """Markers where a log scale has no place for a norm: exactly zero (dead) or NaN/infinite (exploded).

    `zero_at(layer)` and `broken_at(layer)` give the y of the marker (the axis floor and ceiling of
    the line chart, the layer's own row in the heatmap).
    """
    colour_of = dict(zip(result.layers, layer_colours(len(result.layers)), strict=True))
    kinds = (
        (result.norms == 0, "x", zero_at, tr(language, "gradient exactly 0", "梯度恰为 0")),
        (
            ~np.isfinite(result.norms),
            "triangle-up",
            broken_at,
            tr(language, "NaN or infinite gradient", "梯度为 NaN 或无穷大"),
        ),
    )
    step = tr(language, "step", "步数")
    traces = []
    for mask, symbol, place, label in kinds:
        rows, cols = np.nonzero(mask)
        if not len(rows):
            continue
        names = [result.layers[row] for row in rows]
        traces.append(
            go.Scatter(
                x=result.steps[cols],
                y=[place(name) for name in names],
                mode="markers",
                marker={"symbol": symbol, "size": 9, "color": [colour_of[name] for name in names]},
                name=label,
                showlegend=True,
                customdata=names,
                hovertemplate=f"%{{customdata}}<br>{step} %{{x}}: {label}<extra></extra>",
            )
        )
    return traces


def _norm_heatmap(result: GradientsResult, language: str) -> go.Figure:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(_positive(result.norms))
    figure = go.Figure(
        go.Heatmap(
            x=result.steps,
            y=list(result.layers),
            z=logs.round(4),
            colorscale="Viridis",
            colorbar={"title": {"text": "log₁₀ ‖∇W‖"}},
            hovertemplate=tr(
                language,
                "%{y}<br>step %{x}<br>log₁₀ norm %{z:.2f}<extra></extra>",
                "%{y}<br>步数 %{x}<br>log₁₀ 范数 %{z:.2f}<extra></extra>",
            ),
        )
    )
    for trace in _unplottable(result, language, zero_at=str, broken_at=str):
        figure.add_trace(trace)
    figure.update_layout(
        title=tr(language, "Gradient norm: layer x step (log₁₀)", "梯度范数：层 x 步数（log₁₀）")
        + _source_note(result, language),
        xaxis_title=_step_axis(language),
        yaxis={"title": tr(language, "layer (input at top)", "层（输入在上）"), "autorange": "reversed"},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
    )
    return figure


def _ratio_lines(result: GradientsResult, language: str) -> go.Figure:
    steps = result.steps
    low, high = RATIO_BAND
    figure = go.Figure(
        [
            go.Scatter(
                x=[steps[0], steps[-1]],
                y=[low, low],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[steps[0], steps[-1]],
                y=[high, high],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(46, 160, 67, 0.15)",
                name=tr(language, "rule of thumb ≈ 1e-3", "经验值 ≈ 1e-3"),
                hoverinfo="skip",
            ),
        ]
    )
    for layer, colour, row in zip(
        result.layers, layer_colours(len(result.layers)), result.update_ratios, strict=True
    ):
        figure.add_trace(
            go.Scatter(x=steps, y=_positive(row), mode="lines", name=layer, line={"color": colour})
        )
    shown = _positive(result.update_ratios)
    lowest, highest = np.log10([np.nanmin(shown, initial=low), np.nanmax(shown, initial=high)])
    figure.update_layout(
        title=tr(language, "Update-to-weight ratio per layer", "各层更新量与权重之比"),
        xaxis_title=_step_axis(language),
        yaxis={
            "title": tr(language, "‖ΔW‖ / ‖W‖ per update", "每次更新的 ‖ΔW‖ / ‖W‖"),
            "type": "log",
            # At least 1e-5..1e-1: the band sits in context and every decade gets a labelled tick.
            "range": [min(lowest, -5.0) - 0.2, max(highest, -1.0) + 0.2],
            "dtick": 1,
            "exponentformat": "power",
        },
        # A filled band would otherwise reverse the legend.
        legend={
            "title": {"text": tr(language, "layer (input → output)", "层（输入 → 输出）")},
            "traceorder": "normal",
        },
    )
    return figure


def _batch_title(result: GradientsResult, language: str, en: str, zh: str) -> str:
    return tr(
        language,
        f"{en} (one batch of {result.batch_size} samples)",
        f"{zh}（一批 {result.batch_size} 个样本）",
    )


def _batch_bars(result: GradientsResult, language: str) -> go.Figure:
    norms = result.norms[:, 0]
    positive = _positive(norms)
    lowest, highest = np.log10([np.nanmin(positive, initial=1.0), np.nanmax(positive, initial=1.0)])
    figure = go.Figure(
        go.Bar(
            x=list(result.layers),
            y=positive,
            marker_color=layer_colours(len(result.layers)),
            text=[f"{value:.2e}" for value in norms],
            textposition="outside",
            name=tr(language, "gradient norm", "梯度范数"),
        )
    )
    figure.update_layout(
        title=_batch_title(result, language, "Gradient norm per layer", "各层梯度范数"),
        xaxis_title=tr(language, "layer (input → output)", "层（输入 → 输出）"),
        yaxis={
            "title": tr(language, "gradient L2 norm ‖∇W‖ (log scale)", "梯度 L2 范数 ‖∇W‖（对数坐标）"),
            "type": "log",
            # Bars start at the bottom of a log axis: put it a decade below the smallest so heights compare.
            "range": [lowest - 1.0, highest + 0.3],
            "exponentformat": "power",
        },
    )
    return figure


def _batch_histograms(result: GradientsResult, language: str) -> go.Figure:
    histograms = result.histograms
    n = len(histograms.layers)
    cols = min(3, n)
    rows = -(-n // cols)
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=list(histograms.layers))
    colours = layer_colours(n)
    for i, (layer, edges, fractions) in enumerate(
        zip(histograms.layers, histograms.edges, histograms.fractions, strict=True)
    ):
        figure.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=fractions[0] * 100,
                width=np.diff(edges),
                name=layer,
                marker_color=colours[i],
                showlegend=False,
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    figure.update_xaxes(title_text=tr(language, "gradient value", "梯度值"), row=rows)
    figure.update_yaxes(title_text=tr(language, "share of values (%)", "数值占比 (%)"), col=1)
    figure.update_layout(
        title=_batch_title(result, language, "Gradient histograms per layer", "各层梯度直方图"),
        height=max(320, 260 * rows + 80),
        bargap=0,
    )
    return figure


def _saliency_figure(saliency: Saliency, language: str) -> go.Figure:
    n = len(saliency.indices)
    titles = [
        tr(language, f"#{i}: label {label}, predicted {pred}", f"#{i}：标签 {label}，预测 {pred}")
        for i, label, pred in zip(saliency.indices, saliency.labels, saliency.predicted, strict=True)
    ] + [tr(language, "saliency", "显著图")] * n
    figure = make_subplots(rows=2, cols=n, subplot_titles=titles, vertical_spacing=0.12)
    for col, (image, gradient) in enumerate(zip(saliency.images, saliency.gradients, strict=True), start=1):
        figure.add_trace(image_trace(image), row=1, col=col)
        # Each map on its own scale: a confident prediction has far smaller gradients than an unsure one.
        largest = float(np.abs(gradient).max()) or 1.0
        figure.add_trace(
            go.Heatmap(
                z=gradient / largest,
                customdata=gradient,
                coloraxis="coloraxis",
                hovertemplate="x %{x}, y %{y}<br>"
                + tr(language, "∂score/∂pixel", "∂得分/∂像素")
                + " %{customdata:.3g}<extra></extra>",
            ),
            row=2,
            col=col,
        )
    figure.update_yaxes(autorange="reversed", showticklabels=False)
    figure.update_xaxes(showticklabels=False)
    for index in range(1, 2 * n + 1):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"yaxis{suffix}"].scaleanchor = f"x{suffix}"
    figure.update_layout(
        title=tr(
            language,
            "Input-gradient saliency: which pixels move the predicted class's score",
            "输入梯度显著图：哪些像素影响预测类别的得分",
        ),
        coloraxis={
            "colorscale": "RdBu_r",
            "cmid": 0,
            "cmin": -1,
            "cmax": 1,
            "colorbar": {
                "title": {
                    "text": tr(
                        language,
                        "∂ score / ∂ pixel,<br>scaled to each<br>map's largest<br>(red: brighter<br>raises the score)",
                        "∂ 得分 / ∂ 像素，<br>按每张图的<br>最大值缩放<br>（红：变亮使<br>得分升高）",
                    )
                }
            },
        },
        height=520,
        width=max(520, 200 * n + 160),
    )
    return figure
