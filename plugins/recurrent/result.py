"""What the recurrent lesson computes: one test sequence unrolled through a trained SimpleRNN, LSTM and GRU
(hidden states, gates, cell state), the gradient of the loss with respect to each step's hidden state, the
test accuracy of the three cells against the dependency length, and the lesson's formulas."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

CELLS = ("simple_rnn", "lstm", "gru")
CELL_NAMES = {
    "simple_rnn": ("SimpleRNN", "SimpleRNN（普通循环神经网络）"),
    "lstm": ("LSTM", "LSTM（长短期记忆网络）"),
    "gru": ("GRU", "GRU（门控循环单元网络）"),
}
# Per cell, the gates keras computes at each step, in the order of the cell's kernel columns.
GATES = {
    "simple_rnn": (),
    "lstm": ("input", "forget", "candidate", "output"),
    "gru": ("update", "reset", "candidate"),
}
GATE_NAMES = {
    "input": ("input gate i", "输入门 i"),
    "forget": ("forget gate f", "遗忘门 f"),
    "output": ("output gate o", "输出门 o"),
    "update": ("update gate z", "更新门 z"),
    "reset": ("reset gate r", "重置门 r"),
    "cell": ("cell state c", "细胞状态 c"),
}
STAGES = ("initial", "trained")

FORMULAS = (
    dlviz.Formula(
        "SimpleRNN: one tanh layer applied at every time step, with the same weights",
        "SimpleRNN：每个时间步都用同一组权重的 tanh 层",
        r"h_t = \tanh\left(x_t W + h_{t-1} U + b\right)",
    ),
    dlviz.Formula(
        "LSTM (keras kernel columns in the order i, f, c, o; σ = sigmoid)",
        "LSTM（keras 核矩阵各列的顺序为 i, f, c, o；σ 为 sigmoid）",
        r"\begin{aligned}"
        r"i_t &= \sigma(x_t W_i + h_{t-1} U_i + b_i) & f_t &= \sigma(x_t W_f + h_{t-1} U_f + b_f)\\"
        r"\tilde c_t &= \tanh(x_t W_c + h_{t-1} U_c + b_c) & o_t &= \sigma(x_t W_o + h_{t-1} U_o + b_o)\\"
        r"c_t &= f_t \odot c_{t-1} + i_t \odot \tilde c_t & h_t &= o_t \odot \tanh(c_t)"
        r"\end{aligned}",
    ),
    dlviz.Formula(
        "GRU (keras order z, r, h; reset_after=True, the default: the reset gate multiplies h_{t-1}U_h + b'_h)",
        "GRU（keras 顺序为 z, r, h；默认 reset_after=True：重置门乘在 h_{t-1}U_h + b'_h 上）",
        r"\begin{aligned}"
        r"z_t &= \sigma(x_t W_z + b_z + h_{t-1} U_z + b'_z) & r_t &= \sigma(x_t W_r + b_r + h_{t-1} U_r + b'_r)\\"
        r"\tilde h_t &= \tanh\big(x_t W_h + b_h + r_t \odot (h_{t-1} U_h + b'_h)\big) &"
        r" h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t"
        r"\end{aligned}",
    ),
    dlviz.Formula(
        "Backpropagation through time: the gradient reaching step t is a product of one Jacobian per later step",
        "随时间反向传播 (BPTT)：到达第 t 步的梯度是其后每一步雅可比矩阵的乘积",
        r"\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}"
        r"\prod_{k=t+1}^{T} \frac{\partial h_k}{\partial h_{k-1}},\qquad"
        r"\text{SimpleRNN: } \frac{\partial h_k}{\partial h_{k-1}} = \operatorname{diag}(1 - h_k^2)\, U^\top",
    ),
    dlviz.Formula(
        "LSTM: the cell state's own path multiplies by the forget gate only, which can stay near 1",
        "LSTM：细胞状态自身的通路只乘以遗忘门，遗忘门可以保持在 1 附近",
        r"\frac{\partial c_k}{\partial c_{k-1}}\Big|_{\text{direct}} = \operatorname{diag}(f_k)",
    ),
)


@dataclasses.dataclass(frozen=True)
class CellTrace:
    """One trained cell type unrolled over the shown sequence, each array (steps, units): the hidden state,
    the gate values (GATES order; "candidate" is the new content before gating), the LSTM's cell state.
    `probability` is the trained model's P(label = +) for the sequence; `layer_gap` the largest absolute
    difference between this unroll (keras.ops on the layer's own weights) and the Keras layer's own
    `return_sequences` / `return_state` outputs."""

    hidden: np.ndarray
    gates: dict
    cell_state: np.ndarray | None
    probability: float
    layer_gap: float


@dataclasses.dataclass(frozen=True)
class RecurrentResult:
    """The lesson on the generated memory task (the label is the sign of the first step, followed by
    `length` noise steps): test accuracy per cell type and dependency length (`accuracy[cell][i]` at
    `lengths[i]`); at `unrolled_length`, the test sequence `sequence` (steps,) with its `label` (1: +)
    unrolled through each trained cell (`traces`), and the mean over the test sequences of the gradient
    norm ‖∂L/∂h_t‖ at every step, before and after training (`gradient_norms[stage][cell]`)."""

    cells: tuple[str, ...]
    units: int
    noise: float
    epochs: int
    n_train: int
    n_test: int
    lengths: tuple[int, ...]
    accuracy: dict
    unrolled_length: int
    sample: int
    sequence: np.ndarray
    label: int
    traces: dict
    gradient_norms: dict
    page: dlviz.Page  # the lesson's notes and formulas

    def gradient_reach(self, cell: str, stage: str = "trained") -> float:
        """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: the share of the last step's gradient that reaches the first step."""
        norms = self.gradient_norms[stage][cell]
        return float(norms[0] / norms[-1])

    def accuracy_at(self, cell: str, length: int) -> float:
        return float(self.accuracy[cell][self.lengths.index(length)])
