"""The `recurrent` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins.recurrent.figures import (
    accuracy_figure,
    gradients_figure,
    gru_figure,
    hidden_states_figure,
    lstm_figure,
)
from plugins.recurrent.result import RecurrentResult
from plugins.recurrent.training import run_lesson

LENGTHS = (2, 5, 10, 15, 20, 30, 40, 60, 80, 100)
# ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ below this: the first step gets (almost) no gradient, so it cannot be learned.
VANISHED_REACH = 1e-3


@dataclasses.dataclass(frozen=True)
class Params:
    lengths: tuple = dlviz.param(
        (5, 15, 30),
        label="Dependency lengths L",
        label_zh="依赖长度 L",
        choices=LENGTHS,
        multiple=True,
        help="Noise steps between the first step (whose sign is the label) and the end of the sequence; three "
        "networks are trained per length.",
        help_zh="第一步（其符号即标签）与序列末尾之间的噪声步数；每个长度训练三个网络。",
    )
    unrolled_length: int = dlviz.param(
        30,
        label="Unrolled length",
        label_zh="展开的长度",
        choices=LENGTHS,
        help="The length whose trained networks are unrolled over time and whose gradients are shown (trained "
        "too when it is not among the lengths).",
        help_zh="展开显示并计算梯度的长度（若不在上面的长度中也会训练）。",
    )
    sample: int = dlviz.param(
        0,
        label="Test sequence",
        label_zh="测试序列",
        min=0,
        max=2499,
        step=1,
        help="Which test sequence is unrolled.",
        help_zh="展开哪一条测试序列。",
    )
    noise: float = dlviz.param(
        1.0,
        label="Noise σ",
        label_zh="噪声 σ",
        min=0.0,
        max=3.0,
        step=0.1,
        help="Standard deviation of the noise steps that follow the first step (±1).",
        help_zh="第一步 (±1) 之后噪声步的标准差。",
    )
    units: int = dlviz.param(
        12,
        label="Units",
        label_zh="单元数",
        min=2,
        max=64,
        step=1,
        help="Hidden units of each recurrent layer.",
        help_zh="每个循环层的隐藏单元数。",
    )
    n_samples: int = dlviz.param(
        400,
        label="Training sequences",
        label_zh="训练序列数",
        min=50,
        max=5000,
        step=50,
        help="Training sequences per length; half as many (at least 50) are generated for testing.",
        help_zh="每个长度的训练序列数；另生成其一半（至少 50 条）用于测试。",
    )
    epochs: int = dlviz.param(
        12,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=200,
        step=1,
        help="Full passes over the training sequences, for every network.",
        help_zh="每个网络遍历训练序列的次数。",
    )
    batch_size: int = dlviz.param(
        50,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Sequences per Adam update; the three cells see the same batches.",
        help_zh="每次 Adam 更新所用的序列数；三种单元看到相同的批次。",
    )
    learning_rate: float = dlviz.param(
        0.03,
        label="Learning rate",
        label_zh="学习率",
        min=1e-4,
        max=0.3,
        log=True,
        help="Adam's learning rate, the same for every network.",
        help_zh="Adam 的学习率，所有网络相同。",
    )


class Recurrent(dlviz.Plugin):
    """Recurrent networks over time: a SimpleRNN, an LSTM and a GRU trained side by side on a generated
    memory task (the label is the sign of the first step, followed by L noise steps). One test sequence is
    unrolled through each trained layer: its hidden state per time step, the LSTM's input, forget and output
    gates and cell state, the GRU's update and reset gates, all computed with keras.ops from the layers' own
    weights. Backpropagation through time shows the gradient of the loss with respect to the hidden state
    at every earlier step, before and after training, on a log scale; the last figure shows each cell's test
    accuracy against the dependency length L.

    简介：循环神经网络 (RNN) 随时间展开：SimpleRNN、LSTM（长短期记忆网络）和 GRU（门控循环单元网络）在一个生成的记忆任务上
    并排训练（标签是第一步的符号，其后是 L 步噪声）。一条测试序列在每个训练好的层中展开：每个时间步的隐藏状态，LSTM 的
    输入门、遗忘门、输出门和细胞状态，GRU 的更新门和重置门，全部由 keras.ops 根据层自身的权重算出。随时间反向传播 (BPTT)
    给出训练前后损失对每个较早时间步隐藏状态的梯度（对数坐标）；最后一张图是每种单元的测试准确率随依赖长度 L 的变化。

    What to look for: before training, every cell's gradient shrinks by a roughly constant factor per step
    back in time (a straight falling line on the log scale). For the SimpleRNN this is the product of one
    tanh Jacobian per step: when L is long, the first step, which alone decides the label, receives almost no
    gradient, the line stays steep after training, and the network settles at chance accuracy (0.5). The
    LSTM learns to carry the sign in its cell state: look for a unit whose forget gate stays near 1 and whose
    cell state keeps the first step's sign to the end, while the input gate shuts out the noise. Its
    gradient line flattens after training and its accuracy holds at longer L. The GRU does the same with its
    update gate near 1. Training here is short: near the limit of a cell, the outcome can change with the
    seed.

    观察要点：训练前，每种单元的梯度都是每往前一个时间步大约缩小一个固定的倍数（对数坐标上是一条下降的直线）。对 SimpleRNN
    来说，这是每一步一个 tanh 雅可比矩阵的连乘：L 较长时，唯一决定标签的第一步几乎得不到梯度（梯度消失），训练后曲线依然陡峭，
    网络停在随机猜测的准确率 (0.5)。LSTM 学会把符号存在细胞状态中：找一个遗忘门始终接近 1、细胞状态把第一步的符号一直保持到
    末尾的单元，同时输入门把噪声挡在外面。训练后它的梯度曲线变平，准确率在更长的 L 上仍能保持。GRU 用接近 1 的更新门做到同样
    的事。这里训练很短：在某种单元的极限附近，结果可能随随机种子而变。

    >>> import dlviz
    >>> result = dlviz.compute("recurrent", lengths=(5,), unrolled_length=5, n_samples=100, epochs=1)
    >>> all(trace.layer_gap < 1e-5 for trace in result.traces.values())  # keras.ops unroll = the layers
    True
    """

    name = "recurrent"
    title = "Recurrent networks over time"
    title_zh = "循环神经网络随时间展开"
    section = "Lessons"
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> RecurrentResult:
        return run_lesson(ctx, params)

    def diagnose(self, result: RecurrentResult) -> list[dlviz.Finding]:
        length = result.unrolled_length
        reach = {cell: result.gradient_reach(cell) for cell in ("simple_rnn", "lstm")}
        accuracy = {cell: result.accuracy_at(cell, length) for cell in ("simple_rnn", "lstm")}
        findings = [
            dlviz.Finding(
                "info",
                f"Recurrent lesson at L = {length}: the share of the last step's gradient that reaches the first "
                f"step is {reach['simple_rnn']:.1e} for SimpleRNN and {reach['lstm']:.1e} for LSTM; test accuracy "
                f"{accuracy['simple_rnn']:.2f} and {accuracy['lstm']:.2f}",
                "Gated cells (LSTM, GRU) keep long-range dependencies that a plain RNN forgets.",
                headline_zh=f"循环神经网络课程，L = {length}：最后一步的梯度传到第一步的比例，SimpleRNN 为 "
                f"{reach['simple_rnn']:.1e}，LSTM 为 {reach['lstm']:.1e}；测试准确率分别为 {accuracy['simple_rnn']:.2f} "
                f"和 {accuracy['lstm']:.2f}",
                advice_zh="门控单元（LSTM、GRU）能保持普通 RNN 会遗忘的长距离依赖关系。",
            )
        ]
        if reach["simple_rnn"] < VANISHED_REACH:
            findings.append(
                dlviz.Finding(
                    "warning",
                    f"Recurrent lesson: SimpleRNN's gradient vanishes over {length} steps "
                    f"(first step gets {reach['simple_rnn']:.1e} of the last step's)",
                    "Use an LSTM or GRU layer for dependencies this long, or shorten the sequences.",
                    headline_zh=f"循环神经网络课程：SimpleRNN 的梯度在 {length} 步中消失"
                    f"（第一步只得到最后一步的 {reach['simple_rnn']:.1e}）",
                    advice_zh="依赖这么长时改用 LSTM 或 GRU 层，或缩短序列。",
                )
            )
        return findings

    def figures(self, result: RecurrentResult, language: str = "en") -> list[go.Figure]:
        return [
            hidden_states_figure(result, language),
            lstm_figure(result, language),
            gru_figure(result, language),
            gradients_figure(result, language),
            accuracy_figure(result, language),
        ]
