"""The `backprop` lesson: the XOR network of the course notes, one training step at a time, with the
chain rule worked out by hand (float64) and checked against `tf.GradientTape` on the same Keras model."""

from __future__ import annotations

import dataclasses
import functools

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.colors import get_colorscale, unlabel_rgb
from plotly.subplots import make_subplots

import dlviz
from dlviz.plugin import tr

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus")
OPTIMIZERS = {
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr),
    "momentum": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
    "nesterov": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True),
    "adagrad": lambda lr: keras.optimizers.Adagrad(learning_rate=lr),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
    "adamw": lambda lr: keras.optimizers.AdamW(learning_rate=lr),
    "nadam": lambda lr: keras.optimizers.Nadam(learning_rate=lr),
}
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
MAX_FRAMES = 40
LABEL_LIFT = 0.07  # edge labels sit just above their edge, off the thick lines
SURFACE_POINTS = 41
COLOURSCALE = get_colorscale("RdBu")  # red negative, blue positive
# The same scale as arrays, for interpolating many colours fast (plotly's sample_colorscale is slow).
_SCALE_STOPS = np.array([stop for stop, _ in COLOURSCALE])
_SCALE_RGB = np.array([unlabel_rgb(colour) for _, colour in COLOURSCALE]).T


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


@dataclasses.dataclass(frozen=True)
class ChainRule:
    """One training step worked out by hand in float64 from the weights before it.

    Every array has the four XOR samples first. `delta_output` is ∂L/∂z of the output layer, computed
    like Keras computes the loss (from the logits); `grad_chain` flattens ∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2
    from the chain rule; `grad_tape` is what tf.GradientTape gave for the Keras model at the same weights.
    """

    z_hidden: np.ndarray  # [4, h]
    a_hidden: np.ndarray  # [4, h]
    slope_hidden: np.ndarray  # [4, h] f'(z) by autodiff
    z_output: np.ndarray  # [4, o]
    y_hat: np.ndarray  # [4, o]
    sample_losses: np.ndarray  # [4]
    loss: float
    dloss_dyhat: np.ndarray  # [4, o] ∂L/∂ŷ (L is the batch mean)
    dyhat_dz: np.ndarray  # [4, o, o] ∂ŷ_k/∂z_m
    delta_output: np.ndarray  # [4, o]
    dloss_da_hidden: np.ndarray  # [4, h]
    delta_hidden: np.ndarray  # [4, h]
    grad_chain: np.ndarray  # [P]
    grad_tape: np.ndarray  # [P]
    update: np.ndarray  # [P] weights after − weights before (the Keras optimizer's step)
    slots: tuple[
        tuple[str, np.ndarray], ...
    ]  # optimizer state per parameter after the step, e.g. ("momentum", [P])


@dataclasses.dataclass(frozen=True)
class BackpropResult:
    hidden_units: int
    outputs: int
    hidden_activation: str
    optimizer: str
    learning_rate: float
    seed: int
    step: int
    sample: int
    inputs: np.ndarray  # [4, 2]
    labels: np.ndarray  # [4]
    parameter_names: tuple[str, ...]  # [P], in the order W1 (row-major), b1, W2, b2
    weights: np.ndarray  # [T + 1, P] before step t (the last: after training)
    gradients: np.ndarray  # [T + 1, P] tf.GradientTape at weights[t]
    losses: np.ndarray  # [T + 1]
    hidden: np.ndarray  # [T + 1, 4, h]
    predictions: np.ndarray  # [T + 1, 4, o]
    solved_step: int | None  # first t whose weights classify all four inputs correctly
    chain: ChainRule
    surface_axis: np.ndarray  # [S]
    surface: np.ndarray  # [S, S] P(class 1) at the shown step's weights, rows along x2

    @property
    def max_steps(self) -> int:
        return len(self.weights) - 1

    def unflatten(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """W1 [2, h], b1 [h], W2 [h, o], b2 [o] from a flattened parameter vector."""
        h, o = self.hidden_units, self.outputs
        sizes = np.cumsum([2 * h, h, h * o])
        w1, b1, w2, b2 = np.split(np.asarray(vector), sizes)
        return w1.reshape(2, h), b1, w2.reshape(h, o), b2


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
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> BackpropResult:
        if params.step >= params.max_steps:
            raise dlviz.ParamsError(
                f"Step {params.step} is past the last training step ({params.max_steps - 1}) of "
                f"{params.max_steps} steps.",
                f"choose a step below {params.max_steps}, or raise Max steps.",
            )
        ctx.report(0.05, "training the XOR network")
        trajectory = train_xor(
            params.hidden_units,
            params.hidden_activation,
            params.outputs,
            params.optimizer,
            params.learning_rate,
            params.max_steps,
            params.seed,
        )
        ctx.report(0.8, "chain rule of the chosen step")
        weights, gradients, losses, hidden, predictions, slots = trajectory
        names = parameter_names(params.hidden_units, params.outputs)
        shapes = _shapes(params.hidden_units, params.outputs)
        chain = chain_rule(
            _split(weights[params.step], shapes),
            params.hidden_activation,
            params.outputs,
            gradients[params.step],
            weights[params.step + 1] - weights[params.step],
            tuple((kind, values[params.step]) for kind, values in slots),
        )
        axis = np.linspace(-0.5, 1.5, SURFACE_POINTS)
        surface = _surface(
            _split(weights[params.step], shapes), params.hidden_activation, params.outputs, axis
        )
        correct = _correct(predictions)
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
            _network_figure(result, language),
            _backward_figure(result, language),
            _forward_table(result, language),
            _chain_table(result, language),
            _update_table(result, language),
            _training_figure(result, language),
            _surface_figure(result, language),
        ]


