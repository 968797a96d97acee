"""The `lr_finder` plugin class, its controls and its texts."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins._shared.inputs import several_inputs_reason, several_outputs_reason
from plugins.lr_finder.compute import range_test
from plugins.lr_finder.figures import range_figure
from plugins.lr_finder.result import RangeTest


@dataclasses.dataclass(frozen=True)
class Params:
    min_lr: float = dlviz.param(
        1e-6,
        label="Smallest learning rate",
        label_zh="最小学习率",
        min=1e-8,
        max=1e-2,
        log=True,
        help="The learning rate of the first step.",
        help_zh="第一步的学习率。",
    )
    max_lr: float = dlviz.param(
        1.0,
        label="Largest learning rate",
        label_zh="最大学习率",
        min=1e-3,
        max=100.0,
        log=True,
        help="The learning rate of the last step, if the loss has not diverged before.",
        help_zh="最后一步的学习率（如果损失没有提前发散）。",
    )
    steps: int = dlviz.param(
        100,
        label="Steps",
        label_zh="步数",
        min=10,
        max=1000,
        step=10,
        help="Training steps of the pass, one learning rate each.",
        help_zh="测试中的训练步数，每步一个学习率。",
    )
    batch_size: int = dlviz.param(
        32,
        label="Batch size",
        label_zh="批大小 (batch size)",
        min=4,
        max=1024,
        step=4,
        help="Samples per step; use the batch size you train with.",
        help_zh="每步的样本数；请用训练时的批大小。",
    )
    smoothing: float = dlviz.param(
        0.9,
        label="Smoothing",
        label_zh="平滑系数",
        min=0.0,
        max=0.99,
        step=0.01,
        help="Weight of the past in the moving average of the loss (0: none).",
        help_zh="损失的滑动平均中过去值的权重（0 表示不平滑）。",
    )
    divergence: float = dlviz.param(
        4.0,
        label="Stop above (x best loss)",
        label_zh="停止阈值（最低损失的倍数）",
        min=1.5,
        max=20.0,
        step=0.5,
        help="The test stops once the smoothed loss exceeds this multiple of its lowest value.",
        help_zh="平滑后的损失超过其最低值的这个倍数时，测试停止。",
    )
    start: str = dlviz.param(
        "initial",
        label="Start from",
        label_zh="起始权重",
        choices=("initial", "current"),
        choice_labels={"initial": "the run's first weights", "current": "the model's current weights"},
        choice_labels_zh={"initial": "训练记录的初始权重", "current": "模型当前的权重"},
        help="Initial weights come from the current run's first snapshot (the model's current weights when "
        "there is none).",
        help_zh="初始权重取自当前训练记录的第一个快照（没有时用模型当前的权重）。",
    )


class LRFinder(dlviz.Plugin):
    """The learning-rate range test (Smith, 2017): a copy of the model trains for one short pass while
    its learning rate rises exponentially, with the model's own optimizer and loss; the loss against the
    learning rate (log axis, smoothed) shows where training is fastest and where it diverges, and a
    learning rate is suggested. The model itself is never changed.

    简介：学习率范围测试 (learning rate range test，Smith 2017)：模型的副本用它自己的优化器和损失函数训练一小段，
    期间学习率按指数增长；损失随学习率（对数坐标，平滑后）的变化显示训练最快和开始发散的位置，并给出建议的学习率。
    模型本身不会改变。

    What to look for: a healthy curve is flat at tiny learning rates, falls, reaches a minimum and then
    shoots up. Pick a learning rate on the falling slope (the suggestion: where it falls fastest), or about
    a tenth of the minimum's; never one past the minimum. A curve that only rises means even the smallest
    rate is too high; one that never falls means the model or the data does not learn at all.

    观察要点：健康的曲线在极小学习率处平坦，随后下降，到达最低点后急剧上升。请在下降段上选择学习率（建议值：下降最快处），
    或取最低点学习率的十分之一左右；不要选最低点之后的值。曲线一路上升说明最小的学习率也太大；从不下降则说明模型或数据根本学不动。

    >>> from dlviz.testing import tiny_context
    >>> result = LRFinder().compute(tiny_context(), LRFinder.Params(steps=20, max_lr=10.0))
    >>> bool(result.learning_rates[0] < result.suggested_learning_rate < result.learning_rates[-1])
    True
    """

    name = "lr_finder"
    title = "Learning-rate finder"
    title_zh = "学习率查找器"
    section = "Optimization"
    requires = frozenset({"model", "dataset"})
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        model = ctx.model.model
        if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
            return tr(
                ctx.language,
                "The range test trains with the model's own optimizer and loss: compile the model first "
                "(model.compile(optimizer=..., loss=...)).",
                "范围测试使用模型自己的优化器和损失函数训练：请先编译模型（model.compile(optimizer=..., loss=...)）。",
            )
        # The range test fits the dataset's one array of inputs and one of labels.
        several = several_inputs_reason(
            ctx, "The range test", "范围测试", "Use a model of one input to find its learning rate.", "请对单输入的模型使用学习率查找器。"
        ) or several_outputs_reason(ctx, "The range test", "范围测试")
        if several:
            return several
        dataset = ctx.dataset
        if not (isinstance(dataset.x_train, np.ndarray) and isinstance(dataset.y_train, np.ndarray)):
            return tr(
                ctx.language,
                "The range test batches one array of inputs and one of labels; this dataset has several "
                "inputs or outputs.",
                "范围测试按批读取一个输入数组和一个标签数组；这个数据集有多个输入或输出。",
            )
        return True

    def compute(self, ctx: dlviz.Context, params: Params) -> RangeTest:
        return range_test(ctx, params)

    def figures(self, result: RangeTest, language: str = "en") -> list[go.Figure]:
        return [range_figure(result, language)]

    def diagnose(self, result: RangeTest) -> list[dlviz.Finding]:
        rate = f"{result.suggested_learning_rate:.1e}"
        cautious = f"{result.minimum_learning_rate / 10:.1e}"
        return [
            dlviz.Finding(
                "info",
                f"Suggested learning rate for {result.optimizer}: {rate} (steepest fall of the loss).",
                f"A cautious alternative is a tenth of the minimum's: {cautious}.",
                headline_zh=f"{result.optimizer} 的建议学习率：{rate}（损失下降最快处）。",
                advice_zh=f"更稳妥的选择是最低点学习率的十分之一：{cautious}。",
            )
        ]
