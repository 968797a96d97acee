"""The convolution lesson's figures of a real CNN: the first layer's filters and responses, a unit's receptive
field beside its input gradient, and how the field grows layer by layer."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.convolution.figures import CELL_COLOUR, DIVERGING, INK, WINDOW_COLOUR, image_border
from plugins.convolution.result import NetworkView

# Filters drawn at most (the first ones); a wide first layer (64, 96 filters) would make tiles too small.
MAX_FILTERS = 64
# Response pixels drawn at most: 8 maps of 112×112 (MobileNetV2's first layer) keep the figure near 1 MB.
MAX_RESPONSE_PIXELS = 110_000
TILES_PER_ROW = 8


def _mosaic(tiles: np.ndarray, per_row: int) -> tuple[np.ndarray, np.ndarray]:
    """Tiles [n, h, w] laid out in rows of `per_row`, one NaN line between them; and each cell's tile index."""
    count, h, w = tiles.shape
    rows = math.ceil(count / per_row)
    mosaic = np.full((rows * (h + 1) - 1, per_row * (w + 1) - 1), np.nan, np.float32)
    owner = np.full(mosaic.shape, -1, np.int16)
    for index, tile in enumerate(tiles):
        top, left = (index // per_row) * (h + 1), (index % per_row) * (w + 1)
        mosaic[top : top + h, left : left + w] = tile
        owner[top : top + h, left : left + w] = index
    return mosaic, owner


def filters_figure(network: NetworkView, language: str) -> go.Figure:
    shown = min(len(network.filters), MAX_FILTERS)
    per_row = min(shown, TILES_PER_ROW)
    kernels, kernel_owner = _mosaic(network.filters[:shown], per_row)
    _, map_h, map_w = network.responses.shape
    responding = max(1, min(shown, MAX_RESPONSE_PIXELS // (map_h * map_w)))
    responses, response_owner = _mosaic(network.responses[:responding], per_row)
    state = (
        tr(language, "the loaded model's weights", "当前加载的模型权重")
        if network.own_model
        else tr(language, "untrained, random", "未训练、随机的")
    )
    first = (
        tr(
            language,
            f"; the first {responding}, {map_h}×{map_w} each",
            f"；只显示前 {responding} 个，每个 {map_h}×{map_w}",
        )
        if responding < shown
        else ""
    )
    summed = (
        tr(
            language,
            f", summed over {network.input_channels} input channels",
            f"，{network.input_channels} 个输入通道之和",
        )
        if network.input_channels > 1
        else ""
    )
    more = (
        tr(
            language,
            f" (first {shown} of {len(network.filters)})",
            f"（共 {len(network.filters)} 个，显示前 {shown} 个）",
        )
        if shown < len(network.filters)
        else ""
    )
    figure = make_subplots(
        rows=2,
        cols=1,
        vertical_spacing=0.12,
        row_heights=[0.4, 0.6],
        subplot_titles=(
            tr(language, f"kernels w{summed}", f"卷积核 w{summed}"),
            tr(
                language,
                f"responses to the sample ({network.conv_layer}'s output, after {network.activation}{first})",
                f"对样本的响应（{network.conv_layer} 的输出，经过 {network.activation} 之后{first}）",
            ),
        ),
    )
    limit = float(np.nanmax(np.abs(kernels))) or 1.0
    figure.add_trace(
        go.Heatmap(
            z=kernels,
            customdata=kernel_owner,
            colorscale=DIVERGING,
            zmin=-limit,
            zmax=limit,
            colorbar={"title": {"text": "w", "side": "right"}, "len": 0.4, "y": 0.8},
            hovertemplate=tr(
                language, "filter %{customdata}: w = %{z:.4f}", "卷积核 %{customdata}：w = %{z:.4f}"
            )
            + "<extra></extra>",
            name=tr(language, "kernels", "卷积核"),
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            z=responses,
            customdata=response_owner,
            colorscale="Viridis",
            colorbar={
                "title": {"text": tr(language, "response", "响应"), "side": "right"},
                "len": 0.55,
                "y": 0.28,
            },
            hovertemplate=tr(language, "filter %{customdata}: %{z:.4f}", "卷积核 %{customdata}：%{z:.4f}")
            + "<extra></extra>",
            name=tr(language, "responses", "响应"),
        ),
        row=2,
        col=1,
    )
    _, k_h, k_w = network.filters.shape
    for index in range(shown):
        figure.add_annotation(
            x=(index % per_row) * (k_w + 1) + (k_w - 1) / 2,
            y=(index // per_row) * (k_h + 1) - 0.5,
            text=str(index),
            showarrow=False,
            yanchor="bottom",
            font={"size": 11},
            xref="x",
            yref="y",
        )
    for row in (1, 2):
        figure.update_yaxes(
            autorange="reversed",
            scaleanchor="x" if row == 1 else "x2",
            showticklabels=False,
            showgrid=False,
            zeroline=False,
            row=row,
            col=1,
        )
        figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=row, col=1)
    figure.update_layout(
        title=tr(
            language,
            f"Every filter of {network.model_name}'s first Conv2D ({state}){more}, and its response",
            f"{network.model_name} 第一个 Conv2D 层的每个卷积核（{state}）{more}及其响应",
        ),
        height=650,
        plot_bgcolor="white",
    )
    return figure


def field_figure(network: NetworkView, language: str) -> go.Figure:
    field = network.field
    image = network.sample.mean(axis=-1, dtype=np.float32)
    mask = field.mask
    top, bottom, left, right = field.rows[0], field.rows[-1], field.cols[0], field.cols[-1]
    box = {
        "type": "rect",
        "x0": left - 0.5,
        "x1": right + 0.5,
        "y0": top - 0.5,
        "y1": bottom + 0.5,
        "line": {"color": WINDOW_COLOUR, "width": 3},
    }
    nonzero = int(np.count_nonzero(field.gradient[mask]))
    rows, cols, channels = field.layer_shape
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            tr(language, "input with the receptive field<br>(orange)", "输入与感受野<br>（橙色）"),
            tr(
                language,
                "|∂ unit / ∂ input|<br>(tf.GradientTape; blank: 0)",
                "|∂ 单元 / ∂ 输入|<br>（tf.GradientTape；空白：0）",
            ),
            tr(
                language,
                f"{field.layer}'s output {rows}×{cols}×{channels}<br>summed over channels (green: the unit)",
                f"{field.layer} 的输出 {rows}×{cols}×{channels}<br>各通道之和（绿框：该单元）",
            ),
        ),
    )
    figure.add_trace(
        go.Heatmap(
            z=image,
            colorscale=INK,
            showscale=False,
            hovertemplate="x[%{y}, %{x}] = %{z:.3f}<extra></extra>",
            name=tr(language, "input", "输入"),
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            z=np.where(mask, np.float32(1), np.float32(np.nan)),
            colorscale=[[0, WINDOW_COLOUR], [1, WINDOW_COLOUR]],
            opacity=0.25,
            showscale=False,
            hovertemplate=tr(
                language, "in the field: row %{y}, column %{x}", "感受野内：第 %{y} 行，第 %{x} 列"
            )
            + "<extra></extra>",
            name=tr(language, "receptive field", "感受野"),
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            z=np.where(field.gradient > 0, field.gradient, np.nan).astype(np.float32),
            colorscale="Viridis",
            colorbar={"title": {"text": "|∂/∂x|", "side": "right"}, "len": 0.8},
            hovertemplate="|∂/∂x[%{y}, %{x}]| = %{z:.3g}<extra></extra>",
            name=tr(language, "gradient", "梯度"),
        ),
        row=1,
        col=2,
    )
    figure.add_trace(
        go.Heatmap(
            z=field.layer_output,
            colorscale="Viridis",
            showscale=False,
            hovertemplate="[%{y}, %{x}] = %{z:.4f}<extra></extra>",
            name=field.layer,
        ),
        row=1,
        col=3,
    )
    figure.update_layout(
        shapes=[
            image_border(*image.shape, "x", "y"),
            image_border(*image.shape, "x2", "y2"),
            {**box, "xref": "x", "yref": "y"},
            {**box, "xref": "x2", "yref": "y2"},
            {
                "type": "rect",
                "xref": "x3",
                "yref": "y3",
                "x0": field.unit[1] - 0.5,
                "x1": field.unit[1] + 0.5,
                "y0": field.unit[0] - 0.5,
                "y1": field.unit[0] + 0.5,
                "line": {"color": CELL_COLOUR, "width": 4},
            },
        ],
        title=tr(
            language,
            f"Receptive field of unit ({field.unit[0]}, {field.unit[1]}) of {field.layer}: rows {top}–{bottom}, "
            f"columns {left}–{right} ({mask.sum()} pixels); gradient non-zero on {nonzero} of them, "
            f"largest |gradient| outside = {field.gradient_outside:.3g}",
            f"{field.layer} 中单元 ({field.unit[0]}, {field.unit[1]}) 的感受野：第 {top}–{bottom} 行，第 {left}–{right} 列"
            f"（{mask.sum()} 个像素）；其中梯度不为零的有 {nonzero} 个，感受野外最大的 |梯度| = {field.gradient_outside:.3g}",
        ),
        height=430,
        plot_bgcolor="white",
    )
    for col, (height, width) in zip((1, 2, 3), (image.shape, image.shape, (rows, cols)), strict=True):
        suffix = "" if col == 1 else str(col)
        # Fixed ranges: a gradient row that is zero all along must still show, as blank.
        figure.update_yaxes(
            range=[height - 0.5, -0.5], scaleanchor=f"x{suffix}", constrain="domain", row=1, col=col
        )
        figure.update_xaxes(
            range=[-0.5, width - 0.5],
            constrain="domain",
            title_text=tr(language, "column", "列"),
            row=1,
            col=col,
        )
    figure.update_yaxes(title_text=tr(language, "row", "行"), row=1, col=1)
    return figure


def field_growth_figure(network: NetworkView, language: str) -> go.Figure:
    chain = network.field.chain
    jumps = [layer.jump for layer in chain]
    names = [
        f"{layer.name}<br>{layer.kind} k={layer.kernel} s={layer.stride} d={layer.dilation}"
        for layer in chain
    ]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(
            x=names,
            y=[layer.size for layer in chain],
            text=[f"{layer.size}×{layer.size}" for layer in chain],
            textposition="outside",
            cliponaxis=False,
            marker={"color": WINDOW_COLOUR},
            name=tr(language, "receptive field r (input pixels)", "感受野 r（输入像素）"),
            hovertemplate="%{x}<br>r = %{y}<extra></extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=names,
            y=jumps,
            mode="lines+markers",
            line={"color": "#1f77b4", "width": 3},
            name=tr(
                language,
                "jump j (input pixels between neighbouring units)",
                "跳距 j（相邻单元在输入上相隔的像素）",
            ),
            hovertemplate="%{x}<br>j = %{y}<extra></extra>",
        ),
        secondary_y=True,
    )
    size = network.sample.shape[0]
    figure.add_hline(
        y=size,
        line={"dash": "dot", "color": "#444444"},
        annotation_text=tr(language, f"input height {size}", f"输入高度 {size}"),
        annotation_position="top left",
        secondary_y=False,
    )
    figure.update_layout(
        title=tr(
            language,
            f"How the receptive field grows through {network.model_name}: r ← r + (k − 1)·d·j, j ← j·s",
            f"感受野在 {network.model_name} 中逐层变大：r ← r + (k − 1)·d·j，j ← j·s",
        ),
        legend={"orientation": "h", "y": -0.3},
        height=460,
    )
    figure.update_xaxes(
        title_text=tr(
            language, "convolution and pooling layers, input → output", "卷积层和池化层（输入 → 输出）"
        )
    )
    top = 1.25 * max([size, *(layer.size for layer in chain)])
    figure.update_yaxes(
        title_text=tr(language, "receptive field r (pixels)", "感受野 r（像素）"),
        range=[0, top],
        secondary_y=False,
    )
    figure.update_yaxes(
        title_text=tr(language, "jump j (pixels)", "跳距 j（像素）"),
        range=[0, 1.25 * max(jumps)],
        dtick=max(1, math.ceil(max(jumps) / 5)),
        showgrid=False,
        secondary_y=True,
    )
    return figure