# ----------------------------------------------------------------------------- the Keras model


def build_xor_model(hidden_units: int, hidden_activation: str, outputs: int, seed: int):
    """The XOR network in float64 as a Keras model, and a probe model on the same layers returning
    (hidden activations, outputs). Glorot-uniform kernels from `seed`, zero biases."""
    kernel_seeds = np.random.SeedSequence(seed).generate_state(2) & 0x7FFFFFFF
    inputs = keras.Input((2,), dtype="float64", name="x")
    hidden = keras.layers.Dense(
        hidden_units,
        activation=hidden_activation,
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(kernel_seeds[0])),
        dtype="float64",
        name="hidden",
    )(inputs)
    output = keras.layers.Dense(
        outputs,
        activation="sigmoid" if outputs == 1 else "softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=int(kernel_seeds[1])),
        dtype="float64",
        name="output",
    )(hidden)
    return keras.Model(inputs, output, name="xor"), keras.Model(inputs, [hidden, output], name="xor_probe")


def xor_loss(outputs: int, reduction: str | None = "sum_over_batch_size") -> keras.losses.Loss:
    """The loss the XOR network trains with: binary cross-entropy (1 output) or sparse categorical (2)."""
    if outputs == 1:
        return keras.losses.BinaryCrossentropy(reduction=reduction, dtype="float64")
    return keras.losses.SparseCategoricalCrossentropy(reduction=reduction, dtype="float64")


def xor_targets(outputs: int) -> np.ndarray:
    return XOR_LABELS[:, None].astype(np.float64) if outputs == 1 else XOR_LABELS.copy()


@functools.lru_cache(maxsize=16)
def train_xor(
    hidden_units: int,
    hidden_activation: str,
    outputs: int,
    optimizer_name: str,
    learning_rate: float,
    steps: int,
    seed: int,
):
    """Train the XOR network full-batch for `steps` steps; return its trajectory (cached, read-only arrays).

    Returns (weights [T+1, P], gradients [T+1, P], losses [T+1], hidden [T+1, 4, h], predictions
    [T+1, 4, o], slots): entry t holds the weights before step t and what tf.GradientTape computed there
    (the last entry: after training, not applied); slots pairs each optimizer state name ("momentum",
    "velocity", ...) with its value per parameter after each step, [T, P].
    """
    model, probe = build_xor_model(hidden_units, hidden_activation, outputs, seed)
    loss_fn = xor_loss(outputs)
    optimizer = OPTIMIZERS[optimizer_name](learning_rate)
    variables = model.trainable_variables
    optimizer.build(variables)  # its variables must exist before the compiled loop runs
    slot_kinds, slot_variables = _slots(optimizer, variables)
    x = tf.constant(XOR_INPUTS)
    y = tf.constant(xor_targets(outputs))

    def flat(tensors):
        return tf.concat([tf.reshape(tensor, [-1]) for tensor in tensors], axis=0)

    def measure():
        with tf.GradientTape() as tape:
            hidden, predictions = probe(x, training=True)
            loss = loss_fn(y, predictions)
        return flat(variables), tape.gradient(loss, variables), loss, hidden, predictions

    @tf.function
    def train(count):
        records = [tf.TensorArray(tf.float64, size=count + 1) for _ in range(5)]
        slot_records = [tf.TensorArray(tf.float64, size=count) for _ in slot_kinds]
        for index in tf.range(count):
            weights, gradients, loss, hidden, predictions = measure()
            values = (weights, flat(gradients), loss, hidden, predictions)
            records = [record.write(index, value) for record, value in zip(records, values, strict=True)]
            optimizer.apply(gradients, variables)
            slot_records = [
                record.write(index, flat(kind_variables))
                for record, kind_variables in zip(slot_records, slot_variables, strict=True)
            ]
        weights, gradients, loss, hidden, predictions = measure()
        values = (weights, flat(gradients), loss, hidden, predictions)
        records = [record.write(count, value) for record, value in zip(records, values, strict=True)]
        return [record.stack() for record in records], [record.stack() for record in slot_records]

    records, slot_values = train(tf.constant(steps))
    arrays = [np.asarray(record) for record in records]
    slots = tuple((kind, np.asarray(values)) for kind, values in zip(slot_kinds, slot_values, strict=True))
    for array in [*arrays, *(values for _, values in slots)]:
        array.flags.writeable = False
    return (*arrays, slots)


