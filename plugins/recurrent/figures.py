"""The recurrent lesson's figures: hidden states over time (with a step slider), the LSTM's and the GRU's
gates, the gradients of backpropagation through time, and accuracy against the dependency length."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.recurrent.result import CELL_NAMES, GATE_NAMES, RecurrentResult

COLOURS = {"simple_rnn": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c"}
STATE_SCALE = "RdBu_r"
GATE_SCALE = "Viridis"
# Colour bars of a gate figure: gates (0 to 1) on the upper half, states (signed) on the lower.
GATE_BAR = {"len": 0.45, "y": 1.0, "yanchor": "top"}
STATE_BAR = {"len": 0.45, "y": 0.0, "yanchor": "bottom"}
# At most this many numbers in the step slider's frames (about 6 bytes each in the figure's JSON).
FRAME_VALUES = 150_000


def cell_label(cell: str, language: str) -> str:
    english, chinese = CELL_NAMES[cell]
    return tr(language, english, chinese)


def gate_label(gate: str, language: str) -> str:
    english, chinese = GATE_NAMES[gate]
    return tr(language, english, chinese)


def steps_of(result: RecurrentResult) -> np.ndarray:
    return np.arange(1, len(result.sequence) + 1)


def sign_text(label: int) -> str:
    return "+" if label == 1 else "−"


def input_trace(result: RecurrentResult, language: str) -> go.Bar:
    """The sequence as bars: the first step (the label's sign) dark, the noise steps grey."""
    colours = ["#000000"] + ["#b0b0b0"] * (len(result.sequence) - 1)
    return go.Bar(
        x=steps_of(result),
        y=np.round(result.sequence, 4),
        marker_color=colours,
        showlegend=False,
        name=tr(language, "input x_t", "输入 x_t"),
        hovertemplate=tr(language, "step t = %{x}: x_t = %{y:.3f}", "时间步 t = %{x}：x_t = %{y:.3f}")
        + "<extra></extra>",
    )


def state_heatmap(values: np.ndarray, coloraxis: str, name: str, language: str) -> go.Heatmap:
    """`values` (steps, units) as units (rows) over time steps (columns)."""
    steps, units = values.shape
    return go.Heatmap(
        x=np.arange(1, steps + 1),
        y=np.arange(1, units + 1),
        z=np.round(values.T, 4),
        coloraxis=coloraxis,
        name=name,
        hovertemplate=tr(
            language,
            f"{name}<br>step t = %{{x}}, unit %{{y}}: %{{z:.3f}}",
            f"{name}<br>时间步 t = %{{x}}，单元 %{{y}}：%{{z:.3f}}",
        )
        + "<extra></extra>",
    )


def prediction_text(result: RecurrentResult, cell: str, language: str) -> str:
    """The trained cell's P(+) for the sequence, and whether thresholding it at 0.5 gives the label."""
    probability = result.traces[cell].probability
    right = (probability > 0.5) == (result.label == 1)
    return f"P(+) = {probability:.2f} " + (
        tr(language, "✓ right", "✓ 正确") if right else tr(language, "✗ wrong", "✗ 错误")
    )


def hidden_states_figure(result: RecurrentResult, language: str) -> go.Figure:
    """The input sequence, then each cell's hidden state h_t per unit and step; a slider plays the unroll
    one step at a time (the states after step t shown, the later ones blank)."""
    cells = result.cells
    titles = [
        tr(
            language,
            "input x_t (black: the first step, whose sign is the label)",
            "输入 x_t（黑色：第一步，其符号即标签）",
        )
    ]
    titles += [
        tr(
            language,
            f"{cell_label(cell, language)}: hidden state h_t ({prediction_text(result, cell, language)})",
            f"{cell_label(cell, language)}：隐藏状态 h_t（{prediction_text(result, cell, language)}）",
        )
        for cell in cells
    ]
    figure = make_subplots(
        rows=1 + len(cells),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.16] + [0.84 / len(cells)] * len(cells),
        subplot_titles=titles,
    )
    figure.add_trace(input_trace(result, language), row=1, col=1)
    for row, cell in enumerate(cells, start=2):
        figure.add_trace(
            state_heatmap(result.traces[cell].hidden, "coloraxis", "h_t", language), row=row, col=1
        )
        figure.update_yaxes(title_text=tr(language, "unit", "单元"), row=row, col=1)
    figure.update_yaxes(title_text="x_t", row=1, col=1)
    figure.update_xaxes(title_text=tr(language, "time step t", "时间步 t"), row=1 + len(cells), col=1)
    add_step_slider(figure, result, language)
    figure.update_layout(
        title=tr(
            language,
            f"Test sequence {result.sample} (label {sign_text(result.label)}, L = {result.unrolled_length}) "
            "unrolled through the trained layers",
            f"测试序列 {result.sample}（标签 {sign_text(result.label)}，L = {result.unrolled_length}）在训练好的层中随时间展开",
        ),
        coloraxis={
            "colorscale": STATE_SCALE,
            "cmin": -1.0,
            "cmax": 1.0,
            "colorbar": {"title": {"text": "h_t", "side": "right"}},
        },
        height=240 + 190 * len(cells),
        margin={"b": 110},
    )
    return figure


