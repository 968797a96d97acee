"""The backprop lesson's network diagram, in English or Chinese: the forward view animated over the whole
training run (weights on the edges, the chosen sample's values in the units; play, pause, reset and a
step slider) and the backward view of the shown step (∂L/∂w on the edges, Σδ in the units, the sums in
the hover texts). Each builder takes the plugin's `BackpropResult`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import unlabel_rgb

from dlviz.plugin import tr
from plugins.backprop.figures import COLOURSCALE, format_number, sample_label
from plugins.backprop.model import output_names
from plugins.backprop.result import BackpropResult

MAX_FRAMES = 40
LABEL_LIFT = 0.07  # edge labels sit just above their edge, off the thick lines
# The same scale as arrays, for interpolating many colours fast (plotly's sample_colorscale is slow).
_SCALE_STOPS = np.array([stop for stop, _ in COLOURSCALE])
_SCALE_RGB = np.array([unlabel_rgb(colour) for _, colour in COLOURSCALE]).T


def _colour(value: float, scale: float, reach: float = 0.5) -> str:
    """Diverging colour of `value` on ±`scale`; `reach` < 0.5 keeps to the lighter middle (readable text)."""
    position = 0.5 + reach * float(np.clip(value / scale, -1.0, 1.0)) if scale > 0 else 0.5
    red, green, blue = (np.interp(position, _SCALE_STOPS, channel) for channel in _SCALE_RGB)
    return f"rgb({red:.0f},{green:.0f},{blue:.0f})"


def _layout_positions(result: BackpropResult) -> dict[str, tuple[float, float]]:
    def column(names, x):
        spread = np.linspace(1, -1, len(names)) * (len(names) - 1) / 3 if len(names) > 1 else [0.0]
        return {name: (x, float(y)) for name, y in zip(names, spread, strict=True)}

    positions = column(["x1", "x2"], 0.0)
    positions |= column([f"h{j + 1}" for j in range(result.hidden_units)], 1.0)
    positions |= column(output_names(result.outputs), 2.0)
    return positions


def _edges(result: BackpropResult) -> list[tuple[str, str, int]]:
    """(from node, to node, parameter index) of every weight."""
    edges = []
    for index, name in enumerate(result.parameter_names):
        if name.startswith("w "):
            source, target = name[2:].split("→")
            edges.append((source, target, index))
    return edges


def _label_fraction(source: str, result) -> float:
    """Where along its edge a weight's label sits: staggered by source unit so crossing edges' labels part."""
    sources = 2 if source.startswith("x") else result.hidden_units
    return 0.2 + 0.3 * (int(source[1:]) - 1) / (sources - 1)


def _diagram_traces(
    result,
    edge_values: np.ndarray,
    edge_hover: list[str],
    nodes: dict[str, tuple[str, str, float | None]],
    colourbar_title: str,
) -> list[dict]:
    """Plain trace dicts of a network diagram (fast to build for many animation frames).

    Edges are coloured (red negative, blue positive) and sized by `edge_values` (one per weight, by
    parameter index) and labelled with it; `nodes` maps each node to (text, hover, value for its colour
    or None for grey). Each edge is its own trace: Plotly gives one width per trace.
    """
    positions = _layout_positions(result)
    scale = float(np.abs(edge_values[[index for _, _, index in _edges(result)]]).max()) or 1.0
    traces = []
    labels = {"x": [], "y": [], "text": [], "hovertext": []}
    for (source, target, index), hover in zip(_edges(result), edge_hover, strict=True):
        (x0, y0), (x1, y1) = positions[source], positions[target]
        value = float(edge_values[index])
        traces.append(
            {
                "type": "scatter",
                "x": [x0, x1],
                "y": [y0, y1],
                "mode": "lines",
                "line": {"color": _colour(value, scale), "width": 1 + 9 * min(abs(value) / scale, 1.0)},
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
        fraction = _label_fraction(source, result)
        labels["x"].append(x0 + (x1 - x0) * fraction)
        labels["y"].append(y0 + (y1 - y0) * fraction + LABEL_LIFT)
        labels["text"].append(format_number(value, 3))
        labels["hovertext"].append(hover)
    traces.append(
        {
            "type": "scatter",
            "mode": "text",
            **labels,
            "textfont": {"size": 11, "color": "#222"},
            "hoverinfo": "text",
            "showlegend": False,
        }
    )
    node_scale = max((abs(value) for _, _, value in nodes.values() if value is not None), default=0.0) or 1.0
    traces.append(
        {
            "type": "scatter",
            "x": [positions[node][0] for node in nodes],
            "y": [positions[node][1] for node in nodes],
            "mode": "markers+text",
            "text": [text for text, _, _ in nodes.values()],
            "hovertext": [hover for _, hover, _ in nodes.values()],
            "hoverinfo": "text",
            "textfont": {"size": 12, "color": "#111"},
            "marker": {
                "size": 64,
                "color": [
                    "#dddddd" if value is None else _colour(value, node_scale, 0.3)
                    for _, _, value in nodes.values()
                ],
                "line": {"color": "#333", "width": 1.5},
            },
            "showlegend": False,
        }
    )
    traces.append(
        {
            "type": "scatter",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "marker": {
                "colorscale": COLOURSCALE,
                "cmin": -scale,
                "cmax": scale,
                "color": [0.0],
                "showscale": True,
                "colorbar": {"title": {"text": colourbar_title}, "thickness": 14},
            },
            "hoverinfo": "skip",
            "showlegend": False,
        }
    )
    return traces


def _forward_traces(result: BackpropResult, state: int, language: str) -> list[dict]:
    """The diagram at a training state: weights on the edges, the diagram sample's values in the units."""
    weights, gradients = result.weights[state], result.gradients[state]
    w1, b1, w2, b2 = result.unflatten(weights)
    x = result.inputs[result.sample]
    hidden = result.hidden[state, result.sample]
    predictions = result.predictions[state, result.sample]
    z_hidden, z_output = x @ w1 + b1, hidden @ w2 + b2
    nodes: dict[str, tuple[str, str, float | None]] = {
        f"x{i + 1}": (f"x{i + 1}<br>{format_number(x[i], 3)}", f"x{i + 1} = {format_number(x[i])}", None)
        for i in range(2)
    }
    units = [(f"h{j + 1}", "a", z_hidden[j], hidden[j]) for j in range(result.hidden_units)]
    units += [(name, "ŷ", z_output[k], predictions[k]) for k, name in enumerate(output_names(result.outputs))]
    for node, symbol, z, a in units:
        bias = result.parameter_names.index(f"b {node}")
        nodes[node] = (
            f"{node}<br>{symbol}={format_number(a, 3)}",
            f"{node}<br>z = {format_number(z, 6)}<br>{symbol} = {format_number(a, 6)}<br>b = {format_number(weights[bias], 6)}"
            f"<br>∂L/∂b = {format_number(gradients[bias], 6)}",
            float(weights[bias]),
        )
    hover = [
        f"{result.parameter_names[index]}<br>w = {format_number(weights[index], 6)}<br>∂L/∂w = {format_number(gradients[index], 6)}"
        for _, _, index in _edges(result)
    ]
    return _diagram_traces(result, weights, hover, nodes, tr(language, "weight", "权重"))


