"""The convolution lesson's step-by-step figures: the kernel sliding over the digit, pooling its feature map,
and Flatten. Each animation has one frame per output cell, a slider and play / pause buttons."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.convolution.result import KERNEL_NAMES, ConvolutionResult, Windows

INK = "Greys"  # the digit: 0 white, 1 black, as on paper
DIVERGING = "RdBu_r"  # signed values: negative blue, positive red, 0 white
WINDOW_COLOUR = "#ff7f0e"
CELL_COLOUR = "#2ca02c"
MAX_COLOUR = "#d62728"
FRAME_MS = 500
# Model vectors longer than this are cut in the flatten figure (a VGG's Flatten has 25,088 values).
MAX_VECTOR = 4096


def kernel_label(name: str, language: str) -> str:
    english, chinese = KERNEL_NAMES[name]
    return tr(language, english, chinese)


def _cell(row: float, col: float, xref: str, yref: str, colour: str, width: float = 3.0) -> dict:
    return {
        "type": "rect",
        "xref": xref,
        "yref": yref,
        "x0": col - 0.5,
        "x1": col + 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "line": {"color": colour, "width": width},
    }


def _window(rows: np.ndarray, cols: np.ndarray, dilation: int) -> list[dict]:
    """The window on the input: one frame around it, or one per tap when dilation leaves gaps between them."""
    if dilation > 1:
        return [_cell(r, c, "x", "y", WINDOW_COLOUR) for r in rows for c in cols]
    window = _cell((rows[0] + rows[-1]) / 2, (cols[0] + cols[-1]) / 2, "x", "y", WINDOW_COLOUR, 4.0)
    window.update(y0=rows[0] - 0.5, y1=rows[-1] + 0.5, x0=cols[0] - 0.5, x1=cols[-1] + 0.5)
    return [window]


def image_border(rows: int, cols: int, xref: str, yref: str) -> dict:
    """The image's own edge, so padding outside it is visible."""
    return {
        "type": "rect",
        "xref": xref,
        "yref": yref,
        "x0": -0.5,
        "x1": cols - 0.5,
        "y0": -0.5,
        "y1": rows - 0.5,
        "line": {"color": "#444444", "width": 1.5, "dash": "dot"},
    }


def _padded(values: np.ndarray, windows: Windows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`values` inside the padding Keras adds (zeros, NaN for pooling), with the row and column coordinates."""
    rows, cols = values.shape
    top, left = windows.pad_top, windows.pad_left
    bottom, right = windows.pad_total[0] - top, windows.pad_total[1] - left
    return (
        np.pad(values, ((top, bottom), (left, right))),
        np.arange(-top, rows + bottom),
        np.arange(-left, cols + right),
    )


def _frame(step: int, heatmaps: list, traces: list[int], shapes: list[dict], title: str) -> dict:
    """One animation frame as plain data: plotly validates it once, on the figure (go.Frame would twice)."""
    return {
        "name": str(step),
        "data": [{"type": "heatmap", "z": z} for z in heatmaps],
        "traces": traces,
        "layout": {"shapes": shapes, "title": {"text": title}},
    }


def _animation(figure: go.Figure, labels: list[str], language: str, prefix: str) -> None:
    """Play / pause buttons and a slider over the figure's frames (one per label)."""
    play = {
        "frame": {"duration": FRAME_MS, "redraw": True},
        "fromcurrent": True,
        "transition": {"duration": 0},
    }
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.2,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {"label": tr(language, "▶ play", "▶ 播放"), "method": "animate", "args": [None, play]},
                    {
                        "label": tr(language, "❚❚ pause", "❚❚ 暂停"),
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": 0,
                "x": 0.18,
                "len": 0.82,
                "y": -0.14,
                "currentvalue": {"prefix": prefix},
                "steps": [
                    {
                        "label": label,
                        "method": "animate",
                        "args": [
                            [str(index)],
                            {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"},
                        ],
                    }
                    for index, label in enumerate(labels)
                ],
            }
        ],
    )


