"""The `backprop` lesson: the XOR network of the course notes, one training step at a time, with the
chain rule worked out by hand (float64) and checked against `tf.GradientTape` on the same Keras model."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.models import OPTIMIZERS
from dlviz.plugin import tr
from plugins.backprop.chain import chain_rule
from plugins.backprop.diagram import backward_figure, network_figure
from plugins.backprop.figures import (
    chain_table,
    forward_table,
    surface_figure,
    training_figure,
    update_table,
)
from plugins.backprop.model import (
    XOR_INPUTS,
    XOR_LABELS,
    parameter_names,
    parameter_shapes,
    probability_surface,
    solves_xor,
    split_parameters,
    train_xor,
)
from plugins.backprop.result import BackpropResult

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus")
SURFACE_POINTS = 41


@dataclasses.dataclass(frozen=True)
class Params:
    step: int = dlviz.param(
        0,
        label="Training step to show",
        label_zh="显示第几步训练",
        min=0,
        max=4999,
        step=1,
        help="The step whose forward pass, chain rule and update are worked out (0 = the first step, from the "
        "initial weights; below Max steps).",
        help_zh="要逐项展开前向传播、链式法则和参数更新的那一步（0 = 从初始权重出发的第一步；须小于最大步数）。",
    )
    optimizer: str = dlviz.param(
        "adam",
        label="Optimizer",
        label_zh="优化器",
        choices=tuple(OPTIMIZERS),
        help="The Keras optimizer that applies the gradients (momentum/nesterov: keras.optimizers.SGD with "
        "momentum 0.9).",
        help_zh="用来根据梯度更新参数的 Keras 优化器（momentum/nesterov：动量 0.9 的 keras.optimizers.SGD）。",
    )
    learning_rate: float = dlviz.param(
        0.1,
        label="Learning rate η",
        label_zh="学习率 η",
        min=1e-4,
        max=10.0,
        log=True,
        help="The optimizer's learning rate (plain SGD needs about 1 on XOR, Adam about 0.1).",
        help_zh="优化器的学习率（在 XOR 上普通 SGD 约需 1，Adam 约 0.1）。",
    )
    hidden_units: int = dlviz.param(
        3,
        label="Hidden units",
        label_zh="隐藏单元数",
        min=2,
        max=4,
        step=1,
        help="Units of the hidden layer (2 is the smallest XOR network, and often gets stuck).",
        help_zh="隐藏层的单元数（2 个是能解 XOR 的最小网络，但常常卡住）。",
    )
    hidden_activation: str = dlviz.param(
        "sigmoid",
        label="Hidden activation",
        label_zh="隐藏层激活函数",
        choices=HIDDEN_ACTIVATIONS,
        help="keras.activations function of the hidden layer.",
        help_zh="隐藏层使用的 keras.activations 激活函数。",
    )
    outputs: int = dlviz.param(
        1,
        label="Output units",
        label_zh="输出单元数",
        choices=(1, 2),
        help="1: one sigmoid unit with binary cross-entropy; 2: softmax over two classes with sparse "
        "categorical cross-entropy.",
        help_zh="1：一个 sigmoid 单元，配二元交叉熵；2：两个类别的 softmax，配稀疏多类交叉熵。",
    )
    max_steps: int = dlviz.param(
        200,
        label="Max steps",
        label_zh="最大步数",
        min=10,
        max=5000,
        step=10,
        help="Training steps precomputed (full batch: the four XOR samples).",
        help_zh="预先计算的训练步数（全批量：四个 XOR 样本）。",
    )
    seed: int = dlviz.param(
        0,
        label="Seed",
        label_zh="随机种子",
        min=0,
        max=2**31 - 1,
        step=1,
        help="Seed of the initial weights (Glorot uniform kernels, zero biases).",
        help_zh="初始权重的随机种子（Glorot 均匀分布初始化权重，偏置为零）。",
    )
    sample: int = dlviz.param(
        1,
        label="Sample on the diagram",
        label_zh="图上显示的样本",
        choices=(0, 1, 2, 3),
        help="XOR input whose values the network diagram shows: 0 = (0, 0), 1 = (0, 1), 2 = (1, 0), 3 = (1, 1).",
        help_zh="网络图上显示哪个 XOR 输入的数值：0 = (0, 0)，1 = (0, 1)，2 = (1, 0)，3 = (1, 1)。",
    )


class Backprop(dlviz.Plugin):
    r"""Backpropagation on the XOR network of the course notes: 2 inputs, a hidden layer of 2-4 units,
    1 sigmoid output (binary cross-entropy) or 2 softmax outputs, trained full-batch on the four XOR points by a
    Keras optimizer. For the step you pick: the forward pass $z^{(1)} = xW^{(1)} + b^{(1)}$,
    $a^{(1)} = f(z^{(1)})$, $z^{(2)} = a^{(1)}W^{(2)} + b^{(2)}$, $\hat y = \sigma(z^{(2)})$, the loss
    $L = \frac{1}{4}\sum_n \ell(y_n, \hat y_n)$; then the chain rule backwards,
    $\delta^{(2)} = \frac{\partial L}{\partial \hat y}\frac{\partial \hat y}{\partial z^{(2)}}$,
    $\frac{\partial L}{\partial W^{(2)}} = a^{(1)\top}\delta^{(2)}$,
    $\delta^{(1)} = \delta^{(2)} W^{(2)\top} \odot f'(z^{(1)})$,
    $\frac{\partial L}{\partial W^{(1)}} = x^\top \delta^{(1)}$, every local derivative taken by
    automatic differentiation of Keras' own activation and loss; then the optimizer's update, e.g.
    $w \leftarrow w - \eta\, \partial L / \partial w$ for SGD. Every gradient is compared with
    `tf.GradientTape` on the same Keras model. The network diagram animates the whole training run
    (play, pause, reset, or drag the step slider) until XOR is solved.

    简介：在课程笔记中的 XOR 网络上演示反向传播 (backpropagation)：2 个输入，一个 2-4 个单元的隐藏层，
    1 个 sigmoid 输出（二元交叉熵）或 2 个 softmax 输出，用 Keras 优化器在四个 XOR 点上全批量训练。对所选的那一步：
    前向传播 (forward propagation) $z^{(1)} = xW^{(1)} + b^{(1)}$，$a^{(1)} = f(z^{(1)})$，
    $z^{(2)} = a^{(1)}W^{(2)} + b^{(2)}$，$\hat y = \sigma(z^{(2)})$，损失 $L = \frac{1}{4}\sum_n \ell(y_n, \hat y_n)$；
    然后按链式法则 (chain rule) 反向计算：
    $\delta^{(2)} = \frac{\partial L}{\partial \hat y}\frac{\partial \hat y}{\partial z^{(2)}}$，
    $\frac{\partial L}{\partial W^{(2)}} = a^{(1)\top}\delta^{(2)}$，
    $\delta^{(1)} = \delta^{(2)} W^{(2)\top} \odot f'(z^{(1)})$，
    $\frac{\partial L}{\partial W^{(1)}} = x^\top \delta^{(1)}$，每个局部导数都由自动微分对 Keras 自己的激活函数和
    损失函数求得；最后是优化器的更新，例如 SGD 的 $w \leftarrow w - \eta\, \partial L / \partial w$。每个梯度都与
    同一个 Keras 模型上 `tf.GradientTape` 的结果对照。网络图可以播放整个训练过程（播放、暂停、重置或拖动步数滑块），
    直到 XOR 被解决。

    What to look for: the backward pass reuses the forward values: each weight's gradient is the signal
    into the edge (the input or hidden activation) times the δ of the unit it feeds, so a weight from an
    input that is 0 gets no gradient for that sample. The hidden δ's are the output δ sent back through
    the weights and multiplied by the activation's slope: sigmoid's slope is at most 0.25, so the hidden
    gradients are smaller than the output ones. The chain-rule column equals tf.GradientTape's to about
    1e-15. With SGD the update is exactly −η·g; Adam rescales each weight's step by its own history.
    Two hidden units often get stuck in a local minimum (try another seed or three units).

    观察要点：反向传播复用前向传播的数值：每个权重的梯度等于流入这条边的信号（输入或隐藏层激活值）乘以它所连单元
    的 δ，所以某个样本的输入为 0 时，这个输入出发的权重对该样本没有梯度。隐藏层的 δ 是输出层的 δ 沿权重传回来、
    再乘以激活函数的斜率：sigmoid 的斜率最大只有 0.25，所以隐藏层的梯度比输出层小（梯度消失 (vanishing gradients)
    的来源）。链式法则 (chain rule) 那一列与 tf.GradientTape 的结果相差约 1e-15。用 SGD 时更新量恰好是 −η·g；
    Adam 则按每个权重自己的历史调整步长。只有两个隐藏单元时常常陷入局部极小值（换一个随机种子或用三个单元试试）。

    >>> import dlviz
    >>> figures = dlviz.figures("backprop", max_steps=20, step=3)
    >>> [figure.layout.title.text for figure in figures][:2]  # doctest: +ELLIPSIS
    ['Network at step 3 of 20 ...', 'Backward pass at step 3: ...']
    """

    name = "backprop"
    title = "Backpropagation"
    title_zh = "反向传播"
    section = "Lessons"
    requires = frozenset()
    session_independent = True  # computed from its params alone: one result for every session
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> BackpropResult:
        if params.step >= params.max_steps:
            raise dlviz.ParamsError(
                f"Step {params.step} is past the last training step ({params.max_steps - 1}) of "
                f"{params.max_steps} steps.",
                f"choose a step below {params.max_steps}, or raise Max steps.",
            )
        ctx.report(0.05, tr(ctx.language, "training the XOR network", "训练 XOR 网络"))
        trajectory = train_xor(
            params.hidden_units,
            params.hidden_activation,
            params.outputs,
            params.optimizer,
            params.learning_rate,
            params.max_steps,
            params.seed,
        )
        ctx.report(
            0.8, tr(ctx.language, "chain rule of the chosen step", "所选那一步的链式法则 (chain rule)")
        )
        weights, gradients, losses, hidden, predictions, slots = trajectory
        names = parameter_names(params.hidden_units, params.outputs)
        shapes = parameter_shapes(params.hidden_units, params.outputs)
        chain = chain_rule(
            split_parameters(weights[params.step], shapes),
            params.hidden_activation,
            params.outputs,
            gradients[params.step],
            weights[params.step + 1] - weights[params.step],
            tuple((kind, values[params.step]) for kind, values in slots),
        )
        axis = np.linspace(-0.5, 1.5, SURFACE_POINTS)
        surface = probability_surface(
            split_parameters(weights[params.step], shapes), params.hidden_activation, params.outputs, axis
        )
        correct = solves_xor(predictions)
        solved = np.flatnonzero(correct)
        return BackpropResult(
            hidden_units=params.hidden_units,
            outputs=params.outputs,
            hidden_activation=params.hidden_activation,
            optimizer=params.optimizer,
            learning_rate=params.learning_rate,
            seed=params.seed,
            step=params.step,
            sample=params.sample,
            inputs=XOR_INPUTS.copy(),
            labels=XOR_LABELS.copy(),
            parameter_names=names,
            weights=weights,
            gradients=gradients,
            losses=losses,
            hidden=hidden,
            predictions=predictions,
            solved_step=int(solved[0]) if solved.size else None,
            chain=chain,
            surface_axis=axis,
            surface=surface,
        )

    def diagnose(self, result: BackpropResult) -> list[dlviz.Finding]:
        if result.solved_step is not None:
            return [
                dlviz.Finding(
                    "ok",
                    f"XOR solved at step {result.solved_step}: all four inputs classified correctly "
                    f"(loss {result.losses[result.solved_step]:.3f}).",
                    step=result.solved_step,
                    headline_zh=f"XOR 在第 {result.solved_step} 步被解决：四个输入全部分类正确"
                    f"（损失 (loss) {result.losses[result.solved_step]:.3f}）。",
                )
            ]
        return [
            dlviz.Finding(
                "warning",
                f"XOR not solved in {result.max_steps} steps (loss {result.losses[-1]:.3f}).",
                "Train longer, raise the learning rate, use more hidden units (two often get stuck in a local "
                "minimum) or try another seed.",
                headline_zh=f"XOR 在 {result.max_steps} 步内未被解决（损失 (loss) {result.losses[-1]:.3f}）。",
                advice_zh="训练更久、提高学习率 (learning rate)、使用更多隐藏单元（两个单元常常卡在局部极小值 "
                "(local minimum)），或换一个随机种子 (seed)。",
            )
        ]

    def figures(self, result: BackpropResult, language: str = "en") -> list[go.Figure]:
        return [
            network_figure(result, language),
            backward_figure(result, language),
            forward_table(result, language),
            chain_table(result, language),
            update_table(result, language),
            training_figure(result, language),
            surface_figure(result, language),
        ]
