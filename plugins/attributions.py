"""The `attributions` plugin: gradient-based attribution maps, their completeness and their sanity check."""

from __future__ import annotations

import dataclasses
import time
import weakref

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.subplots import make_subplots

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import tr, tr_names
from plugins._shared.explain import (
    HEATMAP_OPACITY,
    Head,
    check_sample,
    class_probabilities,
    class_weights,
    display_values,
    explained_inputs,
    feature_names,
    grey_image_trace,
    head_class_names,
    head_of,
    image_axes,
    is_image,
    note_annotation,
    one_output_vector_reason,
    resolve_targets,
    signed_heatmap,
    units_text,
)

METHODS = ("integrated_gradients", "saliency", "smoothgrad", "gradient_x_input", "grad_cam")
METHOD_NAMES = {
    "integrated_gradients": ("Integrated Gradients", "积分梯度 (Integrated Gradients)"),
    "saliency": ("Saliency (gradient)", "显著图 (saliency map)"),
    "smoothgrad": ("SmoothGrad", "SmoothGrad (平滑梯度)"),
    "gradient_x_input": ("Gradient × Input", "梯度 × 输入 (Gradient × Input)"),
    "grad_cam": ("Grad-CAM", "Grad-CAM (类激活图)"),
}
BASELINES = ("zeros", "blurred", "mean")
CONV_KINDS = frozenset({"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose"})
# Rows per call of the compiled function, scaled down for large inputs (about 16 MB of float32 inputs).
MAX_ROWS_PER_CALL = 4096
INPUT_VALUES_PER_CALL = 1 << 22
# The sanity check compares maps of this many samples.
SANITY_SAMPLES = 8
# Mean rank correlation with the trained model's maps, after randomising every layer, above which a
# method is flagged: its maps stay the same whatever the weights, so they do not explain the model.
SANITY_LIMIT = 0.5
# Relative completeness error of Integrated Gradients above which more steps are advised.
COMPLETENESS_LIMIT = 0.05
# Standard deviation of the Gaussian blur of the "blurred" baseline, as a fraction of the image side.
BLUR_FRACTION = 0.25
TABULAR_SAMPLES_SHOWN = 3
TOP_FEATURES = 15


@dataclasses.dataclass(frozen=True)
class Params:
    """Controls of the attributions view."""

    methods: tuple = dlviz.param(
        ("auto",),
        label="Methods",
        label_zh="方法",
        help="auto = every method that applies (Grad-CAM only for convolutional models).",
        help_zh="auto 表示所有适用的方法（Grad-CAM 仅适用于卷积模型）。",
        choices=("auto", *METHODS),
        multiple=True,
        choice_labels={method: en for method, (en, _) in METHOD_NAMES.items()},
        choice_labels_zh={
            "auto": "auto（全部适用的方法）",
            **{method: zh for method, (_, zh) in METHOD_NAMES.items()},
        },
    )
    baseline: str = dlviz.param(
        "zeros",
        label="IG baseline",
        label_zh="积分梯度基线",
        help="Integrated Gradients' starting input: zeros (black image / the mean of standardised columns), "
        "blurred (the image blurred, images only) or mean (the mean training input).",
        help_zh="积分梯度的起点输入 (baseline)：zeros（全零：黑色图像 / 标准化后各列的均值）、blurred（模糊后的图像，"
        "仅限图像）或 mean（训练集的平均输入）。",
        choices=BASELINES,
    )
    steps: int = dlviz.param(
        50,
        label="IG steps",
        label_zh="积分步数",
        help="Intervals of the path integral (trapezoid rule); more steps, smaller completeness error.",
        help_zh="路径积分的区间数（梯形法）；步数越多，完整性误差 (completeness error) 越小。",
        min=2,
        max=1000,
        step=1,
    )
    smoothgrad_samples: int = dlviz.param(
        25,
        label="SmoothGrad samples",
        label_zh="SmoothGrad 噪声样本数",
        help="Noisy copies of each input whose gradients SmoothGrad averages.",
        help_zh="SmoothGrad 对每个输入加噪声复制的份数，对它们的梯度取平均。",
        min=1,
        max=500,
        step=1,
    )
    smoothgrad_noise: float = dlviz.param(
        0.15,
        label="SmoothGrad noise",
        label_zh="SmoothGrad 噪声强度",
        help="Standard deviation of the noise as a fraction of the training inputs' range (10-20% works well).",
        help_zh="噪声标准差占训练输入取值范围的比例（10%-20% 效果较好）。",
        min=0.0,
        max=1.0,
        step=0.01,
    )
    score: str = dlviz.param(
        "logit",
        label="Score explained",
        label_zh="解释的分数",
        help="logit: the class's pre-activation score (no saturation; a single sigmoid unit gives +z for "
        "class 1, -z for class 0); probability: the class probability.",
        help_zh="logit：类别在激活函数之前的分数（不会饱和；单个 sigmoid 输出单元对类别 1 取 +z，对类别 0 取 -z）；"
        "probability：类别概率。",
        choices=("logit", "probability"),
    )
    target: int = dlviz.param(
        -1,
        label="Class explained",
        label_zh="解释的类别",
        help="Which class to explain; -1 = each sample's predicted class.",
        help_zh="解释哪个类别；-1 表示每个样本各自的预测类别。",
        min=-1,
        max=999,
        step=1,
    )
    n_samples: int = dlviz.param(
        32,
        label="Samples explained",
        label_zh="解释的样本数",
        help="How many test samples to explain (the first ones of the test split).",
        help_zh="要解释的测试样本个数（测试集中的前若干个）。",
        min=1,
        max=2000,
        step=1,
    )
    sample: int = dlviz.param(
        0,
        label="Sample shown",
        label_zh="显示的样本",
        help="Which of the explained samples the maps and bars show.",
        help_zh="图中显示第几个被解释的样本。",
        min=0,
        max=1999,
        step=1,
    )
    grad_cam_layer: str = dlviz.param(
        "",
        label="Grad-CAM layer",
        label_zh="Grad-CAM 所用的层",
        help="Layer whose feature maps Grad-CAM weighs; empty = the last convolutional layer.",
        help_zh="Grad-CAM 加权的特征图所在的层；留空表示最后一个卷积层。",
    )
    sanity_check: bool = dlviz.param(
        True,
        label="Sanity check",
        label_zh="合理性检验",
        help="Randomise the weights layer by layer from the top (cascading, Adebayo et al. 2018) and measure "
        "how much each method's maps change.",
        help_zh="从输出层开始逐层随机化权重（级联随机化，Adebayo 等 2018），衡量每种方法的归因图变化多少。",
    )