def _square_axes(figure: go.Figure, columns: int) -> None:
    for col in range(1, columns + 1):
        suffix = "" if col == 1 else str(col)
        figure.update_yaxes(
            autorange="reversed", scaleanchor=f"x{suffix}", constrain="domain", dtick=1, row=1, col=col
        )
        figure.update_xaxes(constrain="domain", dtick=1, row=1, col=col)


def _growing(values: np.ndarray, count: int) -> np.ndarray:
    """The first `count` cells of `values` in row-major order, NaN for the cells not reached yet."""
    shown = np.full(values.size, np.nan)
    shown[:count] = values.ravel()[:count]
    return shown.reshape(values.shape)


def _kernel_title(result: ConvolutionResult, language: str) -> str:
    name = result.convolution.kernel_name
    if name == "learned":
        filter_name = f"{result.network.conv_layer} #{result.learned_filter}"
        return tr(
            language,
            f"kernel w: filter {filter_name}<br>of the CNN",
            f"卷积核 w：CNN 的<br>卷积核 {filter_name}",
        )
    return tr(
        language, f"kernel w<br>{kernel_label(name, language)}", f"卷积核 w<br>{kernel_label(name, language)}"
    )


def convolution_figure(result: ConvolutionResult, language: str) -> go.Figure:
    conv = result.convolution
    windows = conv.windows
    padded, pad_rows, pad_cols = _padded(result.image, windows)
    k_h, k_w = conv.kernel.shape
    out_h, out_w = conv.feature_map.shape
    limit = float(np.max(np.abs(conv.feature_map))) or 1.0
    product_limit = float(np.max(np.abs(conv.products))) or 1.0
    figure = make_subplots(
        rows=1,
        cols=4,
        horizontal_spacing=0.05,
        column_widths=[0.3, 0.17, 0.17, 0.3],
        subplot_titles=(
            tr(
                language,
                f"input x: digit {result.digit}, test image {result.sample_index}<br>(dotted: the image)",
                f"输入 x：数字 {result.digit}，第 {result.sample_index} 张测试图像<br>（虚线内为图像）",
            ),
            _kernel_title(result, language),
            tr(language, "products w·x", "逐元素乘积 w·x"),
            tr(language, "feature map y (Keras Conv2D)", "特征图 y（Keras Conv2D）"),
        ),
    )
    figure.add_trace(
        go.Heatmap(
            z=padded,
            x=pad_cols,
            y=pad_rows,
            colorscale=INK,
            zmin=0.0,
            zmax=1.0,
            showscale=False,
            text=np.where(padded == 0, "0", np.char.mod("%.2f", padded)),
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertemplate=tr(
                language, "row %{y}, column %{x}: x = %{z:.3f}", "第 %{y} 行，第 %{x} 列：x = %{z:.3f}"
            )
            + "<extra></extra>",
            name=tr(language, "input", "输入"),
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            z=conv.kernel,
            colorscale=DIVERGING,
            zmid=0.0,
            showscale=False,
            texttemplate="%{z:.3g}",
            textfont={"size": 14},
            hovertemplate="w[%{y}, %{x}] = %{z:.4g}<extra></extra>",
            name=tr(language, "kernel", "卷积核"),
        ),
        row=1,
        col=2,
    )
    figure.add_trace(
        go.Heatmap(
            z=conv.products[0, 0],
            colorscale=DIVERGING,
            zmin=-product_limit,
            zmax=product_limit,
            showscale=False,
            texttemplate="%{z:.3g}",
            textfont={"size": 14},
            hovertemplate="w[%{y}, %{x}]·x = %{z:.4g}<extra></extra>",
            name=tr(language, "products", "乘积"),
        ),
        row=1,
        col=3,
    )
    figure.add_trace(
        go.Heatmap(
            z=_growing(conv.feature_map, 1),
            colorscale=DIVERGING,
            zmin=-limit,
            zmax=limit,
            colorbar={"title": {"text": "y", "side": "right"}, "len": 0.8},
            texttemplate="%{z:.2f}",
            textfont={"size": 10},
            hovertemplate=tr(language, "y[%{y}, %{x}] = %{z:.4f}", "y[%{y}, %{x}] = %{z:.4f}")
            + "<extra></extra>",
            name=tr(language, "feature map", "特征图"),
        ),
        row=1,
        col=4,
    )
    bias = f"{'−' if conv.bias < 0 else '+'} {abs(conv.bias):.3g}"
    frames, labels, titles = [], [], []
    for step in range(out_h * out_w):
        i, j = divmod(step, out_w)
        taps = _window(windows.rows[i], windows.cols[j], conv.dilation)
        shapes = [image_border(*result.image.shape, "x", "y"), *taps, _cell(i, j, "x4", "y4", CELL_COLOUR)]
        title = tr(
            language,
            f"Convolution step {step + 1} of {out_h * out_w}: y[{i}, {j}] = Σ w·x + b = "
            f"{conv.sums[i, j] - conv.bias:.4g} {bias} = {conv.feature_map[i, j]:.4g}",
            f"卷积第 {step + 1} 步（共 {out_h * out_w} 步）：y[{i}, {j}] = Σ w·x + b = "
            f"{conv.sums[i, j] - conv.bias:.4g} {bias} = {conv.feature_map[i, j]:.4g}",
        )
        titles.append(title)
        frames.append(
            _frame(step, [conv.products[i, j], _growing(conv.feature_map, step + 1)], [2, 3], shapes, title)
        )
        labels.append(f"({i},{j})")
    figure.frames = frames
    figure.update_layout(
        title=titles[0],
        shapes=frames[0]["layout"]["shapes"],
        height=560,
        margin={"t": 100, "b": 150},
        plot_bgcolor="white",
    )
    _square_axes(figure, 4)
    figure.update_xaxes(title_text=tr(language, "column", "列"), row=1, col=1)
    figure.update_yaxes(title_text=tr(language, "row", "行"), row=1, col=1)
    figure.update_xaxes(title_text="v", row=1, col=2)
    figure.update_yaxes(title_text="u", row=1, col=2)
    figure.update_xaxes(title_text=tr(language, "output column j", "输出列 j"), row=1, col=4)
    figure.update_yaxes(title_text=tr(language, "output row i", "输出行 i"), row=1, col=4)
    _animation(figure, labels, language, tr(language, "output cell ", "输出单元 "))
    return figure


