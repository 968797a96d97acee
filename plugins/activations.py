"""The `activations` plugin: what each layer outputs, how that changes while training, and where it goes wrong."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import dlviz
from dlviz.plugin import tr, tr_names
from plugins._shared.classes import class_names_of, predicted_classes
from plugins._shared.records import (
    PASS_THROUGH_KINDS,
    HistogramsOverTime,
    RecordParams,
    histogram,
    histogram_heatmaps,
    histograms_over_time,
    image_trace,
    layer_colours,
    onset,
    pick_layers,
    record_window,
    test_samples,
)

VIEWS = ("all", "distributions", "training", "feature_maps", "unit_responses")
PROBE_SIZE = 64  # the probe Recorder.for_dataset uses: the first 64 training samples
RELU_LIKE = frozenset({"relu", "relu6"})
SATURATING = frozenset({"sigmoid", "tanh"})
# Outputs in the flat tails, as the Recorder counts them: sigmoid below 0.01 or above 0.99, |tanh| above 0.99.
SIGMOID_TAIL, TANH_TAIL = 0.01, 0.99
CONV_KINDS = frozenset({"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"})
MAX_MAP_PIXELS = 48  # feature maps larger than this (per side) are average-pooled for display
MAX_RESPONSE_VALUES = 120_000  # unit-response thumbnails share this many grid values (figure < 1 MB)

DYING_ADVICE = (
    "A dead ReLU unit outputs zero for every input, so it also passes no gradient back and never recovers. "
    "Use Leaky ReLU (keras.layers.LeakyReLU) or ELU, lower the learning rate, use He initialisation "
    "(kernel_initializer='he_normal'), and standardise the inputs."
)
SATURATION_ADVICE = (
    "Saturated units sit on the flat tails of their activation function, where the slope is almost zero, so "
    "little gradient flows back through them (vanishing gradients). Use ReLU in the hidden layers, standardise "
    "the inputs, use Glorot/Xavier initialisation, add batch normalisation, or lower the learning rate."
)
DYING_ADVICE_ZH = (
    "死亡的 ReLU 单元 (dying ReLU) 对任何输入都输出零，因此也不向后传递梯度，再也无法恢复。"
    "改用 Leaky ReLU（keras.layers.LeakyReLU）或 ELU，降低学习率 (learning rate)，使用 He 初始化 (He initialization)"
    "（kernel_initializer='he_normal'），并标准化输入。"
)
SATURATION_ADVICE_ZH = (
    "饱和 (saturation) 的单元处在激活函数平坦的尾部，那里的斜率几乎为零，所以几乎没有梯度能向后穿过它们"
    "（梯度消失 (vanishing gradients)）。隐藏层改用 ReLU，标准化输入，使用 Glorot/Xavier 初始化，"
    "加入批归一化 (batch normalization)，或降低学习率 (learning rate)。"
)


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


@dataclasses.dataclass(frozen=True)
class Distributions:
    """Per-layer histograms of the outputs on the probe batch (or at the run's last record)."""

    source: str  # "probe" or "run"
    step: int | None  # the record's step when taken from the run
    n_samples: int
    layers: tuple[str, ...]
    activations: tuple[str, ...]
    edges: tuple[np.ndarray, ...]  # per layer [bins+1]
    fractions: tuple[np.ndarray, ...]  # per layer [bins], sums to 1
    zero_fractions: np.ndarray  # per layer, share of outputs exactly zero


@dataclasses.dataclass(frozen=True)
class ProbeHealth:
    """Dead units and saturation of the current model on the probe batch."""

    dead_layers: tuple[str, ...]
    dead_units: tuple[int, ...]
    units: tuple[int, ...]
    saturating_layers: tuple[str, ...]
    saturating_activations: tuple[str, ...]
    saturated: tuple[float, ...]
    layers: tuple[str, ...]  # every layer of the probe, input to output


@dataclasses.dataclass(frozen=True)
class FeatureMaps:
    """The outputs of every convolutional layer for one sample, beside the sample itself."""

    sample_index: int
    label: str
    predicted: str
    image: np.ndarray  # [H, W, C]
    layers: tuple[str, ...]
    maps: tuple[np.ndarray, ...]  # per layer [shown, h, w]
    channels: tuple[int, ...]  # channels each layer has in all


@dataclasses.dataclass(frozen=True)
class UnitResponses:
    """Each dense unit's output over a grid on the 2-D input plane."""

    xs: np.ndarray  # [g]
    ys: np.ndarray  # [g]
    feature_names: tuple[str, str]
    layers: tuple[str, ...]
    activations: tuple[str, ...]
    responses: tuple[np.ndarray, ...]  # per layer [shown units, g (y), g (x)]
    units: tuple[int, ...]  # units each layer has in all


def _no_records() -> np.ndarray:
    return np.zeros((0, 0), np.float32)


@dataclasses.dataclass(frozen=True)
class ActivationsResult:
    """What the activations plugin draws; the training fields stay empty without a run."""

    distributions: Distributions | None
    probe_health: ProbeHealth | None
    feature_maps: FeatureMaps | None
    unit_responses: UnitResponses | None
    findings: tuple[dlviz.Finding, ...]
    notes: tuple[str, ...]  # views left out of view="all", and why
    thresholds: tuple[float, float]  # zero_fraction, saturation: drawn as dashed lines
    over_time: HistogramsOverTime | None = None
    steps: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))  # record steps shown
    relu_layers: tuple[str, ...] = ()
    zero_fractions: np.ndarray = dataclasses.field(default_factory=_no_records)  # [relu layers, steps]
    saturating_layers: tuple[str, ...] = ()
    saturated_fractions: np.ndarray = dataclasses.field(default_factory=_no_records)  # [saturating, steps]
    notes_zh: tuple[str, ...] = ()  # `notes` in Chinese, one for one


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
        if _run_records(ctx.run) or _has_model_data(ctx):
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
        reason = _view_reason(ctx, view)
        return True if reason is None else tr(ctx.language, *reason)

    def compute(self, ctx: dlviz.Context, params: Params) -> ActivationsResult:
        verdict = self.view_compatibility(ctx, params.view)
        if verdict is not True:
            raise dlviz.PluginError(verdict, "choose another view, e.g. view='all'.")
        wanted = set(VIEWS[1:]) if params.view == "all" else {params.view}
        notes, notes_zh = [], []
        if params.view == "all":
            for view in sorted(wanted):
                reason = _view_reason(ctx, view)
                if reason is not None:
                    notes.append(reason[0])
                    notes_zh.append(reason[1])
                    wanted.discard(view)

        probe = _probe_activations(ctx) if _has_model_data(ctx) else None
        health = _probe_health(probe) if probe is not None else None
        ctx.report(0.3, tr(ctx.language, "activations over training", "训练过程中的激活值"))
        training = _training(ctx.run, params) if "training" in wanted and _run_records(ctx.run) else {}
        distributions = _distributions(ctx, probe, params) if "distributions" in wanted else None
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
            feature_maps=_feature_maps(ctx, params) if "feature_maps" in wanted else None,
            unit_responses=_unit_responses(ctx, params) if "unit_responses" in wanted else None,
            findings=tuple(_diagnose(ctx.run, health, params)),
            notes=tuple(notes),
            notes_zh=tuple(notes_zh),
            thresholds=(params.zero_fraction, params.saturation),
            **training,
        )

    def render(self, st, ctx: dlviz.Context, result: ActivationsResult) -> None:
        for note in tr_names(ctx.language, result.notes, result.notes_zh):
            st.caption(note)
        super().render(st, ctx, result)

    def diagnose(self, result: ActivationsResult) -> list[dlviz.Finding]:
        return list(result.findings)

    def figures(self, result: ActivationsResult, language: str = "en") -> list[go.Figure]:
        figures = []
        if result.distributions is not None and result.distributions.layers:
            figures.append(_violins(result.distributions, language))
        if result.probe_health is not None and result.probe_health.dead_layers and result.distributions:
            figures.append(_dead_unit_bars(result.probe_health, language))
        if result.over_time is not None and result.over_time.layers:
            figures.append(
                histogram_heatmaps(
                    result.over_time,
                    title=tr(language, "Activation histograms over training", "激活值直方图随训练的变化"),
                    value_label=tr(language, "activation value", "激活值"),
                    language=language,
                )
            )
        if result.relu_layers:
            figures.append(
                _fraction_lines(
                    result.steps,
                    result.relu_layers,
                    result.zero_fractions,
                    result.thresholds[0],
                    title=tr(
                        language,
                        "Dying ReLU: share of zero outputs per ReLU layer",
                        "死亡 ReLU：各 ReLU 层输出为零的比例",
                    ),
                    y_title=tr(
                        language,
                        "outputs exactly zero (% of probe outputs)",
                        "恰好为零的输出（占探针输出的 %）",
                    ),
                    language=language,
                )
            )
        if result.saturating_layers:
            figures.append(
                _fraction_lines(
                    result.steps,
                    result.saturating_layers,
                    result.saturated_fractions,
                    result.thresholds[1],
                    title=tr(
                        language,
                        "Saturation: share of sigmoid/tanh outputs in the flat tails",
                        "饱和：sigmoid/tanh 输出落在平坦尾部的比例",
                    ),
                    y_title=tr(
                        language, "saturated outputs (% of probe outputs)", "饱和输出（占探针输出的 %）"
                    ),
                    language=language,
                )
            )
        if result.feature_maps is not None:
            figures.extend(_feature_map_figures(result.feature_maps, language))
        if result.unit_responses is not None:
            figures.append(_unit_response_figure(result.unit_responses, language))
        return figures


