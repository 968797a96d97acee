"""The `gradients` plugin: per-layer gradient flow over training, its diagnosis, and saliency maps."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import dlviz
from dlviz.plugin import tr
from plugins._shared.classes import class_names_of, predicted_classes
from plugins._shared.records import (
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
    run_label,
    test_samples,
)

# Update-to-weight ratios inside this band (around the rule of thumb 1e-3) look healthy.
RATIO_BAND = (10**-3.5, 10**-2.5)
# Median update-to-weight ratios beyond these are worth a note in the diagnosis.
RATIO_TOO_HIGH, RATIO_TOO_LOW = 1e-1, 1e-6

VANISHING_ADVICE = (
    "The gradient shrinks at every layer it flows back through, so the layers near the input barely learn. "
    "Use ReLU (or Leaky ReLU) instead of sigmoid/tanh in the hidden layers, He initialisation "
    "(kernel_initializer='he_normal'), batch normalisation between layers, or fewer layers / residual connections."
)
EXPLODING_ADVICE = (
    "The updates are so large that training diverges. Lower the learning rate (try 10x smaller), clip the "
    "gradients (e.g. keras.optimizers.Adam(clipnorm=1.0)), standardise the inputs, or add batch normalisation."
)
DEAD_ADVICE = (
    "No gradient reaches these layers, so they stop learning. Usually the ReLU units after them output zero "
    "for every sample (dying ReLU): try Leaky ReLU, a lower learning rate or He initialisation; also check "
    "that no layer on the path was frozen or cut off by mistake."
)
VANISHING_ADVICE_ZH = (
    "梯度每向后穿过一层就缩小一些，所以靠近输入的层几乎学不到东西（梯度消失 (vanishing gradients)）。"
    "隐藏层改用 ReLU（或 Leaky ReLU）代替 sigmoid/tanh，使用 He 初始化 (He initialization)"
    "（kernel_initializer='he_normal'），在层之间加入批归一化 (batch normalization)，或减少层数 / 使用残差连接 (residual connections)。"
)
EXPLODING_ADVICE_ZH = (
    "更新量太大，训练发散（梯度爆炸 (exploding gradients)）。降低学习率 (learning rate)（试试缩小 10 倍），"
    "进行梯度裁剪 (gradient clipping)（例如 keras.optimizers.Adam(clipnorm=1.0)），标准化输入，"
    "或加入批归一化 (batch normalization)。"
)
DEAD_ADVICE_ZH = (
    "没有梯度能到达这些层，所以它们停止学习。通常是它们后面的 ReLU 单元对每个样本都输出零（死亡 ReLU (dying ReLU)）："
    "试试 Leaky ReLU、更低的学习率 (learning rate) 或 He 初始化 (He initialization)；"
    "也检查一下路径上是否有层被误冻结或被意外切断。"
)


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


@dataclasses.dataclass(frozen=True)
class RunNorms:
    """Another run's per-layer gradient norms, drawn beside the main run's."""

    label: str
    layers: tuple[str, ...]
    steps: np.ndarray
    norms: np.ndarray  # [n_layers, n_steps]
    label_zh: str = ""  # `label` in Chinese ("" when it is the same)

    def text(self, language: str) -> str:
        """The run's legend label in `language`."""
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class Saliency:
    """d (score of the predicted class) / d input for a few test images."""

    indices: tuple[int, ...]
    images: np.ndarray  # [n, H, W, C] as given to the model
    gradients: np.ndarray  # [n, H, W], summed over channels (signed)
    labels: tuple[str, ...]
    predicted: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class GradientsResult:
    """What the gradients plugin draws: from a run ("run") or from one batch ("batch")."""

    source: str
    layers: tuple[str, ...]
    steps: np.ndarray  # record steps shown; [0] for one batch
    norms: np.ndarray  # [n_layers, n_steps]
    update_ratios: np.ndarray  # [n_layers, n_steps], or shape (0, 0) when not recorded
    histograms: HistogramsOverTime | None
    other_runs: tuple[RunNorms, ...]
    saliency: Saliency | None
    findings: tuple[dlviz.Finding, ...]
    batch_size: int = 0