def _slots(optimizer, variables) -> tuple[list[str], list[list]]:
    """The optimizer's per-parameter state variables grouped by kind, each kind in `variables` order."""
    by_kind: dict[str, dict[int, object]] = {}
    for slot in optimizer.variables:
        name = slot.path.split("/", 1)[-1]
        for index, variable in enumerate(variables):
            prefix = variable.path.replace("/", "_") + "_"
            if name.startswith(prefix) and tuple(slot.shape) == tuple(variable.shape):
                by_kind.setdefault(name[len(prefix) :], {})[index] = slot
    kinds = [kind for kind, found in by_kind.items() if len(found) == len(variables)]
    return kinds, [[by_kind[kind][index] for index in range(len(variables))] for kind in kinds]


def _shapes(hidden_units: int, outputs: int) -> list[tuple[int, ...]]:
    return [(2, hidden_units), (hidden_units,), (hidden_units, outputs), (outputs,)]


def _split(vector: np.ndarray, shapes) -> list[np.ndarray]:
    sizes = np.cumsum([int(np.prod(shape)) for shape in shapes])[:-1]
    return [part.reshape(shape) for part, shape in zip(np.split(vector, sizes), shapes, strict=True)]


def parameter_names(hidden_units: int, outputs: int) -> tuple[str, ...]:
    """Names of the flattened parameters: W1 row-major, b1, W2 row-major, b2."""
    out = _output_names(outputs)
    names = [f"w x{i + 1}→h{j + 1}" for i in range(2) for j in range(hidden_units)]
    names += [f"b h{j + 1}" for j in range(hidden_units)]
    names += [f"w h{j + 1}→{out[k]}" for j in range(hidden_units) for k in range(outputs)]
    names += [f"b {out[k]}" for k in range(outputs)]
    return tuple(names)


def _output_names(outputs: int) -> list[str]:
    return ["out"] if outputs == 1 else ["out0", "out1"]


def _correct(predictions: np.ndarray) -> np.ndarray:
    """Per state, whether all four XOR inputs are classified correctly."""
    if predictions.shape[-1] == 1:
        predicted = predictions[..., 0] > 0.5
    else:
        predicted = predictions.argmax(axis=-1) == 1
    return np.all(predicted == XOR_LABELS.astype(bool), axis=-1)


def _surface(parameters, hidden_activation: str, outputs: int, axis: np.ndarray) -> np.ndarray:
    """P(class 1) of the Keras model at these weights over a grid of the input plane."""
    model, _ = build_xor_model(len(parameters[1]), hidden_activation, outputs, 0)
    model.set_weights(parameters)
    x1, x2 = np.meshgrid(axis, axis)
    grid = np.stack([x1.ravel(), x2.ravel()], axis=1)
    predictions = np.asarray(model(tf.constant(grid), training=False))
    return predictions[:, -1].reshape(x1.shape)


# ----------------------------------------------------------------------------- the chain rule by hand