def _frame_states(result: BackpropResult) -> list[int]:
    states = set(np.linspace(0, result.max_steps, min(MAX_FRAMES, result.max_steps + 1)).round().astype(int))
    states.add(result.step)
    if result.solved_step is not None:
        states.add(result.solved_step)
    return sorted(int(state) for state in states)


def _network_title(result: BackpropResult, state: int, language: str) -> str:
    solved = result.solved_step is not None and state >= result.solved_step
    status = tr(language, " · XOR solved", " · XOR 已解决") if solved else ""
    return tr(
        language,
        f"Network at step {state} of {result.max_steps} · loss {result.losses[state]:.4f}{status}",
        f"第 {state} 步（共 {result.max_steps} 步）的网络 · 损失 {result.losses[state]:.4f}{status}",
    )


def _diagram_axes(result: BackpropResult, language: str, title: str) -> dict:
    hidden = tr(language, f"hidden ({result.hidden_activation})", f"隐藏层（{result.hidden_activation}）")
    return {
        "xaxis": {
            "range": [-0.4, 2.4],
            "tickvals": [0, 1, 2],
            "ticktext": [tr(language, "inputs", "输入层"), hidden, tr(language, "output", "输出层")],
            "title": {"text": title},
            "showgrid": False,
            "zeroline": False,
        },
        "yaxis": {"visible": False, "range": [-1.5, 1.5]},
        "plot_bgcolor": "white",
    }


