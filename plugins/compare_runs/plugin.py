"""The `compare_runs` plugin class, its controls and its texts."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins.compare_runs.compute import compare
from plugins.compare_runs.figures import comparison_figures, format_value
from plugins.compare_runs.result import Comparison, setting_name


@dataclasses.dataclass(frozen=True)
class Params:
    x_axis: str = dlviz.param(
        "epoch",
        label="Curves over",
        label_zh="曲线横轴",
        choices=("epoch", "step"),
        choice_labels={"epoch": "epochs (with validation)", "step": "training steps"},
        choice_labels_zh={"epoch": "轮次（含验证集）", "step": "训练步数"},
        help="Per epoch shows the validation curves too; per step shows Keras' running means within each epoch.",
        help_zh="按轮次 (epoch) 显示时也画出验证集曲线；按步数显示的是 Keras 在每轮内的累计平均值。",
    )
    rank_metric: str = dlviz.param(
        "",
        label="Rank runs by",
        label_zh="排序指标",
        help="The final metric that orders the table and colours the parallel coordinates, e.g. val_accuracy; "
        "empty: val_loss, or loss when a run has no validation.",
        help_zh="用于排序表格、为平行坐标图着色的最终指标，例如 val_accuracy；留空则用 val_loss（没有验证集时用 loss）。",
    )
    only_differing: bool = dlviz.param(
        False,
        label="Only settings that differ",
        label_zh="只显示不同的设置",
        help="Hide the table's columns that are the same in every run.",
        help_zh="隐藏所有训练记录都相同的列。",
    )


class CompareRuns(dlviz.Plugin):
    """Several runs side by side: their loss and metric curves overlaid, a table of how each was trained
    (model, optimizer, learning rate, regularisation, data) with the settings that differ highlighted and
    the runs ordered by a final metric, and a parallel-coordinates plot of settings against that metric.

    简介：并排比较多条训练记录 (run)：叠加的损失和指标曲线；各记录训练设置（模型、优化器、学习率、正则化、数据）
    的表格，高亮各记录不同的设置，并按最终指标排序；以及设置与该指标关系的平行坐标图。

    What to look for: change one setting at a time, then read the highlighted column against the ranking.
    A validation curve that turns up while the training curve keeps falling is overfitting; a run whose
    loss stalls high or jumps to NaN had too high a learning rate. In the parallel coordinates, lines of
    the best runs (bright) crossing the same range of an axis show the setting that matters.

    观察要点：每次只改一个设置，再对照高亮的列和排名来读。训练曲线持续下降而验证曲线回升，说明过拟合 (overfitting)；
    损失停在高位或跳成 NaN 的记录，学习率 (learning rate) 过大。在平行坐标图中，最好的几条记录（亮色线）
    若都经过某根轴的同一区间，这个设置就是关键。

    >>> import dlviz
    >>> from dlviz.testing import tiny_context
    >>> [figure.layout.title.text for figure in dlviz.figures("compare_runs", run=tiny_context().run)][1]
    'Settings of each run, best val_loss first (yellow: differs between runs)'
    """

    name = "compare_runs"
    title = "Compare runs"
    title_zh = "比较训练记录"
    section = "Training dynamics"
    requires = frozenset({"run"})
    compares_runs = True
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        if ctx.run is None and not ctx.runs:
            return tr(
                ctx.language,
                "Compare runs needs recorded runs: train the model (or open runs, or start the dashboard "
                "with --logdir) and tick the runs to compare.",
                "比较训练记录需要已记录的训练记录 (run)：请先训练模型（或打开训练记录，或用 --logdir 启动仪表盘），"
                "再勾选要比较的记录。",
            )
        if not any(len(run.epochs.get("epoch", [])) for run in (ctx.run, *ctx.runs) if run is not None):
            return tr(
                ctx.language,
                "None of these runs has finished an epoch yet: wait for the first epoch to end.",
                "这些训练记录都还没有完成一个轮次 (epoch)：请等第一轮结束。",
            )
        return True

    def compute(self, ctx: dlviz.Context, params: Params) -> Comparison:
        return compare(ctx, params)

    def figures(self, result: Comparison, language: str = "en") -> list[go.Figure]:
        return comparison_figures(result, language)

    def diagnose(self, result: Comparison) -> list[dlviz.Finding]:
        if len(result.runs) < 2:
            return []
        best = result.runs[result.ranking[0]]
        value = format_value(best.final.get(result.rank_metric))
        differing = ", ".join(setting_name(key, "en") for key in result.differing) or "none"
        differing_zh = "、".join(setting_name(key, "zh") for key in result.differing) or "无"
        return [
            dlviz.Finding(
                "info",
                f"Best of {len(result.runs)} runs by {result.rank_metric}: {best.label} ({value}).",
                f"Settings that differ: {differing}.",
                headline_zh=f"{len(result.runs)} 条训练记录中按 {result.rank_metric} 最好的是 {best.label_zh}（{value}）。",
                advice_zh=f"各记录不同的设置：{differing_zh}。",
            )
        ]
