"""The `gradients` plugin class, its controls and its help text."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins._shared.records import RecordParams
from plugins.gradients.compute import compute_saliency, from_batch, from_run, other_run_norms, run_gradients
from plugins.gradients.figures import result_figures
from plugins.gradients.result import GradientsResult


@dataclasses.dataclass(frozen=True)
class Params(RecordParams):
    batch_size: int = dlviz.param(
        64,
        label="Batch size (no run)",
        label_zh="批大小（无训练记录时）",
        min=1,
        max=2048,
        step=1,
        help="Training samples in the single batch whose gradients are shown when there is no run.",
        help_zh="没有训练记录时，用这么多训练样本组成一批来计算梯度。",
    )
    vanishing_decades: float = dlviz.param(
        2.0,
        label="Vanishing threshold (orders of magnitude)",
        label_zh="梯度消失阈值（数量级）",
        min=0.5,
        max=12.0,
        step=0.5,
        help="Flag a layer whose RMS gradient (norm per sqrt(parameter)) is this many powers of ten below "
        "the output layer's.",
        help_zh="某层的均方根梯度（范数除以参数个数的平方根）比输出层小这么多个数量级时报告梯度消失。",
    )
    exploding_decades: float = dlviz.param(
        2.0,
        label="Exploding threshold (orders of magnitude)",
        label_zh="梯度爆炸阈值（数量级）",
        min=0.5,
        max=12.0,
        step=0.5,
        help="Flag a layer whose gradient norm grows this many powers of ten above its value at the start.",
        help_zh="某层梯度范数比训练开始时增长这么多个数量级时报告梯度爆炸。",
    )
    exploding_norm: float = dlviz.param(
        1e3,
        label="Exploding norm",
        label_zh="梯度爆炸范数上限",
        min=1.0,
        max=1e12,
        log=True,
        help="Also flag any layer whose gradient norm exceeds this value (NaN or infinity always counts).",
        help_zh="梯度范数超过此值的层也报告为梯度爆炸（NaN 或无穷大总会报告）。",
    )
    saliency_samples: int = dlviz.param(
        4,
        label="Saliency samples",
        label_zh="显著图样本数",
        min=0,
        max=16,
        step=1,
        help="Test images shown with their input-gradient saliency (image models only; 0 turns it off).",
        help_zh="显示输入梯度显著图的测试图像数量（仅图像模型；0 表示关闭）。",
    )
    sample_index: int = dlviz.param(
        0,
        label="First sample",
        label_zh="起始样本",
        min=0,
        step=1,
        help="Index of the first test sample shown in the saliency maps.",
        help_zh="显著图中第一个测试样本的序号。",
    )


class Gradients(dlviz.Plugin):
    """Gradient flow: how strong the gradient is at each layer while the model trains, and what that means.

    Per-layer gradient norms over training (log scale, input to output) and as a layer x step heatmap,
    gradient histograms over time, update-to-weight ratios, and a diagnosis of vanishing, exploding and
    dead gradients. A run's gradients are those of the batches the model trained on (the Recorder's
    default) or of a fixed probe batch (``gradients="probe"``, comparable across runs); the figures say
    which. Without a recorded run, the gradients of one batch of training samples. For image models,
    input-gradient saliency maps of chosen test samples.

    简介：梯度流 (gradient flow)：训练过程中每一层梯度的大小及其含义。按从输入到输出的顺序画出各层梯度范数
    (gradient norm) 随训练步数的变化（对数坐标）和“层 x 步数”热力图、梯度直方图随时间的变化、
    更新量与权重之比 (update-to-weight ratio)，并自动诊断梯度消失 (vanishing gradients)、梯度爆炸
    (exploding gradients) 和梯度为零的“死”层。训练记录中的梯度来自模型训练所用的批次（Recorder 的默认设置），
    或来自固定的探针批次 (probe batch)（``gradients="probe"``，便于在不同训练之间比较）；图中会注明是哪一种。
    没有训练记录 (run) 时，显示一批训练样本的梯度。
    图像模型还显示输入梯度显著图 (saliency map)。

    What to look for: in a healthy network the lines of all layers stay within one or two orders of
    magnitude of each other and drift down slowly as the loss falls. Lines that fan out, with the
    layers near the input orders of magnitude below the output layer, are vanishing gradients: the
    early layers barely learn (typical of deep sigmoid or tanh stacks; use ReLU, He initialisation or
    batch normalisation). Lines that climb steeply or break off (NaN) are exploding gradients: lower the
    learning rate or clip gradients. A layer whose gradient is exactly zero is dead: no signal reaches
    it (often dying ReLU units above it). Update-to-weight ratios near 1e-3 (the shaded band) mean the
    learning rate suits the layer; far above, training is unstable; far below, the layer hardly moves.

    观察要点：健康的网络中，各层的曲线彼此相差不超过一两个数量级，并随损失下降而缓慢降低。
    若曲线呈扇形散开、靠近输入的层比输出层小好几个数量级，就是梯度消失 (vanishing gradients)：
    前面的层几乎学不到东西（常见于很深的 sigmoid 或 tanh 网络；可改用 ReLU 激活函数、He 初始化
    (He initialization) 或批归一化 (batch normalization)）。曲线急剧上升或中断 (NaN) 是梯度爆炸
    (exploding gradients)：降低学习率 (learning rate) 或使用梯度裁剪 (gradient clipping)。梯度恰好为零的层
    是“死”层：没有信号传到它（常因其上方的 ReLU 单元已经死亡，即死亡 ReLU (dying ReLU)）。更新量与
    权重之比在 1e-3 附近（阴影带）说明学习率适合该层；远高于它训练不稳定，远低于它该层几乎不动。

    >>> import dlviz
    >>> dataset = dlviz.datasets.load("xor", n_samples=200)
    >>> model = dlviz.models.build("mlp", dataset, hidden=(8,))
    >>> figures = dlviz.figures("gradients", model=model, dataset=dataset, batch_size=32)
    >>> [figure.layout.title.text for figure in figures]
    ['Gradient norm per layer (one batch of 32 samples)', 'Gradient histograms per layer (one batch of 32 samples)']
    """

    name = "gradients"
    title = "Gradient flow"
    title_zh = "梯度流"
    section = "Training dynamics"
    requires = frozenset()
    compares_runs = True
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        if run_gradients(ctx.run) or (ctx.model is not None and ctx.dataset is not None):
            return True
        if ctx.run is not None:
            return tr(
                ctx.language,
                "This run recorded no gradients. Record with dlviz.Recorder(gradients=True) (the default: the "
                "gradients of the training batches), or load the model and its dataset to see the gradients "
                "of one batch.",
                "这条训练记录 (run) 没有记录梯度 (gradients)。请用 dlviz.Recorder(gradients=True) 记录"
                "（默认设置：训练批次上的梯度），或加载模型及其数据集，查看一批样本的梯度。",
            )
        return tr(
            ctx.language,
            "Gradient flow needs a recorded run, or a model and its dataset.",
            "梯度流 (gradient flow) 需要一条训练记录 (run)，或者模型及其数据集。",
        )

    def compute(self, ctx: dlviz.Context, params: Params) -> GradientsResult:
        if run_gradients(ctx.run):
            result = from_run(ctx.run, params)
            others = tuple(
                other
                for index, run in enumerate(ctx.runs)
                if run is not ctx.run and (other := other_run_norms(run, index, params)) is not None
            )
        else:
            result, others = from_batch(ctx, params), ()
        ctx.report(0.7, tr(ctx.language, "saliency", "显著图 (saliency map)"))
        saliency = compute_saliency(ctx, params) if params.saliency_samples else None
        return dataclasses.replace(result, other_runs=others, saliency=saliency)

    def diagnose(self, result: GradientsResult) -> list[dlviz.Finding]:
        return list(result.findings)

    def figures(self, result: GradientsResult, language: str = "en") -> list[go.Figure]:
        return result_figures(result, language)
