"""The figures of the `activations` plugin, drawn from its result."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.records import histogram_heatmaps, image_trace, layer_colours
from plugins.activations.result import (
    ActivationsResult,
    Distributions,
    FeatureMaps,
    ProbeHealth,
    UnitResponses,
)


def result_figures(result: ActivationsResult, language: str = "en") -> list[go.Figure]:
    """Every figure `result` holds data for, in page order, with titles in `language`."""
    figures = []
    if result.distributions is not None and result.distributions.layers:
        figures.append(_violins(result.distributions, language))
    if result.probe_health is not None and result.probe_health.dead_layers and result.distributions:
        figures.append(_dead_unit_bars(result.probe_health, language))
    if result.over_time is not None and result.over_time.layers:
        figures.append(
            histogram_heatmaps(
                result.over_time,
                title=tr(language, "Activation histograms over training", "激活值直方图随训练的变化"),
                value_label=tr(language, "activation value", "激活值"),
                language=language,
            )
        )
    if result.relu_layers:
        figures.append(
            _fraction_lines(
                result.steps,
                result.relu_layers,
                result.zero_fractions,
                result.thresholds[0],
                title=tr(
                    language,
                    "Dying ReLU: share of zero outputs per ReLU layer",
                    "死亡 ReLU：各 ReLU 层输出为零的比例",
                ),
                y_title=tr(
                    language,
                    "outputs exactly zero (% of probe outputs)",
                    "恰好为零的输出（占探针输出的 %）",
                ),
                language=language,
            )
        )
    if result.saturating_layers:
        figures.append(
            _fraction_lines(
                result.steps,
                result.saturating_layers,
                result.saturated_fractions,
                result.thresholds[1],
                title=tr(
                    language,
                    "Saturation: share of sigmoid/tanh outputs in the flat tails",
                    "饱和：sigmoid/tanh 输出落在平坦尾部的比例",
                ),
                y_title=tr(language, "saturated outputs (% of probe outputs)", "饱和输出（占探针输出的 %）"),
                language=language,
            )
        )
    if result.feature_maps is not None:
        figures.extend(_feature_map_figures(result.feature_maps, language))
    if result.unit_responses is not None:
        figures.append(_unit_response_figure(result.unit_responses, language))
    return figures


def _layer_label(layer: str, activation: str) -> str:
    return f"{layer} ({activation})" if activation else layer


def _violins(distributions: Distributions, language: str) -> go.Figure:
    """Violins drawn from histograms: the raw outputs would make the figure huge."""
    figure = go.Figure()
    colours = layer_colours(len(distributions.layers))
    labels = []
    for position, (layer, activation, edges, fractions, zeros, colour) in enumerate(
        zip(
            distributions.layers,
            distributions.activations,
            distributions.edges,
            distributions.fractions,
            distributions.zero_fractions,
            colours,
            strict=True,
        )
    ):
        centres = (edges[:-1] + edges[1:]) / 2
        # sqrt keeps a spike (all the zeros of a ReLU) from flattening the rest of the violin.
        width = np.sqrt(fractions / max(float(fractions.max()), 1e-12)) * 0.42
        label = _layer_label(layer, activation)
        labels.append(label)
        share = tr(language, "share", "占比")
        zero_text = tr(language, f"zeros {zeros:.0%}", f"零值 {zeros:.0%}") if np.isfinite(zeros) else ""
        figure.add_trace(
            go.Scatter(
                x=np.concatenate([position - width, (position + width)[::-1]]),
                y=np.concatenate([centres, centres[::-1]]),
                fill="toself",
                mode="lines",
                line={"color": colour, "width": 1},
                name=label,
                customdata=np.concatenate([fractions, fractions[::-1]]) * 100,
                hovertemplate=f"{label}<br>%{{y:.3g}}: {share} %{{customdata:.1f}}%<br>{zero_text}<extra></extra>",
            )
        )
    if distributions.source == "probe":
        title = tr(
            language,
            f"Activation distributions per layer (probe batch of {distributions.n_samples} training samples)",
            f"各层激活值分布（探针批次：{distributions.n_samples} 个训练样本）",
        )
    else:
        title = tr(
            language,
            f"Activation distributions per layer (recorded at step {distributions.step})",
            f"各层激活值分布（记录于第 {distributions.step} 步）",
        )
    figure.update_layout(
        title=title,
        xaxis={
            "title": tr(language, "layer (input → output)", "层（输入 → 输出）"),
            "tickvals": list(range(len(labels))),
            "ticktext": labels,
        },
        yaxis_title=tr(language, "activation value (layer output)", "激活值（层输出）"),
        legend_title_text=tr(language, "layer (activation)", "层（激活函数）"),
    )
    return figure


def _dead_unit_bars(health: ProbeHealth, language: str) -> go.Figure:
    dead = np.array(health.dead_units)
    units = np.array(health.units)
    share = dead / np.maximum(units, 1) * 100
    figure = go.Figure(
        go.Bar(
            x=list(health.dead_layers),
            y=share,
            text=[f"{d}/{u}" for d, u in zip(dead, units, strict=True)],
            textposition="outside",
            marker_color="#d62728",
            name=tr(language, "dead units", "死亡单元"),
        )
    )
    figure.update_layout(
        title=tr(
            language,
            "Dead ReLU units: never active on the probe batch",
            "死亡 ReLU 单元：在探针批次上从未激活",
        ),
        xaxis_title=tr(language, "ReLU layer (input → output)", "ReLU 层（输入 → 输出）"),
        yaxis={
            "title": tr(language, "dead units (% of the layer's units)", "死亡单元（占该层单元的 %）"),
            "range": [0, 105],
        },
    )
    return figure


def _fraction_lines(steps, layers, fractions, threshold, *, title, y_title, language) -> go.Figure:
    figure = go.Figure()
    for layer, colour, row in zip(layers, layer_colours(len(layers)), fractions, strict=True):
        figure.add_trace(go.Scatter(x=steps, y=row * 100, mode="lines", name=layer, line={"color": colour}))
    figure.add_trace(
        go.Scatter(
            x=[steps[0], steps[-1]],
            y=[threshold * 100] * 2,
            mode="lines",
            line={"color": "#888", "dash": "dash"},
            name=tr(language, f"diagnosis threshold {threshold:.0%}", f"诊断阈值 {threshold:.0%}"),
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title=tr(language, "training step", "训练步数 (step)"),
        yaxis={"title": y_title, "range": [-2, 102]},
        legend_title_text=tr(language, "layer (input → output)", "层（输入 → 输出）"),
    )
    return figure


def _scale(values: np.ndarray) -> dict:
    """A diverging scale centred at zero for signed outputs, a sequential one for non-negative outputs."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low < 0 < high or high <= 0:
        limit = max(abs(low), abs(high)) or 1.0
        return {"colorscale": "RdBu_r", "zmid": 0, "zmin": -limit, "zmax": limit}
    return {"colorscale": "Viridis", "zmin": low, "zmax": high if high > low else low + 1}