@dataclasses.dataclass(frozen=True)
class SanityCheck:
    """Cascading randomisation. Stage 0 is the trained model; stage k has the weights of the top k layers
    randomised (`stages[k]` names the layer randomised last). `correlations[method][k]` is the mean
    Spearman rank correlation between the trained and the stage-k maps of |attribution|,
    `signed_correlations` the same of the signed maps; `maps[method]` holds the shown sample's map at
    every stage."""

    stages: tuple[str, ...]
    correlations: dict[str, np.ndarray]
    signed_correlations: dict[str, np.ndarray]
    maps: dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class AttributionResult:
    """Attribution maps of the explained samples, one class each.

    `maps[method]` is (samples, H, W) for images (channels summed) or (samples, features) for tables.
    `ig_sums` and `ig_deltas` are, per sample, the sum of Integrated Gradients and score(x) - score(baseline);
    `completeness_error` is max |sum - delta| divided by mean |delta|.
    """

    methods: tuple[str, ...]
    maps: dict[str, np.ndarray]
    inputs: np.ndarray
    feature_values: np.ndarray
    feature_names: tuple[str, ...]
    image: bool
    targets: np.ndarray
    probabilities: np.ndarray
    class_names: tuple[str, ...]
    score: str
    baseline: str
    steps: int
    grad_cam_layer: str | None
    ig_sums: np.ndarray | None
    ig_deltas: np.ndarray | None
    completeness_error: float | None
    sanity: SanityCheck | None
    sample: int
    notes: tuple[str, ...]
    seconds: float
    notes_zh: tuple[str, ...] = ()  # `notes` in Chinese, one for one
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none