def network_figure(result: BackpropResult, language: str) -> go.Figure:
    states = _frame_states(result)
    animation = {
        "frame": {"duration": 150, "redraw": True},
        "transition": {"duration": 0},
        "mode": "immediate",
    }
    jump = {**animation, "frame": {"duration": 0, "redraw": True}}
    frames = [
        {
            "name": str(state),
            "data": _forward_traces(result, state, language),
            "layout": {"title": {"text": _network_title(result, state, language)}},
        }
        for state in states
    ]
    figure = go.Figure(data=_forward_traces(result, result.step, language), frames=frames)
    sample = sample_label(result.sample, language)
    figure.update_layout(
        title=_network_title(result, result.step, language),
        **_diagram_axes(
            result,
            language,
            tr(
                language,
                f"values for the sample {sample}; edge colour and width: weight (scale of each step)",
                f"显示样本 {sample} 的数值；边的颜色和粗细：权重（每一步各自的比例）",
            ),
        ),
        height=580,
        margin={"t": 70, "b": 150},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.2,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {
                        "label": tr(language, "▶ Play", "▶ 播放"),
                        "method": "animate",
                        "args": [None, animation],
                    },
                    {
                        "label": tr(language, "❚❚ Pause", "❚❚ 暂停"),
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                    },
                    {"label": tr(language, "⟲ Reset", "⟲ 重置"), "method": "animate", "args": [["0"], jump]},
                ],
            }
        ],
        sliders=[
            {
                "active": states.index(result.step),
                "x": 0.3,
                "len": 0.7,
                "y": -0.12,
                "yanchor": "top",
                "currentvalue": {"prefix": tr(language, "step ", "步数 ")},
                "steps": [
                    {"label": str(state), "method": "animate", "args": [[str(state)], jump]}
                    for state in states
                ],
            }
        ],
    )
    return figure


def backward_figure(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    nodes: dict[str, tuple[str, str, float | None]] = {
        f"x{i + 1}": (f"x{i + 1}", f"x{i + 1}", None) for i in range(2)
    }
    for node, deltas in _deltas_by_node(result).items():
        per_sample = "<br>".join(
            f"{sample_label(n, language)}: {format_number(deltas[n], 6)}" for n in range(4)
        )
        nodes[node] = (
            f"{node}<br>Σδ={format_number(deltas.sum(), 3)}",
            f"{node}: δ = ∂L/∂z {tr(language, 'per sample', '（每个样本）')}<br>{per_sample}"
            f"<br>∂L/∂b = Σδ = {format_number(deltas.sum(), 6)}",
            float(deltas.sum()),
        )
    hover = [_gradient_hover(result, source, target, index) for source, target, index in _edges(result)]
    figure = go.Figure(data=_diagram_traces(result, chain.grad_chain, hover, nodes, "∂L/∂w"))
    figure.update_layout(
        title=tr(
            language,
            f"Backward pass at step {result.step}: ∂L/∂w on every edge, ∂L/∂b = Σₙ δ in every unit",
            f"第 {result.step} 步的反向传播：每条边上是 ∂L/∂w，每个单元里是 ∂L/∂b = Σₙ δ",
        ),
        **_diagram_axes(
            result,
            language,
            tr(
                language,
                "the gradient flows from the output (right) back to the inputs (left); hover for the sums",
                "梯度从输出层（右）流回输入层（左）；悬停查看求和过程",
            ),
        ),
        height=520,
    )
    return figure


def _deltas_by_node(result: BackpropResult) -> dict[str, np.ndarray]:
    chain = result.chain
    deltas = {f"h{j + 1}": chain.delta_hidden[:, j] for j in range(result.hidden_units)}
    deltas |= {name: chain.delta_output[:, k] for k, name in enumerate(output_names(result.outputs))}
    return deltas


def _gradient_hover(result: BackpropResult, source: str, target: str, index: int) -> str:
    deltas = _deltas_by_node(result)[target]
    if source.startswith("x"):
        signal = result.inputs[:, int(source[1:]) - 1]
    else:
        signal = result.chain.a_hidden[:, int(source[1:]) - 1]
    terms = " + ".join(
        f"{format_number(s, 3)}·{format_number(d, 3)}" for s, d in zip(signal, deltas, strict=True)
    )
    return (
        f"{result.parameter_names[index]}<br>∂L/∂w = Σₙ {source}ₙ · δ({target})ₙ<br>= {terms}"
        f"<br>= {format_number(result.chain.grad_chain[index], 6)}<br>tf.GradientTape: {format_number(result.chain.grad_tape[index], 6)}"
    )