# ----------------------------------------------------------------------------- what is available


def _run_records(run) -> bool:
    return run is not None and bool(run.histograms("act") or run.series("act_zero_frac"))


def _has_model_data(ctx: dlviz.Context) -> bool:
    return ctx.model is not None and ctx.dataset is not None and len(ctx.dataset.x_train) > 0


def _conv_layers(handle) -> list:
    return [info for info in handle.layers if info.kind in CONV_KINDS and len(info.output_shape) == 4]


def _dense_layers(handle) -> list:
    return [info for info in handle.layers if info.kind == "Dense"]


def _shown_layers(available: list[str], kinds: dict[str, str], requested: tuple[str, ...]) -> list[str]:
    """The requested layers, or by default every layer that does more than reshape or mask its input."""
    if requested:
        return pick_layers(available, requested)
    return [name for name in available if kinds.get(name, "") not in PASS_THROUGH_KINDS]


# ----------------------------------------------------------------------------- compute


@dataclasses.dataclass(frozen=True)
class _Probe:
    """The current model's layer outputs on the probe batch (not part of the result: too big)."""

    outputs: dict[str, np.ndarray]
    kinds: dict[str, str]
    activations: dict[str, str]
    n_samples: int


def _probe_activations(ctx: dlviz.Context) -> _Probe:
    x = ctx.dataset.x_train[:PROBE_SIZE]
    layers = ctx.model.layers
    return _Probe(
        outputs=ctx.model.activations(x),
        kinds={info.name: info.kind for info in layers},
        activations={info.name: info.activation or "" for info in layers},
        n_samples=len(x),
    )


