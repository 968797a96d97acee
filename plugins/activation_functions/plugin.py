"""The `activation_functions` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins.activation_functions.compute import (
    NETWORK_DATASET,
    NETWORK_WIDTH,
    VANISHING_RATIO,
    evaluate,
    network_gradient_norms,
    slope_peak,
)
from plugins.activation_functions.figures import (
    depth_figure,
    derivatives_figure,
    functions_figure,
    prelu_figure,
    softmax_figure,
)
from plugins.activation_functions.prelu import INITIAL_ALPHA, PRELU_DATASET, train_prelu
from plugins.activation_functions.result import FUNCTIONS, ActivationResult, NetworkGradients
from plugins.activation_functions.softmax import parse_logits, tempered_softmax


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
    logits: str = dlviz.param(
        "2.0, 1.0, 0.1, -1.0",
        label="Softmax logits z",
        label_zh="softmax 的 logits z",
        help="2 to 20 numbers separated by commas: the scores softmax turns into probabilities.",
        help_zh="2 到 20 个用逗号分隔的数：softmax 把这些得分变成概率。",
    )
    temperature: float = dlviz.param(
        1.0,
        label="Softmax temperature T",
        label_zh="softmax 温度 T",
        min=0.05,
        max=20.0,
        log=True,
        help="softmax(z / T): below 1 sharper (towards the arg max), above 1 flatter (towards uniform).",
        help_zh="softmax(z / T)：小于 1 更尖锐（趋向 arg max），大于 1 更平坦（趋向均匀分布）。",
    )
    prelu_epochs: int = dlviz.param(
        40,
        label="PReLU training epochs",
        label_zh="PReLU 训练轮数",
        min=1,
        max=500,
        step=1,
        help=f"Epochs of the small PReLU network on the bundled {PRELU_DATASET} set; its slopes start at "
        f"{INITIAL_ALPHA}.",
        help_zh=f"小型 PReLU 网络在内置 {PRELU_DATASET} 数据集上的训练轮数；斜率从 {INITIAL_ALPHA} 开始。",
    )


class ActivationFunctions(dlviz.Plugin):
    r"""Activation functions from `keras.activations` and their derivatives, computed by automatic
    differentiation (`tf.GradientTape`), over an input range you choose; then the vanishing-gradient argument.
    Backpropagation multiplies one slope per layer: the gradient reaching the first of $n$ layers carries
    $\prod_{l=1}^{n} f'(z^{(l)})$ (times the weights), and the sigmoid's slope
    $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$ is at most $\sigma'(0) = 0.25$, so through $n$ sigmoid layers
    that product is at most $0.25^n$. Beside that bound, the real per-layer gradient norms
    $\lVert \partial L / \partial \theta^{(l)} \rVert$ of an untrained $n$-layer MLP of each chosen
    activation, measured on one batch. Then softmax, which turns a vector of logits $z$ into probabilities,
    at a temperature $T$ you choose: `keras.activations.softmax` of $z / T$ as bars, and its Jacobian
    $\partial p_i / \partial z_j$ by `tf.GradientTape`. Last, PReLU: a ReLU whose negative slope $\alpha$ is
    learned, as the trainable `keras.layers.PReLU` (one $\alpha$ per unit) in a small MLP trained on a bundled
    set, with the slopes it learned.

    简介：来自 `keras.activations` 的激活函数 (activation function) 及其导数，导数由自动微分
    (automatic differentiation, `tf.GradientTape`) 算出，输入范围可调；然后是梯度消失 (vanishing gradients)
    的道理。反向传播 (backpropagation) 每经过一层就乘上一个斜率：传到 $n$ 层中第一层的梯度带着
    $\prod_{l=1}^{n} f'(z^{(l)})$（再乘以权重）；sigmoid 的斜率 $\sigma'(x) = \sigma(x)\,(1-\sigma(x))$
    最大只有 $\sigma'(0) = 0.25$，所以经过 $n$ 个 sigmoid 层，这个乘积最多是 $0.25^n$。旁边是每种所选激活函数的
    $n$ 层未训练 MLP 在一批数据上实测的各层梯度范数 $\lVert \partial L / \partial \theta^{(l)} \rVert$。然后是 softmax：它把一组 logits $z$
    变成概率，温度 $T$ 可调：柱状图是 `keras.activations.softmax` 对 $z / T$ 的结果，热图是由 `tf.GradientTape` 算出的
    雅可比矩阵 (Jacobian) $\partial p_i / \partial z_j$。最后是 PReLU：负半轴斜率 $\alpha$ 可学习的 ReLU，即可训练的
    `keras.layers.PReLU`（每个单元一个 $\alpha$），放在一个小 MLP 中用内置数据集训练，并给出学到的斜率。

    What to look for: sigmoid's derivative peaks at 0.25 and tanh's at 1, both fall to zero in the flat
    tails (saturation); ReLU's derivative is a step, 0 for negative inputs and 1 for positive ones, so it
    neither shrinks the gradient nor saturates for positive inputs (but a unit stuck at negative inputs
    passes nothing: dying ReLU). In the depth chart the sigmoid bound $0.25^n$ falls by six orders of
    magnitude over ten layers, and the measured sigmoid network follows it: the layers near the input
    get a gradient a million times smaller than those near the output, so they barely learn. A ReLU
    network keeps its per-layer norms within one or two orders of magnitude. Softmax: a low temperature
    sharpens the probabilities towards the largest logit (T → 0 gives the arg max), a high one flattens them
    towards uniform; adding the same number to every logit changes nothing. Its Jacobian is
    $(\operatorname{diag}(p) - p p^\top) / T$: positive on the diagonal, negative off it (raising one logit
    takes probability from all the others), and every row sums to zero. PReLU: the learned slopes move away
    from their start of 0.25, each unit its own way: near 0 the unit is a plain ReLU, near 1 a linear unit,
    and a negative slope (the data allow it) makes the unit respond to both signs, like |x|.

    观察要点：sigmoid 的导数最大为 0.25，tanh 的导数最大为 1，两者在两侧平坦区（饱和 (saturation)）都趋于零；
    ReLU 的导数是阶跃函数：负输入为 0，正输入为 1，所以对正输入既不缩小梯度也不饱和（但一直得到负输入的单元
    什么也传不回去：死亡 ReLU (dying ReLU)）。在深度图中，sigmoid 的上界 $0.25^n$ 经过十层下降六个数量级，
    实测的 sigmoid 网络也跟着下降：靠近输入的层得到的梯度比靠近输出的层小上百万倍，几乎学不到东西，
    这就是梯度消失 (vanishing gradients)。ReLU 网络的各层梯度范数则保持在一两个数量级之内。softmax：温度低时概率向最大的 logit 集中（T → 0 即 arg max），
    温度高时趋于均匀；所有 logits 加上同一个数，结果不变。它的雅可比矩阵是 $(\operatorname{diag}(p) - p p^\top) / T$：
    对角线为正、非对角线为负（提高一个 logit 会从其他所有类别拿走概率），每行之和为零。PReLU：学到的斜率离开初始值
    0.25，各单元各不相同：接近 0 就是普通 ReLU，接近 1 就是线性单元；斜率为负（数据允许时会出现）时，
    单元对正负输入都有响应，类似 |x|。

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
    session_independent = True  # computed from its params alone: one result for every session
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
        softmax = tempered_softmax(parse_logits(params.logits), params.temperature)
        ctx.report(0.9, tr(ctx.language, "training a PReLU network", "训练 PReLU 网络"))
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
            softmax=softmax,
            prelu=train_prelu(params.prelu_epochs, ctx.seed),
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
            functions_figure(result, language),
            derivatives_figure(result, language),
            depth_figure(result, language),
            softmax_figure(result.softmax, language),
            prelu_figure(result.prelu, language),
        ]