class Gradients(dlviz.Plugin):
    """Gradient flow: how strong the gradient is at each layer while the model trains, and what that means.

    Per-layer gradient norms over training (log scale, input to output) and as a layer x step heatmap,
    gradient histograms over time, update-to-weight ratios, and a diagnosis of vanishing, exploding and
    dead gradients. Without a recorded run, the gradients of one batch of training samples. For image
    models, input-gradient saliency maps of chosen test samples.

    简介：梯度流 (gradient flow)：训练过程中每一层梯度的大小及其含义。按从输入到输出的顺序画出各层梯度范数
    (gradient norm) 随训练步数的变化（对数坐标）和“层 x 步数”热力图、梯度直方图随时间的变化、
    更新量与权重之比 (update-to-weight ratio)，并自动诊断梯度消失 (vanishing gradients)、梯度爆炸
    (exploding gradients) 和梯度为零的“死”层。没有训练记录 (run) 时，显示一批训练样本的梯度。
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
        if _run_gradients(ctx.run) or (ctx.model is not None and ctx.dataset is not None):
            return True
        if ctx.run is not None:
            return tr(
                ctx.language,
                "This run recorded no gradients. Record with dlviz.Recorder(gradients=True, probe=(x, y)), "
                "or load the model and its dataset to see the gradients of one batch.",
                "这条训练记录 (run) 没有记录梯度 (gradients)。请用 dlviz.Recorder(gradients=True, probe=(x, y)) "
                "记录，或加载模型及其数据集，查看一批样本的梯度。",
            )
        return tr(
            ctx.language,
            "Gradient flow needs a recorded run, or a model and its dataset.",
            "梯度流 (gradient flow) 需要一条训练记录 (run)，或者模型及其数据集。",
        )

    def compute(self, ctx: dlviz.Context, params: Params) -> GradientsResult:
        if _run_gradients(ctx.run):
            result = _from_run(ctx.run, params)
            others = tuple(
                other
                for index, run in enumerate(ctx.runs)
                if run is not ctx.run and (other := _other_run(run, index, params)) is not None
            )
        else:
            result, others = _from_batch(ctx, params), ()
        ctx.report(0.7, tr(ctx.language, "saliency", "显著图 (saliency map)"))
        saliency = _saliency(ctx, params) if params.saliency_samples else None
        return dataclasses.replace(result, other_runs=others, saliency=saliency)

    def diagnose(self, result: GradientsResult) -> list[dlviz.Finding]:
        return list(result.findings)

    def figures(self, result: GradientsResult, language: str = "en") -> list[go.Figure]:
        if result.source == "batch":
            figures = [_batch_bars(result, language), _batch_histograms(result, language)]
        else:
            figures = [_norm_lines(result, language), _norm_heatmap(result, language)]
            if result.histograms is not None and result.histograms.layers:
                figures.append(
                    histogram_heatmaps(
                        result.histograms,
                        title=tr(language, "Gradient histograms over training", "梯度直方图随训练的变化"),
                        value_label=tr(language, "gradient value", "梯度值"),
                        language=language,
                    )
                )
            if result.update_ratios.size:
                figures.append(_ratio_lines(result, language))
        if result.saliency is not None:
            figures.append(_saliency_figure(result.saliency, language))
        return figures


# ----------------------------------------------------------------------------- compute


def _run_gradients(run) -> dict[str, np.ndarray]:
    return run.series("grad_norm") if run is not None else {}


def _ordered(run, names) -> list[str]:
    order = {name: i for i, name in enumerate(run.layers)}
    return sorted(names, key=lambda name: order.get(name, len(order)))


def _layer_sizes(run, layers: list[str]) -> np.ndarray:
    sizes = dict.fromkeys(layers, 0)
    for variable in run.meta.get("variables", []):
        if variable.get("layer") in sizes:
            sizes[variable["layer"]] += int(np.prod(variable["shape"], dtype=np.int64))
    return np.array([max(sizes[layer], 1) for layer in layers], np.float64)


def _from_run(run, params: Params) -> GradientsResult:
    series = _run_gradients(run)
    all_layers = _ordered(run, series)
    steps = run.record_steps
    norms = np.stack([series[layer] for layer in all_layers]).astype(np.float64)
    findings = diagnose_norms(all_layers, steps, norms, _layer_sizes(run, all_layers), params)
    findings += _ratio_findings(run, all_layers, steps)

    layers = pick_layers(all_layers, params.layers)
    shown = record_window(steps, params.first_step, params.last_step, params.max_points)
    rows = [all_layers.index(layer) for layer in layers]
    ratios = run.series("update_ratio")
    ratio_rows = [ratios[layer][shown] for layer in layers if layer in ratios]
    histograms = run.histograms("grad")
    return GradientsResult(
        source="run",
        layers=tuple(layers),
        steps=steps[shown],
        norms=norms[rows][:, shown],
        update_ratios=np.stack(ratio_rows) if len(ratio_rows) == len(layers) else np.zeros((0, 0)),
        histograms=histograms_over_time(histograms, layers, steps, shown, params.bins)
        if histograms
        else None,
        other_runs=(),
        saliency=None,
        findings=tuple(findings),
    )


def _other_run(run, index: int, params: Params) -> RunNorms | None:
    """Another run's norms in the same step window; None when it has no gradient records there."""
    series = _run_gradients(run)
    layers = _ordered(run, [layer for layer in series if not params.layers or layer in params.layers])
    if not layers:
        return None
    steps = run.record_steps
    try:
        shown = record_window(steps, params.first_step, params.last_step, params.max_points)
    except dlviz.ParamsError:  # a shorter run than the one shown: nothing to overlay
        return None
    norms = np.stack([series[layer][shown] for layer in layers])
    return RunNorms(run_label(run, index), tuple(layers), steps[shown], norms, run_label(run, index, "zh"))