def _watched_layers(activations: dict[str, str], order: list[str]) -> tuple[set[str], set[str]]:
    """ReLU layers (they may die) and hidden sigmoid/tanh layers (they may saturate). A confident output
    layer is saturated by design, so the last layer is never watched for saturation."""
    relu = {layer for layer in order if activations.get(layer) in RELU_LIKE}
    saturating = {layer for layer in order[:-1] if activations.get(layer) in SATURATING}
    return relu, saturating


def _probe_health(probe: _Probe) -> ProbeHealth:
    dead_layers, dead, units = [], [], []
    saturating, saturating_activations, saturated = [], [], []
    relu, watched = _watched_layers(probe.activations, list(probe.outputs))
    for layer, values in probe.outputs.items():
        activation = probe.activations[layer]
        if layer in relu:
            per_unit = values.reshape(-1, values.shape[-1])
            dead_layers.append(layer)
            dead.append(int(np.sum(np.all(per_unit <= 0, axis=0))))
            units.append(per_unit.shape[1])
        elif layer in watched:
            saturating.append(layer)
            saturating_activations.append(activation)
            saturated.append(_saturated_share(values, activation))
    return ProbeHealth(
        tuple(dead_layers),
        tuple(dead),
        tuple(units),
        tuple(saturating),
        tuple(saturating_activations),
        tuple(saturated),
        tuple(probe.outputs),
    )


def _saturated_share(values: np.ndarray, activation: str) -> float:
    if activation == "sigmoid":
        return float(np.mean((values < SIGMOID_TAIL) | (values > 1 - SIGMOID_TAIL)))
    return float(np.mean(np.abs(values) > TANH_TAIL))


