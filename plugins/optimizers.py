"""The optimizer race: the real Keras optimizers side by side on classic 2-D test functions."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import tr

# ----------------------------------------------------------------------------- the test functions


@dataclasses.dataclass(frozen=True)
class TestFunction:
    """A 2-D test function with what the race needs to show it: formula, domain, start, tuned rates.

    `formula(x, y, math)` works on numpy arrays (math=numpy) and on TensorFlow tensors
    (math=tf.math), so the plotted surface and the gradients the optimizers see are one formula.
    `tuned_rates` are learning rates that show each optimizer's character on this function
    within a few hundred steps (not its best possible rate).
    """

    key: str
    title: str
    title_zh: str
    latex: str
    text: str
    formula: Callable
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    min_value: float | None
    tuned_rates: dict[str, float]
    note: str
    note_zh: str

    __test__ = False  # a pytest collector must not mistake this class for tests


def _rosenbrock(x, y, m):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _beale(x, y, m):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def _himmelblau(x, y, m):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def _saddle(x, y, m):
    return x * x - y * y


def _ravine(x, y, m):
    return 0.1 * x * x + 2 * y * y


def _rastrigin(x, y, m):
    return 20 + x * x - 10 * m.cos(2 * math.pi * x) + y * y - 10 * m.cos(2 * math.pi * y)


FUNCTIONS: dict[str, TestFunction] = {
    spec.key: spec
    for spec in (
        TestFunction(
            key="rosenbrock",
            title="Rosenbrock",
            title_zh="Rosenbrock 函数",
            latex=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
            text="f(x, y) = (1 − x)² + 100 (y − x²)²",
            formula=_rosenbrock,
            x_range=(-2.0, 2.0),
            y_range=(-1.0, 3.0),
            start=(-1.5, 2.5),
            minima=((1.0, 1.0),),
            min_value=0.0,
            tuned_rates={
                "sgd": 0.002,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.1,
                "rmsprop": 0.05,
                "adam": 0.1,
                "adamw": 0.1,
                "nadam": 0.1,
            },
            note="A curved, flat-bottomed valley: finding it is easy, following it to (1, 1) is slow.",
            note_zh="弯曲而平坦的山谷：找到谷底很容易，沿着谷底走到 (1, 1) 却很慢。",
        ),
        TestFunction(
            key="beale",
            title="Beale",
            title_zh="Beale 函数",
            latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
            text="f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            formula=_beale,
            x_range=(-4.5, 4.5),
            y_range=(-4.5, 4.5),
            start=(1.0, 1.5),
            minima=((3.0, 0.5),),
            min_value=0.0,
            tuned_rates={
                "sgd": 0.01,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.5,
                "rmsprop": 0.01,
                "adam": 0.1,
                "adamw": 0.1,
                "nadam": 0.1,
            },
            note="Flat plateaus and steep walls: gradients differ by orders of magnitude across the plot.",
            note_zh="平坦的高原与陡峭的峭壁并存：图中各处的梯度相差好几个数量级。",
        ),
        TestFunction(
            key="himmelblau",
            title="Himmelblau",
            title_zh="Himmelblau 函数",
            latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            text="f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
            formula=_himmelblau,
            x_range=(-5.0, 5.0),
            y_range=(-5.0, 5.0),
            start=(-0.3, -0.9),
            minima=((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            min_value=0.0,
            tuned_rates={
                "sgd": 5e-3,
                "momentum": 1e-3,
                "nesterov": 1e-3,
                "adagrad": 0.5,
                "rmsprop": 0.03,
                "adam": 0.1,
                "adamw": 0.1,
                "nadam": 0.1,
            },
            note="Four equally good minima: from one start point, different optimizers can end in different ones.",
            note_zh="四个同样好的极小值：从同一起点出发，不同的优化器可能落入不同的极小值。",
        ),
        TestFunction(
            key="saddle",
            title="Saddle",
            title_zh="鞍点",
            latex=r"f(x, y) = x^2 - y^2",
            text="f(x, y) = x² − y²",
            formula=_saddle,
            x_range=(-1.5, 1.5),
            y_range=(-1.5, 1.5),
            start=(1.2, 1e-3),
            minima=((0.0, 0.0),),
            min_value=None,
            tuned_rates={
                "sgd": 0.01,
                "momentum": 0.001,
                "nesterov": 0.001,
                "adagrad": 0.05,
                "rmsprop": 0.005,
                "adam": 0.005,
                "adamw": 0.005,
                "nadam": 0.005,
            },
            note=(
                "No minimum, only a saddle point at (0, 0) (marked): the downhill direction y has a tiny gradient "
                "near the start, so plain gradient descent lingers at the saddle."
            ),
            note_zh="没有极小值，只有 (0, 0) 处的鞍点 (saddle point，已标出)：起点附近下坡方向 y 的梯度极小，普通梯度下降会在鞍点附近徘徊。",
        ),
        TestFunction(
            key="ravine",
            title="Ill-conditioned quadratic (ravine)",
            title_zh="病态二次函数（峡谷）",
            latex=r"f(x, y) = 0.1\,x^2 + 2\,y^2",
            text="f(x, y) = 0.1 x² + 2 y²",
            formula=_ravine,
            x_range=(-5.0, 5.0),
            y_range=(-2.5, 2.5),
            start=(-4.5, 2.0),
            minima=((0.0, 0.0),),
            min_value=0.0,
            tuned_rates={
                "sgd": 0.45,
                "momentum": 0.1,
                "nesterov": 0.1,
                "adagrad": 1.0,
                "rmsprop": 0.05,
                "adam": 0.1,
                "adamw": 0.1,
                "nadam": 0.1,
            },
            note=(
                "Convex, but 20 times steeper along y than along x (condition number 20): a learning rate "
                "large enough for x makes y zigzag."
            ),
            note_zh="凸函数，但 y 方向比 x 方向陡 20 倍（条件数 (condition number) 为 20）：对 x 足够大的学习率会让 y 来回震荡。",
        ),
        TestFunction(
            key="rastrigin",
            title="Rastrigin",
            title_zh="Rastrigin 函数",
            latex=r"f(x, y) = 20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)",
            text="f(x, y) = 20 + x² − 10 cos(2πx) + y² − 10 cos(2πy)",
            formula=_rastrigin,
            x_range=(-5.12, 5.12),
            y_range=(-5.12, 5.12),
            start=(-3.2, 2.6),
            minima=((0.0, 0.0),),
            min_value=0.0,
            tuned_rates={
                "sgd": 0.002,
                "momentum": 0.01,
                "nesterov": 0.005,
                "adagrad": 1.0,
                "rmsprop": 0.5,
                "adam": 0.1,
                "adamw": 0.1,
                "nadam": 0.1,
            },
            note="Dozens of local minima around the global one at (0, 0): gradient methods stop in the nearest basin.",
            note_zh="全局极小值 (0, 0) 周围有几十个局部极小值 (local minima)：梯度方法会停在最近的盆地里。",
        ),
    )
}

# ----------------------------------------------------------------------------- the optimizers


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


def _build_optimizer(key: str, learning_rate: float, params):
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


# ----------------------------------------------------------------------------- the result


@dataclasses.dataclass(frozen=True)
class RaceResult:
    """The race on one function: the function on a grid and every optimizer's path (picklable)."""

    function: str
    start: np.ndarray
    steps: int
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    optimizers: tuple[str, ...]
    learning_rates: tuple[float, ...]
    hyperparameters: tuple[tuple[str, float], ...]
    paths: np.ndarray
    losses: np.ndarray
    gradients: np.ndarray
    diverged_at: tuple[int, ...]

    @property
    def spec(self) -> TestFunction:
        return FUNCTIONS[self.function]

    @property
    def x_range(self) -> list[float]:
        return [float(self.x[0]), float(self.x[-1])]

    @property
    def y_range(self) -> list[float]:
        return [float(self.y[0]), float(self.y[-1])]


