"""The `activations` plugin class, its controls and its help text."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins._shared.records import RecordParams
from plugins.activations.compute import (
    compute_distributions,
    compute_feature_maps,
    compute_training,
    compute_unit_responses,
    probe_activations,
    probe_health,
)
from plugins.activations.diagnosis import diagnose_layers
from plugins.activations.figures import result_figures
from plugins.activations.result import ActivationsResult
from plugins.activations.views import has_model_data, has_run_records, view_reason

VIEWS = ("all", "distributions", "training", "feature_maps", "unit_responses")


@dataclasses.dataclass(frozen=True)
class Params(RecordParams):
    view: str = dlviz.param(
        "all",
        label="View",
        label_zh="视图",
        choices=VIEWS,
        help="all: every view this model supports; distributions: per-layer outputs on the probe batch; "
        "training: how they change over the run; feature_maps: a conv net's maps for one sample; "
        "unit_responses: each dense unit over the input plane (2-D data).",
        help_zh="all：显示该模型支持的全部视图；distributions：探针批次上各层输出的分布；training：训练中的变化；"
        "feature_maps：卷积网络对一个样本的特征图；unit_responses：二维数据上每个全连接单元在输入平面上的响应。",
    )
    zero_fraction: float = dlviz.param(
        0.9,
        label="Dying ReLU threshold",
        label_zh="死亡 ReLU 阈值",
        min=0.5,
        max=1.0,
        step=0.01,
        help="Flag a ReLU layer when at least this share of its outputs on the probe batch is exactly zero.",
        help_zh="ReLU 层在探针批次上恰好为零的输出占比达到此值时报告。",
    )
    dead_units: float = dlviz.param(
        0.5,
        label="Dead units threshold",
        label_zh="死亡单元阈值",
        min=0.05,
        max=1.0,
        step=0.05,
        help="Flag a ReLU layer when at least this share of its units never fires on the probe batch.",
        help_zh="ReLU 层中在探针批次上从不激活的单元占比达到此值时报告。",
    )
    saturation: float = dlviz.param(
        0.5,
        label="Saturation threshold",
        label_zh="饱和阈值",
        min=0.05,
        max=1.0,
        step=0.05,
        help="Flag a sigmoid or tanh layer when at least this share of its outputs is in the flat tails.",
        help_zh="sigmoid 或 tanh 层处于平坦尾部（饱和）的输出占比达到此值时报告。",
    )
    sample_index: int = dlviz.param(
        0,
        label="Sample",
        label_zh="样本",
        min=0,
        step=1,
        help="Index of the test sample whose feature maps are shown.",
        help_zh="显示其特征图的测试样本序号。",
    )
    max_maps: int = dlviz.param(
        16,
        label="Maps per layer",
        label_zh="每层特征图数",
        min=1,
        max=64,
        step=1,
        help="Feature maps (channels) shown per convolutional layer, in channel order.",
        help_zh="每个卷积层显示的特征图（通道）数量，按通道顺序。",
    )
    grid_size: int = dlviz.param(
        40,
        label="Input-plane resolution",
        label_zh="输入平面分辨率",
        min=10,
        max=100,
        step=5,
        help="Points per side of the grid over the input plane (2-D data).",
        help_zh="二维输入平面网格每边的点数。",
    )
    max_units: int = dlviz.param(
        16,
        label="Units per layer",
        label_zh="每层单元数",
        min=1,
        max=64,
        step=1,
        help="Units shown per dense layer in the input-plane responses.",
        help_zh="输入平面响应图中每个全连接层显示的单元数。",
    )


class Activations(dlviz.Plugin):
    """Activations: what every layer outputs, how those outputs change during training, and which layers die or saturate.

    Per-layer output distributions on the probe batch; their histograms over training; the share of
    zero outputs of each ReLU layer and of saturated outputs of each sigmoid/tanh layer over time; a
    diagnosis naming the layers that die or saturate. For convolutional models, the feature maps of
    a chosen sample beside the sample; for models on 2-D point data, every dense unit's response
    over the input plane (like TensorFlow Playground's neuron thumbnails).

    简介：激活 (activations)：每一层输出什么、训练中如何变化、哪些层“死亡”或饱和。显示探针批次 (probe batch)
    上各层输出的分布、这些分布随训练的变化、每个 ReLU 层输出为零的比例和每个 sigmoid/tanh 层饱和
    (saturation) 输出的比例随时间的变化，并诊断出死亡或饱和的层。卷积网络显示所选样本的特征图
    (feature map)；二维点数据上的模型显示每个全连接单元在输入平面上的响应（类似 TensorFlow Playground
    的神经元缩略图）。

    What to look for: healthy hidden layers have spread-out distributions of similar scale from layer
    to layer. A ReLU layer whose outputs are almost all zero, or whose units never fire on any
    sample, is dying (dying ReLU): those units get no gradient and never recover; try Leaky ReLU, a
    lower learning rate or He initialisation. A sigmoid or tanh layer piled up at its limits (0 and 1,
    or -1 and 1) is saturated: its slope is near zero, so gradients vanish through it; use ReLU,
    standardised inputs or better initialisation. In feature maps, early layers respond to edges
    and strokes, later ones to larger parts; a map that is blank for every sample is a dead filter.
    On 2-D data, the first layer's units draw straight boundaries and deeper units combine them.

    观察要点：健康的隐藏层输出分布较宽，且各层尺度相近。ReLU 层若几乎所有输出都为零，或某些单元对任何样本
    都不激活，就是死亡 ReLU (dying ReLU)：这些单元得不到梯度，再也无法恢复；可改用 Leaky ReLU、降低学习率
    (learning rate) 或使用 He 初始化。sigmoid 或 tanh 层的输出堆积在极限值（0 和 1，或 -1 和 1）附近就是
    饱和 (saturation)：其斜率接近零，梯度在此消失（梯度消失 (vanishing gradients)）；可改用 ReLU 激活函数
    (activation function)、标准化输入或更好的初始化。特征图中，浅层响应边缘和笔画，深层响应更大的部件；
    对所有样本都空白的特征图是死亡的滤波器。二维数据上，第一层单元画出直线边界，更深的单元将其组合。

    >>> import dlviz
    >>> dataset = dlviz.datasets.load("xor", n_samples=200)
    >>> model = dlviz.models.build("mlp", dataset, hidden=(4,))
    >>> figures = dlviz.figures("activations", model=model, dataset=dataset, grid_size=10)
    >>> [figure.layout.title.text for figure in figures][-1]
    'Each dense unit over the input plane'
    """

    name = "activations"
    title = "Activations"
    title_zh = "激活值"
    section = "Training dynamics"
    requires = frozenset()
    compares_runs = False
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        if has_run_records(ctx.run) or has_model_data(ctx):
            return True
        if ctx.run is not None:
            return tr(
                ctx.language,
                "This run recorded no activations. Record with dlviz.Recorder(activations=True, probe=x), "
                "or load the model and its dataset to see the activations of the probe batch.",
                "这条训练记录 (run) 没有记录激活值 (activations)。请用 dlviz.Recorder(activations=True, probe=x) "
                "记录，或加载模型及其数据集，查看探针批次 (probe batch) 的激活值。",
            )
        return tr(
            ctx.language,
            "Activations need a recorded run, or a model and its dataset.",
            "激活值 (activations) 需要一条训练记录 (run)，或者模型及其数据集。",
        )

    def view_compatibility(self, ctx: dlviz.Context, view: str) -> bool | str:
        """True when `view` can be drawn for `ctx`, else the reason it cannot (in `ctx.language`)."""
        reason = view_reason(ctx, view)
        return True if reason is None else tr(ctx.language, *reason)

    def compute(self, ctx: dlviz.Context, params: Params) -> ActivationsResult:
        verdict = self.view_compatibility(ctx, params.view)
        if verdict is not True:
            raise dlviz.PluginError(verdict, "choose another view, e.g. view='all'.")
        wanted = set(VIEWS[1:]) if params.view == "all" else {params.view}
        skipped = []
        if params.view == "all":
            for view in sorted(wanted):
                reason = view_reason(ctx, view)
                if reason is not None:
                    skipped.append(dlviz.Note(*reason))
                    wanted.discard(view)

        probe = probe_activations(ctx) if has_model_data(ctx) else None
        health = probe_health(probe) if probe is not None else None
        ctx.report(0.3, tr(ctx.language, "activations over training", "训练过程中的激活值"))
        recorded = "training" in wanted and has_run_records(ctx.run)
        training = compute_training(ctx.run, params) if recorded else {}
        distributions = compute_distributions(ctx, probe, params) if "distributions" in wanted else None
        ctx.report(
            0.6,
            tr(
                ctx.language,
                "feature maps and unit responses",
                "特征图 (feature maps) 与单元响应 (unit responses)",
            ),
        )
        return ActivationsResult(
            distributions=distributions,
            probe_health=health,
            feature_maps=compute_feature_maps(ctx, params) if "feature_maps" in wanted else None,
            unit_responses=compute_unit_responses(ctx, params) if "unit_responses" in wanted else None,
            findings=tuple(diagnose_layers(ctx.run, health, params)),
            page=dlviz.Page(tuple(skipped)),
            thresholds=(params.zero_fraction, params.saturation),
            **training,
        )

    def diagnose(self, result: ActivationsResult) -> list[dlviz.Finding]:
        return list(result.findings)

    def figures(self, result: ActivationsResult, language: str = "en") -> list[go.Figure]:
        return result_figures(result, language)