def _distributions(ctx: dlviz.Context, probe: _Probe | None, params: Params) -> Distributions | None:
    if probe is not None:
        layers = _shown_layers(list(probe.outputs), probe.kinds, params.layers)
        edges, fractions = [], []
        for layer in layers:
            shares, layer_edges = histogram(probe.outputs[layer], params.bins)
            edges.append(layer_edges.astype(np.float32))
            fractions.append(shares.astype(np.float32))
        zeros = np.array([float(np.mean(probe.outputs[layer] == 0)) for layer in layers], np.float32)
        return Distributions(
            "probe",
            None,
            probe.n_samples,
            tuple(layers),
            tuple(probe.activations[layer] for layer in layers),
            tuple(edges),
            tuple(fractions),
            zeros,
        )
    run = ctx.run
    histograms = run.histograms("act")
    if not histograms:
        return None
    available = [layer for layer in run.layers if layer in histograms]
    layers = _shown_layers(available, run.layer_kinds, params.layers)
    zero_series = run.series("act_zero_frac")
    edges, fractions = [], []
    for layer in layers:
        counts, layer_edges = histograms[layer]
        total = max(float(counts[-1].sum()), 1.0)
        edges.append(layer_edges[-1].astype(np.float32))
        fractions.append((counts[-1] / total).astype(np.float32))
    activations = run.layer_activations
    return Distributions(
        "run",
        int(run.record_steps[-1]),
        int(run.meta.get("recorder", {}).get("probe_size", 0)),
        tuple(layers),
        tuple(activations.get(layer) or "" for layer in layers),
        tuple(edges),
        tuple(fractions),
        np.array(
            [zero_series[layer][-1] if layer in zero_series else np.nan for layer in layers], np.float32
        ),
    )


def _training(run, params: Params):
    steps = run.record_steps
    shown = record_window(steps, params.first_step, params.last_step, params.max_points)
    activations = run.layer_activations
    histograms = run.histograms("act")
    available = [layer for layer in run.layers if layer in histograms]
    layers = _shown_layers(available, run.layer_kinds, params.layers)
    zeros, saturated = run.series("act_zero_frac"), run.series("act_sat_frac")
    relu_layers, watched = _watched_layers(activations, run.layers)
    relu = tuple(layer for layer in layers if layer in relu_layers and layer in zeros)
    saturating = tuple(layer for layer in layers if layer in watched and layer in saturated)
    return {
        "over_time": histograms_over_time(histograms, layers, steps, shown, params.bins),
        "steps": steps[shown],
        "relu_layers": relu,
        "zero_fractions": _rows(zeros, relu, shown),
        "saturating_layers": saturating,
        "saturated_fractions": _rows(saturated, saturating, shown),
    }


def _rows(series: dict[str, np.ndarray], layers: tuple[str, ...], shown: np.ndarray) -> np.ndarray:
    if not layers:
        return np.zeros((0, len(shown)), np.float32)
    return np.stack([series[layer][shown] for layer in layers]).astype(np.float32)


def _feature_maps(ctx: dlviz.Context, params: Params) -> FeatureMaps:
    dataset, handle = ctx.dataset, ctx.model
    _, sample, label = test_samples(dataset, params.sample_index, 1)
    conv = [info.name for info in _conv_layers(handle)]
    outputs = handle.activations(sample)
    predicted = predicted_classes(outputs[handle.layers[-1].name])
    maps, channels = [], []
    for layer in conv:
        values = np.moveaxis(outputs[layer][0], -1, 0)  # [channels, h, w]
        channels.append(values.shape[0])
        maps.append(_shrink(values[: params.max_maps]).astype(np.float32))
    return FeatureMaps(
        sample_index=params.sample_index,
        label=class_names_of(dataset, label)[0],
        predicted=class_names_of(dataset, predicted)[0],
        image=sample[0].astype(np.float32),
        layers=tuple(conv),
        maps=tuple(maps),
        channels=tuple(channels),
    )


def _shrink(maps: np.ndarray) -> np.ndarray:
    """Average-pool [k, h, w] maps so that no side exceeds MAX_MAP_PIXELS (keeps figures small)."""
    factor = int(np.ceil(max(maps.shape[1:]) / MAX_MAP_PIXELS))
    if factor <= 1:
        return maps
    k, h, w = maps.shape
    padded = np.pad(maps, ((0, 0), (0, -h % factor), (0, -w % factor)), mode="edge")
    return padded.reshape(k, padded.shape[1] // factor, factor, padded.shape[2] // factor, factor).mean(
        axis=(2, 4)
    )