class Attributions(dlviz.Plugin):
    """Attribution maps: which input values (pixels or features) a prediction depends on, by five gradient
    methods side by side: Integrated Gradients, vanilla saliency, SmoothGrad, Gradient x Input and Grad-CAM.

    Integrated Gradients adds up the gradients along the straight path from a baseline input (zeros, a
    blurred copy or the mean input) to the input, so its attributions sum to score(input) -
    score(baseline): the completeness check reports how close they come. Grad-CAM weighs the last
    convolutional layer's feature maps by their gradients (convolutional models only). The sanity check of
    Adebayo et al. (2018) randomises the model's weights from the top layer down and measures how much each
    method's maps change: maps that survive randomisation show the input, not what the model learned.
    Every method runs batched through one compiled TensorFlow function.

    简介：归因图 (attribution map) 是一种可解释性 (explainability) 方法：显示一次预测依赖于哪些输入值（像素或特征）。
    这里并排比较五种基于梯度的方法：积分梯度 (Integrated Gradients)、普通显著图 (saliency map，即输入梯度)、
    SmoothGrad（对加噪声的输入的梯度取平均）、梯度 × 输入 (Gradient × Input) 和 Grad-CAM。积分梯度沿着从基线
    (baseline：全零、模糊后的图像或平均输入) 到输入的直线路径累加梯度，因此其归因之和等于 分数(输入) − 分数(基线)：
    完整性检验 (completeness check) 报告两者相差多少。Grad-CAM 用梯度对最后一个卷积层的特征图加权（仅限卷积模型）。
    Adebayo 等人 (2018) 的合理性检验 (sanity check) 从最顶层开始逐层随机化模型权重，衡量每种方法的归因图变化多少：
    权重随机后依然不变的图反映的是输入本身，而不是模型学到的东西。所有方法都在同一个编译好的 TensorFlow 函数中批量计算。

    What to look for: methods that agree on the same strokes or features are more believable than any one
    alone. Red marks evidence for the class, blue evidence against it. Saliency maps are noisy; SmoothGrad
    and Integrated Gradients are smoother. In the sanity-check curve every method should fall towards zero
    as more layers are randomised; a method whose curve stays high (flagged) produces the same picture for a
    trained and a random network, so it cannot tell you what the model uses. A completeness error above a
    few percent means Integrated Gradients needs more steps. Grad-CAM is coarse: its resolution is that of
    the convolutional layer.

    观察要点：多种方法都指向相同笔画或特征时，比任何一种方法单独给出的结果更可信。红色是支持该类别的证据，蓝色是反对的证据。
    普通显著图噪声较大；SmoothGrad 和积分梯度更平滑。在合理性检验曲线中，随着被随机化的层增多，每种方法的曲线都应
    降向零；曲线一直很高（会被标记）的方法对训练好的网络和随机网络给出同样的图，因此无法说明模型依赖什么。
    完整性误差超过百分之几，说明积分梯度需要更多步数。Grad-CAM 较粗糙：其分辨率就是卷积层特征图的分辨率。

    >>> import dlviz
    >>> from dlviz.testing import tiny_context
    >>> ctx = tiny_context("tabular")
    >>> result = dlviz.compute("attributions", model=ctx.model, dataset=ctx.dataset, n_samples=8, steps=200)
    >>> result.methods  # no Grad-CAM: this MLP has no convolutional layer
    ('integrated_gradients', 'saliency', 'smoothgrad', 'gradient_x_input')
    >>> result.completeness_error < 0.01  # the attributions add up to score(x) - score(baseline)
    True
    >>> [figure.layout.title.text.split(":")[0] for figure in dlviz.get_plugin("attributions").figures(result)]
    ['Attributions per feature', 'Attributions per feature', 'Attributions per feature', 'Integrated Gradients completeness (200 steps, zeros baseline)', 'Sanity check (Adebayo et al. 2018)']
    """

    name = "attributions"
    title = "Attributions"
    title_zh = "归因图"
    section = "Explanations"
    requires = frozenset({"model", "dataset"})
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        return one_output_vector_reason(ctx, "Attributions", "归因图 (attributions)") or True

    def compute(self, ctx: dlviz.Context, params: Params) -> AttributionResult:
        started = time.perf_counter()
        handle, dataset = ctx.model, ctx.dataset
        x = explained_inputs(dataset, params.n_samples)
        check_sample(params.sample, len(x))
        image = is_image(handle, dataset)
        methods = _methods(params.methods, handle)
        layer = _grad_cam_layer(handle, params.grad_cam_layer) if "grad_cam" in methods else None
        head = head_of(handle, x)
        outputs = handle.predict(x)
        targets = resolve_targets(head, outputs, params.target)
        baseline = _baseline(params.baseline, dataset, x, image)
        notes: list[tuple[str, str]] = []  # (English, Chinese)
        engine = _engine(handle, head, params.score, layer)
        trained = engine.weights()
        rng = np.random.default_rng(ctx.seed)
        train = np.asarray(dataset.x_train, dtype=np.float32)
        noise = params.smoothgrad_noise * float(train.max() - train.min())
        plan = _Plan(methods, params.steps, params.smoothgrad_samples, noise)
        noises = rng.normal(size=(len(x), plan.noisy, *x.shape[1:])).astype(np.float32) * noise

        ctx.report(0.05, tr(ctx.language, "attributions", "计算归因 (attributions)"))
        raw, ig = engine.attribute(plan, x, targets, baseline, noises, trained)
        notes.extend(engine.notes)
        maps = {method: _display(raw[method], image) for method in methods}
        ig_sums = ig_deltas = completeness = None
        if ig is not None:
            ig_sums, ig_deltas = ig
            completeness = float(np.max(np.abs(ig_sums - ig_deltas)) / max(np.mean(np.abs(ig_deltas)), 1e-12))
            if completeness > COMPLETENESS_LIMIT:
                notes.append(
                    (
                        f"Integrated Gradients' sum misses score(x) - score(baseline) by {completeness:.1%}: "
                        "use more steps.",
                        f"积分梯度 (Integrated Gradients) 之和与 score(x) - score(baseline) 相差 {completeness:.1%}："
                        "请增加步数。",
                    )
                )

        sanity = None
        if params.sanity_check:
            ctx.report(0.3, tr(ctx.language, "sanity check", "合理性检验 (sanity check)"))
            sanity = _sanity_check(
                ctx, engine, trained, plan, x, targets, baseline, noises, maps, params.sample, image
            )
        probabilities = class_probabilities(head, outputs)[np.arange(len(x)), targets]
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
        names_en, names_zh = head_class_names(dataset, head)
        return AttributionResult(
            methods=methods,
            maps=maps,
            inputs=x,
            feature_values=display_values(dataset, x),
            feature_names=feature_names(dataset, tuple(handle.input_shape)),
            image=image,
            targets=targets,
            probabilities=probabilities,
            class_names=names_en,
            class_names_zh=names_zh,
            score=params.score if head.activation in ("softmax", "sigmoid") else "output",
            baseline=params.baseline,
            steps=params.steps,
            grad_cam_layer=layer,
            ig_sums=ig_sums,
            ig_deltas=ig_deltas,
            completeness_error=completeness,
            sanity=sanity,
            sample=params.sample,
            notes=tuple(english for english, _ in notes),
            seconds=time.perf_counter() - started,
            notes_zh=tuple(chinese for _, chinese in notes),
        )

    def diagnose(self, result: AttributionResult) -> list[dlviz.Finding]:
        findings = []
        if result.sanity is not None:
            for method in result.methods:
                magnitude = float(result.sanity.correlations[method][-1])
                signed = float(result.sanity.signed_correlations[method][-1])
                name = METHOD_NAMES[method][0]
                if magnitude >= SANITY_LIMIT and signed >= SANITY_LIMIT:
                    findings.append(
                        dlviz.Finding(
                            "problem",
                            f"{name} fails the sanity check: its maps barely change when every layer's weights are "
                            f"randomised (rank correlation {magnitude:.2f})",
                            "A random network gets the same picture, so these maps do not explain what the model "
                            "learned. Prefer a method whose sanity-check curve falls towards zero.",
                            headline_zh=f"{name} 未通过合理性检验 (sanity check)：各层权重全部随机化后，归因图几乎不变"
                            f"（秩相关 {magnitude:.2f}）",
                            advice_zh="随机网络也给出同样的图，说明这些图没有解释模型学到的东西。"
                            "请选用合理性检验曲线降向零的方法。",
                        )
                    )
                elif magnitude >= SANITY_LIMIT:
                    findings.append(
                        dlviz.Finding(
                            "warning",
                            f"{name}: with every layer randomised, |attribution| still ranks the inputs like the "
                            f"trained model's (rank correlation {magnitude:.2f}; signed {signed:.2f})",
                            "Its magnitudes mostly follow the input (the map multiplies by the input, zero where it "
                            "is zero); only its signs depend on the model. Read the signs, not where the map is "
                            "bright, or use a blurred or mean baseline for Integrated Gradients.",
                            headline_zh=f"{name}：各层全部随机化后，|归因值| 对输入的排序仍与训练后的模型相同"
                            f"（秩相关 {magnitude:.2f}；带符号 {signed:.2f}）",
                            advice_zh="它的大小主要跟随输入（图乘以输入，输入为零处即为零），只有符号取决于模型。"
                            "请看符号而不是亮处，或为积分梯度 (Integrated Gradients) 使用模糊或均值基线 (baseline)。",
                        )
                    )
        if result.completeness_error is not None and result.completeness_error > COMPLETENESS_LIMIT:
            findings.append(
                dlviz.Finding(
                    "warning",
                    f"Integrated Gradients misses completeness by {result.completeness_error:.1%} "
                    f"with {result.steps} steps",
                    "Raise the number of steps until the attributions add up to score(x) - score(baseline).",
                    headline_zh=f"积分梯度 (Integrated Gradients) 的完整性 (completeness) 误差为 "
                    f"{result.completeness_error:.1%}（{result.steps} 步）",
                    advice_zh="增加步数，直到归因之和等于 score(x) - score(baseline)。",
                )
            )
        return findings

    def figures(self, result: AttributionResult, language: str = "en") -> list[go.Figure]:
        if result.image:
            figures = [_image_figure(result, language)]
        else:
            shown = range(result.sample, min(result.sample + TABULAR_SAMPLES_SHOWN, len(result.targets)))
            figures = [_bars_figure(result, index, language) for index in shown]
        if result.ig_sums is not None:
            figures.append(_completeness_figure(result, language))
        if result.sanity is not None:
            figures.append(_sanity_curve(result, language))
            if result.image:
                figures.append(_sanity_maps(result, language))
        timing = tr(
            language,
            f"{len(result.targets)} samples explained in {result.seconds:.1f} s (one compiled function).",
            f"解释了 {len(result.targets)} 个样本，用时 {result.seconds:.1f} 秒（同一个编译函数）。",
        )
        note_annotation(figures[0], (timing, *tr_names(language, result.notes, result.notes_zh)))
        return figures


