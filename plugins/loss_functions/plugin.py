"""The `loss_functions` plugin: its controls, the lesson's computation, its diagnosis."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins.loss_functions.figures import classification_figure, neuron_figure, regression_figure
from plugins.loss_functions.losses import (
    CLASSIFICATION,
    NAMES,
    NAMES_ZH,
    REGRESSION,
    classification_loss,
    logit_gradient,
    loss_curves,
    regression_loss,
)
from plugins.loss_functions.neuron import train_neuron
from plugins.loss_functions.result import LossResult

NEURON_LOSSES = ("mse", "bce")
# Probabilities are drawn on (0, 1) without the ends, where cross-entropy is infinite.
PROBABILITY_MARGIN = 1e-3


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
    session_independent = True  # computed from its params alone: one result for every session
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> LossResult:
        target = params.regression_target
        predictions = np.linspace(target - params.prediction_span, target + params.prediction_span, 401)
        regression = loss_curves(
            REGRESSION,
            np.full_like(predictions, target),
            predictions,
            lambda name, y, y_hat: regression_loss(name, params.huber_delta)(y[:, None], y_hat[:, None]),
        )
        probabilities = np.linspace(PROBABILITY_MARGIN, 1 - PROBABILITY_MARGIN, 399)
        labels = np.full_like(probabilities, float(params.class_target))
        classification = loss_curves(
            CLASSIFICATION,
            labels,
            probabilities,
            lambda name, y, y_hat: classification_loss(name, y, y_hat, params.focal_gamma, params.n_classes),
        )
        classification = dataclasses.replace(
            classification,
            logit_gradients=np.stack(
                [
                    logit_gradient(name, labels, probabilities, params.focal_gamma, params.n_classes)
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
            regression_figure(result, language),
            classification_figure(result, language),
            neuron_figure(result, language),
        ]
