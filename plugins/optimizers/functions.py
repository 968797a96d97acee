"""The optimizer race's 2-D test functions: `TestFunction` (formula, domain, start point, known
minima, tuned learning rates, notes in English and Chinese), the six functions in `FUNCTIONS`, the
plotted domain (widened to show a custom start point) and the function's values on a grid over it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np


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


def plot_ranges(spec: TestFunction, start) -> tuple[tuple[float, float], tuple[float, float]]:
    """The function's usual domain, widened to show a custom start point that lies outside it."""
    ranges = []
    for (low, high), value in ((spec.x_range, start[0]), (spec.y_range, start[1])):
        margin = 0.05 * (high - low)
        ranges.append((min(low, value - margin), max(high, value + margin)))
    return ranges[0], ranges[1]


def function_grid(
    spec: TestFunction, x_range, y_range, points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.linspace(*x_range, points)
    y = np.linspace(*y_range, points)
    xx, yy = np.meshgrid(x, y)
    return x, y, spec.formula(xx, yy, np)
