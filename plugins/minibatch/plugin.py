"""The `minibatch` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins.minibatch.figures import curves_figure, noise_figure, plane_figure
from plugins.minibatch.result import MinibatchResult
from plugins.minibatch.training import BUNDLED, train_and_measure

BATCH_SIZES = (1, 4, 16, 64, 0)


@dataclasses.dataclass(frozen=True)
class Params:
    batch_sizes: tuple = dlviz.param(
        (1, 16, 0),
        label="Batch sizes",
        label_zh="批大小",
        choices=BATCH_SIZES,
        multiple=True,
        choice_labels={1: "1 (single-sample SGD)", 0: "full batch (gradient descent)"},
        choice_labels_zh={1: "1（单样本 SGD）", 0: "全批量（梯度下降）"},
        help="One run per batch size, all from the same initial weights on the same data.",
        help_zh="每种批大小训练一次，全部从相同的初始权重、在相同的数据上开始。",
    )
    epochs: int = dlviz.param(
        15,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=200,
        step=1,
        help="Passes over the training samples: every run sees the same number of examples.",
        help_zh="遍历训练样本的次数：每次训练看到的样本数相同。",
    )
    learning_rate: float = dlviz.param(
        0.1,
        label="Learning rate η",
        label_zh="学习率 η",
        min=1e-3,
        max=2.0,
        log=True,
        help="Plain SGD's step size, the same for every batch size.",
        help_zh="普通 SGD 的步长，所有批大小相同。",
    )
    width: int = dlviz.param(
        8,
        label="Hidden units",
        label_zh="隐藏单元数",
        min=2,
        max=64,
        step=1,
        help="Units of the one tanh hidden layer.",
        help_zh="唯一一个 tanh 隐藏层的单元数。",
    )
    data: str = dlviz.param(
        "moons",
        label="Data",
        label_zh="数据",
        choices=("auto", *BUNDLED),
        help="auto: the loaded dataset when it is 2-D points or a table, else moons. The others are bundled 2-D sets.",
        help_zh="auto：已加载的数据集是二维点或表格时用它，否则用 moons。其余为内置二维数据集。",
    )
    samples: int = dlviz.param(
        200,
        label="Points (bundled sets)",
        label_zh="点数（内置数据集）",
        min=50,
        max=2000,
        step=50,
        help="Points of a bundled set, 80% of them for training; single-sample SGD makes one update per point.",
        help_zh="内置数据集的点数，其中 80% 用于训练；单样本 SGD 每个点更新一次。",
    )
    noise_batches: int = dlviz.param(
        50,
        label="Batches drawn per size (noise)",
        label_zh="每种批大小抽取的批次数（噪声）",
        min=5,
        max=500,
        step=5,
        help="Random batches whose gradients are compared with the full gradient at the initial weights.",
        help_zh="在初始权重处，与全梯度比较的随机批次数。",
    )


class Minibatch(dlviz.Plugin):
    """Mini-batch noise lesson: the same small MLP trained from the same initial weights on the same data by
    full-batch gradient descent, mini-batch SGD at several batch sizes and single-sample SGD (plain
    keras.optimizers.SGD, model.fit). It shows the training loss against epochs and against examples seen,
    the noise of the gradient estimate (how far mini-batch gradients fall from the full gradient, measured
    on many random batches), and the paths projected on the PCA plane of the landscape plugin, over the
    loss surface there.

    简介：小批量噪声 (mini-batch noise) 课程：同一个小 MLP 从相同的初始权重出发、在相同的数据上，分别用全批量梯度下降、
    几种批大小的小批量随机梯度下降 (mini-batch SGD) 和单样本 SGD 训练（普通的 keras.optimizers.SGD，model.fit）。
    图中给出训练损失随轮数和随已见样本数的变化、梯度估计的噪声（在许多随机批次上实测小批量梯度离全梯度有多远），
    以及各条路径在 landscape 插件的 PCA 平面上的投影和该平面上的损失曲面。

    What to look for: per epoch, small batches make many more updates, so their loss falls faster at the
    start, and against examples seen single-sample SGD is ahead after a fraction of one epoch while full-batch
    descent has made a single step. But their paths zigzag: the gradient of a small batch points away from
    the full gradient, and the measured noise shrinks as the batch grows (roughly like 1/√b, to zero for the
    full batch). Near the minimum that noise keeps small-batch runs jittering around the bottom instead of
    settling, which is why the learning rate is often lowered late in training.

    观察要点：每一轮中，小批量更新次数多得多，所以开始时损失下降更快；按已见样本数看，单样本 SGD 在不到一轮时就已领先，
    而全批量梯度下降才走了一步。但小批量的路径呈锯齿状：小批次的梯度偏离全梯度的方向，实测的噪声随批大小增大而减小
    （大约按 1/√b，全批量时为零）。在极小值附近，这种噪声让小批量训练在谷底附近来回抖动而不是停下来，
    这就是训练后期常常降低学习率的原因。

    >>> import dlviz
    >>> result = dlviz.compute("minibatch", batch_sizes=(4, 0), epochs=2, samples=50, noise_batches=5)
    >>> [run.batch_size for run in result.runs], bool(result.noise_mean[-1] < 1e-6)
    ([4, 40], True)
    """

    name = "minibatch"
    title = "Mini-batch noise"
    title_zh = "小批量噪声"
    section = "Lessons"
    Params = Params

    def shared_result_key(self, ctx: dlviz.Context, params: Params) -> str | None:
        """Shared by every session unless "auto" trains on the loaded 2-D or tabular classification set (the rule
        of training.lesson_data)."""
        own = ctx.dataset
        its_own = own is not None and own.kind in ("points2d", "tabular") and own.task == "classification"
        return None if params.data == "auto" and its_own else ""

    def compute(self, ctx: dlviz.Context, params: Params) -> MinibatchResult:
        return train_and_measure(ctx, params)

    def diagnose(self, result: MinibatchResult) -> list[dlviz.Finding]:
        if len(result.noise_batch_sizes) < 2 or result.full_gradient_norm <= 0:
            return []
        smallest = int(result.noise_batch_sizes[0])
        relative = result.noise_mean[0] / result.full_gradient_norm
        return [
            dlviz.Finding(
                "info",
                f"Mini-batch lesson: a batch of {smallest} gives a gradient {relative:.1f}× the full "
                "gradient's norm away from it",
                "Larger batches estimate the gradient better; smaller ones update more often per epoch.",
                headline_zh=f"小批量课程：批大小为 {smallest} 时，批次梯度与全梯度相差全梯度范数的 {relative:.1f} 倍",
                advice_zh="批越大，梯度估计越准；批越小，每轮更新次数越多。",
            )
        ]

    def figures(self, result: MinibatchResult, language: str = "en") -> list[go.Figure]:
        return [
            curves_figure(result, language),
            noise_figure(result, language),
            plane_figure(result, language),
        ]