# --------------------------------------------------------------------- setup


def _methods(chosen: tuple, handle) -> tuple[str, ...]:
    convolutional = bool(_spatial_layers(handle, conv_only=True))
    if "auto" in chosen:
        return tuple(m for m in METHODS if m != "grad_cam" or convolutional)
    if "grad_cam" in chosen and not convolutional:
        raise PluginError(
            "Grad-CAM needs a convolutional layer (its feature maps are what it weighs); this model has none.",
            "pick other methods (Integrated Gradients, saliency, SmoothGrad, Gradient x Input), or explain a CNN.",
        )
    return tuple(m for m in METHODS if m in chosen)


def _spatial_layers(handle, conv_only: bool) -> list[str]:
    return [
        info.name
        for info in handle.layers
        if len(info.output_shape) == 4 and (info.kind in CONV_KINDS or not conv_only)
    ]


def _grad_cam_layer(handle, name: str) -> str:
    if not name:
        return _spatial_layers(handle, conv_only=True)[-1]
    candidates = _spatial_layers(handle, conv_only=False)
    if name not in candidates:
        raise ParamsError(
            f"Grad-CAM layer {name!r} is not a layer with spatial feature maps (height x width x channels).",
            f"use one of: {', '.join(candidates)} (or leave it empty for the last convolutional layer).",
        )
    return name


