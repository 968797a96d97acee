"""The `activation_functions` lesson: Keras' activation functions, their derivatives by automatic
differentiation, and why a deep stack of sigmoids loses its gradient (vanishing gradients)."""

from __future__ import annotations

import dataclasses
import functools

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.subplots import make_subplots

import dlviz
from dlviz import datasets, models
from dlviz.plugin import tr

# Keras names of the functions shown (keras.activations.get(name)), in teaching order.
FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu", "softplus")
# Display-only formulas beside the names (the plotted numbers come from keras.activations).
FORMULAS = {
    "sigmoid": "σ(x) = 1 / (1 + e<sup>−x</sup>)",
    "tanh": "tanh(x) = (e<sup>x</sup> − e<sup>−x</sup>) / (e<sup>x</sup> + e<sup>−x</sup>)",
    "relu": "max(0, x)",
    "leaky_relu": "max(αx, x), α = 0.2",
    "elu": "x if x > 0 else α(e<sup>x</sup> − 1)",
    "selu": "λ·(x if x > 0 else α(e<sup>x</sup> − 1))",
    "gelu": "x·Φ(x)",
    "silu": "x·σ(x) (swish)",
    "softplus": "ln(1 + e<sup>x</sup>)",
}
COLOURS = dict(
    zip(
        FUNCTIONS,
        ("#d62728", "#ff7f0e", "#1f77b4", "#17becf", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"),
        strict=True,
    )
)
# The maximum slope of each function is searched on this grid (every function here peaks inside it).
SLOPE_SEARCH = np.linspace(-10.0, 10.0, 20001)
NETWORK_WIDTH = 16
NETWORK_DATASET = "moons"
# A network whose first layer gets less than this fraction of its last hidden layer's gradient is flagged.
VANISHING_RATIO = 1e-2


@dataclasses.dataclass(frozen=True)
class Params:
    functions: tuple = dlviz.param(
        FUNCTIONS,
        label="Activation functions",
        label_zh="激活函数",
        choices=FUNCTIONS,
        multiple=True,
        help="Functions of keras.activations to draw (silu is also called swish).",
        help_zh="要绘制的 keras.activations 函数（silu 也叫 swish）。",
    )
    x_min: float = dlviz.param(
        -6.0,
        label="Input from",
        label_zh="输入下限",
        min=-50.0,
        max=50.0,
        step=0.5,
        help="Left end of the input range x.",
        help_zh="输入 x 范围的左端。",
    )
    x_max: float = dlviz.param(
        6.0,
        label="Input to",
        label_zh="输入上限",
        min=-50.0,
        max=50.0,
        step=0.5,
        help="Right end of the input range x.",
        help_zh="输入 x 范围的右端。",
    )
    points: int = dlviz.param(
        401,
        label="Points",
        label_zh="采样点数",
        min=11,
        max=5001,
        step=10,
        help="Points at which each function and its derivative are evaluated.",
        help_zh="计算函数及其导数的采样点数。",
    )
    depth: int = dlviz.param(
        10,
        label="Layers n",
        label_zh="层数 n",
        min=2,
        max=30,
        step=1,
        help="Depth of the stacked network: the derivative product runs to n, the measured MLP has n hidden layers.",
        help_zh="堆叠网络的深度：导数连乘画到第 n 层，实测的多层感知机 (MLP) 有 n 个隐藏层。",
    )
    network_activations: tuple = dlviz.param(
        ("sigmoid", "relu"),
        label="Measured networks",
        label_zh="实测网络的激活函数",
        choices=FUNCTIONS,
        multiple=True,
        help=f"One {NETWORK_WIDTH}-unit-wide MLP of n hidden layers per activation; its gradient norms are "
        "measured on one batch (Glorot initialisation, untrained).",
        help_zh=f"每种激活函数建一个 n 个隐藏层、每层 {NETWORK_WIDTH} 个单元的 MLP，在一批数据上测量各层梯度范数"
        "（Glorot 初始化，未训练）。",
    )
    batch_size: int = dlviz.param(
        64,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=400,
        step=1,
        help=f"Samples of the bundled {NETWORK_DATASET} set in the batch whose gradients are measured.",
        help_zh=f"测量梯度所用的一批样本数（取自内置的 {NETWORK_DATASET} 数据集）。",
    )


@dataclasses.dataclass(frozen=True)
class NetworkGradients:
    """Per-layer gradient norms (all variables of the layer) of one untrained MLP, input to output."""

    activation: str
    layers: tuple[str, ...]
    norms: np.ndarray  # [n_layers]

    @property
    def first_to_last_hidden(self) -> float:
        """Gradient norm of the first hidden layer over that of the last hidden layer."""
        return float(self.norms[0] / self.norms[-2]) if self.norms[-2] > 0 else float("nan")


@dataclasses.dataclass(frozen=True)
class ActivationResult:
    functions: tuple[str, ...]
    x: np.ndarray  # [n_points]
    values: np.ndarray  # [n_functions, n_points], keras.activations
    derivatives: np.ndarray  # [n_functions, n_points], by tf.GradientTape
    max_slopes: np.ndarray  # [n_functions] max |f'(x)| over SLOPE_SEARCH
    max_slope_at: np.ndarray  # [n_functions] where it is reached
    depths: np.ndarray  # [depth] 1..n
    bounds: np.ndarray  # [n_functions, depth] max|f'|^n
    networks: tuple[NetworkGradients, ...]
    batch_size: int


class ActivationFunctions(dlviz.Plugin):
    r"""Activation functions from `keras.activations` and their derivatives, computed by automatic
    differentiation (`tf.GradientTape`), over an input range you choose; then the vanishing-gradient argument.
    Backpropagation multiplies one slope per layer: the gradient reaching the first of $n$ layers carries
    $\prod_{l=1}^{n} f'(z^{(l)})$ (times the weights), and the sigmoid's slope
    $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$ is at most $\sigma'(0) = 0.25$, so through $n$ sigmoid layers
    that product is at most $0.25^n$. Beside that bound, the real per-layer gradient norms
    $\lVert \partial L / \partial \theta^{(l)} \rVert$ of an untrained $n$-layer MLP of each chosen
    activation, measured on one batch.

    简介：来自 `keras.activations` 的激活函数 (activation function) 及其导数，导数由自动微分
    (automatic differentiation, `tf.GradientTape`) 算出，输入范围可调；然后是梯度消失 (vanishing gradients)
    的道理。反向传播 (backpropagation) 每经过一层就乘上一个斜率：传到 $n$ 层中第一层的梯度带着
    $\prod_{l=1}^{n} f'(z^{(l)})$（再乘以权重）；sigmoid 的斜率 $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$
    最大只有 $\sigma'(0) = 0.25$，所以经过 $n$ 个 sigmoid 层，这个乘积最多是 $0.25^n$。旁边是每种所选激活函数的
    $n$ 层未训练 MLP 在一批数据上实测的各层梯度范数 $\lVert \partial L / \partial \theta^{(l)} \rVert$。

    What to look for: sigmoid's derivative peaks at 0.25 and tanh's at 1, both fall to zero in the flat
    tails (saturation); ReLU's derivative is a step, 0 for negative inputs and 1 for positive ones, so it
    neither shrinks the gradient nor saturates for positive inputs (but a unit stuck at negative inputs
    passes nothing: dying ReLU). In the depth chart the sigmoid bound $0.25^n$ falls by six orders of
    magnitude over ten layers, and the measured sigmoid network follows it: the layers near the input
    get a gradient a million times smaller than those near the output, so they barely learn. A ReLU
    network keeps its per-layer norms within one or two orders of magnitude.

    观察要点：sigmoid 的导数最大为 0.25，tanh 的导数最大为 1，两者在两侧平坦区（饱和 (saturation)）都趋于零；
    ReLU 的导数是阶跃函数：负输入为 0，正输入为 1，所以对正输入既不缩小梯度也不饱和（但一直得到负输入的单元
    什么也传不回去：死亡 ReLU (dying ReLU)）。在深度图中，sigmoid 的上界 $0.25^n$ 经过十层下降六个数量级，
    实测的 sigmoid 网络也跟着下降：靠近输入的层得到的梯度比靠近输出的层小上百万倍，几乎学不到东西，
    这就是梯度消失 (vanishing gradients)。ReLU 网络的各层梯度范数则保持在一两个数量级之内。

    >>> import dlviz
    >>> figures = dlviz.figures("activation_functions", functions=("sigmoid", "relu"), depth=4,
    ...                         network_activations=("sigmoid",), batch_size=16)
    >>> [figure.layout.title.text for figure in figures]  # doctest: +ELLIPSIS
    ['Activation functions f(x) from keras.activations', 'Derivatives f′(x) by automatic differentiation', ...]
    """

    name = "activation_functions"
    title = "Activation functions"
    title_zh = "激活函数"
    section = "Lessons"
    requires = frozenset()
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> ActivationResult:
        if not params.x_min < params.x_max:
            raise dlviz.ParamsError(
                f"The input range is empty: from {params.x_min} to {params.x_max}.",
                "make 'Input from' smaller than 'Input to'.",
            )
        functions = tuple(params.functions) or FUNCTIONS
        x = np.linspace(params.x_min, params.x_max, params.points)
        values, derivatives = zip(*(evaluate(name, x) for name in functions), strict=True)
        peaks = [slope_peak(name) for name in functions]
        max_slopes = np.array([peak for peak, _ in peaks])
        depths = np.arange(1, params.depth + 1)
        networks = []
        for index, activation in enumerate(params.network_activations):
            ctx.report(
                index / max(len(params.network_activations), 1),
                tr(ctx.language, f"gradients of a {activation} MLP", f"{activation} 激活的 MLP 的梯度"),
            )
            layers, norms = network_gradient_norms(activation, params.depth, params.batch_size, ctx.seed)
            networks.append(NetworkGradients(activation, layers, np.array(norms)))
        return ActivationResult(
            functions=functions,
            x=x,
            values=np.stack(values),
            derivatives=np.stack(derivatives),
            max_slopes=max_slopes,
            max_slope_at=np.array([at for _, at in peaks]),
            depths=depths,
            bounds=max_slopes[:, None] ** depths[None, :],
            networks=tuple(networks),
            batch_size=params.batch_size,
        )

    def diagnose(self, result: ActivationResult) -> list[dlviz.Finding]:
        findings = []
        for network in result.networks:
            ratio = network.first_to_last_hidden
            if ratio < VANISHING_RATIO:
                findings.append(
                    dlviz.Finding(
                        "info",
                        f"{network.activation} MLP of {len(network.layers) - 1} layers: the first layer's gradient "
                        f"is {ratio:.1e} of the last hidden layer's (vanishing gradients).",
                        "Use ReLU or one of its variants in deep networks, or batch normalisation / residual "
                        "connections, so the gradient keeps its size on the way back.",
                        layer=network.layers[0],
                        headline_zh=f"{len(network.layers) - 1} 层的 {network.activation} MLP：第一层的梯度只有"
                        f"最后一个隐藏层的 {ratio:.1e}（梯度消失 (vanishing gradients)）。",
                        advice_zh="在深层网络中使用 ReLU 或其变体，或者批归一化 (batch normalization) / 残差连接 "
                        "(residual connections)，让梯度在反向传播时保持大小。",
                    )
                )
        return findings

    def figures(self, result: ActivationResult, language: str = "en") -> list[go.Figure]:
        return [
            _functions_figure(result, language),
            _derivatives_figure(result, language),
            _depth_figure(result, language),
        ]


# ----------------------------------------------------------------------------- compute


def evaluate(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """keras.activations `name` at `x` and its derivative by tf.GradientTape (float64)."""
    function = keras.activations.get(name)
    inputs = tf.constant(np.asarray(x, np.float64))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = function(inputs)
    # Elementwise function: the gradient of the sum is each point's own derivative.
    derivative = tape.gradient(outputs, inputs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return outputs.numpy(), derivative.numpy()


@functools.cache
def slope_peak(name: str) -> tuple[float, float]:
    """The largest |f'(x)| of keras.activations `name` on [-10, 10] and the x where it is reached."""
    slope = np.abs(evaluate(name, SLOPE_SEARCH)[1])
    return float(slope.max()), float(SLOPE_SEARCH[np.argmax(slope)])


@functools.lru_cache(maxsize=32)
def network_gradient_norms(
    activation: str, depth: int, batch_size: int, seed: int
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Per-layer gradient norms of an untrained `depth`-hidden-layer MLP on a batch of the moons set.

    Built by `dlviz.models.build` (Glorot-uniform kernels, seeded) and measured by `dlviz.wrap(model).gradients`
    (the compiled binary cross-entropy). Cached: the same arguments give the same numbers.
    """
    dataset = datasets.load(NETWORK_DATASET, seed=seed, n_samples=max(2 * batch_size, 100))
    model = models.build("mlp", dataset, hidden=(NETWORK_WIDTH,) * depth, activation=activation, seed=seed)
    handle = dlviz.wrap(model, dataset)
    gradients = handle.gradients(dataset.x_train[:batch_size], dataset.y_train[:batch_size])
    squares: dict[str, float] = {}
    for path, values in gradients.items():
        layer = handle.layer_of_path[path]
        squares[layer] = squares.get(layer, 0.0) + float(np.sum(np.asarray(values, np.float64) ** 2))
    layers = tuple(info.name for info in handle.layers if info.name in squares)
    return layers, tuple(float(np.sqrt(squares[layer])) for layer in layers)


# ----------------------------------------------------------------------------- figures


def _label(name: str) -> str:
    return "silu / swish" if name == "silu" else name


def _functions_figure(result: ActivationResult, language: str) -> go.Figure:
    figure = go.Figure()
    for name, values in zip(result.functions, result.values, strict=True):
        figure.add_trace(
            go.Scatter(
                x=result.x,
                y=values,
                mode="lines",
                name=f"{_label(name)}: {FORMULAS[name]}",
                line={"color": COLOURS[name], "width": 2},
                hovertemplate=f"{_label(name)}(%{{x:.3g}}) = %{{y:.4g}}<extra></extra>",
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


def _derivatives_figure(result: ActivationResult, language: str) -> go.Figure:
    figure = go.Figure()
    for index, name in enumerate(result.functions):
        figure.add_trace(
            go.Scatter(
                x=result.x,
                y=result.derivatives[index],
                mode="lines",
                name=_label(name),
                legendgroup=name,
                line={"color": COLOURS[name], "width": 2},
                hovertemplate=f"{_label(name)}′(%{{x:.3g}}) = %{{y:.4g}}<extra></extra>",
            )
        )
        at = float(result.max_slope_at[index])
        if result.x[0] <= at <= result.x[-1]:
            figure.add_trace(
                go.Scatter(
                    x=[at],
                    y=[float(result.max_slopes[index])],
                    mode="markers",
                    name=tr(language, f"max of {_label(name)}′", f"{_label(name)}′ 的最大值"),
                    legendgroup=name,
                    showlegend=False,
                    marker={"color": COLOURS[name], "size": 9, "symbol": "diamond"},
                    hovertemplate=tr(language, "max ", "最大值 ")
                    + f"{_label(name)}′({at:.3g}) = {result.max_slopes[index]:.4g}<extra></extra>",
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


def _depth_figure(result: ActivationResult, language: str) -> go.Figure:
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
                name=f"{_label(name)} (max |f′| = {result.max_slopes[index]:.3g})",
                legendgroup=f"bound-{name}",
                line={"color": COLOURS[name]},
                hovertemplate=f"{_label(name)}: ({result.max_slopes[index]:.4g})<sup>%{{x}}</sup> = %{{y:.3g}}<extra></extra>",
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
                    f"{_label(network.activation)} MLP, measured",
                    f"{_label(network.activation)} MLP（实测）",
                ),
                legendgroup=f"net-{network.activation}",
                line={"color": colour, "width": 3},
                marker={"size": 8, "symbol": "square"},
                hovertemplate="%{x}: ‖∂L/∂θ‖ = %{y:.3g}<extra>" + _label(network.activation) + "</extra>",
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
                        f"{_label(network.activation)}: last hidden layer × {slope:.3g}<sup>k</sup>",
                        f"{_label(network.activation)}：最后隐藏层 × {slope:.3g}<sup>k</sup>",
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
