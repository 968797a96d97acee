"""The optimizer race: the real Keras optimizers side by side on classic 2-D test functions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import tr
from plugins.optimizers.figures import contour_figure, loss_figure, surface_figure
from plugins.optimizers.functions import FUNCTIONS, TestFunction, function_grid, plot_ranges
from plugins.optimizers.race import OPTIMIZERS, build_optimizer, first_divergence, race
from plugins.optimizers.result import RaceResult

GRID_POINTS = 160
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


def _page(spec: TestFunction, keys) -> dlviz.Page:
    """The function's note and formula, then the update rule of each optimizer in the race."""
    notes = (
        dlviz.Note(spec.note, spec.note_zh),
        dlviz.Note(
            "g_t is the gradient at step t, η the learning rate.",
            "g_t 为第 t 步的梯度，η 为学习率 (learning rate)。",
        ),
    )
    rules = tuple(
        dlviz.Formula(
            f"{OPTIMIZERS[key].label}: {OPTIMIZERS[key].teaching}",
            f"{OPTIMIZERS[key].label}: {OPTIMIZERS[key].teaching_zh}",
            OPTIMIZERS[key].latex,
        )
        for key in keys
    )
    return dlviz.Page(
        notes,
        (dlviz.Formula(spec.title, spec.title_zh, spec.latex), *rules),
        formulas_title="Test function and update rules (as Keras implements them)",
        formulas_title_zh="测试函数与更新规则（Keras 的实现）",
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
    session_independent = True  # a race on a test function: the same for every session

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
            optimizers = [build_optimizer(key, rate, params) for key, rate in zip(keys, rates, strict=True)]
        except ValueError as exc:
            raise ParamsError(
                f"Keras refused an optimizer setting: {exc}", "check the hyperparameters."
            ) from exc
        ctx.report(0.1, tr(ctx.language, "running the optimizers", "运行各优化器"))
        try:
            paths, gradients = race(spec, optimizers, start, params.steps)
        except Exception as exc:
            raise PluginError(f"The optimizer race failed: {type(exc).__name__}: {exc}") from exc
        diverged = tuple(first_divergence(path) for path in paths)
        for path, step in zip(paths, diverged, strict=True):
            if step >= 0:
                path[step:] = np.nan
        with np.errstate(all="ignore"):
            losses = spec.formula(paths[..., 0].astype(np.float64), paths[..., 1].astype(np.float64), np)
        x, y, z = function_grid(spec, *plot_ranges(spec, start), GRID_POINTS)
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
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
            page=_page(spec, keys),
        )

    def figures(self, result: RaceResult, language: str = "en") -> list[go.Figure]:
        return [
            contour_figure(result, language),
            loss_figure(result, language),
            surface_figure(result, language),
        ]

    # ------------------------------------------------------------------------------------- diagnosis

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