def frame_steps(steps: int, units: int, cells: int) -> list[int]:
    """The steps the slider stops at: every step, or every k-th (and the last) when the frames would hold
    more than FRAME_VALUES numbers, so that a long sequence keeps the figure small."""
    stride = max(1, math.ceil(steps * steps * units * cells / FRAME_VALUES))
    return sorted({*range(stride, steps + 1, stride), steps})


def add_step_slider(figure: go.Figure, result: RecurrentResult, language: str) -> None:
    """Frames over the steps: frame t shows the hidden states up to step t; the last frame is the figure."""
    steps, units = result.traces[result.cells[0]].hidden.shape
    heatmap_indices = list(range(1, 1 + len(result.cells)))
    frames = []
    for step in frame_steps(steps, units, len(result.cells)):
        data = []
        for cell in result.cells:
            shown = np.round(result.traces[cell].hidden.T, 3).astype(object)
            shown[:, step:] = None
            data.append(go.Heatmap(z=shown))
        frames.append(go.Frame(name=str(step), data=data, traces=heatmap_indices))
    figure.frames = frames
    prefix = tr(language, "after step t = ", "第 t 步之后：t = ")
    figure.update_layout(
        sliders=[
            {
                "active": len(frames) - 1,
                "currentvalue": {"prefix": prefix},
                "pad": {"t": 50},
                "steps": [
                    {
                        "label": frame.name,
                        "method": "animate",
                        "args": [
                            [frame.name],
                            {"mode": "immediate", "frame": {"duration": 0, "redraw": True}},
                        ],
                    }
                    for frame in frames
                ],
            }
        ],
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0.0,
                "y": 0.0,
                "xanchor": "right",
                "yanchor": "top",
                "pad": {"t": 50, "r": 10},
                "buttons": [
                    {
                        "label": tr(language, "▶ play", "▶ 播放"),
                        "method": "animate",
                        "args": [None, {"frame": {"duration": 300, "redraw": True}, "fromcurrent": False}],
                    }
                ],
            }
        ],
    )


def gate_figure(
    result: RecurrentResult, cell: str, rows: tuple[tuple[str, np.ndarray, str], ...], language: str
):
    """One heatmap per (label, values (steps, units), "gate" or "state") row, gates on 0..1."""
    figure = make_subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=[label for label, _, _ in rows],
    )
    extent = max((float(np.abs(values).max()) for _, values, kind in rows if kind == "state"), default=1.0)
    for row, (label, values, kind) in enumerate(rows, start=1):
        axis = "coloraxis" if kind == "gate" else "coloraxis2"
        figure.add_trace(state_heatmap(values, axis, label, language), row=row, col=1)
        figure.update_yaxes(title_text=tr(language, "unit", "单元"), row=row, col=1)
    figure.update_xaxes(title_text=tr(language, "time step t", "时间步 t"), row=len(rows), col=1)
    figure.update_layout(
        coloraxis={
            "colorscale": GATE_SCALE,
            "cmin": 0.0,
            "cmax": 1.0,
            "colorbar": {**GATE_BAR, "title": {"text": tr(language, "gate", "门值"), "side": "right"}},
        },
        coloraxis2={
            "colorscale": STATE_SCALE,
            "cmin": -max(extent, 1e-6),
            "cmax": max(extent, 1e-6),
            "colorbar": {**STATE_BAR, "title": {"text": tr(language, "state", "状态"), "side": "right"}},
        },
        height=140 + 200 * len(rows),
    )
    return figure


def lstm_figure(result: RecurrentResult, language: str) -> go.Figure:
    trace = result.traces["lstm"]
    rows = tuple(
        (gate_label(gate, language), trace.gates[gate], "gate") for gate in ("forget", "input", "output")
    )
    rows += ((gate_label("cell", language), trace.cell_state, "state"),)
    figure = gate_figure(result, "lstm", rows, language)
    figure.update_layout(
        title=tr(
            language,
            f"LSTM gates and cell state over test sequence {result.sample} (label {sign_text(result.label)}; "
            "keras.ops on the layer's weights)",
            f"LSTM 在测试序列 {result.sample}（标签 {sign_text(result.label)}）上的门值和细胞状态（keras.ops 根据层的权重计算）",
        )
    )
    return figure