def _elementwise_slope(function, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """function(z) and its derivative by tf.GradientTape (elementwise functions), float64."""
    tensor = tf.constant(z, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        value = function(tensor)
    return value.numpy(), tape.gradient(
        value, tensor, unconnected_gradients=tf.UnconnectedGradients.ZERO
    ).numpy()


def chain_rule(parameters, hidden_activation: str, outputs: int, grad_tape, update, slots) -> ChainRule:
    """Forward and backward pass of the XOR batch worked out layer by layer, in float64.

    Matrix products and sums are written out; every local derivative comes from tf.GradientTape on
    Keras' own pieces (the hidden activation, the output activation, the loss).
    """
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in parameters)
    x = XOR_INPUTS
    y = tf.constant(xor_targets(outputs))
    output_activation = keras.activations.get("sigmoid" if outputs == 1 else "softmax")
    # Forward.
    z_hidden = x @ w1 + b1
    a_hidden, slope_hidden = _elementwise_slope(keras.activations.get(hidden_activation), z_hidden)
    z_output = a_hidden @ w2 + b2
    y_hat = output_activation(tf.constant(z_output)).numpy()
    sample_losses = xor_loss(outputs, reduction=None)(y, tf.constant(y_hat)).numpy()
    # Local derivative of the loss (the batch mean) with respect to each prediction.
    prediction = tf.constant(y_hat)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        loss = xor_loss(outputs)(y, prediction)
    dloss_dyhat = tape.gradient(loss, prediction).numpy()
    # Local derivative of the output activation: ∂ŷ_k/∂z_m per sample.
    logits = tf.constant(z_output)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        activated = output_activation(logits)
    dyhat_dz = tape.batch_jacobian(activated, logits).numpy()
    # δ of the output layer as Keras computes the loss: from the logits the output activation keeps.
    with tf.GradientTape() as tape:
        tape.watch(logits)
        fused = xor_loss(outputs)(y, output_activation(logits))
    delta_output = tape.gradient(fused, logits).numpy()
    # Backwards through the hidden layer.
    dloss_da_hidden = delta_output @ w2.T
    delta_hidden = dloss_da_hidden * slope_hidden
    grad_chain = np.concatenate(
        [
            (x.T @ delta_hidden).ravel(),
            delta_hidden.sum(axis=0),
            (a_hidden.T @ delta_output).ravel(),
            delta_output.sum(axis=0),
        ]
    )
    return ChainRule(
        z_hidden=z_hidden,
        a_hidden=a_hidden,
        slope_hidden=slope_hidden,
        z_output=z_output,
        y_hat=y_hat,
        sample_losses=np.asarray(sample_losses, np.float64),
        loss=float(loss),
        dloss_dyhat=dloss_dyhat,
        dyhat_dz=dyhat_dz,
        delta_output=delta_output,
        dloss_da_hidden=dloss_da_hidden,
        delta_hidden=delta_hidden,
        grad_chain=grad_chain,
        grad_tape=np.array(grad_tape, np.float64),
        update=np.array(update, np.float64),
        slots=tuple((kind, np.array(values, np.float64)) for kind, values in slots),
    )


# ----------------------------------------------------------------------------- figures


def _fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}"


def _sample_label(index: int, language: str) -> str:
    x1, x2 = XOR_INPUTS[index].astype(int)
    return tr(
        language, f"x = ({x1}, {x2}), y = {XOR_LABELS[index]}", f"x = ({x1}, {x2})，y = {XOR_LABELS[index]}"
    )


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
    positions |= column(_output_names(result.outputs), 2.0)
    return positions


def _edges(result: BackpropResult) -> list[tuple[str, str, int]]:
    """(from node, to node, parameter index) of every weight."""
    edges = []
    for index, name in enumerate(result.parameter_names):
        if name.startswith("w "):
            source, target = name[2:].split("→")
            edges.append((source, target, index))
    return edges


def _label_fraction(source: str, result: BackpropResult) -> float:
    """Where along its edge a weight's label sits: staggered by source unit so crossing edges' labels part."""
    sources = 2 if source.startswith("x") else result.hidden_units
    return 0.2 + 0.3 * (int(source[1:]) - 1) / (sources - 1)