def _baseline(kind: str, dataset, x: np.ndarray, image: bool) -> np.ndarray:
    if kind == "zeros":
        return np.zeros_like(x)
    if kind == "mean":
        mean = np.asarray(dataset.x_train, dtype=np.float32).mean(axis=0)
        return np.broadcast_to(mean, x.shape).astype(np.float32)
    if not image:
        raise ParamsError(
            "A blurred baseline needs images: blurring the columns of a table means nothing.",
            "use baseline='zeros' or 'mean' for tabular data.",
        )
    from scipy.ndimage import gaussian_filter

    sigma = BLUR_FRACTION * min(x.shape[1:3])
    return gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="nearest").astype(np.float32)


def _display(raw: np.ndarray, image: bool) -> np.ndarray:
    """Maps as (n, H, W) for images (channels summed, like their attributions add up) or (n, features)."""
    if image:
        return raw.sum(axis=-1) if raw.ndim == 4 else raw
    return raw.reshape(len(raw), -1)


# --------------------------------------------------------------------- the compiled computation


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Which row blocks a batch holds for each sample: the input, IG's path points, SmoothGrad's copies."""

    methods: tuple[str, ...]
    steps: int
    smoothgrad_samples: int
    noise: float

    @property
    def path(self) -> int:
        return self.steps + 1 if "integrated_gradients" in self.methods else 0

    @property
    def noisy(self) -> int:
        return self.smoothgrad_samples if "smoothgrad" in self.methods else 0

    @property
    def rows_per_sample(self) -> int:
        return 1 + self.path + self.noisy

    def alphas(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, self.steps + 1, dtype=np.float32)

    def trapezoid(self) -> np.ndarray:
        weights = np.full(self.steps + 1, 1.0 / self.steps, dtype=np.float32)
        weights[[0, -1]] *= 0.5
        return weights


class _Engine:
    """One compiled function: class scores, their input gradients and Grad-CAM maps for a batch of rows,
    under any values of the trainable weights (passed in, so the sanity check's randomised models reuse
    the same trace and the model's own variables are never touched)."""

    def __init__(self, handle, head: Head, score: str, layer: str | None):
        self.handle = handle
        self.head = head
        self.layer = layer
        self.variables = list(handle.model.trainable_variables)
        self.notes: list[tuple[str, str]] = []  # (English, Chinese)
        self.use_logits = score == "logit" and head.activation in ("softmax", "sigmoid")
        shape = tuple(handle.input_shape)
        self.input_size = int(np.prod(shape))
        signature = [
            tf.TensorSpec((None, *shape), tf.float32),
            tf.TensorSpec((None, head.units), tf.float32),
            [tf.TensorSpec(v.shape, v.dtype) for v in self.variables],
        ]
        self._function = tf.function(self._graph, input_signature=signature, autograph=False)

    def weights(self) -> list[np.ndarray]:
        """The model's current trainable weights (copies)."""
        return [np.array(v.numpy()) for v in self.variables]

    def _graph(self, rows, weights, values):
        with keras.StatelessScope(state_mapping=list(zip(self.variables, values, strict=True))):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(rows)
                captured = self.handle.capture(rows)
                scores = tf.reduce_sum(self._class_scores(captured.outputs) * weights, axis=-1)
            if self.layer is None:
                return scores, tape.gradient(scores, rows), tf.zeros((tf.shape(rows)[0], 1, 1))
            maps = captured.activations[self.layer]
            input_gradients, map_gradients = tape.gradient(scores, [rows, maps])
        channel_weights = tf.reduce_mean(map_gradients, axis=[1, 2], keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(channel_weights * maps, axis=-1, keepdims=True))
        cam = tf.image.resize(cam, tf.shape(rows)[1:3], method="bilinear")[..., 0]
        return scores, input_gradients, cam

    def _class_scores(self, outputs):
        if not self.use_logits:
            return outputs
        logits = getattr(outputs, "_keras_logits", None)
        if logits is not None:
            return logits
        probabilities = tf.clip_by_value(outputs, 1e-7, 1.0 - 1e-7)
        if self.head.activation == "sigmoid":
            self._note(
                "The model's logits were not reachable; used log(p / (1 - p)) instead.",
                "无法取得模型的 logits（对数几率）；改用 log(p / (1 - p))。",
            )
            return tf.math.log(probabilities) - tf.math.log1p(-probabilities)
        self._note(
            "The model's logits were not reachable; used log-probabilities instead.",
            "无法取得模型的 logits（对数几率）；改用对数概率 (log-probabilities)。",
        )
        return tf.math.log(probabilities)

    def _note(self, text: str, text_zh: str) -> None:
        if (text, text_zh) not in self.notes:
            self.notes.append((text, text_zh))

    def run(self, rows: np.ndarray, weights: np.ndarray, values) -> tuple[np.ndarray, ...]:
        """Scores, input gradients and Grad-CAM maps of `rows`, in chunks through the compiled function."""
        per_call = max(1, min(MAX_ROWS_PER_CALL, INPUT_VALUES_PER_CALL // self.input_size))
        tensors = [tf.constant(v) for v in values]
        parts = []
        for start in range(0, len(rows), per_call):
            try:
                result = self._function(
                    tf.constant(rows[start : start + per_call]),
                    tf.constant(weights[start : start + per_call]),
                    tensors,
                )
            except dlviz.DlvizError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"Computing gradients failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}",
                    "check that the model is differentiable with respect to its input.",
                ) from exc
            parts.append([t.numpy() for t in result])
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def attribute(self, plan: _Plan, x, targets, baseline, noises, values):
        """Raw maps per method, shaped like the inputs (Grad-CAM: (n, H, W)), and IG's (sums, deltas)."""
        n, per = len(x), plan.rows_per_sample
        blocks = [x[:, None]]
        if plan.path:
            alphas = plan.alphas().reshape(1, -1, *([1] * (x.ndim - 1)))
            blocks.append(baseline[:, None] + alphas * (x - baseline)[:, None])
        if plan.noisy:
            blocks.append(x[:, None] + noises)
        rows = np.concatenate(blocks, axis=1).reshape(n * per, *x.shape[1:])
        weights, _ = class_weights(self.head, targets)
        scores, gradients, cams = self.run(rows, np.repeat(weights, per, axis=0), values)
        scores = scores.reshape(n, per)
        gradients = gradients.reshape(n, per, *x.shape[1:])
        maps: dict[str, np.ndarray] = {}
        ig = None
        at_input = gradients[:, 0]
        if "saliency" in plan.methods:
            maps["saliency"] = at_input
        if "gradient_x_input" in plan.methods:
            maps["gradient_x_input"] = at_input * x
        if plan.path:
            trapezoid = plan.trapezoid().reshape(1, -1, *([1] * (x.ndim - 1)))
            path_gradients = (gradients[:, 1 : 1 + plan.path] * trapezoid).sum(axis=1)
            maps["integrated_gradients"] = (x - baseline) * path_gradients
            sums = maps["integrated_gradients"].reshape(n, -1).sum(axis=1)
            ig = (sums, scores[:, plan.path] - scores[:, 1])
        if plan.noisy:
            maps["smoothgrad"] = gradients[:, 1 + plan.path :].mean(axis=1)
        if "grad_cam" in plan.methods:
            maps["grad_cam"] = cams.reshape(n, per, *cams.shape[1:])[:, 0]
        return maps, ig


# Compiled engines per model handle, reused while the handle lives (a view recomputed skips tracing).
_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _engine(handle, head: Head, score: str, layer: str | None) -> _Engine:
    engines = _ENGINES.setdefault(handle, {})
    key = (head, score, layer)
    if key not in engines:
        engines[key] = _Engine(handle, head, score, layer)
    return engines[key]


# --------------------------------------------------------------------- sanity check


def _sanity_check(
    ctx, engine: _Engine, trained, plan, x, targets, baseline, noises, maps, sample, image
) -> SanityCheck:
    """Adebayo et al. (2018), cascading randomisation: re-draw the weights of the top layer, then the top
    two, ... down to the first, and compare each method's maps with the trained model's (Spearman rank
    correlation of |map| and of the signed map, averaged over samples). Each weight tensor is re-drawn
    once, from a normal distribution with the trained tensor's standard deviation, so stage k+1 extends
    stage k. The weights are swapped in through the compiled function's arguments (a stateless call), so
    the model's own variables are never modified."""
    handle = engine.handle
    count = min(len(x), SANITY_SAMPLES)
    chosen = np.unique(np.r_[np.arange(count), sample])
    position = int(np.searchsorted(chosen, sample))
    index_of_path = {path: i for i, path in enumerate(handle.variable_paths)}
    layers = [info for info in reversed(handle.layers) if info.trainable_paths]
    rng = np.random.default_rng(ctx.seed + 1)
    random_values = [
        rng.normal(0.0, float(value.std()) or 0.05, size=value.shape).astype(value.dtype) for value in trained
    ]
    values = list(trained)
    stages = ["trained"]
    correlations = {method: [1.0] for method in plan.methods}
    signed = {method: [1.0] for method in plan.methods}
    stage_maps = {method: [maps[method][sample]] for method in plan.methods}
    for number, info in enumerate(layers, start=1):
        for path in info.trainable_paths:
            index = index_of_path[path]
            values[index] = random_values[index]
        randomised, _ = engine.attribute(
            plan, x[chosen], targets[chosen], baseline[chosen], noises[chosen], values
        )
        for method in plan.methods:
            current = _display(randomised[method], image)
            original = maps[method][chosen]
            pairs = list(zip(original, current, strict=True))
            correlations[method].append(np.mean([_rank_correlation(np.abs(a), np.abs(b)) for a, b in pairs]))
            signed[method].append(np.mean([_rank_correlation(a, b) for a, b in pairs]))
            stage_maps[method].append(current[position])
        stages.append(info.name)
        ctx.report(
            0.3 + 0.65 * number / len(layers),
            tr(ctx.language, f"randomised {info.name}", f"已随机化 {info.name} 层的权重"),
        )
    return SanityCheck(
        stages=tuple(stages),
        correlations={m: np.asarray(v) for m, v in correlations.items()},
        signed_correlations={m: np.asarray(v) for m, v in signed.items()},
        maps={m: np.stack(v) for m, v in stage_maps.items()},
    )


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps; 0 when either is constant (it ranks nothing)."""
    from scipy.stats import spearmanr

    a, b = a.ravel(), b.ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


# --------------------------------------------------------------------- figures


def _method_name(method: str, language: str) -> str:
    en, zh = METHOD_NAMES[method]
    return tr(language, en, zh)


def _class_text(result: AttributionResult, index: int, language: str) -> str:
    name = tr_names(language, result.class_names, result.class_names_zh)[int(result.targets[index])]
    return tr(
        language,
        f"sample {index}, class {name} (p = {result.probabilities[index]:.2f})",
        f"样本 {index}，类别 {name}（p = {result.probabilities[index]:.2f}）",
    )


def _scaled(values: np.ndarray) -> np.ndarray:
    """A map divided by its largest |value|, so maps of different methods share one colour scale."""
    peak = float(np.max(np.abs(values)))
    return values / peak if peak > 0 else values


def _image_figure(result: AttributionResult, language: str) -> go.Figure:
    index = result.sample
    rows = len(result.methods)
    headers = [
        tr(language, "input", "输入"),
        tr(language, "attribution", "归因"),
        tr(language, "overlay", "叠加"),
    ]
    row_titles = [_method_name(m, language).replace(" (", "<br>(") for m in result.methods]
    figure = make_subplots(
        rows=rows,
        cols=3,
        column_titles=headers,
        row_titles=row_titles,
        horizontal_spacing=0.03,
        vertical_spacing=0.03,
    )
    image = result.inputs[index]
    for row, method in enumerate(result.methods, start=1):
        scaled = _scaled(result.maps[method][index])
        figure.add_trace(grey_image_trace(image, language), row=row, col=1)
        figure.add_trace(
            signed_heatmap(
                scaled,
                1.0,
                language=language,
                colorbar_title=tr(language, "attribution / max |attribution|", "归因 / 最大 |归因|"),
                show_scale=row == 1,
            ),
            row=row,
            col=2,
        )
        figure.add_trace(grey_image_trace(image, language), row=row, col=3)
        figure.add_trace(
            signed_heatmap(scaled, 1.0, language=language, opacity=HEATMAP_OPACITY), row=row, col=3
        )
    image_axes(figure, rows, 3)
    figure.for_each_annotation(
        lambda note: note.update(x=-0.02, xanchor="right", textangle=0) if note.text in row_titles else None
    )
    layer = (
        f", Grad-CAM {tr(language, 'layer', '层')} {result.grad_cam_layer}" if result.grad_cam_layer else ""
    )
    figure.update_layout(
        title=tr(language, "Attribution maps: ", "归因图：")
        + _class_text(result, index, language)
        + tr(
            language,
            f"<br><sup>{units_text(result.score, language)} explained; red = evidence for the class, "
            f"blue = against; {result.baseline} IG baseline{layer}</sup>",
            f"<br><sup>解释 {units_text(result.score, language)}；红色 = 支持该类别的证据，蓝色 = 反对；"
            f"积分梯度基线 {result.baseline}{layer}</sup>",
        ),
        height=230 * rows + 140,
        width=900,
        margin={"l": 190},
    )
    return figure


def _bars_figure(result: AttributionResult, index: int, language: str) -> go.Figure:
    reference = result.maps[result.methods[0]][index]
    features = np.argsort(-np.abs(reference), kind="stable")[:TOP_FEATURES][::-1]
    labels = [f"{result.feature_names[f]} = {result.feature_values[index, f]:.3g}" for f in features]
    figure = go.Figure()
    for method in result.methods:
        values = result.maps[method][index]
        figure.add_trace(
            go.Bar(
                x=_scaled(values)[features],
                y=labels,
                orientation="h",
                name=_method_name(method, language),
                customdata=values[features],
                hovertemplate="%{y}<br>%{customdata:.3g}<extra>"
                + _method_name(method, language)
                + "</extra>",
            )
        )
    figure.add_vline(x=0, line_color="grey", line_width=1)
    figure.update_layout(
        barmode="group",
        title=tr(language, "Attributions per feature: ", "各特征的归因：")
        + _class_text(result, index, language),
        xaxis_title=tr(
            language,
            "attribution / max |attribution| of the method (> 0 = for the class)",
            "归因 / 该方法的最大 |归因|（> 0 = 支持该类别）",
        ),
        yaxis_title=tr(
            language,
            f"feature (top {len(features)} by {_method_name(result.methods[0], language)})",
            f"特征（按 {_method_name(result.methods[0], language)} 排序的前 {len(features)} 个）",
        ),
        legend_title_text=tr(language, "method", "方法"),
        height=max(420, 22 * len(features) * max(1, len(result.methods)) // 2 + 160),
    )
    return figure


def _completeness_figure(result: AttributionResult, language: str) -> go.Figure:
    deltas, sums = result.ig_deltas, result.ig_sums
    low, high = float(min(deltas.min(), sums.min())), float(max(deltas.max(), sums.max()))
    units = units_text(result.score, language)
    figure = go.Figure(
        [
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                line={"color": "grey", "dash": "dash"},
                name=tr(language, "complete (sum = difference)", "完整（之和 = 差值）"),
            ),
            go.Scatter(
                x=deltas,
                y=sums,
                mode="markers",
                marker={"color": "#4C78A8", "size": 7},
                name=tr(language, "explained samples", "被解释的样本"),
                text=[f"{tr(language, 'sample', '样本')} {i}" for i in range(len(sums))],
                hovertemplate="%{text}<br>Δ %{x:.4g}<br>Σ %{y:.4g}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        title=tr(
            language,
            f"Integrated Gradients completeness ({result.steps} steps, {result.baseline} baseline): "
            f"max error {result.completeness_error:.2%}",
            f"积分梯度完整性检验（{result.steps} 步，基线 {result.baseline}）：最大误差 {result.completeness_error:.2%}",
        ),
        xaxis_title=tr(language, f"score(x) - score(baseline) ({units})", f"分数(x) − 分数(基线)（{units}）"),
        yaxis_title=tr(language, f"sum of attributions ({units})", f"归因之和（{units}）"),
    )
    return figure


def _stage_labels(result: AttributionResult, language: str) -> list[str]:
    stages = result.sanity.stages
    return [tr(language, "trained", "训练好的")] + [
        tr(language, f"…{name}", f"…{name}") for name in stages[1:]
    ]


def _sanity_curve(result: AttributionResult, language: str) -> go.Figure:
    labels = _stage_labels(result, language)
    figure = go.Figure()
    colours = dict(zip(result.methods, ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756"), strict=False))
    for method in result.methods:
        name = _method_name(method, language)
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=result.sanity.correlations[method],
                mode="lines+markers",
                line={"color": colours[method]},
                name=f"{name} |map|",
                legendgroup=method,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=result.sanity.signed_correlations[method],
                mode="lines",
                line={"color": colours[method], "dash": "dash"},
                name=tr(language, f"{name} signed", f"{name} 带符号"),
                legendgroup=method,
            )
        )
    figure.add_hline(
        y=SANITY_LIMIT,
        line_dash="dot",
        line_color="#b2182b",
        annotation_text=tr(
            language, "flagged above this after full randomisation", "完全随机化后高于此线即被标记"
        ),
    )
    figure.add_hline(y=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(
            language,
            "Sanity check (Adebayo et al. 2018): cascading randomisation from the top layer",
            "合理性检验（Adebayo 等 2018）：从顶层开始级联随机化",
        ),
        xaxis_title=tr(
            language, "weights randomised from the top down to layer", "权重已自顶向下随机化到这一层"
        ),
        yaxis={
            "title": tr(
                language,
                "Spearman rank correlation with the trained model's map",
                "与训练模型归因图的斯皮尔曼秩相关 (Spearman)",
            ),
            "range": [-0.3, 1.05],
        },
        legend_title_text=tr(
            language, "method (solid |map|, dashed signed)", "方法（实线 |归因|，虚线带符号）"
        ),
    )
    return figure


def _sanity_maps(result: AttributionResult, language: str) -> go.Figure:
    labels = _stage_labels(result, language)
    rows, cols = len(result.methods), len(labels)
    row_titles = [_method_name(m, language).replace(" (", "<br>(") for m in result.methods]
    figure = make_subplots(
        rows=rows,
        cols=cols,
        column_titles=labels,
        row_titles=row_titles,
        horizontal_spacing=0.02,
        vertical_spacing=0.04,
    )
    for row, method in enumerate(result.methods, start=1):
        for col in range(cols):
            figure.add_trace(
                signed_heatmap(
                    _scaled(result.sanity.maps[method][col]),
                    1.0,
                    language=language,
                    colorbar_title=tr(language, "attribution / max |attribution|", "归因 / 最大 |归因|"),
                    show_scale=row == 1 and col == 0,
                ),
                row=row,
                col=col + 1,
            )
    image_axes(figure, rows, cols)
    figure.for_each_annotation(
        lambda note: note.update(x=-0.01, xanchor="right", textangle=0) if note.text in row_titles else None
    )
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Maps as the weights are randomised from the top layer down: {_class_text(result, result.sample, language)}"
            "<br><sup>columns: weights randomised down to that layer; an all-white map is zero everywhere</sup>",
            f"自顶向下逐层随机化权重后的归因图：{_class_text(result, result.sample, language)}"
            "<br><sup>每一列：权重已随机化到该层；全白的图处处为零</sup>",
        ),
        height=170 * rows + 150,
        width=max(760, 140 * cols + 240),
        margin={"l": 190},
    )
    return figure