def gru_figure(result: RecurrentResult, language: str) -> go.Figure:
    trace = result.traces["gru"]
    rows = tuple((gate_label(gate, language), trace.gates[gate], "gate") for gate in ("update", "reset"))
    rows += ((tr(language, "candidate state h̃", "候选状态 h̃"), trace.gates["candidate"], "state"),)
    figure = gate_figure(result, "gru", rows, language)
    figure.update_layout(
        title=tr(
            language,
            f"GRU gates over test sequence {result.sample} (label {sign_text(result.label)}): "
            "h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃_t",
            f"GRU 在测试序列 {result.sample}（标签 {sign_text(result.label)}）上的门值：h_t = z ⊙ h_{{t−1}} + (1 − z) ⊙ h̃_t",
        )
    )
    return figure


def gradients_figure(result: RecurrentResult, language: str) -> go.Figure:
    """Mean ‖∂L/∂h_t‖ per step, before and after training, per cell, on log scales."""
    stages = (
        ("initial", tr(language, "before training", "训练前")),
        ("trained", tr(language, "after training", "训练后")),
    )
    figure = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=[title for _, title in stages]
    )
    steps = steps_of(result)
    for col, (stage, stage_title) in enumerate(stages, start=1):
        for cell in result.cells:
            norms = result.gradient_norms[stage][cell]
            label = cell_label(cell, language)
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=norms,
                    customdata=norms / norms[-1],
                    mode="lines+markers",
                    marker={"size": 5},
                    line={"color": COLOURS[cell]},
                    name=label,
                    legendgroup=cell,
                    showlegend=col == 1,
                    hovertemplate=tr(
                        language,
                        f"{stage_title}, step t = %{{x}}: ‖∂L/∂h_t‖ = %{{y:.2e}} (%{{customdata:.1e}} of the last step's)",
                        f"{stage_title}，时间步 t = %{{x}}：‖∂L/∂h_t‖ = %{{y:.2e}}（最后一步的 %{{customdata:.1e}}）",
                    )
                    + f"<extra>{label}</extra>",
                ),
                row=1,
                col=col,
            )
        figure.update_yaxes(type="log", exponentformat="power", row=1, col=col)
        figure.update_xaxes(title_text=tr(language, "time step t", "时间步 t"), row=1, col=col)
    figure.update_yaxes(
        title_text=tr(language, "‖∂L/∂h_t‖ (mean over test sequences)", "‖∂L/∂h_t‖（测试序列平均）"),
        row=1,
        col=1,
    )
    figure.update_layout(
        title=tr(
            language,
            f"Backpropagation through time at L = {result.unrolled_length}: the gradient of the loss reaching "
            "each earlier hidden state (log scale)",
            f"随时间反向传播 (BPTT)，L = {result.unrolled_length}：损失传到每个较早隐藏状态的梯度（对数坐标）",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
    )
    return figure


def accuracy_figure(result: RecurrentResult, language: str) -> go.Figure:
    figure = go.Figure()
    for cell in result.cells:
        label = cell_label(cell, language)
        figure.add_trace(
            go.Scatter(
                x=list(result.lengths),
                y=result.accuracy[cell],
                mode="lines+markers",
                marker={"size": 9},
                line={"color": COLOURS[cell], "width": 3},
                name=label,
                hovertemplate=tr(language, "L = %{x}: accuracy %{y:.3f}", "L = %{x}：准确率 %{y:.3f}")
                + f"<extra>{label}</extra>",
            )
        )
    figure.add_hline(
        y=0.5,
        line={"dash": "dash", "color": "black"},
        annotation_text=tr(language, "chance: the first step forgotten", "随机猜测：第一步被遗忘"),
        annotation_position="bottom right",
    )
    figure.update_layout(
        title=tr(
            language,
            f"Test accuracy against the dependency length L (same seed, {result.epochs} epochs, "
            f"{result.units} units)",
            f"测试准确率随依赖长度 L 的变化（同一随机种子，{result.epochs} 轮，{result.units} 个单元）",
        ),
        xaxis={
            "title": tr(
                language,
                "dependency length L (noise steps after the first)",
                "依赖长度 L（第一步之后的噪声步数）",
            )
        },
        yaxis={"title": tr(language, "test accuracy", "测试准确率"), "range": [0.0, 1.05]},
        legend_title=tr(language, "cell", "单元类型"),
    )
    return figure