def pooling_figure(result: ConvolutionResult, language: str) -> go.Figure:
    pooling = result.pooling
    feature = result.convolution.feature_map
    padded = np.pad(
        feature,
        (
            (pooling.windows.pad_top, pooling.windows.pad_total[0] - pooling.windows.pad_top),
            (pooling.windows.pad_left, pooling.windows.pad_total[1] - pooling.windows.pad_left),
        ),
        constant_values=np.nan,
    )
    _, pad_rows, pad_cols = _padded(feature, pooling.windows)
    limit = float(np.max(np.abs(feature))) or 1.0
    out_h, out_w = pooling.max_pooled.shape
    size = pooling.pool_size
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.07,
        column_widths=[0.4, 0.3, 0.3],
        subplot_titles=(
            tr(language, "feature map (the convolution's output)", "特征图（卷积的输出）"),
            tr(language, "max pooling (Keras MaxPooling2D)", "最大池化（Keras MaxPooling2D）"),
            tr(language, "average pooling (Keras AveragePooling2D)", "平均池化（Keras AveragePooling2D）"),
        ),
    )
    common = {
        "colorscale": DIVERGING,
        "zmin": -limit,
        "zmax": limit,
        "texttemplate": "%{z:.2f}",
        "textfont": {"size": 11},
    }
    figure.add_trace(
        go.Heatmap(
            z=padded,
            x=pad_cols,
            y=pad_rows,
            colorbar={"title": {"text": "y", "side": "right"}, "len": 0.8},
            hovertemplate="y[%{y}, %{x}] = %{z:.4f}<extra></extra>",
            name=tr(language, "feature map", "特征图"),
            **common,
        ),
        row=1,
        col=1,
    )
    for col, values, label in (
        (2, pooling.max_pooled, tr(language, "max", "最大值")),
        (3, pooling.average_pooled, tr(language, "mean", "平均值")),
    ):
        figure.add_trace(
            go.Heatmap(
                z=_growing(values, 1),
                showscale=False,
                hovertemplate=f"{label} [%{{y}}, %{{x}}] = %{{z:.4f}}<extra></extra>",
                name=label,
                **common,
            ),
            row=1,
            col=col,
        )
    frames, labels, titles = [], [], []
    for step in range(out_h * out_w):
        i, j = divmod(step, out_w)
        rows, cols = pooling.windows.rows[i], pooling.windows.cols[j]
        best = pooling.argmax[i, j]
        shapes = [
            image_border(*feature.shape, "x", "y"),
            *_window(rows, cols, 1),
            _cell(rows[best[0]], cols[best[1]], "x", "y", MAX_COLOUR, 5.0),
            _cell(i, j, "x2", "y2", CELL_COLOUR),
            _cell(i, j, "x3", "y3", CELL_COLOUR),
        ]
        inside = int(np.sum(~np.isnan(pooling.window_values[i, j])))
        title = tr(
            language,
            f"Pooling step {step + 1} of {out_h * out_w}: window {size}×{size} at ({i}, {j}) → "
            f"max = {pooling.max_pooled[i, j]:.4g} (red), mean of {inside} = {pooling.average_pooled[i, j]:.4g}",
            f"池化第 {step + 1} 步（共 {out_h * out_w} 步）：{size}×{size} 窗口 ({i}, {j}) → "
            f"最大值 = {pooling.max_pooled[i, j]:.4g}（红框），{inside} 个值的平均 = {pooling.average_pooled[i, j]:.4g}",
        )
        titles.append(title)
        frames.append(
            _frame(
                step,
                [_growing(pooling.max_pooled, step + 1), _growing(pooling.average_pooled, step + 1)],
                [1, 2],
                shapes,
                title,
            )
        )
        labels.append(f"({i},{j})")
    figure.frames = frames
    figure.update_layout(
        title=titles[0],
        shapes=frames[0]["layout"]["shapes"],
        height=520,
        margin={"t": 100, "b": 150},
        plot_bgcolor="white",
    )
    _square_axes(figure, 3)
    figure.update_xaxes(title_text=tr(language, "column", "列"), row=1, col=1)
    figure.update_yaxes(title_text=tr(language, "row", "行"), row=1, col=1)
    for col in (2, 3):
        figure.update_xaxes(title_text=tr(language, "output column", "输出列"), row=1, col=col)
    _animation(figure, labels, language, tr(language, "pooling window ", "池化窗口 "))
    return figure