def _from_batch(ctx: dlviz.Context, params: Params) -> GradientsResult:
    dataset, handle = ctx.dataset, ctx.model
    n = len(dataset.x_train)
    rng = np.random.default_rng(ctx.seed)
    chosen = np.sort(rng.choice(n, size=min(params.batch_size, n), replace=False))
    ctx.report(0.1, tr(ctx.language, "gradients of one batch", "一批样本的梯度"))
    gradients = handle.gradients(dataset.x_train[chosen], dataset.y_train[chosen])

    by_layer: dict[str, list[np.ndarray]] = {}
    for path, values in gradients.items():
        by_layer.setdefault(handle.layer_of_path[path], []).append(np.ravel(values).astype(np.float64))
    order = [info.name for info in handle.layers]
    all_layers = sorted(by_layer, key=lambda name: order.index(name) if name in order else len(order))
    values = {layer: np.concatenate(by_layer[layer]) for layer in all_layers}
    norms = np.array([[np.sqrt(np.sum(values[layer] ** 2))] for layer in all_layers])
    sizes = np.array([values[layer].size for layer in all_layers], np.float64)
    findings = diagnose_norms(all_layers, None, norms, sizes, params)

    layers = pick_layers(all_layers, params.layers)
    edges, fractions = [], []
    for layer in layers:
        shares, layer_edges = histogram(values[layer], params.bins)
        edges.append(layer_edges.astype(np.float32))
        fractions.append(shares[None].astype(np.float32))
    rows = [all_layers.index(layer) for layer in layers]
    return GradientsResult(
        source="batch",
        layers=tuple(layers),
        steps=np.zeros(1, np.int64),
        norms=norms[rows],
        update_ratios=np.zeros((0, 0)),
        histograms=HistogramsOverTime(tuple(layers), np.zeros(1, np.int64), tuple(edges), tuple(fractions)),
        other_runs=(),
        saliency=None,
        findings=tuple(findings),
        batch_size=len(chosen),
    )