def _unit_responses(ctx: dlviz.Context, params: Params) -> UnitResponses:
    dataset, handle = ctx.dataset, ctx.model
    dense = _dense_layers(handle)
    thumbnails = sum(min(int(info.output_shape[-1]), params.max_units) for info in dense)
    size = max(8, min(params.grid_size, int(np.sqrt(MAX_RESPONSE_VALUES / thumbnails))))
    points = np.concatenate([dataset.x_train, dataset.x_test]) if len(dataset.x_test) else dataset.x_train
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-6)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], size)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
    outputs = handle.activations(grid, layers=[info.name for info in dense])
    responses, units = [], []
    for info in dense:
        values = outputs[info.name].reshape(len(grid), -1)
        units.append(values.shape[1])
        shown = values[:, : params.max_units].T.reshape(-1, size, size)
        responses.append(shown.astype(np.float32))
    names = tuple(dataset.feature_names[:2]) if len(dataset.feature_names) >= 2 else ("x1", "x2")
    return UnitResponses(
        xs=xs.astype(np.float32),
        ys=ys.astype(np.float32),
        feature_names=names,
        layers=tuple(info.name for info in dense),
        activations=tuple(info.activation or "linear" for info in dense),
        responses=tuple(responses),
        units=tuple(units),
    )


_VIEW_ZH = {"feature_maps": "特征图 (feature maps) ", "unit_responses": "单元响应 (unit responses) "}


def _view_reason(ctx: dlviz.Context, view: str) -> tuple[str, str] | None:
    """None when `view` can be drawn for `ctx`, else the reason it cannot, in English and Chinese."""
    if view in ("all", "distributions"):
        return None
    if view == "training":
        if _run_records(ctx.run):
            return None
        return (
            "The training view needs a run recorded with activations.",
            "训练 (training) 视图需要一条记录了激活值的训练记录 (run)。",
        )
    if not _has_model_data(ctx):
        return (
            f"The {view.replace('_', ' ')} view needs the model and its dataset.",
            f"{_VIEW_ZH.get(view, view)}视图需要模型及其数据集。",
        )
    if view == "feature_maps":
        if len(ctx.dataset.input_shape) != 3:
            return (
                "Feature maps need image data (height x width x channels); this dataset is not images.",
                "特征图 (feature maps) 需要图像数据（高 x 宽 x 通道）；这个数据集不是图像。",
            )
        if not _conv_layers(ctx.model):
            return (
                "Feature maps need a convolutional layer; this model has none.",
                "特征图 (feature maps) 需要卷积层 (convolutional layer)；这个模型没有卷积层。",
            )
        return None
    if tuple(ctx.model.input_shape) != (2,):
        return (
            "Unit responses over the input plane need 2-D point data (2 input features); "
            f"this model takes inputs of shape {tuple(ctx.model.input_shape)}.",
            "单元在输入平面上的响应 (unit responses) 需要二维点数据（2 个输入特征）；"
            f"这个模型的输入形状为 {tuple(ctx.model.input_shape)}。",
        )
    if not _dense_layers(ctx.model):
        return (
            "Unit responses need a Dense layer; this model has none.",
            "单元响应 (unit responses) 需要全连接层 (Dense layer)；这个模型没有全连接层。",
        )
    return None


# ----------------------------------------------------------------------------- diagnosis