def flatten_figure(result: ConvolutionResult, language: str) -> go.Figure:
    pooled = result.pooling.max_pooled
    rows, cols = pooled.shape
    model = result.network.flatten
    panels = 3 if model is not None else 2
    limit = float(np.max(np.abs(pooled))) or 1.0
    titles = [
        tr(
            language,
            f"max-pooled map {rows}×{cols} (cell text: its place k in the vector)",
            f"最大池化后的特征图 {rows}×{cols}（格中文字：它在向量中的位置 k）",
        ),
        tr(
            language,
            f"keras.layers.Flatten → vector of {rows * cols}",
            f"keras.layers.Flatten → 长度为 {rows * cols} 的向量",
        ),
    ]
    if model is not None:
        h, w, c = model.input_shape
        feeds = (
            tr(
                language,
                f" → Dense '{model.dense_layer}' ({model.vector.size} × {model.dense_units} weights)",
                f" → 全连接层 '{model.dense_layer}'（{model.vector.size} × {model.dense_units} 个权重）",
            )
            if model.dense_layer
            else ""
        )
        cut = (
            tr(language, f", first {MAX_VECTOR} shown", f"，只显示前 {MAX_VECTOR} 个")
            if model.vector.size > MAX_VECTOR
            else ""
        )
        titles.append(
            tr(
                language,
                f"the CNN's own {model.layer}: {h}×{w}×{c} = {model.vector.size} values{feeds}{cut}",
                f"CNN 自己的 {model.layer}：{h}×{w}×{c} = {model.vector.size} 个值{feeds}{cut}",
            )
        )
    figure = make_subplots(
        rows=panels,
        cols=1,
        subplot_titles=titles,
        vertical_spacing=0.16,
        row_heights=[0.5] + [0.25] * (panels - 1),
    )
    index = np.arange(rows * cols).reshape(rows, cols)
    figure.add_trace(
        go.Heatmap(
            z=pooled,
            colorscale=DIVERGING,
            zmin=-limit,
            zmax=limit,
            text=[
                [f"k={k}<br>{value:.2f}" for k, value in zip(index_row, row, strict=True)]
                for index_row, row in zip(index, pooled, strict=True)
            ],
            texttemplate="%{text}",
            textfont={"size": 12},
            colorbar={
                "title": {"text": tr(language, "value", "数值"), "side": "right"},
                "len": 0.45,
                "y": 0.8,
            },
            hovertemplate=tr(language, "row %{y}, column %{x}: %{z:.4f}", "第 %{y} 行，第 %{x} 列：%{z:.4f}")
            + "<extra></extra>",
            name=tr(language, "pooled map", "池化后的特征图"),
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            z=result.flattened[None, :],
            x=np.arange(result.flattened.size),
            colorscale=DIVERGING,
            zmin=-limit,
            zmax=limit,
            showscale=False,
            customdata=np.stack(np.divmod(np.arange(rows * cols), cols), axis=-1)[None],
            texttemplate="%{z:.2f}",
            textfont={"size": 11},
            hovertemplate=tr(
                language,
                "k = %{x}: %{z:.4f} (from row %{customdata[0]}, column %{customdata[1]})",
                "k = %{x}：%{z:.4f}（来自第 %{customdata[0]} 行，第 %{customdata[1]} 列）",
            )
            + "<extra></extra>",
            name=tr(language, "vector", "向量"),
        ),
        row=2,
        col=1,
    )
    figure.update_yaxes(autorange="reversed", dtick=1, title_text=tr(language, "row", "行"), row=1, col=1)
    figure.update_xaxes(dtick=1, title_text=tr(language, "column", "列"), row=1, col=1)
    figure.update_yaxes(showticklabels=False, row=2, col=1)
    figure.update_xaxes(title_text=tr(language, "position k in the vector", "向量中的位置 k"), row=2, col=1)
    if model is not None:
        shown = model.vector[:MAX_VECTOR]
        h, w, c = model.input_shape
        place = np.stack(np.unravel_index(np.arange(shown.size), (h, w, c)), axis=-1)
        model_limit = float(np.max(np.abs(shown))) or 1.0
        figure.add_trace(
            go.Heatmap(
                z=shown[None, :],
                colorscale=DIVERGING,
                zmin=-model_limit,
                zmax=model_limit,
                showscale=False,
                customdata=place[None],
                hovertemplate=tr(
                    language,
                    "k = %{x}: %{z:.4f} (row %{customdata[0]}, column %{customdata[1]}, channel %{customdata[2]})",
                    "k = %{x}：%{z:.4f}（第 %{customdata[0]} 行，第 %{customdata[1]} 列，第 %{customdata[2]} 个通道）",
                )
                + "<extra></extra>",
                name=model.layer,
            ),
            row=3,
            col=1,
        )
        figure.update_yaxes(showticklabels=False, row=3, col=1)
        figure.update_xaxes(
            title_text=tr(language, "position k (channels change fastest)", "位置 k（通道变化最快）"),
            row=3,
            col=1,
        )
    figure.update_layout(
        title=tr(
            language,
            "Flatten: the pooled feature map becomes the vector a Dense layer reads",
            "展平 (Flatten)：池化后的特征图变成全连接层读取的向量",
        ),
        height=300 + 170 * panels,
    )
    return figure
