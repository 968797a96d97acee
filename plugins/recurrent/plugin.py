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
# Test accuracies closer than this count as alike (a few test sequences either way).
ACCURACY_MARGIN = 0.1


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


def comparison_advice(simple_rnn: float, lstm: float) -> tuple[str, str]:
    """What the two accuracies at the unrolled length suggest, in English and Chinese."""
    if lstm > simple_rnn + ACCURACY_MARGIN:
        return (
            "The LSTM's gates kept the dependency the SimpleRNN forgot: use gated cells for long-range dependencies.",
            "LSTM 的门保持住了 SimpleRNN 遗忘的依赖关系：长距离依赖请用门控单元。",
        )
    if simple_rnn > lstm + ACCURACY_MARGIN:
        return (
            "Here the SimpleRNN learned the dependency and the LSTM did not yet: its orthogonal recurrent kernel "
            "keeps the gradient alive over a few dozen steps, while the LSTM's gates need more updates. Try more "
            "epochs, another seed or a longer L.",
            "这里 SimpleRNN 学会了这个依赖关系而 LSTM 还没有：正交的循环权重让梯度在几十步内不会消失，而 LSTM 的门需要"
            "更多次更新。试试更多训练轮数、别的随机种子或更长的 L。",
        )
    return (
        "Both cells end alike at this length: compare a longer L, where the gradient lines part.",
        "在这个长度上两种单元结果相近：比较更长的 L，梯度曲线会在那里分开。",
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
    back in time (a straight falling line on the log scale): ∂L/∂h_t is a product of one Jacobian per later
    step. A cell that fails keeps a steep line after training: the first step, which alone decides the
    label, gets almost no gradient, so the cell cannot learn the dependency and sits at chance accuracy
    (0.5): that is the vanishing gradient that makes a plain RNN forget. (A cell that has latched the sign
    in saturated units can show a steep line too: once the sign is stored, later changes barely matter.) An LSTM that has learned carries the sign in its
    cell state: look for a unit whose forget gate stays near 1 and whose cell state keeps the first step's
    sign to the end while the input gate shuts out the noise; its gradient line flattens. A GRU does the
    same with its update gate near 1. Keras starts a SimpleRNN from an orthogonal recurrent kernel, which
    keeps its gradient alive over a few dozen steps, and the gated cells need more updates to learn their
    gates, so with this short training the cell that learns a length near its limit changes with the seed:
    compare seeds and lengths, and read the gradient lines beside the accuracies.

    观察要点：训练前，每种单元的梯度都是每往前一个时间步大约缩小一个固定的倍数（对数坐标上是一条下降的直线）：∂L/∂h_t 是
    其后每一步一个雅可比矩阵的乘积。学不会的单元在训练后曲线仍然陡峭：唯一决定标签的第一步几乎得不到梯度，它学不会这个
    依赖关系，准确率停在随机猜测 (0.5)：这就是让普通 RNN 遗忘的梯度消失。（把符号锁存在饱和单元里的单元，曲线也可能陡峭：
    符号一旦存下，之后的变化几乎不再起作用。）学会了的 LSTM 把符号存在细胞状态中：找一个遗忘门始终接近
    1、细胞状态把第一步的符号一直保持到末尾、同时输入门把噪声挡在外面的单元；它的梯度曲线变平。GRU 用接近 1 的更新门做到
    同样的事。Keras 的 SimpleRNN 从正交的循环权重矩阵开始，梯度在几十步内不会完全消失，而门控单元需要更多次更新才能学会
    它们的门，所以在这么短的训练中，哪种单元能学会接近其极限的长度会随随机种子而变：比较不同的种子和长度，并把梯度曲线和
    准确率对照着看。

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
        advice, advice_zh = comparison_advice(accuracy["simple_rnn"], accuracy["lstm"])
        findings = [
            dlviz.Finding(
                "info",
                f"Recurrent lesson at L = {length}: the share of the last step's gradient that reaches the first "
                f"step is {reach['simple_rnn']:.1e} for SimpleRNN and {reach['lstm']:.1e} for LSTM; test accuracy "
                f"{accuracy['simple_rnn']:.2f} and {accuracy['lstm']:.2f}",
                advice,
                headline_zh=f"循环神经网络课程，L = {length}：最后一步的梯度传到第一步的比例，SimpleRNN 为 "
                f"{reach['simple_rnn']:.1e}，LSTM 为 {reach['lstm']:.1e}；测试准确率分别为 {accuracy['simple_rnn']:.2f} "
                f"和 {accuracy['lstm']:.2f}",
                advice_zh=advice_zh,
            )
        ]
        if reach["simple_rnn"] < VANISHED_REACH and accuracy["simple_rnn"] < 0.5 + ACCURACY_MARGIN:
            findings.append(
                dlviz.Finding(
                    "warning",
                    f"Recurrent lesson: SimpleRNN's gradient vanishes over {length} steps (the first step gets "
                    f"{reach['simple_rnn']:.1e} of the last step's) and it stays at chance "
                    f"(test accuracy {accuracy['simple_rnn']:.2f})",
                    "Use an LSTM or GRU layer for dependencies this long, or shorten the sequences.",
                    headline_zh=f"循环神经网络课程：SimpleRNN 的梯度在 {length} 步中消失"
                    f"（第一步只得到最后一步的 {reach['simple_rnn']:.1e}），准确率停在随机猜测"
                    f"（测试准确率 {accuracy['simple_rnn']:.2f}）",
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
