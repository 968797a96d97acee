"""The `landscape` plugin: its controls, its compatibility check, its diagnosis."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins._shared.inputs import several_inputs_reason, several_outputs_reason
from plugins.landscape.compute import compute_landscape
from plugins.landscape.figures import contour_figure, line_figure, surface_figure
from plugins.landscape.result import LandscapeResult


class Landscape(dlviz.Plugin):
    """The loss surface of your trained model on a plane through its weights: two filter-normalised random directions (Li et al. 2018), or the plane in which training moved (PCA of a run's weight snapshots) with the training path drawn on it; several runs can share one surface. A 1-D view shows the loss along the straight line from the start to the end of training.

    简介：训练后模型在一个穿过其权重的平面上的损失曲面 (loss landscape)：平面由两个经过滤波器归一化 (filter normalisation) 的随机方向张成（Li 等，2018），或由训练轨迹的主成分分析 (PCA) 得到（即训练实际移动的平面），并在其上画出训练路径；多条训练记录 (runs) 可以画在同一个曲面上比较。一维视图显示从训练开始到结束的直线上的损失。

    What to look for: a wide, round basin around the trained weights (a flat minimum) tends to
    generalise better than a narrow, steep one; chaotic, non-convex contours mean the model is hard to
    train (very deep nets without skip connections, bad initialisation). On the PCA plane, the path
    should run downhill into the basin; zigzags across a valley mean the learning rate is high; SGD and
    Adam runs from the same start often end in different places. The straight line from start to end
    of training is usually smooth and monotone (no barrier), even though the optimizer took a curved path.

    观察要点：训练后的权重周围若是宽而圆的盆地（平坦极小值 (flat minimum)），往往比窄而陡的极小值泛化得更好；
    等高线杂乱、非凸说明模型难以训练（没有残差连接的很深的网络、糟糕的初始化）。在 PCA 平面上，路径应顺坡而下进入盆地；
    在山谷两侧来回折返说明学习率偏大；从同一起点出发的 SGD 与 Adam 常常停在不同的位置。从训练开始到结束的直线上，
    损失通常平滑且单调下降（没有势垒 (barrier)），尽管优化器实际走的是一条弯路。

    >>> import dlviz
    >>> dataset = dlviz.datasets.load("moons", n_samples=200)
    >>> model = dlviz.models.build("mlp", dataset, hidden=(8,))
    >>> _ = model.fit(dataset.x_train, dataset.y_train, epochs=2, verbose=0)
    >>> figures = dlviz.figures("landscape", model=model, dataset=dataset, resolution=11)
    >>> [figure.layout.title.text.split(":")[0] for figure in figures]
    ['Loss landscape', 'Loss surface (3-D)', 'Loss along a line']
    """

    name = "landscape"
    title = "Loss landscape"
    title_zh = "损失曲面"
    section = "Optimization"
    requires = frozenset({"model", "dataset"})
    compares_runs = True

    @dataclasses.dataclass(frozen=True)
    class Params:
        directions: str = dlviz.param(
            "auto",
            label="Plane",
            label_zh="平面",
            help=(
                "'random': two filter-normalised random directions through the trained weights; 'pca': the "
                "plane of the training trajectory (needs a run with weight snapshots); 'auto': pca when a run "
                "has snapshots, else random."
            ),
            help_zh="random：穿过训练后权重的两个滤波器归一化随机方向；pca：训练轨迹所在的平面（需要带权重快照的训练记录）；auto：有快照时用 pca，否则用 random。",
            choices=("auto", "random", "pca"),
        )
        resolution: int = dlviz.param(
            21,
            label="Grid points per axis",
            label_zh="每个坐标轴的网格点数",
            help="The surface is evaluated on resolution × resolution weight settings (odd, so the trained weights sit on the grid).",
            help_zh="在 resolution × resolution 个权重设置上计算损失（取奇数，使训练后的权重位于网格上）。",
            min=5,
            max=101,
            step=2,
        )
        span: float = dlviz.param(
            1.0,
            label="Span (random plane)",
            label_zh="范围（随机平面）",
            help="The random plane covers −span … span along each filter-normalised direction (1 = one filter norm).",
            help_zh="随机平面在每个滤波器归一化方向上覆盖 −span … span（1 = 一个滤波器范数）。",
            min=0.05,
            max=5.0,
            step=0.05,
        )
        eval_samples: int = dlviz.param(
            256,
            label="Evaluation samples",
            label_zh="评估样本数",
            help="The loss is computed on this many samples (a fixed random subset, chosen with the seed).",
            help_zh="在这么多样本上计算损失（按随机种子固定抽取的子集）。",
            min=16,
            max=5000,
            step=16,
        )
        split: str = dlviz.param(
            "train",
            label="Data",
            label_zh="数据",
            help="Compute the loss on training or test samples.",
            help_zh="在训练样本还是测试样本上计算损失。",
            choices=("train", "test"),
        )
        line_points: int = dlviz.param(
            41,
            label="Points on the 1-D line",
            label_zh="一维直线上的点数",
            help="Weight settings evaluated along the straight line of the 1-D view.",
            help_zh="一维视图中直线上计算的权重设置数。",
            min=5,
            max=401,
        )
        log_scale: bool = dlviz.param(
            True,
            label="Log colour scale",
            label_zh="对数色标",
            help="Space contour levels logarithmically in the loss, so the basin's shape shows.",
            help_zh="按损失的对数划分等高线，使盆地的形状更清楚。",
        )

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        several = several_inputs_reason(
            ctx, "The loss landscape", "损失曲面 (loss landscape)"
        ) or several_outputs_reason(
            ctx,
            "The loss landscape, evaluated on the dataset's one array of labels,",
            "在数据集唯一一组标签上计算的损失曲面",
        )
        if several is not None:
            return several
        model = ctx.model.model
        if not model.trainable_variables:
            return tr(
                ctx.language,
                "The loss landscape needs trainable weights; this model has none.",
                "损失曲面 (loss landscape) 需要可训练的权重 (trainable weights)；这个模型没有。",
            )
        if getattr(model, "_compile_loss", None) is None:
            return tr(
                ctx.language,
                "The loss landscape needs the model's loss: compile the model with a loss first.",
                "损失曲面 (loss landscape) 需要模型的损失函数 (loss)：请先用一个损失函数编译 (compile) 模型。",
            )
        return True

    def compute(self, ctx: dlviz.Context, params) -> LandscapeResult:
        return compute_landscape(ctx, params)

    def figures(self, result: LandscapeResult, language: str = "en") -> list[go.Figure]:
        return [
            contour_figure(result, language),
            surface_figure(result, language),
            line_figure(result, language),
        ]

    def diagnose(self, result: LandscapeResult) -> list[dlviz.Finding]:
        findings = []
        lowest = int(np.argmin(result.losses))
        row, column = np.unravel_index(lowest, result.losses.shape)
        lowest_loss = float(result.losses[row, column])
        if lowest_loss < 0.9 * result.centre_loss:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Lower loss ({lowest_loss:.4g} vs {result.centre_loss:.4g}) lies beside the trained weights "
                    "on this plane: training had not reached the bottom of its basin.",
                    "Train longer, or lower the learning rate towards the end of training.",
                    headline_zh=f"在这个平面上，训练后权重的旁边有更低的损失 (loss)（{lowest_loss:.4g} 对比 "
                    f"{result.centre_loss:.4g}）：训练还没有到达其盆地 (basin) 的底部。",
                    advice_zh="训练更久，或在训练后期降低学习率 (learning rate)。",
                )
            )
        if result.directions == "pca" and sum(result.explained_variance) < 0.5:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"The PCA plane holds only {sum(result.explained_variance):.0%} of the trajectory's variance.",
                    "The path drawn is a rough shadow of the real one: read the hover losses, not only the contours.",
                    headline_zh=f"主成分分析 (PCA) 平面只包含轨迹方差的 {sum(result.explained_variance):.0%}。",
                    advice_zh="画出的路径只是真实路径的粗略投影：请看悬停显示的损失值，而不只看等高线。",
                )
            )
        if result.line_kind == "interpolation":
            for line in result.lines:
                inside = line.losses[(line.t > 0) & (line.t < 1)]
                ends = line.losses[np.argmin(np.abs(line.t))], line.losses[np.argmin(np.abs(line.t - 1))]
                if inside.size and inside.max() > 1.1 * max(ends):
                    findings.append(
                        dlviz.Finding(
                            "info",
                            f"{line.label}: the straight line from start to end crosses a barrier (loss {inside.max():.4g}).",
                            "The optimizer went around a ridge; the landscape between the two is not convex.",
                            headline_zh=f"{line.text('zh')}：从起点到终点的直线穿过了一道屏障 (barrier)"
                            f"（损失 {inside.max():.4g}）。",
                            advice_zh="优化器绕过了一道山脊 (ridge)；两者之间的损失地形 (loss landscape) 不是凸的 (convex)。",
                        )
                    )
        return findings