def _montage(maps: np.ndarray) -> tuple[np.ndarray, int]:
    """Tile [k, h, w] maps into one image with a one-pixel gap (NaN) between tiles; returns it and the columns."""
    k, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    tiled = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, np.float32)
    for i, tile in enumerate(maps):
        r, c = divmod(i, cols)
        tiled[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tile
    return tiled, cols


def _feature_map_figures(feature_maps: FeatureMaps, language: str) -> list[go.Figure]:
    figures = []
    image = feature_maps.image
    for layer, maps, channels in zip(
        feature_maps.layers, feature_maps.maps, feature_maps.channels, strict=True
    ):
        tiled, cols = _montage(maps)
        figure = make_subplots(
            rows=1,
            cols=2,
            column_widths=[0.3, 0.7],
            subplot_titles=[
                tr(
                    language,
                    f"input: test sample #{feature_maps.sample_index}",
                    f"输入：测试样本 #{feature_maps.sample_index}",
                ),
                tr(
                    language,
                    f"{len(maps)} of {channels} feature maps",
                    f"{channels} 个特征图中的 {len(maps)} 个",
                ),
            ],
        )
        figure.add_trace(image_trace(image, tr(language, "input", "输入")), row=1, col=1)
        h, w = maps.shape[1:]
        channel = np.full(tiled.shape, -1, np.int16)
        for i in range(len(maps)):
            r, c = divmod(i, cols)
            channel[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = i
        figure.add_trace(
            go.Heatmap(
                z=tiled,
                customdata=channel,
                name=layer,
                colorbar={"title": {"text": tr(language, "output", "输出值")}},
                hovertemplate=tr(
                    language,
                    "channel %{customdata}<br>output %{z:.3g}<extra></extra>",
                    "通道 %{customdata}<br>输出 %{z:.3g}<extra></extra>",
                ),
                **_scale(maps),
            ),
            row=1,
            col=2,
        )
        figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
        figure.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False, zeroline=False)
        figure.layout.yaxis.scaleanchor = "x"
        figure.layout.yaxis2.scaleanchor = "x2"
        figure.update_layout(
            title=tr(
                language,
                f"Feature maps of {layer} (label {feature_maps.label}, predicted {feature_maps.predicted})",
                f"{layer} 的特征图（标签 {feature_maps.label}，预测 {feature_maps.predicted}）",
            ),
            height=420,
            plot_bgcolor="white",
            xaxis_title=tr(language, "pixels", "像素"),
            xaxis2_title=tr(language, "one tile per channel, in channel order", "每格一个通道，按通道顺序"),
        )
        figures.append(figure)
    return figures


def _unit_response_figure(responses: UnitResponses, language: str) -> go.Figure:
    rows = len(responses.layers)
    cols = max(len(r) for r in responses.responses)
    titles = []
    for layer_responses in responses.responses:
        titles += [f"#{unit}" for unit in range(len(layer_responses))] + [""] * (cols - len(layer_responses))
    figure = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.02 / max(cols / 8, 1),
        vertical_spacing=0.12 / max(rows / 3, 1),
    )
    x_name, y_name = responses.feature_names
    for row, (layer, layer_responses) in enumerate(
        zip(responses.layers, responses.responses, strict=True), start=1
    ):
        scale = _scale(layer_responses)
        for col, response in enumerate(layer_responses, start=1):
            name = f"{layer} {tr(language, 'unit', '单元')} {col - 1}"
            figure.add_trace(
                go.Heatmap(
                    x=responses.xs,
                    y=responses.ys,
                    z=response,
                    showscale=False,
                    name=name,
                    hovertemplate=f"{name}<br>{x_name} %{{x:.2f}}, {y_name} %{{y:.2f}}<br>"
                    + tr(language, "output", "输出")
                    + " %{z:.3g}<extra></extra>",
                    **scale,
                ),
                row=row,
                col=col,
            )
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    for row, (layer, activation) in enumerate(
        zip(responses.layers, responses.activations, strict=True), start=1
    ):
        figure.update_yaxes(title_text=f"{_layer_label(layer, activation)}<br>{y_name}", row=row, col=1)
    figure.update_xaxes(title_text=x_name, row=rows, col=1)
    cell = 110
    figure.update_layout(
        title=tr(language, "Each dense unit over the input plane", "每个全连接单元在输入平面上的响应"),
        height=cell * rows + 140,
        width=max(600, cell * cols + 120),
        margin={"l": 60, "r": 20, "t": 90, "b": 50},
    )
    figure.add_annotation(
        text=tr(
            language,
            "colour per layer: blue negative, white 0, red positive (diverging) or dark low to yellow high",
            "每层一个色标：蓝负、白零、红正（发散色标），或由暗到黄表示由低到高",
        ),
        x=0,
        y=1.0,
        xref="paper",
        yref="paper",
        yanchor="bottom",
        yshift=28,
        showarrow=False,
        font={"size": 11},
    )
    return figure