def _diagnose(run, health: ProbeHealth | None, params: Params) -> list[dlviz.Finding]:
    """Dying ReLU and saturated layers, from the run's records and the probe batch, one finding per layer."""
    dying: dict[str, dict] = {}
    saturated: dict[str, dict] = {}
    if _run_records(run):
        steps, activations = run.record_steps, run.layer_activations
        relu, watched = _watched_layers(activations, run.layers)
        for layer, row in run.series("act_zero_frac").items():
            start = onset(row >= params.zero_fraction, params.persist) if layer in relu else None
            if start is not None:
                dying[layer] = {"step": int(steps[start]), "zeros": float(np.nanmax(row[start:]))}
        for layer, row in run.series("act_sat_frac").items():
            start = onset(row >= params.saturation, params.persist) if layer in watched else None
            if start is not None:
                saturated[layer] = {
                    "step": int(steps[start]),
                    "share": float(np.nanmax(row[start:])),
                    "activation": activations[layer],
                }
    if health is not None:
        for layer, dead, units in zip(health.dead_layers, health.dead_units, health.units, strict=True):
            if dead / units >= params.dead_units:
                dying.setdefault(layer, {}).update(dead=dead, units=units)
        for layer, activation, share in zip(
            health.saturating_layers, health.saturating_activations, health.saturated, strict=True
        ):
            if share >= params.saturation:
                saturated.setdefault(layer, {"activation": activation, "share": share})

    order = list(health.layers) if health is not None else list(run.layers)
    position = {layer: i for i, layer in enumerate(order)}
    findings = []
    for layer in sorted(dying, key=lambda name: position.get(name, len(position))):
        facts = dying[layer]
        parts, parts_zh = [], []
        if "dead" in facts:
            parts.append(f"{facts['dead']} of {facts['units']} units never fire on the probe batch")
            parts_zh.append(
                f"{facts['units']} 个单元中有 {facts['dead']} 个在探针批次 (probe batch) 上从不激活"
            )
        if "zeros" in facts:
            parts.append(f"{facts['zeros']:.0%} of its outputs are zero, from step {facts['step']} on")
            parts_zh.append(f"从第 {facts['step']} 步起，{facts['zeros']:.0%} 的输出为零")
        # A layer that is entirely dead blocks every gradient below it: no longer a warning.
        whole = facts.get("dead", 0) == facts.get("units", -1) or facts.get("zeros", 0.0) >= 1.0
        findings.append(
            dlviz.Finding(
                "problem" if whole else "warning",
                f"Dying ReLU in {layer}: " + "; ".join(parts) + ".",
                DYING_ADVICE,
                layer=layer,
                step=facts.get("step"),
                headline_zh=f"{layer} 出现死亡 ReLU (dying ReLU)：" + "；".join(parts_zh) + "。",
                advice_zh=DYING_ADVICE_ZH,
            )
        )
    for layer in sorted(saturated, key=lambda name: position.get(name, len(position))):
        facts = saturated[layer]
        since = f", from step {facts['step']} on" if "step" in facts else " on the probe batch"
        since_zh = f"从第 {facts['step']} 步起，" if "step" in facts else "在探针批次 (probe batch) 上，"
        findings.append(
            dlviz.Finding(
                "warning",
                f"Saturated {facts['activation']} in {layer}: {facts['share']:.0%} of its outputs sit in the "
                f"flat tails{since}.",
                SATURATION_ADVICE,
                layer=layer,
                step=facts.get("step"),
                headline_zh=f"{layer} 中的 {facts['activation']} 饱和 (saturation)：{since_zh}"
                f"{facts['share']:.0%} 的输出落在平坦的尾部。",
                advice_zh=SATURATION_ADVICE_ZH,
            )
        )
    if not findings:
        findings.append(
            dlviz.Finding(
                "ok",
                "Activations look alive: no dying ReLU or saturated layer found.",
                headline_zh="激活值看起来正常：没有发现死亡 ReLU (dying ReLU) 或饱和 (saturation) 的层。",
            )
        )
    return findings


# ----------------------------------------------------------------------------- figures


def _layer_label(layer: str, activation: str) -> str:
    return f"{layer} ({activation})" if activation else layer