def _saliency(ctx: dlviz.Context, params: Params) -> Saliency | None:
    dataset, handle = ctx.dataset, ctx.model
    if handle is None or dataset is None or dataset.kind != "image":
        return None
    indices, images, labels = test_samples(dataset, params.sample_index, params.saliency_samples)
    gradients = handle.input_gradients(images)
    predicted = predicted_classes(handle.predict(images))
    return Saliency(
        indices=tuple(int(i) for i in indices),
        images=images.astype(np.float32),
        gradients=gradients.reshape(images.shape).sum(axis=-1).astype(np.float32),
        labels=class_names_of(dataset, labels),
        predicted=class_names_of(dataset, predicted),
    )


# ----------------------------------------------------------------------------- diagnosis


def diagnose_norms(
    layers: list[str], steps: np.ndarray | None, norms: np.ndarray, sizes: np.ndarray, params: Params
) -> list[dlviz.Finding]:
    """Vanishing, exploding and dead gradients from per-layer norms [n_layers, n_records].

    Layers are in input-to-output order; `steps` are the records' training steps (None for one
    batch). Vanishing compares each layer's RMS gradient (norm / sqrt(size), so that big and small
    layers compare fairly) with the output layer's; exploding compares each layer's norm with its
    own start and with `params.exploding_norm`; dead means a norm of exactly zero.
    """
    norms = np.asarray(norms, np.float64)
    finite = np.isfinite(norms)
    rms = norms / np.sqrt(sizes)[:, None]

    def started(condition: np.ndarray, persist: int) -> dict[str, int]:
        starts = {}
        for layer, row in zip(layers, condition, strict=True):
            first = onset(row, persist)
            if first is not None:
                starts[layer] = first
        return starts

    def at(index: int) -> int | None:
        return None if steps is None else int(steps[index])

    def since(index: int) -> str:
        return "" if steps is None else f", from step {at(index)} on"

    def since_zh(index: int) -> str:
        return "" if steps is None else f"，从第 {at(index)} 步起"

    findings = []
    # Exploding: non-finite at once; or a norm far above the layer's start or above the absolute limit,
    # for `persist` records or until the gradient breaks down (NaN, or zero once the units die).
    with np.errstate(invalid="ignore", divide="ignore"):
        start = np.array([_initial(row) for row in norms])
        grown = finite & (
            (norms > start[:, None] * 10.0**params.exploding_decades) | (norms > params.exploding_norm)
        )
    collapsed = ~finite | (norms == 0)
    episode = grown | (np.maximum.accumulate(grown, axis=1) & collapsed)
    broken = started(~finite, 1)
    exploding = started(episode, params.persist)
    for layer, index in broken.items():
        exploding[layer] = min(index, exploding.get(layer, index))
    if exploding:
        first = min(exploding.values())
        worst = _first_named(layers, exploding)
        peak = np.nanmax(np.where(finite, norms, np.nan)) if finite.any() else np.nan
        what = "NaN/infinite gradients" if broken else f"gradient norms up to {peak:.3g}"
        what_zh = "梯度为 NaN/无穷大" if broken else f"梯度范数 (gradient norm) 高达 {peak:.3g}"
        findings.append(
            dlviz.Finding(
                "problem",
                f"Exploding gradients in {_names(layers, exploding)}: {what}{since(first)}.",
                EXPLODING_ADVICE,
                layer=worst,
                step=at(first),
                headline_zh=f"{_names(layers, exploding)} 出现梯度爆炸 (exploding gradients)：{what_zh}{since_zh(first)}。",
                advice_zh=EXPLODING_ADVICE_ZH,
            )
        )

    dead = started(finite & (norms == 0), params.persist)
    if dead:
        first = min(dead.values())
        findings.append(
            dlviz.Finding(
                "problem",
                f"Dead layers: the gradient of {_names(layers, dead)} is exactly zero{since(first)}.",
                DEAD_ADVICE,
                layer=_first_named(layers, dead),
                step=at(first),
                headline_zh=f"死亡层 (dead layers)：{_names(layers, dead)} 的梯度恰好为零{since_zh(first)}。",
                advice_zh=DEAD_ADVICE_ZH,
            )
        )

    reference = rms[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = finite & finite[-1] & (rms > 0) & (reference > 0)
        gap = np.where(usable, np.log10(reference / rms), np.nan)
    vanishing = {
        layer: index
        for layer, index in started(usable & (gap >= params.vanishing_decades), params.persist).items()
        if layer != layers[-1] and layer not in exploding
    }
    if vanishing:
        first = min(vanishing.values())
        rows = [layers.index(layer) for layer in vanishing]
        deepest = float(np.nanmax(gap[rows]))
        findings.append(
            dlviz.Finding(
                "problem",
                f"Vanishing gradients in {_names(layers, vanishing)}: up to {deepest:.1f} orders of magnitude "
                f"(10^{deepest:.1f}x) smaller than at the output layer ({layers[-1]}){since(first)}.",
                VANISHING_ADVICE,
                layer=layers[rows[int(np.nanargmax(np.nanmax(gap[rows], axis=1)))]],
                step=at(first),
                headline_zh=f"{_names(layers, vanishing)} 出现梯度消失 (vanishing gradients)：比输出层 ({layers[-1]}) "
                f"小多达 {deepest:.1f} 个数量级（10^{deepest:.1f} 倍）{since_zh(first)}。",
                advice_zh=VANISHING_ADVICE_ZH,
            )
        )
    if not findings:
        findings.append(
            dlviz.Finding(
                "ok",
                "Gradients flow: no vanishing, exploding or dead layers found.",
                headline_zh="梯度流动正常：没有发现梯度消失 (vanishing gradients)、梯度爆炸 (exploding gradients) 或死亡层。",
            )
        )
    return findings


def _initial(row: np.ndarray) -> float:
    """A layer's starting norm: the median of its first finite, non-zero records (a tenth of them, at least one)."""
    usable = row[np.isfinite(row) & (row > 0)]
    if not usable.size:
        return np.inf
    return float(np.median(usable[: max(1, len(row) // 10)]))


def _names(layers: list[str], flagged: dict[str, int]) -> str:
    return ", ".join(layer for layer in layers if layer in flagged)


def _first_named(layers: list[str], flagged: dict[str, int]) -> str:
    return next(layer for layer in layers if layer in flagged)


def _ratio_findings(run, layers: list[str], steps: np.ndarray) -> list[dlviz.Finding]:
    """Layers whose typical update-to-weight ratio (median over the second half of the run) is far off 1e-3."""
    ratios = run.series("update_ratio")
    typical = {}
    for layer in layers:
        late = ratios.get(layer, np.zeros(0))[len(steps) // 2 :]
        late = late[np.isfinite(late)]
        if late.size:
            typical[layer] = float(np.median(late))
    high = {layer: ratio for layer, ratio in typical.items() if ratio > RATIO_TOO_HIGH}
    low = {layer: ratio for layer, ratio in typical.items() if 0 < ratio < RATIO_TOO_LOW}
    findings = []
    if high:
        findings.append(
            dlviz.Finding(
                "info",
                f"Large updates in {', '.join(high)}: each update changes the weights by up to "
                f"{max(high.values()):.0%} (update/weight ratio; rule of thumb about 1e-3).",
                "The learning rate is probably too high for these layers; try a smaller one.",
                layer=max(high, key=high.get),
                headline_zh=f"{', '.join(high)} 的更新量很大：每次更新使权重改变多达 {max(high.values()):.0%}"
                "（更新/权重比 (update/weight ratio)；经验值约为 1e-3）。",
                advice_zh="对这些层来说学习率 (learning rate) 可能太高了；试试更小的学习率。",
            )
        )
    if low:
        findings.append(
            dlviz.Finding(
                "info",
                f"Weights barely change in {', '.join(low)}: update/weight ratio down to {min(low.values()):.1e} "
                "(rule of thumb about 1e-3).",
                "The learning rate may be too low for these layers, or their gradients vanish.",
                layer=min(low, key=low.get),
                headline_zh=f"{', '.join(low)} 的权重几乎不变：更新/权重比 (update/weight ratio) 低至 {min(low.values()):.1e}"
                "（经验值约为 1e-3）。",
                advice_zh="对这些层来说学习率 (learning rate) 可能太低，或者它们的梯度消失 (vanishing gradients) 了。",
            )
        )
    return findings


# ----------------------------------------------------------------------------- figures


def _positive(values: np.ndarray) -> np.ndarray:
    """Values a log axis can show; zero, negative and non-finite values become gaps."""
    values = np.asarray(values, np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _step_axis(language: str) -> str:
    return tr(language, "training step", "训练步数 (step)")


def _norm_lines(result: GradientsResult, language: str) -> go.Figure:
    figure = go.Figure()
    colours = layer_colours(len(result.layers))
    colour_of = dict(zip(result.layers, colours, strict=True))
    for layer, row in zip(result.layers, result.norms, strict=True):
        figure.add_trace(
            go.Scatter(
                x=result.steps,
                y=_positive(row),
                mode="lines",
                name=layer,
                legendgroup="this run",
                legendgrouptitle_text=tr(language, "this run", "当前训练"),
                line={"color": colour_of[layer], "width": 2},
            )
        )
    dashes = ("dash", "dot", "dashdot", "longdash")
    for number, other in enumerate(result.other_runs):
        label = other.text(language)
        for layer, row in zip(other.layers, other.norms, strict=True):
            figure.add_trace(
                go.Scatter(
                    x=other.steps,
                    y=_positive(row),
                    mode="lines",
                    name=f"{layer} ({label})",
                    legendgroup=label,
                    legendgrouptitle_text=label,
                    line={
                        "color": colour_of.get(layer, "#888"),
                        "dash": dashes[number % len(dashes)],
                        "width": 1.5,
                    },
                )
            )
    shown = _positive(result.norms)
    floor = np.nanmin(shown, initial=np.inf) / 10 if np.isfinite(shown).any() else 1e-8
    ceiling = np.nanmax(shown, initial=-np.inf) * 10 if np.isfinite(shown).any() else 1.0
    # One rung per layer below the lowest line (above the highest), so that markers of several layers stay apart.
    rung = {layer: 1.5**index for index, layer in enumerate(result.layers)}
    for trace in _unplottable(
        result,
        language,
        zero_at=lambda layer: floor / rung[layer],
        broken_at=lambda layer: ceiling * rung[layer],
    ):
        figure.add_trace(trace)
    figure.update_layout(
        title=tr(language, "Gradient norm per layer (log scale)", "各层梯度范数（对数坐标）"),
        xaxis_title=_step_axis(language),
        yaxis={
            "title": tr(language, "gradient L2 norm ‖∇W‖", "梯度 L2 范数 ‖∇W‖"),
            "type": "log",
            "exponentformat": "power",
        },
        legend_title_text=tr(language, "layer (input → output)", "层（输入 → 输出）"),
    )
    return figure


def _unplottable(result: GradientsResult, language: str, *, zero_at, broken_at) -> list[go.Scatter]:
    """Markers where a log scale has no place for a norm: exactly zero (dead) or NaN/infinite (exploded).

    `zero_at(layer)` and `broken_at(layer)` give the y of the marker (the axis floor and ceiling of
    the line chart, the layer's own row in the heatmap).
    """
    colour_of = dict(zip(result.layers, layer_colours(len(result.layers)), strict=True))
    kinds = (
        (result.norms == 0, "x", zero_at, tr(language, "gradient exactly 0", "梯度恰为 0")),
        (
            ~np.isfinite(result.norms),
            "triangle-up",
            broken_at,
            tr(language, "NaN or infinite gradient", "梯度为 NaN 或无穷大"),
        ),
    )
    step = tr(language, "step", "步数")
    traces = []
    for mask, symbol, place, label in kinds:
        rows, cols = np.nonzero(mask)
        if not len(rows):
            continue
        names = [result.layers[row] for row in rows]
        traces.append(
            go.Scatter(
                x=result.steps[cols],
                y=[place(name) for name in names],
                mode="markers",
                marker={"symbol": symbol, "size": 9, "color": [colour_of[name] for name in names]},
                name=label,
                showlegend=True,
                customdata=names,
                hovertemplate=f"%{{customdata}}<br>{step} %{{x}}: {label}<extra></extra>",
            )
        )
    return traces


def _norm_heatmap(result: GradientsResult, language: str) -> go.Figure:
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(_positive(result.norms))
    figure = go.Figure(
        go.Heatmap(
            x=result.steps,
            y=list(result.layers),
            z=logs.round(4),
            colorscale="Viridis",
            colorbar={"title": {"text": "log₁₀ ‖∇W‖"}},
            hovertemplate=tr(
                language,
                "%{y}<br>step %{x}<br>log₁₀ norm %{z:.2f}<extra></extra>",
                "%{y}<br>步数 %{x}<br>log₁₀ 范数 %{z:.2f}<extra></extra>",
            ),
        )
    )
    for trace in _unplottable(result, language, zero_at=str, broken_at=str):
        figure.add_trace(trace)
    figure.update_layout(
        title=tr(language, "Gradient norm: layer x step (log₁₀)", "梯度范数：层 x 步数（log₁₀）"),
        xaxis_title=_step_axis(language),
        yaxis={"title": tr(language, "layer (input at top)", "层（输入在上）"), "autorange": "reversed"},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
    )
    return figure


def _ratio_lines(result: GradientsResult, language: str) -> go.Figure:
    steps = result.steps
    low, high = RATIO_BAND
    figure = go.Figure(
        [
            go.Scatter(
                x=[steps[0], steps[-1]],
                y=[low, low],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[steps[0], steps[-1]],
                y=[high, high],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(46, 160, 67, 0.15)",
                name=tr(language, "rule of thumb ≈ 1e-3", "经验值 ≈ 1e-3"),
                hoverinfo="skip",
            ),
        ]
    )
    for layer, colour, row in zip(
        result.layers, layer_colours(len(result.layers)), result.update_ratios, strict=True
    ):
        figure.add_trace(
            go.Scatter(x=steps, y=_positive(row), mode="lines", name=layer, line={"color": colour})
        )
    shown = _positive(result.update_ratios)
    lowest, highest = np.log10([np.nanmin(shown, initial=low), np.nanmax(shown, initial=high)])
    figure.update_layout(
        title=tr(language, "Update-to-weight ratio per layer", "各层更新量与权重之比"),
        xaxis_title=_step_axis(language),
        yaxis={
            "title": tr(language, "‖ΔW‖ / ‖W‖ per update", "每次更新的 ‖ΔW‖ / ‖W‖"),
            "type": "log",
            # At least 1e-5..1e-1: the band sits in context and every decade gets a labelled tick.
            "range": [min(lowest, -5.0) - 0.2, max(highest, -1.0) + 0.2],
            "dtick": 1,
            "exponentformat": "power",
        },
        # A filled band would otherwise reverse the legend.
        legend={
            "title": {"text": tr(language, "layer (input → output)", "层（输入 → 输出）")},
            "traceorder": "normal",
        },
    )
    return figure


def _batch_title(result: GradientsResult, language: str, en: str, zh: str) -> str:
    return tr(
        language,
        f"{en} (one batch of {result.batch_size} samples)",
        f"{zh}（一批 {result.batch_size} 个样本）",
    )


def _batch_bars(result: GradientsResult, language: str) -> go.Figure:
    norms = result.norms[:, 0]
    positive = _positive(norms)
    lowest, highest = np.log10([np.nanmin(positive, initial=1.0), np.nanmax(positive, initial=1.0)])
    figure = go.Figure(
        go.Bar(
            x=list(result.layers),
            y=positive,
            marker_color=layer_colours(len(result.layers)),
            text=[f"{value:.2e}" for value in norms],
            textposition="outside",
            name=tr(language, "gradient norm", "梯度范数"),
        )
    )
    figure.update_layout(
        title=_batch_title(result, language, "Gradient norm per layer", "各层梯度范数"),
        xaxis_title=tr(language, "layer (input → output)", "层（输入 → 输出）"),
        yaxis={
            "title": tr(language, "gradient L2 norm ‖∇W‖ (log scale)", "梯度 L2 范数 ‖∇W‖（对数坐标）"),
            "type": "log",
            # Bars start at the bottom of a log axis: put it a decade below the smallest so heights compare.
            "range": [lowest - 1.0, highest + 0.3],
            "exponentformat": "power",
        },
    )
    return figure


def _batch_histograms(result: GradientsResult, language: str) -> go.Figure:
    histograms = result.histograms
    n = len(histograms.layers)
    cols = min(3, n)
    rows = -(-n // cols)
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=list(histograms.layers))
    colours = layer_colours(n)
    for i, (layer, edges, fractions) in enumerate(
        zip(histograms.layers, histograms.edges, histograms.fractions, strict=True)
    ):
        figure.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=fractions[0] * 100,
                width=np.diff(edges),
                name=layer,
                marker_color=colours[i],
                showlegend=False,
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    figure.update_xaxes(title_text=tr(language, "gradient value", "梯度值"), row=rows)
    figure.update_yaxes(title_text=tr(language, "share of values (%)", "数值占比 (%)"), col=1)
    figure.update_layout(
        title=_batch_title(result, language, "Gradient histograms per layer", "各层梯度直方图"),
        height=max(320, 260 * rows + 80),
        bargap=0,
    )
    return figure


def _saliency_figure(saliency: Saliency, language: str) -> go.Figure:
    n = len(saliency.indices)
    titles = [
        tr(language, f"#{i}: label {label}, predicted {pred}", f"#{i}：标签 {label}，预测 {pred}")
        for i, label, pred in zip(saliency.indices, saliency.labels, saliency.predicted, strict=True)
    ] + [tr(language, "saliency", "显著图")] * n
    figure = make_subplots(rows=2, cols=n, subplot_titles=titles, vertical_spacing=0.12)
    for col, (image, gradient) in enumerate(zip(saliency.images, saliency.gradients, strict=True), start=1):
        figure.add_trace(image_trace(image), row=1, col=col)
        # Each map on its own scale: a confident prediction has far smaller gradients than an unsure one.
        largest = float(np.abs(gradient).max()) or 1.0
        figure.add_trace(
            go.Heatmap(
                z=gradient / largest,
                customdata=gradient,
                coloraxis="coloraxis",
                hovertemplate="x %{x}, y %{y}<br>"
                + tr(language, "∂score/∂pixel", "∂得分/∂像素")
                + " %{customdata:.3g}<extra></extra>",
            ),
            row=2,
            col=col,
        )
    figure.update_yaxes(autorange="reversed", showticklabels=False)
    figure.update_xaxes(showticklabels=False)
    for index in range(1, 2 * n + 1):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"yaxis{suffix}"].scaleanchor = f"x{suffix}"
    figure.update_layout(
        title=tr(
            language,
            "Input-gradient saliency: which pixels move the predicted class's score",
            "输入梯度显著图：哪些像素影响预测类别的得分",
        ),
        coloraxis={
            "colorscale": "RdBu_r",
            "cmid": 0,
            "cmin": -1,
            "cmax": 1,
            "colorbar": {
                "title": {
                    "text": tr(
                        language,
                        "∂ score / ∂ pixel,<br>scaled to each<br>map's largest<br>(red: brighter<br>raises the score)",
                        "∂ 得分 / ∂ 像素，<br>按每张图的<br>最大值缩放<br>（红：变亮使<br>得分升高）",
                    )
                }
            },
        },
        height=520,
        width=max(520, 200 * n + 160),
    )
    return figure
