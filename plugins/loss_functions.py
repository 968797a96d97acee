"""The `loss_functions` lesson: Keras' losses and their gradients against the prediction, and why
cross-entropy trains a sigmoid output faster than mean squared error."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.subplots import make_subplots

import dlviz
from dlviz.plugin import tr

REGRESSION = ("mse", "mae", "huber")
CLASSIFICATION = ("bce", "focal", "cce", "mse")
NAMES = {
    "mse": "MSE",
    "mae": "MAE",
    "huber": "Huber",
    "bce": "binary cross-entropy",
    "focal": "binary focal",
    "cce": "categorical cross-entropy",
}
NAMES_ZH = {
    "mse": "均方误差 (MSE)",
    "mae": "平均绝对误差 (MAE)",
    "huber": "Huber",
    "bce": "二元交叉熵",
    "focal": "二元 focal loss",
    "cce": "多类交叉熵",
}
# Display-only formulas (the numbers come from keras.losses).
FORMULAS = {
    "mse": "(ŷ − y)²",
    "mae": "|ŷ − y|",
    "huber": "½(ŷ − y)² if |ŷ − y| ≤ δ else δ(|ŷ − y| − ½δ)",
    "bce": "−[y ln ŷ + (1 − y) ln(1 − ŷ)]",
    "focal": "−(1 − p<sub>t</sub>)<sup>γ</sup> ln p<sub>t</sub>",
    "cce": "−Σ<sub>k</sub> y<sub>k</sub> ln ŷ<sub>k</sub>",
}
COLOURS = {
    "mse": "#1f77b4",
    "mae": "#2ca02c",
    "huber": "#9467bd",
    "bce": "#d62728",
    "focal": "#ff7f0e",
    "cce": "#8c564b",
}
# Categorical cross-entropy is dotted: for y = 1 it lies on binary cross-entropy.
DASHES = {"mse": "dash", "cce": "dot"}
NEURON_LOSSES = ("mse", "bce")
NEURON_INPUT, NEURON_TARGET = 1.0, 0.0
# The neuron has reached its target once its prediction is this close to it.
REACHED = 0.1
# Probabilities are drawn on (0, 1) without the ends, where cross-entropy is infinite.
PROBABILITY_MARGIN = 1e-3
GRADIENT_AXIS_LIMIT = 10.0


@dataclasses.dataclass(frozen=True)
class Params:
    regression_target: float = dlviz.param(
        0.0,
        label="Regression target y",
        label_zh="回归目标值 y",
        min=-10.0,
        max=10.0,
        step=0.5,
        help="The true value y of the regression panel; the prediction ŷ runs around it.",
        help_zh="回归图中的真实值 y；预测值 ŷ 在它附近变化。",
    )
    prediction_span: float = dlviz.param(
        3.0,
        label="Prediction span",
        label_zh="预测值范围",
        min=0.5,
        max=20.0,
        step=0.5,
        help="The regression prediction ŷ runs from y − span to y + span.",
        help_zh="回归预测值 ŷ 从 y − 范围 到 y + 范围。",
    )
    huber_delta: float = dlviz.param(
        1.0,
        label="Huber δ",
        label_zh="Huber 的 δ",
        min=0.1,
        max=10.0,
        step=0.1,
        help="keras.losses.Huber(delta): quadratic within δ of the target, linear beyond.",
        help_zh="keras.losses.Huber(delta)：离目标 δ 以内是二次的，之外是线性的。",
    )
    class_target: int = dlviz.param(
        1,
        label="Class target y",
        label_zh="分类目标 y",
        choices=(0, 1),
        help="The true class of the classification panel; ŷ is the predicted probability of class 1.",
        help_zh="分类图中的真实类别；ŷ 是预测为类别 1 的概率。",
    )
    focal_gamma: float = dlviz.param(
        2.0,
        label="Focal γ",
        label_zh="Focal 的 γ",
        min=0.0,
        max=5.0,
        step=0.5,
        help="keras.losses.BinaryFocalCrossentropy(gamma): larger γ down-weights well-classified samples; "
        "γ = 0 is binary cross-entropy.",
        help_zh="keras.losses.BinaryFocalCrossentropy(gamma)：γ 越大，已分对的样本权重越小；γ = 0 即二元交叉熵。",
    )
    n_classes: int = dlviz.param(
        3,
        label="Classes (categorical)",
        label_zh="类别数（多类）",
        min=2,
        max=10,
        step=1,
        help="Classes of the categorical cross-entropy curve: class 1 gets ŷ, the others share 1 − ŷ.",
        help_zh="多类交叉熵曲线的类别数：类别 1 的概率为 ŷ，其余类别平分 1 − ŷ。",
    )
    neuron_start: float = dlviz.param(
        0.98,
        label="Neuron's first prediction",
        label_zh="神经元的初始预测",
        min=0.5,
        max=0.9999,
        step=0.01,
        help="The one-neuron model starts predicting this for a sample whose target is 0 (confidently wrong).",
        help_zh="单神经元模型一开始对目标为 0 的样本预测这个值（自信地错了）。",
    )
    neuron_learning_rate: float = dlviz.param(
        0.15,
        label="Neuron learning rate",
        label_zh="神经元学习率",
        min=1e-3,
        max=10.0,
        log=True,
        help="Learning rate η of keras.optimizers.SGD for both trainings of the neuron.",
        help_zh="单神经元两次训练所用 keras.optimizers.SGD 的学习率 η。",
    )
    neuron_steps: int = dlviz.param(
        300,
        label="Neuron training steps",
        label_zh="神经元训练步数",
        min=10,
        max=3000,
        step=10,
        help="Gradient-descent steps of each training.",
        help_zh="每次训练的梯度下降步数。",
    )


@dataclasses.dataclass(frozen=True)
class Curves:
    """Losses and their gradients at each prediction, one row per loss."""

    losses: tuple[str, ...]
    predictions: np.ndarray  # [n]
    values: np.ndarray  # [n_losses, n] per-sample loss
    gradients: np.ndarray  # [n_losses, n] d loss / d prediction
    logit_gradients: np.ndarray | None = None  # [n_losses, n] d loss / d z with ŷ = sigmoid(z)


@dataclasses.dataclass(frozen=True)
class NeuronTraining:
    """One sigmoid neuron ŷ = σ(w·x + b) trained by SGD on one sample with one loss (values before each step)."""

    loss: str
    losses: np.ndarray  # [steps]
    predictions: np.ndarray  # [steps]
    weight_gradients: np.ndarray  # [steps] dL/dw
    reached: int | None  # first step with |ŷ − y| < REACHED


@dataclasses.dataclass(frozen=True)
class LossResult:
    regression_target: float
    huber_delta: float
    regression: Curves
    class_target: int
    focal_gamma: float
    n_classes: int
    classification: Curves
    neuron_start: float
    neuron_learning_rate: float
    neurons: tuple[NeuronTraining, ...]


class LossFunctions(dlviz.Plugin):
    r"""Loss functions from `keras.losses` and their gradients (by `tf.GradientTape`) against the prediction
    $\hat y$ for a target $y$ you choose. Regression: mean squared error $L = (\hat y - y)^2$, mean absolute
    error $|\hat y - y|$ and Huber. Classification: binary cross-entropy
    $L = -[y \ln \hat y + (1-y) \ln(1-\hat y)]$, binary focal loss $-(1-p_t)^\gamma \ln p_t$ and categorical
    cross-entropy $-\sum_k y_k \ln \hat y_k$. Then one sigmoid neuron $\hat y = \sigma(wx + b)$ trained by SGD
    from a confidently wrong start, once with MSE and once with cross-entropy: through the sigmoid,
    $\frac{\partial L_{\text{MSE}}}{\partial z} = 2(\hat y - y)\,\hat y(1-\hat y)$ vanishes when $\hat y$ is
    near 0 or 1, while $\frac{\partial L_{\text{CE}}}{\partial z} = \hat y - y$ stays large exactly when the
    prediction is wrong.

    简介：来自 `keras.losses` 的损失函数 (loss function) 及其对预测值 $\hat y$ 的梯度（由 `tf.GradientTape` 算出），
    目标值 $y$ 可选。回归：均方误差 (MSE) $L = (\hat y - y)^2$、平均绝对误差 (MAE) $|\hat y - y|$ 和 Huber 损失。
    分类：二元交叉熵 (binary cross-entropy) $L = -[y \ln \hat y + (1-y) \ln(1-\hat y)]$、二元 focal loss
    $-(1-p_t)^\gamma \ln p_t$ 和多类交叉熵 (categorical cross-entropy) $-\sum_k y_k \ln \hat y_k$。然后用 SGD
    从“自信地错了”的起点训练一个 sigmoid 神经元 $\hat y = \sigma(wx + b)$，一次用 MSE，一次用交叉熵 (cross-entropy)：
    经过 sigmoid 之后，$\frac{\partial L_{\text{MSE}}}{\partial z} = 2(\hat y - y)\,\hat y(1-\hat y)$ 在
    $\hat y$ 接近 0 或 1 时趋于零，而 $\frac{\partial L_{\text{CE}}}{\partial z} = \hat y - y$ 恰好在预测错误时最大。

    What to look for: MSE's gradient grows with the error, MAE's is a constant ±1 (it does not slow down
    near the target), Huber is MSE near the target and MAE far from it (robust to outliers). For
    classification, cross-entropy's loss and gradient explode as the predicted probability of the true
    class goes to 0, and its gradient with respect to the logit is simply $\hat y - y$: a straight line.
    MSE on a sigmoid output has a gradient that vanishes at both ends, so a confidently wrong neuron
    trained with MSE sits on a plateau for many steps, while the same neuron trained with cross-entropy
    moves at once. Focal loss flattens the loss of well-classified samples, focusing on the hard ones.

    观察要点：均方误差 (MSE) 的梯度随误差增大而增大；平均绝对误差 (MAE) 的梯度恒为 ±1（接近目标时也不减速）；
    Huber 在目标附近像 MSE、远离目标时像 MAE（对离群点更稳健）。分类时，真实类别的预测概率趋于 0 时，
    交叉熵 (cross-entropy) 的损失和梯度都急剧增大，而它对 logit 的梯度就是 $\hat y - y$：一条直线。
    sigmoid 输出上的 MSE 梯度在两端都会消失（梯度消失 (vanishing gradients)），所以用 MSE 训练一个“自信地错了”
    的神经元会在平台上停留很多步，而用交叉熵训练的同一个神经元立刻开始移动。focal loss 压低已分对样本的损失，
    把注意力集中在难分的样本上。

    >>> import dlviz
    >>> figures = dlviz.figures("loss_functions", neuron_steps=20)
    >>> [figure.layout.title.text for figure in figures]  # doctest: +ELLIPSIS
    ['Regression losses for the target y = 0', 'Classification losses for the target y = 1', ...]
    """

    name = "loss_functions"
    title = "Loss functions"
    title_zh = "损失函数"
    section = "Lessons"
    requires = frozenset()
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> LossResult:
        target = params.regression_target
        predictions = np.linspace(target - params.prediction_span, target + params.prediction_span, 401)
        regression = _curves(
            REGRESSION,
            np.full_like(predictions, target),
            predictions,
            lambda name, y, y_hat: regression_loss(name, params.huber_delta)(y[:, None], y_hat[:, None]),
        )
        probabilities = np.linspace(PROBABILITY_MARGIN, 1 - PROBABILITY_MARGIN, 399)
        labels = np.full_like(probabilities, float(params.class_target))
        classification = _curves(
            CLASSIFICATION,
            labels,
            probabilities,
            lambda name, y, y_hat: classification_loss(name, y, y_hat, params.focal_gamma, params.n_classes),
        )
        classification = dataclasses.replace(
            classification,
            logit_gradients=np.stack(
                [
                    _logit_gradient(name, labels, probabilities, params.focal_gamma, params.n_classes)
                    for name in CLASSIFICATION
                ]
            ),
        )
        neurons = []
        for index, loss in enumerate(NEURON_LOSSES):
            ctx.report(
                0.2 + 0.4 * index,
                tr(
                    ctx.language,
                    f"training one neuron with {NAMES[loss]}",
                    f"训练一个神经元（损失函数：{NAMES_ZH[loss]}）",
                ),
            )
            neurons.append(
                train_neuron(loss, params.neuron_start, params.neuron_learning_rate, params.neuron_steps)
            )
        return LossResult(
            regression_target=target,
            huber_delta=params.huber_delta,
            regression=regression,
            class_target=params.class_target,
            focal_gamma=params.focal_gamma,
            n_classes=params.n_classes,
            classification=classification,
            neuron_start=params.neuron_start,
            neuron_learning_rate=params.neuron_learning_rate,
            neurons=tuple(neurons),
        )

    def diagnose(self, result: LossResult) -> list[dlviz.Finding]:
        reached = {neuron.loss: neuron.reached for neuron in result.neurons}
        steps = len(result.neurons[0].losses)

        def when(loss: str) -> str:
            return f"in {reached[loss]} steps" if reached[loss] is not None else f"not within {steps} steps"

        def when_zh(loss: str) -> str:
            return (
                f"用了 {reached[loss]} 步达到目标" if reached[loss] is not None else f"{steps} 步内未达到目标"
            )

        return [
            dlviz.Finding(
                "info",
                f"From a confidently wrong start (ŷ = {result.neuron_start:g}, target 0), the neuron trained with "
                f"cross-entropy reached the target {when('bce')}, with MSE {when('mse')}.",
                "Use cross-entropy, not MSE, for sigmoid and softmax outputs: its gradient does not vanish "
                "when the prediction is confidently wrong.",
                headline_zh=f"从一个自信但错误的起点（ŷ = {result.neuron_start:g}，目标 0）出发，用交叉熵 (cross-entropy) "
                f"训练的神经元{when_zh('bce')}，用均方误差 (MSE) 训练的神经元{when_zh('mse')}。",
                advice_zh="sigmoid 和 softmax 输出请使用交叉熵 (cross-entropy)，而不是均方误差 (MSE)："
                "当预测自信但错误时，交叉熵的梯度不会消失。",
            )
        ]

    def figures(self, result: LossResult, language: str = "en") -> list[go.Figure]:
        return [
            _regression_figure(result, language),
            _classification_figure(result, language),
            _neuron_figure(result, language),
        ]


# ----------------------------------------------------------------------------- Keras losses


def regression_loss(name: str, delta: float = 1.0) -> keras.losses.Loss:
    """The keras.losses object of a regression loss, per sample (no reduction)."""
    if name == "mse":
        return keras.losses.MeanSquaredError(reduction=None, dtype="float64")
    if name == "mae":
        return keras.losses.MeanAbsoluteError(reduction=None, dtype="float64")
    if name == "huber":
        return keras.losses.Huber(delta=delta, reduction=None, dtype="float64")
    raise dlviz.ParamsError(f"Unknown regression loss {name!r}.", f"use one of {REGRESSION}.")


def classification_loss(name: str, y, y_hat, gamma: float = 2.0, n_classes: int = 3):
    """Per-sample keras.losses value of a classification loss; `y_hat` is the probability of class 1.

    For categorical cross-entropy class 1 gets `y_hat` and the other `n_classes - 1` classes share
    `1 - y_hat`; the target is the one-hot vector of class `y`.
    """
    y = tf.convert_to_tensor(y, tf.float64)
    y_hat = tf.convert_to_tensor(y_hat, tf.float64)
    if name == "bce":
        return keras.losses.BinaryCrossentropy(reduction=None, dtype="float64")(y[:, None], y_hat[:, None])
    if name == "focal":
        return keras.losses.BinaryFocalCrossentropy(gamma=gamma, reduction=None, dtype="float64")(
            y[:, None], y_hat[:, None]
        )
    if name == "mse":
        return keras.losses.MeanSquaredError(reduction=None, dtype="float64")(y[:, None], y_hat[:, None])
    if name == "cce":
        rest = (1.0 - y_hat)[:, None] / (n_classes - 1) * tf.ones((1, n_classes - 1), tf.float64)
        probabilities = tf.concat([rest[:, :1], y_hat[:, None], rest[:, 1:]], axis=1)
        one_hot = tf.one_hot(tf.cast(y, tf.int32), n_classes, dtype=tf.float64)
        return keras.losses.CategoricalCrossentropy(reduction=None, dtype="float64")(one_hot, probabilities)
    raise dlviz.ParamsError(f"Unknown classification loss {name!r}.", f"use one of {CLASSIFICATION}.")


def _curves(names, y: np.ndarray, predictions: np.ndarray, loss_of) -> Curves:
    values, gradients = [], []
    for name in names:
        y_hat = tf.constant(predictions, tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(y_hat)
            loss = loss_of(name, tf.constant(y, tf.float64), y_hat)
        # Per-sample losses: the gradient of their sum is each prediction's own derivative.
        values.append(np.asarray(loss, np.float64))
        gradients.append(
            tape.gradient(loss, y_hat, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()
        )
    return Curves(tuple(names), predictions, np.stack(values), np.stack(gradients))


def _logit_gradient(
    name: str, y: np.ndarray, probabilities: np.ndarray, gamma: float, n_classes: int
) -> np.ndarray:
    """d loss / d z where ŷ = keras.activations.sigmoid(z), at the logits of `probabilities`."""
    z = tf.constant(np.log(probabilities) - np.log1p(-probabilities), tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = classification_loss(name, y, keras.activations.sigmoid(z), gamma, n_classes)
    return tape.gradient(loss, z).numpy()


def train_neuron(loss: str, start: float, learning_rate: float, steps: int) -> NeuronTraining:
    """Train ŷ = σ(w·x + b) (a Keras Dense(1, sigmoid)) on x = 1, y = 0 with keras.optimizers.SGD.

    w and b both start at logit(start) / 2, so the first prediction is `start`. Records the loss, the
    prediction and dL/dw before every step.
    """
    initial = float(np.log(start) - np.log1p(-start)) / 2.0
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(
                1,
                activation="sigmoid",
                kernel_initializer=keras.initializers.Constant(initial),
                bias_initializer=keras.initializers.Constant(initial),
                name="neuron",
            ),
        ]
    )
    loss_fn = keras.losses.MeanSquaredError() if loss == "mse" else keras.losses.BinaryCrossentropy()
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    x = tf.constant([[NEURON_INPUT]])
    y = tf.constant([[NEURON_TARGET]])
    kernel, bias = model.trainable_variables
    optimizer.build([kernel, bias])  # its variables must exist before the compiled loop runs

    @tf.function
    def train(count):
        records = tf.TensorArray(tf.float32, size=count)
        for index in tf.range(count):
            with tf.GradientTape() as tape:
                prediction = model(x, training=True)
                value = loss_fn(y, prediction)
            kernel_gradient, bias_gradient = tape.gradient(value, [kernel, bias])
            optimizer.apply_gradients([(kernel_gradient, kernel), (bias_gradient, bias)])
            records = records.write(index, tf.stack([value, prediction[0, 0], kernel_gradient[0, 0]]))
        return records.stack()

    records = train(tf.constant(steps)).numpy().astype(np.float64)
    close = np.flatnonzero(np.abs(records[:, 1] - NEURON_TARGET) < REACHED)
    return NeuronTraining(
        loss=loss,
        losses=records[:, 0],
        predictions=records[:, 1],
        weight_gradients=records[:, 2],
        reached=int(close[0]) if close.size else None,
    )


# ----------------------------------------------------------------------------- figures


def _name(loss: str, language: str) -> str:
    return NAMES_ZH[loss] if language == "zh" else NAMES[loss]


def _regression_figure(result: LossResult, language: str) -> go.Figure:
    curves = result.regression
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(tr(language, "loss L(ŷ)", "损失 L(ŷ)"), tr(language, "gradient ∂L/∂ŷ", "梯度 ∂L/∂ŷ")),
    )
    for index, loss in enumerate(curves.losses):
        label = f"{_name(loss, language)}: {FORMULAS[loss]}"
        if loss == "huber":
            label += f", δ = {result.huber_delta:g}"
        for column, values in ((1, curves.values[index]), (2, curves.gradients[index])):
            figure.add_trace(
                go.Scatter(
                    x=curves.predictions,
                    y=values,
                    mode="lines",
                    name=label,
                    legendgroup=loss,
                    showlegend=column == 1,
                    line={"color": COLOURS[loss], "width": 2},
                    hovertemplate="ŷ = %{x:.3g}: %{y:.4g}<extra>" + _name(loss, language) + "</extra>",
                ),
                row=1,
                col=column,
            )
    for column in (1, 2):
        figure.add_vline(x=result.regression_target, line_dash="dot", line_color="grey", row=1, col=column)
        figure.update_xaxes(title_text=tr(language, "prediction ŷ", "预测值 ŷ"), row=1, col=column)
    figure.update_yaxes(title_text=tr(language, "loss per sample", "单个样本的损失"), row=1, col=1)
    figure.update_yaxes(
        title_text=tr(language, "∂L/∂ŷ (tf.GradientTape)", "∂L/∂ŷ（tf.GradientTape）"), row=1, col=2
    )
    figure.update_layout(
        title=tr(
            language,
            f"Regression losses for the target y = {result.regression_target:g}",
            f"回归损失（目标值 y = {result.regression_target:g}）",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"b": 120},
        height=480,
    )
    return figure


def _classification_figure(result: LossResult, language: str) -> go.Figure:
    curves = result.classification
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            tr(language, "loss L(ŷ)", "损失 L(ŷ)"),
            tr(language, "gradient ∂L/∂ŷ", "梯度 ∂L/∂ŷ"),
            tr(
                language,
                "gradient through the sigmoid ∂L/∂z, ŷ = σ(z)",
                "经过 sigmoid 的梯度 ∂L/∂z，ŷ = σ(z)",
            ),
        ),
    )
    panels = ((1, curves.values), (2, curves.gradients), (3, curves.logit_gradients))
    for index, loss in enumerate(curves.losses):
        label = f"{_name(loss, language)}: {FORMULAS[loss]}"
        if loss == "focal":
            label += f", γ = {result.focal_gamma:g}"
        if loss == "cce":
            label += tr(language, f", {result.n_classes} classes", f"，{result.n_classes} 类")
        for column, values in panels:
            figure.add_trace(
                go.Scatter(
                    x=curves.predictions,
                    y=values[index],
                    mode="lines",
                    name=label,
                    legendgroup=loss,
                    showlegend=column == 1,
                    line={
                        "color": COLOURS[loss],
                        "width": 3 if loss == "bce" else 2,
                        "dash": DASHES.get(loss),
                    },
                    hovertemplate="ŷ = %{x:.3f}: %{y:.4g}<extra>" + _name(loss, language) + "</extra>",
                ),
                row=1,
                col=column,
            )
    for column in (1, 2, 3):
        figure.add_vline(x=result.class_target, line_dash="dot", line_color="grey", row=1, col=column)
        figure.update_xaxes(
            title_text=tr(language, "predicted probability of class 1, ŷ", "预测为类别 1 的概率 ŷ"),
            range=[0, 1],
            row=1,
            col=column,
        )
    figure.update_yaxes(
        title_text=tr(language, "loss per sample", "单个样本的损失"), rangemode="tozero", row=1, col=1
    )
    figure.update_yaxes(
        title_text=tr(language, "∂L/∂ŷ (clipped to ±10)", "∂L/∂ŷ（显示范围 ±10）"),
        range=[-GRADIENT_AXIS_LIMIT, GRADIENT_AXIS_LIMIT],
        row=1,
        col=2,
    )
    figure.update_yaxes(title_text="∂L/∂z", row=1, col=3)
    # Points at binary cross-entropy's straight line at ŷ = 0.5, from the side no other curve takes.
    below = result.class_target == 1
    figure.add_annotation(
        text=tr(language, "cross-entropy: ∂L/∂z = ŷ − y", "交叉熵：∂L/∂z = ŷ − y"),
        xref="x3",
        yref="y3",
        x=0.5,
        y=0.5 - result.class_target,
        ax=50 if below else -50,
        ay=50 if below else -50,
        showarrow=True,
        arrowhead=2,
        bgcolor="rgba(255,255,255,0.8)",
    )
    figure.update_layout(
        title=tr(
            language,
            f"Classification losses for the target y = {result.class_target}",
            f"分类损失（目标类别 y = {result.class_target}）",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"b": 130},
        height=500,
    )
    return figure


def _neuron_figure(result: LossResult, language: str) -> go.Figure:
    figure = make_subplots(
        rows=1,
        cols=3,
        horizontal_spacing=0.08,
        subplot_titles=(
            tr(language, "loss", "损失"),
            tr(language, "prediction ŷ (target 0)", "预测值 ŷ（目标 0）"),
            tr(language, "gradient |∂L/∂w| (log scale)", "梯度 |∂L/∂w|（对数坐标）"),
        ),
    )
    for neuron in result.neurons:
        steps = np.arange(len(neuron.losses))
        colour = COLOURS[neuron.loss]
        name = tr(language, "cross-entropy", "交叉熵") if neuron.loss == "bce" else _name("mse", language)
        for column, values in (
            (1, neuron.losses),
            (2, neuron.predictions),
            (3, np.abs(neuron.weight_gradients)),
        ):
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=values,
                    mode="lines",
                    name=name,
                    legendgroup=neuron.loss,
                    showlegend=column == 1,
                    line={"color": colour, "width": 2},
                    hovertemplate=tr(language, "step", "步") + " %{x}: %{y:.4g}<extra>" + name + "</extra>",
                ),
                row=1,
                col=column,
            )
        if neuron.reached is not None:
            figure.add_trace(
                go.Scatter(
                    x=[neuron.reached],
                    y=[neuron.predictions[neuron.reached]],
                    mode="markers+text",
                    text=[tr(language, f"step {neuron.reached}", f"第 {neuron.reached} 步")],
                    textposition="top right",
                    marker={"color": colour, "size": 10, "symbol": "star"},
                    name=tr(
                        language, f"{name} reaches |ŷ − y| < {REACHED}", f"{name} 达到 |ŷ − y| < {REACHED}"
                    ),
                    legendgroup=neuron.loss,
                ),
                row=1,
                col=2,
            )
    figure.add_hrect(y0=0, y1=REACHED, fillcolor="green", opacity=0.1, line_width=0, row=1, col=2)
    for column in (1, 2, 3):
        figure.update_xaxes(title_text=tr(language, "SGD step", "SGD 步数"), row=1, col=column)
    figure.update_yaxes(title_text=tr(language, "training loss", "训练损失"), row=1, col=1)
    figure.update_yaxes(title_text="ŷ = σ(w·x + b)", range=[0, 1], row=1, col=2)
    figure.update_yaxes(title_text="|∂L/∂w|", type="log", exponentformat="power", row=1, col=3)
    figure.update_layout(
        title=tr(
            language,
            f"One sigmoid neuron from a confidently wrong start (ŷ = {result.neuron_start:g}), "
            f"SGD η = {result.neuron_learning_rate:g}",
            f"单个 sigmoid 神经元从“自信地错了”的起点（ŷ = {result.neuron_start:g}）开始训练，"
            f"SGD η = {result.neuron_learning_rate:g}",
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"b": 110},
        height=460,
    )
    return figure