def _violins(distributions: Distributions, language: str) -> go.Figure:
    """Violins drawn from histograms: the raw outputs would make the figure huge."""
    figure = go.Figure()
    colours = layer_colours(len(distributions.layers))
    labels = []
    for position, (layer, activation, edges, fractions, zeros, colour) in enumerate(
        zip(
            distributions.layers,
            distributions.activations,
            distributions.edges,
            distributions.fractions,
            distributions.zero_fractions,
            colours,
            strict=True,
        )
    ):
        centres = (edges[:-1] + edges[1:]) / 2
        # sqrt keeps a spike (all the zeros of a ReLU) from flattening the rest of the violin.
        width = np.sqrt(fractions / max(float(fractions.max()), 1e-12)) * 0.42
        label = _layer_label(layer, activation)
        labels.append(label)
        share = tr(language, "share", "占比")
        zero_text = tr(language, f"zeros {zeros:.0%}", f"零值 {zeros:.0%}") if np.isfinite(zeros) else ""
        figure.add_trace(
            go.Scatter(
                x=np.concatenate([position - width, (position + width)[::-1]]),
                y=np.concatenate([centres, centres[::-1]]),
                fill="toself",
                mode="lines",
                line={"color": colour, "width": 1},
                name=label,
                customdata=np.concatenate([fractions, fractions[::-1]]) * 100,
                hovertemplate=f"{label}<br>%{{y:.3g}}: {share} %{{customdata:.1f}}%<br>{zero_text}<extra></extra>",
            )
        )
    if distributions.source == "probe":
        title = tr(
            language,
            f"Activation distributions per layer (probe batch of {distributions.n_samples} training samples)",
            f"各层激活值分布（探针批次：{distributions.n_samples} 个训练样本）",
        )
    else:
        title = tr(
            language,
            f"Activation distributions per layer (recorded at step {distributions.step})",
            f"各层激活值分布（记录于第 {distributions.step} 步）",
        )
    figure.update_layout(
        title=title,
        xaxis={
            "title": tr(language, "layer (input → output)", "层（输入 → 输出）"),
            "tickvals": list(range(len(labels))),
            "ticktext": labels,
        },
        yaxis_title=tr(language, "activation value (layer output)", "激活值（层输出）"),
        legend_title_text=tr(language, "layer (activation)", "层（激活函数）"),
    )
    return figure


def _dead_unit_bars(health: ProbeHealth, language: str) -> go.Figure:
    dead = np.array(health.dead_units)
    units = np.array(health.units)
    share = dead / np.maximum(units, 1) * 100
    figure = go.Figure(
        go.Bar(
            x=list(health.dead_layers),
            y=share,
            text=[f"{d}/{u}" for d, u in zip(dead, units, strict=True)],
            textposition="outside",
            marker_color="#d62728",
            name=tr(language, "dead units", "死亡单元"),
        )
    )
    figure.update_layout(
        title=tr(
            language,
            "Dead ReLU units: never active on the probe batch",
            "死亡 ReLU 单元：在探针批次上从未激活",
        ),
        xaxis_title=tr(language, "ReLU layer (input → output)", "ReLU 层（输入 → 输出）"),
        yaxis={
            "title": tr(language, "dead units (% of the layer's units)", "死亡单元（占该层单元的 %）"),
            "range": [0, 105],
        },
    )
    return figure


