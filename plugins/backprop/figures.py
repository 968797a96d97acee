"""The backprop lesson's figures besides the network diagram, in English or Chinese: the forward pass,
the chain rule and the update of the shown step as tables, the training curves and the decision surface;
and the number format, sample labels and colour scale the diagram (plugins/backprop/diagram.py) shares.
Each builder takes the plugin's `BackpropResult`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.backprop.model import XOR_INPUTS, XOR_LABELS, output_names
from plugins.backprop.result import BackpropResult

# Display-only update rules (the numbers come from the Keras optimizer); g = ∂L/∂w.
UPDATE_RULES = {
    "sgd": "w ← w − η·g",
    "momentum": "v ← 0.9·v − η·g;  w ← w + v",
    "nesterov": "v ← 0.9·v − η·g;  w ← w + 0.9·v − η·g",
    "adagrad": "G ← G + g²;  w ← w − η·g / √(G + ε)",
    "rmsprop": "s ← 0.9·s + 0.1·g²;  w ← w − η·g / (√s + ε)",
    "adam": "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η·m̂ / (√v̂ + ε)",
    "adamw": "Adam's step, then w ← w − η·λ·w (weight decay λ = 0.004)",
    "nadam": "Adam with Nesterov momentum: m̂ looks one step ahead",
}
COLOURSCALE = get_colorscale("RdBu")  # red negative, blue positive


def format_number(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}"


def sample_label(index: int, language: str) -> str:
    x1, x2 = XOR_INPUTS[index].astype(int)
    return tr(
        language, f"x = ({x1}, {x2}), y = {XOR_LABELS[index]}", f"x = ({x1}, {x2})，y = {XOR_LABELS[index]}"
    )


def _table(
    header: list[str], columns: list[list[str]], title: str, widths: list[float] | None = None
) -> go.Figure:
    rows = len(columns[0])
    figure = go.Figure(
        go.Table(
            columnwidth=widths,
            header={"values": header, "align": "left", "fill_color": "#e8eef7", "font": {"size": 12}},
            cells={"values": columns, "align": "left", "font": {"size": 12}, "height": 24},
        )
    )
    figure.update_layout(title=title, margin={"l": 10, "r": 10, "t": 60, "b": 10}, height=140 + 27 * rows)
    return figure


def _sample_columns(rows: list[np.ndarray]) -> list[list[str]]:
    return [[format_number(row[n], 6) for row in rows] for n in range(4)]


def forward_table(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    f = result.hidden_activation
    quantities, formulas, rows = [], [], []
    for j in range(result.hidden_units):
        h = f"h{j + 1}"
        quantities += [f"z({h})", f"a({h})"]
        formulas += [f"w x1→{h}·x1 + w x2→{h}·x2 + b {h}", f"{f}(z({h}))  keras.activations.{f}"]
        rows += [chain.z_hidden[:, j], chain.a_hidden[:, j]]
    out_names = output_names(result.outputs)
    hidden_sum = " + ".join(f"w h{j + 1}→{{o}}·a(h{j + 1})" for j in range(result.hidden_units))
    for k, name in enumerate(out_names):
        quantities.append(f"z({name})")
        formulas.append(hidden_sum.format(o=name) + f" + b {name}")
        rows.append(chain.z_output[:, k])
    for k, name in enumerate(out_names):
        quantities.append(f"ŷ({name})")
        formulas.append(f"sigmoid(z({name}))" if result.outputs == 1 else f"softmax(z)[{k}]")
        rows.append(chain.y_hat[:, k])
    quantities += ["y", "ℓ"]
    loss_name = "binary_crossentropy" if result.outputs == 1 else "sparse_categorical_crossentropy"
    formulas += [tr(language, "target (XOR)", "目标值（XOR）"), f"keras.losses.{loss_name}(y, ŷ)"]
    rows += [result.labels.astype(float), chain.sample_losses]
    header = [tr(language, "quantity", "量"), tr(language, "how it is computed", "计算方式")]
    header += [sample_label(n, language) for n in range(4)]
    return _table(
        header,
        [quantities, formulas, *_sample_columns(rows)],
        tr(
            language,
            f"Forward pass at step {result.step}: L = mean ℓ = {chain.loss:.6g}",
            f"第 {result.step} 步的前向传播：L = ℓ 的平均值 = {chain.loss:.6g}",
        ),
        [1.0, 3.0, 1.2, 1.2, 1.2, 1.2],
    )


def chain_table(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    f = result.hidden_activation
    out_names = output_names(result.outputs)
    local, chained = tr(language, "local", "局部导数"), tr(language, "chain rule", "链式法则")
    quantities, kinds, formulas, rows = [], [], [], []
    for k, name in enumerate(out_names):
        quantities.append(f"∂L/∂ŷ({name})")
        kinds.append(local)
        formulas.append(
            tr(
                language,
                "tf.GradientTape on the keras loss (mean over 4)",
                "对 keras 损失求导（4 个样本取平均）",
            )
        )
        rows.append(chain.dloss_dyhat[:, k])
    for k, name in enumerate(out_names):
        for m, other in enumerate(out_names):
            quantities.append(f"∂ŷ({name})/∂z({other})")
            kinds.append(local)
            formulas.append(
                "sigmoid′(z) = ŷ(1 − ŷ)"
                if result.outputs == 1
                else tr(language, "softmax Jacobian", "softmax 雅可比矩阵")
            )
            rows.append(chain.dyhat_dz[:, k, m])
    for k, name in enumerate(out_names):
        quantities.append(f"δ({name}) = ∂L/∂z({name})")
        kinds.append(chained)
        products = " + ".join(f"∂L/∂ŷ({other})·∂ŷ({other})/∂z({name})" for other in out_names)
        formulas.append(products + " = (ŷ − y)/4")
        rows.append(chain.delta_output[:, k])
    for j in range(result.hidden_units):
        h = f"h{j + 1}"
        for name in out_names:
            quantities.append(f"∂z({name})/∂a({h})")
            kinds.append(local)
            formulas.append(f"= w {h}→{name}")
            rows.append(
                np.full(4, result.weights[result.step][result.parameter_names.index(f"w {h}→{name}")])
            )
        quantities.append(f"∂L/∂a({h})")
        kinds.append(chained)
        formulas.append(" + ".join(f"δ({name})·w {h}→{name}" for name in out_names))
        rows.append(chain.dloss_da_hidden[:, j])
        quantities.append(f"∂a({h})/∂z({h})")
        kinds.append(local)
        formulas.append(f"{f}′(z({h}))  tf.GradientTape")
        rows.append(chain.slope_hidden[:, j])
        quantities.append(f"δ({h}) = ∂L/∂z({h})")
        kinds.append(chained)
        formulas.append(f"∂L/∂a({h}) · {f}′(z({h}))")
        rows.append(chain.delta_hidden[:, j])
    header = [
        tr(language, "derivative", "导数"),
        tr(language, "kind", "类型"),
        tr(language, "how", "计算方式"),
    ]
    header += [sample_label(n, language) for n in range(4)]
    return _table(
        header,
        [quantities, kinds, formulas, *_sample_columns(rows)],
        tr(
            language,
            f"Chain rule backwards at step {result.step}: local derivatives and δ = ∂L/∂z per unit and sample",
            f"第 {result.step} 步按链式法则反向计算：局部导数和每个单元、每个样本的 δ = ∂L/∂z",
        ),
        [1.6, 0.8, 2.6, 1.1, 1.1, 1.1, 1.1],
    )


def update_table(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    before = result.weights[result.step]
    formulas = []
    for name in result.parameter_names:
        kind, edge = name.split(" ", 1)
        if kind == "b":
            formulas.append(f"Σₙ δ({edge})")
        else:
            source, target = edge.split("→")
            signal = source if source.startswith("x") else f"a({source})"
            formulas.append(f"Σₙ {signal} · δ({target})")
    columns = [
        list(result.parameter_names),
        [format_number(value, 6) for value in before],
        formulas,
        [format_number(value, 8) for value in chain.grad_chain],
        [format_number(value, 8) for value in chain.grad_tape],
        [f"{value:.1e}" for value in np.abs(chain.grad_chain - chain.grad_tape)],
        [format_number(-result.learning_rate * value, 6) for value in chain.grad_tape],
    ]
    header = [
        tr(language, "parameter", "参数"),
        tr(language, "value", "当前值"),
        "∂L/∂w",
        tr(language, "chain rule", "链式法则"),
        "tf.GradientTape",
        tr(language, "|difference|", "|差值|"),
        "−η·g",
    ]
    for kind, values in chain.slots:
        header.append(tr(language, f"{kind} after", f"{kind}（更新后）"))
        columns.append([format_number(value, 6) for value in values])
    header += [
        tr(language, f"Δw ({result.optimizer})", f"Δw（{result.optimizer}）"),
        tr(language, "new value", "新值"),
    ]
    columns += [
        [format_number(value, 6) for value in chain.update],
        [format_number(value, 6) for value in before + chain.update],
    ]
    return _table(
        header,
        columns,
        tr(
            language,
            f"Gradients and the {result.optimizer} update at step {result.step} (η = {result.learning_rate:g}): "
            f"{UPDATE_RULES[result.optimizer]}",
            f"第 {result.step} 步的梯度和 {result.optimizer} 更新（η = {result.learning_rate:g}）："
            f"{UPDATE_RULES[result.optimizer]}",
        ),
    )


def training_figure(result: BackpropResult, language: str) -> go.Figure:
    states = np.arange(result.max_steps + 1)
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            tr(language, "loss L", "损失 L"),
            tr(language, "P(class 1) per XOR input", "每个 XOR 输入的 P(类别 1)"),
        ),
    )
    figure.add_trace(
        go.Scatter(
            x=states, y=result.losses, mode="lines", name=tr(language, "loss", "损失"), line={"color": "#333"}
        ),
        row=1,
        col=1,
    )
    colours = ("#1f77b4", "#d62728", "#ff7f0e", "#2ca02c")
    for n in range(4):
        figure.add_trace(
            go.Scatter(
                x=states,
                y=result.predictions[:, n, -1],
                mode="lines",
                name=sample_label(n, language),
                line={"color": colours[n], "dash": "solid" if result.labels[n] else "dot"},
            ),
            row=1,
            col=2,
        )
    for column in (1, 2):
        figure.add_vline(x=result.step, line_color="grey", line_dash="dash", row=1, col=column)
        if result.solved_step is not None:
            figure.add_vline(x=result.solved_step, line_color="green", row=1, col=column)
        figure.update_xaxes(title_text=tr(language, "training step", "训练步数"), row=1, col=column)
    figure.add_hline(y=0.5, line_color="grey", line_dash="dot", row=1, col=2)
    figure.update_yaxes(
        title_text=tr(language, "loss (log scale)", "损失（对数坐标）"), type="log", row=1, col=1
    )
    figure.update_yaxes(title_text="ŷ", range=[0, 1], row=1, col=2)
    solved = (
        tr(
            language,
            f"solved at step {result.solved_step} (green)",
            f"在第 {result.solved_step} 步解决（绿线）",
        )
        if result.solved_step is not None
        else tr(language, "not solved yet", "尚未解决")
    )
    figure.update_layout(
        title=tr(
            language,
            f"Training on XOR with {result.optimizer}, η = {result.learning_rate:g}: {solved}; shown step dashed",
            f"用 {result.optimizer}（η = {result.learning_rate:g}）训练 XOR：{solved}；虚线为当前显示的步",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        height=460,
        margin={"b": 110},
    )
    return figure


def surface_figure(result: BackpropResult, language: str) -> go.Figure:
    figure = go.Figure(
        go.Heatmap(
            x=result.surface_axis,
            y=result.surface_axis,
            z=result.surface,
            zmin=0,
            zmax=1,
            colorscale=COLOURSCALE,
            colorbar={"title": {"text": tr(language, "P(class 1)", "P(类别 1)")}},
            hovertemplate="x1 = %{x:.2f}, x2 = %{y:.2f}: P = %{z:.3f}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Contour(
            x=result.surface_axis,
            y=result.surface_axis,
            z=result.surface,
            contours={"start": 0.5, "end": 0.5, "coloring": "none"},
            line={"color": "black", "width": 2},
            showscale=False,
            hoverinfo="skip",
            name=tr(language, "decision boundary P = 0.5", "决策边界 P = 0.5"),
        )
    )
    for label in (0, 1):
        chosen = result.labels == label
        figure.add_trace(
            go.Scatter(
                x=result.inputs[chosen, 0],
                y=result.inputs[chosen, 1],
                mode="markers",
                name=tr(language, f"XOR class {label}", f"XOR 类别 {label}"),
                marker={
                    "size": 16,
                    "symbol": "circle" if label else "x",
                    "color": "#08306b" if label else "#67000d",
                    "line": {"color": "white", "width": 2},
                },
            )
        )
    figure.update_layout(
        title=tr(
            language,
            f"What the network predicts at step {result.step} over the input plane",
            f"第 {result.step} 步时网络在输入平面上的预测",
        ),
        xaxis={"title": {"text": "x1"}, "constrain": "domain"},
        yaxis={"title": {"text": "x2"}, "scaleanchor": "x", "constrain": "domain"},
        height=480,
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
    )
    return figure