GRID_POINTS = 160
SURFACE_POINTS = 70
MAX_FRAMES = 30
MAX_TRAIL_POINTS = 120
DIVERGED_MAGNITUDE = 1e6
CONTOUR_DELTA = 1e-5
SURFACE_DELTA = 1e-3


def _plot_ranges(spec: TestFunction, start) -> tuple[tuple[float, float], tuple[float, float]]:
    """The function's usual domain, widened to show a custom start point that lies outside it."""
    ranges = []
    for (low, high), value in ((spec.x_range, start[0]), (spec.y_range, start[1])):
        margin = 0.05 * (high - low)
        ranges.append((min(low, value - margin), max(high, value + margin)))
    return ranges[0], ranges[1]


def _grid(spec: TestFunction, x_range, y_range, points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.linspace(*x_range, points)
    y = np.linspace(*y_range, points)
    xx, yy = np.meshgrid(x, y)
    return x, y, spec.formula(xx, yy, np)


def _first_divergence(path: np.ndarray) -> int:
    bad = ~np.isfinite(path).all(axis=1) | (np.abs(path).max(axis=1, initial=0) > DIVERGED_MAGNITUDE)
    return int(np.argmax(bad)) if bad.any() else -1


_RATE_PARAM = {key: f"lr_{key}" for key in OPTIMIZERS}


def _rate_param(key: str, default: float):
    label = OPTIMIZERS[key].label
    return dlviz.param(
        default,
        label=f"{label} learning rate",
        label_zh=f"{label} 学习率 (learning rate)",
        help=f"Learning rate of {label} when 'Tuned learning rates' is off.",
        help_zh=f"关闭“预调学习率”时 {label} 使用的学习率。",
        min=1e-5,
        max=10.0,
        log=True,
    )


class Optimizers(dlviz.Plugin):
    """An optimizer race: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW and Nadam (the real Keras optimizers) start from one point on a classic 2-D test function; watch their paths on the contour map, their loss per step, and the 3-D surface.

    简介：优化器赛跑：SGD、动量 (momentum)、Nesterov、Adagrad、RMSprop、Adam、AdamW 和 Nadam（真正的 Keras 优化器）从同一点出发，在经典二维测试函数上下降；在等高线图上看它们的路径，看每一步的损失 (loss)，再看三维曲面。

    What to look for: momentum overshoots and oscillates before settling; Adagrad's steps shrink until it
    stalls; Adam and RMSprop normalise each coordinate, so their first steps have the same length in x
    and y (a 45° start) whatever the gradient; in a ravine plain SGD zigzags across the steep direction;
    at a saddle point SGD lingers while adaptive methods escape; on Rastrigin everyone stops in a local minimum.
    A learning rate that is too large makes a path explode (it is cut where it diverged).

    观察要点：动量 (momentum) 会冲过头并来回振荡后才稳定；Adagrad 的步长不断缩小直至停滞；Adam 与 RMSprop
    对每个坐标归一化，无论梯度大小，最初几步在 x 与 y 方向长度相同（以 45° 出发）；在峡谷 (ravine) 中普通 SGD
    在陡峭方向上来回折返；在鞍点 (saddle point) 处 SGD 徘徊不前，而自适应方法能逃离；在 Rastrigin 函数上所有方法都停在局部极小值。
    学习率过大会让路径发散（在发散处截断）。

    >>> import dlviz
    >>> figures = dlviz.figures("optimizers", function="ravine", steps=50)
    >>> [figure.layout.title.text.split(":")[0] for figure in figures]
    ['Optimizer race', 'Loss per step', '3-D surface']
    """

    name = "optimizers"
    title = "Optimizer race"
    title_zh = "优化器赛跑"
    section = "Optimization"
    requires = frozenset()

    @dataclasses.dataclass(frozen=True)
    class Params:
        function: str = dlviz.param(
            "rosenbrock",
            label="Test function",
            label_zh="测试函数",
            help="The 2-D function the optimizers minimise.",
            help_zh="优化器要最小化的二维函数。",
            choices=tuple(FUNCTIONS),
        )
        optimizers: tuple = dlviz.param(
            tuple(OPTIMIZERS),
            label="Optimizers",
            label_zh="优化器",
            help="Which Keras optimizers race.",
            help_zh="参加比赛的 Keras 优化器。",
            choices=tuple(OPTIMIZERS),
            multiple=True,
        )
        steps: int = dlviz.param(
            500,
            label="Steps",
            label_zh="步数",
            help="Optimizer updates per contestant.",
            help_zh="每个优化器的更新步数。",
            min=1,
            max=3000,
            step=10,
        )
        tuned_rates: bool = dlviz.param(
            True,
            label="Tuned learning rates",
            label_zh="预调学习率",
            help="Use learning rates chosen to show each optimizer's character on this function; untick to set your own.",
            help_zh="使用为该函数预先挑选、能体现各优化器特点的学习率；取消勾选后可自行设置。",
        )
        lr_sgd: float = _rate_param("sgd", OPTIMIZERS["sgd"].default_rate)
        lr_momentum: float = _rate_param("momentum", OPTIMIZERS["momentum"].default_rate)
        lr_nesterov: float = _rate_param("nesterov", OPTIMIZERS["nesterov"].default_rate)
        lr_adagrad: float = _rate_param("adagrad", OPTIMIZERS["adagrad"].default_rate)
        lr_rmsprop: float = _rate_param("rmsprop", OPTIMIZERS["rmsprop"].default_rate)
        lr_adam: float = _rate_param("adam", OPTIMIZERS["adam"].default_rate)
        lr_adamw: float = _rate_param("adamw", OPTIMIZERS["adamw"].default_rate)
        lr_nadam: float = _rate_param("nadam", OPTIMIZERS["nadam"].default_rate)
        momentum: float = dlviz.param(
            0.9,
            label="Momentum μ",
            label_zh="动量系数 μ (momentum)",
            help="Momentum of 'Momentum' and 'Nesterov' (SGD's momentum argument).",
            help_zh="“Momentum”和“Nesterov”的动量系数（SGD 的 momentum 参数）。",
            min=0.0,
            max=0.999,
            step=0.01,
        )
        rho: float = dlviz.param(
            0.9,
            label="RMSprop ρ",
            label_zh="RMSprop 衰减率 ρ (rho)",
            help="Decay of RMSprop's moving average of squared gradients.",
            help_zh="RMSprop 梯度平方滑动平均的衰减率。",
            min=0.0,
            max=0.999,
            step=0.01,
        )
        beta_1: float = dlviz.param(
            0.9,
            label="β₁ (Adam, AdamW, Nadam)",
            label_zh="β₁（Adam、AdamW、Nadam）",
            help="Decay of the first-moment (mean gradient) estimate.",
            help_zh="一阶矩（梯度均值）估计的衰减率。",
            min=0.0,
            max=0.999,
            step=0.01,
        )
        beta_2: float = dlviz.param(
            0.999,
            label="β₂ (Adam, AdamW, Nadam)",
            label_zh="β₂（Adam、AdamW、Nadam）",
            help="Decay of the second-moment (squared gradient) estimate.",
            help_zh="二阶矩（梯度平方）估计的衰减率。",
            min=0.0,
            max=0.99999,
            step=0.0001,
        )
        epsilon: float = dlviz.param(
            1e-7,
            label="ε (adaptive optimizers)",
            label_zh="ε（自适应优化器）",
            help="Small constant in the denominators of Adagrad, RMSprop, Adam, AdamW and Nadam.",
            help_zh="Adagrad、RMSprop、Adam、AdamW 和 Nadam 分母中的小常数。",
            min=1e-10,
            max=1.0,
            log=True,
        )
        weight_decay: float = dlviz.param(
            0.004,
            label="AdamW weight decay λ",
            label_zh="AdamW 权重衰减 λ (weight decay)",
            help="Fraction of the weights AdamW removes per step, times the learning rate.",
            help_zh="AdamW 每一步按学习率倍数从权重中减去的比例。",
            min=0.0,
            max=1.0,
            step=0.001,
        )
        custom_start: bool = dlviz.param(
            False,
            label="Custom start point",
            label_zh="自定义起点",
            help="Start from (start x, start y) instead of the function's usual start point.",
            help_zh="从 (起点 x, 起点 y) 出发，而不是该函数的默认起点。",
        )
        start_x: float = dlviz.param(
            -1.5,
            label="Start x",
            label_zh="起点 x",
            help="Used with 'Custom start point'.",
            min=-10.0,
            max=10.0,
        )
        start_y: float = dlviz.param(
            2.5,
            label="Start y",
            label_zh="起点 y",
            help="Used with 'Custom start point'.",
            min=-10.0,
            max=10.0,
        )

    def compute(self, ctx: dlviz.Context, params) -> RaceResult:
        spec = FUNCTIONS[params.function]
        keys = [key for key in OPTIMIZERS if key in set(params.optimizers)]
        if not keys:
            raise ParamsError("No optimizer selected.", "pick at least one optimizer.")
        rates = [
            spec.tuned_rates[key] if params.tuned_rates else getattr(params, _RATE_PARAM[key]) for key in keys
        ]
        start = (params.start_x, params.start_y) if params.custom_start else spec.start
        try:
            optimizers = [_build_optimizer(key, rate, params) for key, rate in zip(keys, rates, strict=True)]
        except ValueError as exc:
            raise ParamsError(
                f"Keras refused an optimizer setting: {exc}", "check the hyperparameters."
            ) from exc
        ctx.report(0.1, "running the optimizers")
        try:
            paths, gradients = race(spec, optimizers, start, params.steps)
        except Exception as exc:
            raise PluginError(f"The optimizer race failed: {type(exc).__name__}: {exc}") from exc
        diverged = tuple(_first_divergence(path) for path in paths)
        for path, step in zip(paths, diverged, strict=True):
            if step >= 0:
                path[step:] = np.nan
        with np.errstate(all="ignore"):
            losses = spec.formula(paths[..., 0].astype(np.float64), paths[..., 1].astype(np.float64), np)
        x, y, z = _grid(spec, *_plot_ranges(spec, start), GRID_POINTS)
        ctx.report(1.0, "done")
        return RaceResult(
            function=spec.key,
            start=np.asarray(start, np.float32),
            steps=int(params.steps),
            x=x,
            y=y,
            z=z,
            optimizers=tuple(keys),
            learning_rates=tuple(float(rate) for rate in rates),
            hyperparameters=(
                ("momentum", params.momentum),
                ("rho", params.rho),
                ("beta_1", params.beta_1),
                ("beta_2", params.beta_2),
                ("epsilon", params.epsilon),
                ("weight_decay", params.weight_decay),
            ),
            paths=paths,
            losses=losses,
            gradients=gradients,
            diverged_at=diverged,
        )

    # ------------------------------------------------------------------------- figures

    def figures(self, result: RaceResult, language: str = "en") -> list[go.Figure]:
        return [
            self._contour_figure(result, language),
            self._loss_figure(result, language),
            self._surface_figure(result, language),
        ]

    def _contour_figure(self, result: RaceResult, language: str) -> go.Figure:
        spec = result.spec
        height = _Heights.of(result, CONTOUR_DELTA)
        colors = {"colorscale": "Viridis"} if height.log else {"colorscale": "RdBu_r", "zmid": 0.0}
        figure = go.Figure()
        figure.add_trace(
            go.Contour(
                x=_rounded(result.x),
                y=_rounded(result.y),
                z=_rounded(height(result.z)),
                **colors,
                ncontours=30,
                contours={"coloring": "heatmap", "showlines": True},
                line={"width": 0.5, "color": "rgba(255,255,255,0.35)"},
                colorbar={
                    "title": {
                        "text": tr(language, "f(x, y) (log scale)", "f(x, y)（对数刻度）")
                        if height.log
                        else "f(x, y)"
                    },
                    **height.ticks(float(np.nanmax(result.z))),
                },
                name="f(x, y)",
                hovertemplate="x=%{x:.3f}<br>y=%{y:.3f}<extra></extra>",
                showlegend=False,
            )
        )
        minima = np.asarray(spec.minima)
        saddle = spec.min_value is None
        figure.add_trace(
            go.Scatter(
                x=minima[:, 0].tolist(),
                y=minima[:, 1].tolist(),
                mode="markers",
                marker={
                    "symbol": "x" if saddle else "star",
                    "size": 16,
                    "color": "white",
                    "line": {"width": 1.5},
                },
                name=tr(language, "saddle point", "鞍点") if saddle else tr(language, "minimum", "极小值"),
            )
        )
        figure.add_trace(
            go.Scatter(
                x=[float(result.start[0])],
                y=[float(result.start[1])],
                mode="markers",
                marker={
                    "symbol": "circle",
                    "size": 12,
                    "color": "white",
                    "line": {"width": 2, "color": "black"},
                },
                name=tr(language, "start", "起点"),
            )
        )
        frame_steps = _frame_steps(result.steps)
        first_path_trace = len(figure.data)
        for index, key in enumerate(result.optimizers):
            label = self._label(result, index)
            color = OPTIMIZERS[key].color
            path = result.paths[index]
            figure.add_trace(
                go.Scatter(
                    x=_rounded(path[:, 0]),
                    y=_rounded(path[:, 1]),
                    mode="lines",
                    line={"color": color, "width": 2},
                    name=label,
                    legendgroup=key,
                    hovertemplate=f"{OPTIMIZERS[key].label}<br>x=%{{x:.4f}}<br>y=%{{y:.4f}}<extra></extra>",
                )
            )
            figure.add_trace(
                go.Scatter(
                    x=_rounded(path[-1:, 0]),
                    y=_rounded(path[-1:, 1]),
                    mode="markers",
                    marker={"color": color, "size": 10, "line": {"color": "white", "width": 1}},
                    legendgroup=key,
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
        path_traces = list(range(first_path_trace, len(figure.data)))
        figure.frames = [
            go.Frame(name=str(step), data=self._frame_data(result, step), traces=path_traces)
            for step in frame_steps
        ]
        play = tr(language, "Play", "播放")
        pause = tr(language, "Pause", "暂停")
        figure.update_layout(
            title=tr(language, "Optimizer race: ", "优化器赛跑：") + f"{_title(spec, language)}, {spec.text}",
            xaxis={"title": {"text": "x"}, "range": result.x_range, "constrain": "domain"},
            yaxis={"title": {"text": "y"}, "range": result.y_range},
            legend={"orientation": "h", "x": 0.0, "y": 1.02, "yanchor": "bottom"},
            height=680,
            updatemenus=[
                {
                    "type": "buttons",
                    "showactive": False,
                    "x": 0.0,
                    "y": -0.12,
                    "xanchor": "left",
                    "direction": "left",
                    "buttons": [
                        {
                            "label": f"▶ {play}",
                            "method": "animate",
                            "args": [
                                None,
                                {
                                    "frame": {"duration": 120, "redraw": False},
                                    "fromcurrent": True,
                                    "mode": "immediate",
                                },
                            ],
                        },
                        {
                            "label": f"❚❚ {pause}",
                            "method": "animate",
                            "args": [
                                [None],
                                {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                            ],
                        },
                    ],
                }
            ],
            sliders=[
                {
                    "active": len(frame_steps) - 1,
                    "x": 0.22,
                    "y": -0.08,
                    "len": 0.78,
                    "currentvalue": {"prefix": tr(language, "step ", "步数 "), "font": {"size": 13}},
                    "font": {"size": 9},
                    "steps": [
                        {
                            "label": str(step),
                            "method": "animate",
                            "args": [
                                [str(step)],
                                {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                            ],
                        }
                        for step in frame_steps
                    ],
                }
            ],
            margin={"t": 140, "b": 120},
        )
        return figure

    def _frame_data(self, result: RaceResult, step: int) -> list[go.Scatter]:
        data = []
        for path in result.paths:
            trail = path[: step + 1]
            if len(trail) > MAX_TRAIL_POINTS:
                keep = np.unique(np.linspace(0, len(trail) - 1, MAX_TRAIL_POINTS).round().astype(int))
                trail = trail[keep]
            data.append(go.Scatter(x=_rounded(trail[:, 0]), y=_rounded(trail[:, 1])))
            data.append(
                go.Scatter(x=_rounded(path[step : step + 1, 0]), y=_rounded(path[step : step + 1, 1]))
            )
        return data

    def _loss_figure(self, result: RaceResult, language: str) -> go.Figure:
        spec = result.spec
        steps = np.arange(result.steps + 1)
        figure = go.Figure()
        log_gap = spec.min_value is not None
        for index, key in enumerate(result.optimizers):
            values = result.losses[index] - spec.min_value if log_gap else result.losses[index]
            if log_gap:
                values = np.maximum(values, 1e-12)
            figure.add_trace(
                go.Scatter(
                    x=steps.tolist(),
                    y=_rounded(values),
                    mode="lines",
                    name=self._label(result, index),
                    line={"color": OPTIMIZERS[key].color},
                )
            )
        y_title = (
            tr(language, "f(x, y) − f(minimum) (log scale)", "f(x, y) − f(极小值)（对数坐标）")
            if log_gap
            else "f(x, y)"
        )
        # On the saddle the loss falls without bound once a path escapes; show the plotted region's values.
        y_range = (
            None
            if log_gap
            else [1.1 * float(np.nanmin(result.z)), 1.1 * float(np.nanmax(result.losses[:, 0]))]
        )
        figure.update_layout(
            title=tr(language, "Loss per step: ", "每步损失：") + _title(spec, language),
            xaxis_title=tr(language, "step (optimizer updates)", "步数（优化器更新次数）"),
            yaxis={
                "title": {"text": y_title},
                "type": "log" if log_gap else "linear",
                "exponentformat": "power",
                "range": y_range,
            },
            legend_title_text=tr(language, "optimizer (learning rate)", "优化器（学习率）"),
        )
        return figure

    def _surface_figure(self, result: RaceResult, language: str) -> go.Figure:
        spec = result.spec
        height = _Heights.of(result, SURFACE_DELTA)
        x, y, z = _grid(spec, result.x_range, result.y_range, SURFACE_POINTS)
        lift = 0.01 * float(np.ptp(height(z)))
        figure = go.Figure(
            go.Surface(
                x=_rounded(x),
                y=_rounded(y),
                z=_rounded(height(z)),
                **({"colorscale": "Viridis"} if height.log else {"colorscale": "RdBu_r", "cmid": 0.0}),
                opacity=0.85,
                showscale=False,
                name="f(x, y)",
                hoverinfo="skip",
            )
        )
        for index, key in enumerate(result.optimizers):
            path = result.paths[index]
            keep = np.unique(np.linspace(0, len(path) - 1, min(len(path), 300)).round().astype(int))
            path = path[keep]
            inside = (
                (path[:, 0] >= result.x_range[0])
                & (path[:, 0] <= result.x_range[1])
                & (path[:, 1] >= result.y_range[0])
                & (path[:, 1] <= result.y_range[1])
            )
            path = np.where(inside[:, None], path, np.nan)
            with np.errstate(all="ignore"):
                lifted = (
                    height(spec.formula(path[:, 0].astype(np.float64), path[:, 1].astype(np.float64), np))
                    + lift
                )
            figure.add_trace(
                go.Scatter3d(
                    x=_rounded(path[:, 0]),
                    y=_rounded(path[:, 1]),
                    z=_rounded(lifted),
                    mode="lines",
                    line={"color": OPTIMIZERS[key].color, "width": 5},
                    name=self._label(result, index),
                )
            )
        minima = np.asarray(spec.minima)
        figure.add_trace(
            go.Scatter3d(
                x=minima[:, 0].tolist(),
                y=minima[:, 1].tolist(),
                z=_rounded(height(spec.formula(minima[:, 0], minima[:, 1], np)) + lift),
                mode="markers",
                marker={
                    "symbol": "diamond",
                    "size": 5,
                    "color": "white",
                    "line": {"width": 1, "color": "black"},
                },
                name=tr(language, "saddle point", "鞍点")
                if spec.min_value is None
                else tr(language, "minimum", "极小值"),
            )
        )
        figure.update_layout(
            title=tr(language, "3-D surface: ", "三维曲面：") + _title(spec, language),
            scene={
                "xaxis": {"title": {"text": "x"}, "range": result.x_range},
                "yaxis": {"title": {"text": "y"}, "range": result.y_range},
                "zaxis": {
                    "title": {
                        "text": tr(language, "f(x, y) (log scale)", "f(x, y)（对数刻度）")
                        if height.log
                        else "f(x, y)"
                    },
                    **height.ticks(float(np.nanmax(z))),
                },
                "camera": {"eye": {"x": -1.2, "y": -1.6, "z": 1.5}},
            },
            legend_title_text=tr(language, "optimizer (learning rate)", "优化器（学习率）"),
            height=640,
        )
        return figure

    @staticmethod
    def _label(result: RaceResult, index: int) -> str:
        key = result.optimizers[index]
        return f"{OPTIMIZERS[key].label} (η={result.learning_rates[index]:g})"

    # ------------------------------------------------------------------------- diagnosis and teaching

    def diagnose(self, result: RaceResult) -> list[dlviz.Finding]:
        return [self._finding(result, index) for index in range(len(result.optimizers))]

    @staticmethod
    def _finding(result: RaceResult, index: int) -> dlviz.Finding:
        spec = result.spec
        label = OPTIMIZERS[result.optimizers[index]].label
        rate = result.learning_rates[index]
        diverged = result.diverged_at[index]
        span = math.hypot(spec.x_range[1] - spec.x_range[0], spec.y_range[1] - spec.y_range[0])
        end = result.paths[index, -1].astype(np.float64)
        distance = float(np.min(np.hypot(*(np.asarray(spec.minima) - end).T)))
        if spec.min_value is None:  # the saddle: running off downhill is the goal here
            if diverged < 0 and distance < 0.05 * span:
                return dlviz.Finding(
                    "warning",
                    f"{label} is still near the saddle point after {result.steps} steps.",
                    "Near a saddle the downhill gradient is tiny; momentum or an adaptive optimizer escapes faster.",
                    headline_zh=f"{label} 在 {result.steps} 步之后仍停留在鞍点 (saddle point) 附近。",
                    advice_zh="鞍点附近下坡方向的梯度极小；动量 (momentum) 或自适应优化器 (adaptive optimizer) 能更快逃离。",
                )
            return dlviz.Finding(
                "ok",
                f"{label} escaped the saddle point.",
                headline_zh=f"{label} 逃离了鞍点 (saddle point)。",
            )
        if diverged >= 0:
            return dlviz.Finding(
                "problem",
                f"{label} diverged at step {diverged} on {spec.title}.",
                f"Lower its learning rate (now {rate:g}), e.g. by a factor of 10.",
                step=diverged,
                headline_zh=f"{label} 在 {spec.title_zh} 上于第 {diverged} 步发散 (diverged)。",
                advice_zh=f"降低它的学习率 (learning rate)（当前为 {rate:g}），例如缩小 10 倍。",
            )
        if distance <= 0.01 * span:
            return dlviz.Finding(
                "ok",
                f"{label} reached a minimum (distance {distance:.2g}).",
                headline_zh=f"{label} 到达了极小值 (minimum)（距离 {distance:.2g}）。",
            )
        if np.hypot(*result.gradients[index, -1]) < 1e-2:
            return dlviz.Finding(
                "info",
                f"{label} stopped at a point {distance:.2g} away from any global minimum.",
                "A flat spot or a local minimum: gradient methods cannot see past it; try another start point.",
                headline_zh=f"{label} 停在了距任何全局极小值 (global minimum) 都有 {distance:.2g} 远的点上。",
                advice_zh="这是平坦区域或局部极小值 (local minimum)：梯度方法看不到它之外的地方；试试换一个起点。",
            )
        return dlviz.Finding(
            "info",
            f"{label} is still {distance:.2g} away from the nearest minimum after {result.steps} steps.",
            f"Give it more steps or a larger learning rate (now {rate:g}).",
            headline_zh=f"{label} 在 {result.steps} 步之后距最近的极小值 (minimum) 仍有 {distance:.2g}。",
            advice_zh=f"给它更多步数，或更大的学习率 (learning rate)（当前为 {rate:g}）。",
        )

    def render(self, st, ctx: dlviz.Context, result: RaceResult) -> None:
        spec = result.spec
        language = ctx.language
        st.latex(spec.latex)
        st.caption(tr(language, spec.note, spec.note_zh))
        for index, figure in enumerate(self.figures(result, language=language)):
            st.plotly_chart(figure, width="stretch", key=f"figure.{self.name}.{index}")
        title = tr(language, "Update rules (as Keras implements them)", "更新规则（Keras 的实现）")
        with st.expander(title, expanded=True):
            st.caption(
                tr(
                    language,
                    "g_t is the gradient at step t, η the learning rate.",
                    "g_t 为第 t 步的梯度，η 为学习率 (learning rate)。",
                )
            )
            for key in result.optimizers:
                optimizer = OPTIMIZERS[key]
                st.markdown(
                    f"**{optimizer.label}**: {tr(language, optimizer.teaching, optimizer.teaching_zh)}"
                )
                st.latex(optimizer.latex)


def _title(spec: TestFunction, language: str) -> str:
    return tr(language, spec.title, spec.title_zh)


def _frame_steps(steps: int) -> list[int]:
    return np.unique(np.linspace(0, steps, min(steps + 1, MAX_FRAMES)).round().astype(int)).tolist()


@dataclasses.dataclass(frozen=True)
class _Heights:
    """How f maps to contour levels and surface heights, with axis ticks labelled in f itself.

    Functions with a minimum are shown in log10(f − floor + δ), so the shallow valley around the
    minimum gets as many contour levels as the steep walls; `floor` is the lowest value plotted.
    A larger δ flattens the deepest part of the valley (the 3-D view uses one so the paths stay
    visible). The saddle, whose values are signed and unbounded below, is shown as it is.
    """

    floor: float
    delta: float
    log: bool

    @classmethod
    def of(cls, result: RaceResult, delta_fraction: float) -> _Heights:
        low, high = float(np.nanmin(result.z)), float(np.nanmax(result.z))
        if result.spec.min_value is None:
            return cls(floor=low, delta=0.0, log=False)
        floor = min(low, result.spec.min_value)
        return cls(floor=floor, delta=max((high - floor) * delta_fraction, 1e-12), log=True)

    def __call__(self, values) -> np.ndarray:
        values = np.asarray(values, np.float64)
        if not self.log:
            return values
        with np.errstate(all="ignore"):
            return np.log10(np.maximum(values - self.floor, 0.0) + self.delta)

    def ticks(self, top: float) -> dict:
        """Tick positions and labels for an axis or colour bar whose values run up to f = `top`."""
        if not self.log:
            return {}
        gaps = 10.0 ** np.arange(
            math.ceil(math.log10(self.delta)), math.ceil(math.log10(top - self.floor)) + 1
        )
        return {
            "tickvals": [float(v) for v in self(self.floor + gaps)],
            "ticktext": [f"{self.floor + gap:.3g}" for gap in gaps],
        }


def _rounded(values) -> list:
    """Plain floats with 5 significant digits (None for NaN), to keep the figures' JSON small."""
    array = np.asarray(values, np.float64)
    out = np.array(
        [float(f"{value:.5g}") if np.isfinite(value) else None for value in array.ravel()], dtype=object
    )
    return out.reshape(array.shape).tolist()