def _fraction_lines(steps, layers, fractions, threshold, *, title, y_title, language) -> go.Figure:
    figure = go.Figure()
    for layer, colour, row in zip(layers, layer_colours(len(layers)), fractions, strict=True):
        figure.add_trace(go.Scatter(x=steps, y=row * 100, mode="lines", name=layer, line={"color": colour}))
    figure.add_trace(
        go.Scatter(
            x=[steps[0], steps[-1]],
            y=[threshold * 100] * 2,
            mode="lines",
            line={"color": "#888", "dash": "dash"},
            name=tr(language, f"diagnosis threshold {threshold:.0%}", f"诊断阈值 {threshold:.0%}"),
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title=tr(language, "training step", "训练步数 (step)"),
        yaxis={"title": y_title, "range": [-2, 102]},
        legend_title_text=tr(language, "layer (input → output)", "层（输入 → 输出）"),
    )
    return figure


def _scale(values: np.ndarray) -> dict:
    """A diverging scale centred at zero for signed outputs, a sequential one for non-negative outputs."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low < 0 < high or high <= 0:
        limit = max(abs(low), abs(high)) or 1.0
        return {"colorscale": "RdBu_r", "zmid": 0, "zmin": -limit, "zmax": limit}
    return {"colorscale": "Viridis", "zmin": low, "zmax": high if high > low else low + 1}


def _montage(maps: np.ndarray) -> tuple[np.ndarray, int]:
    """Tile [k, h, w] maps into one image with a one-pixel gap (NaN) between tiles; returns it and the columns."""
    k, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    tiled = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, np.float32)
    for i, tile in enumerate(maps):
        r, c = divmod(i, cols)
        tiled[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tile
    return tiled, cols


def _feature_map_figures(feature_maps: FeatureMaps, language: str) -> list[go.Figure]:
    figures = []
    image = feature_maps.image
    for layer, maps, channels in zip(
        feature_maps.layers, feature_maps.maps, feature_maps.channels, strict=True
    ):
        tiled, cols = _montage(maps)
        figure = make_subplots(
            rows=1,
            cols=2,
            column_widths=[0.3, 0.7],
            subplot_titles=[
                tr(
                    language,
                    f"input: test sample #{feature_maps.sample_index}",
                    f"输入：测试样本 #{feature_maps.sample_index}",
                ),
                tr(
                    language,
                    f"{len(maps)} of {channels} feature maps",
                    f"{channels} 个特征图中的 {len(maps)} 个",
                ),
            ],
        )
        figure.add_trace(image_trace(image, tr(language, "input", "输入")), row=1, col=1)
        h, w = maps.shape[1:]
        channel = np.full(tiled.shape, -1, np.int16)
        for i in range(len(maps)):
            r, c = divmod(i, cols)
            channel[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = i
        figure.add_trace(
            go.Heatmap(
                z=tiled,
                customdata=channel,
                name=layer,
                colorbar={"title": {"text": tr(language, "output", "输出值")}},
                hovertemplate=tr(
                    language,
                    "channel %{customdata}<br>output %{z:.3g}<extra></extra>",
                    "通道 %{customdata}<br>输出 %{z:.3g}<extra></extra>",
                ),
                **_scale(maps),
            ),
            row=1,
            col=2,
        )
        figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
        figure.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False, zeroline=False)
        figure.layout.yaxis.scaleanchor = "x"
        figure.layout.yaxis2.scaleanchor = "x2"
        figure.update_layout(
            title=tr(
                language,
                f"Feature maps of {layer} (label {feature_maps.label}, predicted {feature_maps.predicted})",
                f"{layer} 的特征图（标签 {feature_maps.label}，预测 {feature_maps.predicted}）",
            ),
            height=420,
            plot_bgcolor="white",
            xaxis_title=tr(language, "pixels", "像素"),
            xaxis2_title=tr(language, "one tile per channel, in channel order", "每格一个通道，按通道顺序"),
        )
        figures.append(figure)
    return figures


def _unit_response_figure(responses: UnitResponses, language: str) -> go.Figure:
    rows = len(responses.layers)
    cols = max(len(r) for r in responses.responses)
    titles = []
    for layer_responses in responses.responses:
        titles += [f"#{unit}" for unit in range(len(layer_responses))] + [""] * (cols - len(layer_responses))
    figure = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.02 / max(cols / 8, 1),
        vertical_spacing=0.12 / max(rows / 3, 1),
    )
    x_name, y_name = responses.feature_names
    for row, (layer, layer_responses) in enumerate(
        zip(responses.layers, responses.responses, strict=True), start=1
    ):
        scale = _scale(layer_responses)
        for col, response in enumerate(layer_responses, start=1):
            name = f"{layer} {tr(language, 'unit', '单元')} {col - 1}"
            figure.add_trace(
                go.Heatmap(
                    x=responses.xs,
                    y=responses.ys,
                    z=response,
                    showscale=False,
                    name=name,
                    hovertemplate=f"{name}<br>{x_name} %{{x:.2f}}, {y_name} %{{y:.2f}}<br>"
                    + tr(language, "output", "输出")
                    + " %{z:.3g}<extra></extra>",
                    **scale,
                ),
                row=row,
                col=col,
            )
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    for row, (layer, activation) in enumerate(
        zip(responses.layers, responses.activations, strict=True), start=1
    ):
        figure.update_yaxes(title_text=f"{_layer_label(layer, activation)}<br>{y_name}", row=row, col=1)
    figure.update_xaxes(title_text=x_name, row=rows, col=1)
    cell = 110
    figure.update_layout(
        title=tr(language, "Each dense unit over the input plane", "每个全连接单元在输入平面上的响应"),
        height=cell * rows + 140,
        width=max(600, cell * cols + 120),
        margin={"l": 60, "r": 20, "t": 90, "b": 50},
    )
    figure.add_annotation(
        text=tr(
            language,
            "colour per layer: blue negative, white 0, red positive (diverging) or dark low to yellow high",
            "每层一个色标：蓝负、白零、红正（发散色标），或由暗到黄表示由低到高",
        ),
        x=0,
        y=1.0,
        xref="paper",
        yref="paper",
        yanchor="bottom",
        yshift=28,
        showarrow=False,
        font={"size": 11},
    )
    return figure