def _diagram_traces(
    result: BackpropResult,
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
        labels["text"].append(_fmt(value, 3))
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
        f"x{i + 1}": (f"x{i + 1}<br>{_fmt(x[i], 3)}", f"x{i + 1} = {_fmt(x[i])}", None) for i in range(2)
    }
    units = [(f"h{j + 1}", "a", z_hidden[j], hidden[j]) for j in range(result.hidden_units)]
    units += [
        (name, "ŷ", z_output[k], predictions[k]) for k, name in enumerate(_output_names(result.outputs))
    ]
    for node, symbol, z, a in units:
        bias = result.parameter_names.index(f"b {node}")
        nodes[node] = (
            f"{node}<br>{symbol}={_fmt(a, 3)}",
            f"{node}<br>z = {_fmt(z, 6)}<br>{symbol} = {_fmt(a, 6)}<br>b = {_fmt(weights[bias], 6)}"
            f"<br>∂L/∂b = {_fmt(gradients[bias], 6)}",
            float(weights[bias]),
        )
    hover = [
        f"{result.parameter_names[index]}<br>w = {_fmt(weights[index], 6)}<br>∂L/∂w = {_fmt(gradients[index], 6)}"
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


def _network_figure(result: BackpropResult, language: str) -> go.Figure:
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
    sample = _sample_label(result.sample, language)
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


def _backward_figure(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    nodes: dict[str, tuple[str, str, float | None]] = {
        f"x{i + 1}": (f"x{i + 1}", f"x{i + 1}", None) for i in range(2)
    }
    for node, deltas in _deltas_by_node(result).items():
        per_sample = "<br>".join(f"{_sample_label(n, language)}: {_fmt(deltas[n], 6)}" for n in range(4))
        nodes[node] = (
            f"{node}<br>Σδ={_fmt(deltas.sum(), 3)}",
            f"{node}: δ = ∂L/∂z {tr(language, 'per sample', '（每个样本）')}<br>{per_sample}"
            f"<br>∂L/∂b = Σδ = {_fmt(deltas.sum(), 6)}",
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
    deltas |= {name: chain.delta_output[:, k] for k, name in enumerate(_output_names(result.outputs))}
    return deltas


def _gradient_hover(result: BackpropResult, source: str, target: str, index: int) -> str:
    deltas = _deltas_by_node(result)[target]
    if source.startswith("x"):
        signal = result.inputs[:, int(source[1:]) - 1]
    else:
        signal = result.chain.a_hidden[:, int(source[1:]) - 1]
    terms = " + ".join(f"{_fmt(s, 3)}·{_fmt(d, 3)}" for s, d in zip(signal, deltas, strict=True))
    return (
        f"{result.parameter_names[index]}<br>∂L/∂w = Σₙ {source}ₙ · δ({target})ₙ<br>= {terms}"
        f"<br>= {_fmt(result.chain.grad_chain[index], 6)}<br>tf.GradientTape: {_fmt(result.chain.grad_tape[index], 6)}"
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
    return [[_fmt(row[n], 6) for row in rows] for n in range(4)]


def _forward_table(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    f = result.hidden_activation
    quantities, formulas, rows = [], [], []
    for j in range(result.hidden_units):
        h = f"h{j + 1}"
        quantities += [f"z({h})", f"a({h})"]
        formulas += [f"w x1→{h}·x1 + w x2→{h}·x2 + b {h}", f"{f}(z({h}))  keras.activations.{f}"]
        rows += [chain.z_hidden[:, j], chain.a_hidden[:, j]]
    out_names = _output_names(result.outputs)
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
    header += [_sample_label(n, language) for n in range(4)]
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


def _chain_table(result: BackpropResult, language: str) -> go.Figure:
    chain = result.chain
    f = result.hidden_activation
    out_names = _output_names(result.outputs)
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
    header += [_sample_label(n, language) for n in range(4)]
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


def _update_table(result: BackpropResult, language: str) -> go.Figure:
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
        [_fmt(value, 6) for value in before],
        formulas,
        [_fmt(value, 8) for value in chain.grad_chain],
        [_fmt(value, 8) for value in chain.grad_tape],
        [f"{value:.1e}" for value in np.abs(chain.grad_chain - chain.grad_tape)],
        [_fmt(-result.learning_rate * value, 6) for value in chain.grad_tape],
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
        columns.append([_fmt(value, 6) for value in values])
    header += [
        tr(language, f"Δw ({result.optimizer})", f"Δw（{result.optimizer}）"),
        tr(language, "new value", "新值"),
    ]
    columns += [
        [_fmt(value, 6) for value in chain.update],
        [_fmt(value, 6) for value in before + chain.update],
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


def _training_figure(result: BackpropResult, language: str) -> go.Figure:
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
                name=_sample_label(n, language),
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


def _surface_figure(result: BackpropResult, language: str) -> go.Figure:
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
