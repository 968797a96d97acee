"""The optimizer race's contestants and the race itself: `OPTIMIZERS` (label, colour, update rule and
what to watch, in English and Chinese), the real Keras optimizer of each (`build_optimizer`), `race`,
every optimizer's steps in one compiled TensorFlow loop, and where a path diverged. Keras and TensorFlow
are imported inside the functions that use them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from plugins.optimizers.functions import TestFunction

DIVERGED_MAGNITUDE = 1e6


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """One contestant: its label, its update rule as Keras implements it, and what to watch."""

    key: str
    label: str
    color: str
    latex: str
    teaching: str
    teaching_zh: str
    default_rate: float


OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.key: spec
    for spec in (
        OptimizerSpec(
            "sgd",
            "SGD",
            "#1f77b4",
            r"\theta_{t+1} = \theta_t - \eta\, g_t",
            "Steps straight down the gradient; the step is proportional to the slope, so it crawls on plateaus "
            "and zigzags across ravines.",
            "沿梯度方向直线下降；步长与坡度成正比，所以在平坦处爬行，在峡谷中来回折返。",
            1e-3,
        ),
        OptimizerSpec(
            "momentum",
            "Momentum",
            "#ff7f0e",
            r"v_{t+1} = \mu\, v_t - \eta\, g_t \qquad \theta_{t+1} = \theta_t + v_{t+1}",
            "Accumulates velocity: fast along consistent slopes, but it overshoots the minimum and oscillates "
            "before settling.",
            "累积速度 (velocity)：坡度方向一致时越走越快，但会冲过极小值，来回振荡后才停下。",
            1e-3,
        ),
        OptimizerSpec(
            "nesterov",
            "Nesterov",
            "#2ca02c",
            r"v_{t+1} = \mu\, v_t - \eta\, g_t \qquad \theta_{t+1} = \theta_t + \mu\, v_{t+1} - \eta\, g_t",
            "Momentum with a look-ahead correction: it brakes earlier, so it overshoots less than plain momentum.",
            "带前瞻修正的动量 (momentum)：更早刹车，比普通动量冲过头更少。",
            1e-3,
        ),
        OptimizerSpec(
            "adagrad",
            "Adagrad",
            "#d62728",
            r"G_t = G_{t-1} + g_t^2 \qquad \theta_{t+1} = \theta_t - \frac{\eta\, g_t}{\sqrt{G_t + \epsilon}}"
            r"\quad (G_0 = 0.1)",
            "Divides each coordinate's step by the root of all its past squared gradients: steps shrink for ever, "
            "so it can stop short of the minimum.",
            "每个坐标的步长除以其历史梯度平方和的平方根：步长单调变小，可能还没到极小值就停下。",
            0.1,
        ),
        OptimizerSpec(
            "rmsprop",
            "RMSprop",
            "#9467bd",
            r"s_t = \rho\, s_{t-1} + (1 - \rho)\, g_t^2 \qquad "
            r"\theta_{t+1} = \theta_t - \frac{\eta\, g_t}{\sqrt{s_t + \epsilon}}",
            "Like Adagrad with a moving average instead of a sum: the step size stays alive; near the minimum it "
            "jitters by about the learning rate.",
            "类似 Adagrad，但用滑动平均代替累加：步长不会衰减到零；在极小值附近以约等于学习率的幅度抖动。",
            1e-3,
        ),
        OptimizerSpec(
            "adam",
            "Adam",
            "#8c564b",
            r"m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \quad "
            r"\hat m_t = \frac{m_t}{1 - \beta_1^t} \quad \hat v_t = \frac{v_t}{1 - \beta_2^t} \quad "
            r"\theta_{t+1} = \theta_t - \frac{\eta\, \hat m_t}{\sqrt{\hat v_t} + \hat\epsilon}",
            "Momentum plus a per-coordinate scale: the first steps have length about the learning rate in every "
            "coordinate whatever the gradient's size (it normalises per coordinate), so the path starts at 45°.",
            "动量加上逐坐标缩放：无论梯度大小，最初几步在每个坐标上的长度都约等于学习率（逐坐标归一化），所以路径以 45° 出发。",
            1e-3,
        ),
        OptimizerSpec(
            "adamw",
            "AdamW",
            "#e377c2",
            r"\theta_t \leftarrow \theta_t - \eta\, \lambda\, \theta_t \quad \text{then the Adam step}",
            "Adam with decoupled weight decay: every step also pulls the weights towards zero by a fraction "
            "η·λ, which shifts where it settles when the minimum is not at the origin.",
            "带解耦权重衰减 (decoupled weight decay) 的 Adam：每一步还把权重按比例 η·λ 拉向零；极小值不在原点时，停下的位置会偏移。",
            1e-3,
        ),
        OptimizerSpec(
            "nadam",
            "Nadam",
            "#17becf",
            r"\hat m_t = \frac{\mu_{t+1} m_t}{1 - \prod_{i \le t+1} \mu_i} + \frac{(1 - \mu_t)\, g_t}"
            r"{1 - \prod_{i \le t} \mu_i} \quad \mu_t = \beta_1 (1 - \tfrac12 0.96^{t}) \quad "
            r"\theta_{t+1} = \theta_t - \frac{\eta\, \hat m_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}",
            "Adam with Nesterov's look-ahead on the momentum term: it reacts to a turn one step earlier than Adam.",
            "在动量项上加入 Nesterov 前瞻的 Adam：遇到转弯时比 Adam 早一步做出反应。",
            1e-3,
        ),
    )
}


def build_optimizer(key: str, learning_rate: float, params):
    import keras

    rate = float(learning_rate)
    if key == "sgd":
        return keras.optimizers.SGD(rate)
    if key in ("momentum", "nesterov"):
        return keras.optimizers.SGD(rate, momentum=params.momentum, nesterov=key == "nesterov")
    if key == "adagrad":
        return keras.optimizers.Adagrad(rate, epsilon=params.epsilon)
    if key == "rmsprop":
        return keras.optimizers.RMSprop(rate, rho=params.rho, epsilon=params.epsilon)
    adam_args = {"beta_1": params.beta_1, "beta_2": params.beta_2, "epsilon": params.epsilon}
    if key == "adam":
        return keras.optimizers.Adam(rate, **adam_args)
    if key == "adamw":
        return keras.optimizers.AdamW(rate, weight_decay=params.weight_decay, **adam_args)
    return keras.optimizers.Nadam(rate, **adam_args)


def race(function: TestFunction, optimizers: list, start: tuple[float, float], steps: int):
    """Run every Keras optimizer in `optimizers` for `steps` steps from `start`, all in one compiled loop.

    Each optimizer updates its own 2-element float32 variable with `apply_gradients`, exactly as
    in `model.fit`; the whole loop (8 optimizers x 500 steps) is one `tf.function` call.
    Returns (paths [n, steps + 1, 2], gradients [n, steps, 2]) as float32 arrays.
    """
    import keras
    import tensorflow as tf

    positions = [
        keras.Variable(np.asarray(start, np.float32), name=f"position_{i}") for i in range(len(optimizers))
    ]
    for optimizer, position in zip(optimizers, positions, strict=True):
        optimizer.build([position])

    def run_all(n_steps):
        path = tf.TensorArray(tf.float32, size=n_steps + 1).write(0, tf.stack([p.value for p in positions]))
        grads_seen = tf.TensorArray(tf.float32, size=n_steps)
        for step in tf.range(n_steps):
            with tf.GradientTape() as tape:
                # The optimizers are independent, so the gradient of the sum is each one's own gradient.
                total = tf.add_n([function.formula(p.value[0], p.value[1], tf.math) for p in positions])
            gradients = tape.gradient(total, [p.value for p in positions])
            for optimizer, gradient, position in zip(optimizers, gradients, positions, strict=True):
                optimizer.apply_gradients([(gradient, position)])
            grads_seen = grads_seen.write(step, tf.stack(gradients))
            path = path.write(step + 1, tf.stack([p.value for p in positions]))
        return path.stack(), grads_seen.stack()

    # Every race has new optimizers, so it needs a new graph. Tracing it explicitly (rather than on a
    # first call) keeps TensorFlow from warning about retracing when the dashboard reruns the race.
    compiled = tf.function(run_all).get_concrete_function(tf.TensorSpec((), tf.int32))
    paths, gradients = compiled(tf.constant(int(steps)))
    return np.transpose(paths.numpy(), (1, 0, 2)), np.transpose(gradients.numpy(), (1, 0, 2))


def first_divergence(path: np.ndarray) -> int:
    bad = ~np.isfinite(path).all(axis=1) | (np.abs(path).max(axis=1, initial=0) > DIVERGED_MAGNITUDE)
    return int(np.argmax(bad)) if bad.any() else -1
