"""The `shap` plugin: SHAP values from the shap package's explainers, drawn as Plotly figures."""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
import weakref
from typing import Any

import keras
import numpy as np
import plotly.graph_objects as go
import tensorflow as tf
from plotly.subplots import make_subplots

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import tr, tr_names
from plugins._shared.explain import (
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
)

EXPLAINERS = ("auto", "deep", "gradient", "kernel")
METHOD_LABELS = {"deep": "DeepExplainer", "gradient": "GradientExplainer", "kernel": "KernelExplainer"}
# A choice whose estimated run time exceeds this gets a warning in the result and the figures.
SLOW_SECONDS = 60.0
# Relative additivity error above which a result is flagged (and auto moves on from DeepExplainer).
ADDITIVITY_TOLERANCE = 1e-2
# Rows (sample copies + background copies) per call of the batched DeepExplainer graph.
DEEP_ROWS_PER_CALL = 4096
# shap.GradientExplainer's own default number of (background, interpolation) draws per sample.
GRADIENT_DRAWS = 200
# Image samples whose top classes get per-pixel maps.
IMAGE_SAMPLES = 3
TOP_FEATURES = 12
WRAPPED_NOTE = "Subclassed model wrapped in a Functional model for shap."
WRAPPED_NOTE_ZH = "子类化模型 (subclassed model) 已包装成 Functional 模型，供 shap 使用。"


@dataclasses.dataclass(frozen=True)
class Params:
    """Controls of the SHAP view."""

    explainer: str = dlviz.param(
        "auto",
        label="Explainer",
        label_zh="解释器",
        help="auto: DeepExplainer when it handles the model (exact additivity), else GradientExplainer, else "
        "KernelExplainer. The other choices force one.",
        help_zh="auto：能处理该模型时用 DeepExplainer（严格可加），否则用 GradientExplainer，再否则用 "
        "KernelExplainer。其余选项强制使用某一种。",
        choices=EXPLAINERS,
        choice_labels={"auto": "auto (the best that works)", **METHOD_LABELS},
        choice_labels_zh={"auto": "auto（自动选择可用的最佳方法）"},
    )
    background: int = dlviz.param(
        100,
        label="Background rows",
        label_zh="背景样本数",
        help="Training rows the explainer integrates over; the base value is the model's mean output on them. "
        "KernelExplainer summarises the training set to this many rows (k-means for tables, a sample for images).",
        help_zh="解释器在其上取平均的训练样本数；基准值是模型在这些样本上的平均输出。KernelExplainer 把训练集"
        "概括为这么多行（表格数据用 k-means，图像用随机抽样）。",
        min=10,
        max=2000,
        step=10,
    )
    n_samples: int = dlviz.param(
        100,
        label="Samples explained",
        label_zh="解释的样本数",
        help="How many test samples to explain (the first ones of the test split).",
        help_zh="要解释的测试样本个数（测试集中的前若干个）。",
        min=1,
        max=2000,
        step=1,
    )
    target: int = dlviz.param(
        -1,
        label="Class explained",
        label_zh="解释的类别",
        help="Which class's probability to explain; -1 = each sample's predicted class.",
        help_zh="解释哪个类别的概率；-1 表示每个样本各自的预测类别。",
        min=-1,
        max=999,
        step=1,
    )
    sample: int = dlviz.param(
        0,
        label="Waterfall sample",
        label_zh="瀑布图样本",
        help="Which of the explained samples the waterfall adds up.",
        help_zh="瀑布图展示第几个被解释的样本。",
        min=0,
        max=1999,
        step=1,
    )
    feature: str = dlviz.param(
        "",
        label="Dependence feature",
        label_zh="依赖图特征",
        help="Feature of the dependence scatter; empty = the most important one.",
        help_zh="依赖散点图所用的特征；留空表示最重要的特征。",
    )
    top_classes: int = dlviz.param(
        3,
        label="Top classes (images)",
        label_zh="显示的前几个类别（图像）",
        help="For images: per-pixel maps for this many of each sample's most probable classes.",
        help_zh="图像模型：为每个样本概率最高的这么多个类别画逐像素热力图。",
        min=1,
        max=10,
        step=1,
    )


@dataclasses.dataclass(frozen=True)
class ShapResult:
    """SHAP values of the explained samples for one class each, and the per-pixel maps of top classes.

    `explanation` is a `shap.Explanation` (values shaped like the inputs, base_values, data, feature_names,
    display_data in the dataset's units). `additivity_error_abs` is max |base + sum(values) - output| over
    the samples, `additivity_error` the same relative to the mean |output|.
    """

    explanation: Any
    method: str
    notes: tuple[str, ...]
    targets: np.ndarray
    class_names: tuple[str, ...]
    outputs: np.ndarray
    additivity_error: float
    additivity_error_abs: float
    feature_values: np.ndarray
    background_size: int
    sample: int
    dependence_feature: int
    interaction_feature: int
    image_shape: tuple | None
    image_samples: np.ndarray
    image_classes: np.ndarray
    image_probabilities: np.ndarray
    image_values: np.ndarray
    seconds: float
    notes_zh: tuple[str, ...] = ()  # `notes` in Chinese, one for one
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none

    @property
    def values(self) -> np.ndarray:
        """SHAP values as (samples, features)."""
        return np.asarray(self.explanation.values).reshape(len(self.targets), -1)

    @property
    def base_values(self) -> np.ndarray:
        return np.asarray(self.explanation.base_values)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.explanation.feature_names)

    @property
    def method_label(self) -> str:
        return METHOD_LABELS[self.method]


class Shap(dlviz.Plugin):
    """SHAP values: how much each input feature (or pixel) pushed each prediction above or below the model's
    average output, computed with the `shap` package's explainers and drawn as Plotly figures.

    A beeswarm summary (every sample's SHAP value per feature, coloured by the feature's value), the mean
    |SHAP| per feature, a waterfall that adds one sample's contributions up from the average output to its
    prediction, a dependence scatter of one feature, and for images the SHAP values of every pixel laid over
    the image for the top classes. The result keeps a real `shap.Explanation`, so shap's own plots work on it.

    简介：SHAP 值 (SHapley Additive exPlanations) 是一种可解释性 (explainability) 方法：它说明每个输入特征
    （或像素）把一次预测推高或拉低了多少（相对于模型在背景数据上的平均输出）。这里用 `shap` 库的解释器
    (explainer) 计算，再用 Plotly 画出：蜂群图 (beeswarm) 汇总每个样本每个特征的 SHAP 值（颜色表示特征取值），
    各特征平均 |SHAP| 柱状图，瀑布图 (waterfall) 展示一个样本的各项贡献如何从平均输出累加到它的预测值，
    一个特征的依赖散点图 (dependence plot)，以及图像模型中叠加在原图上的、前几个类别的逐像素 SHAP 热力图。
    结果中保留真正的 `shap.Explanation` 对象，也可以直接用 shap 自带的绘图函数。

    What to look for: the features at the top of the beeswarm matter most. Red dots (high feature values)
    on the right mean "a high value of this feature raises the output"; a feature whose colours are mixed on
    both sides acts through interactions. In the image maps, red pixels are evidence for the class, blue
    pixels against it: a good digit model puts red on the strokes that make its digit and blue where a
    competing digit would have ink. Check the additivity error: base value + sum of SHAP values must equal
    the model's output; a large error means the explainer did not handle the model and its values should
    not be trusted. The figures name the explainer used: DeepExplainer (DeepLIFT, exact additivity),
    GradientExplainer (expected gradients, a Monte Carlo estimate) or KernelExplainer (model-agnostic, slow).

    观察要点：蜂群图最上面的特征最重要。红点（特征值高）位于右侧，表示“该特征取值越高，输出越高”；
    颜色在两侧混杂的特征通过与其他特征的交互 (interaction) 起作用。在图像热力图中，红色像素是支持该类别的证据，
    蓝色是反对的证据：好的数字识别模型会把红色放在构成该数字的笔画上，把蓝色放在其他数字才会有笔画的位置。
    注意可加性误差 (additivity error)：基准值 (base value) 加上所有 SHAP 值应等于模型输出；误差大说明解释器没能
    正确处理这个模型，其结果不可信。图中写明了所用的解释器：DeepExplainer（基于 DeepLIFT，严格可加）、
    GradientExplainer（期望梯度 (expected gradients)，蒙特卡洛估计）或 KernelExplainer（与模型无关，较慢）。

    >>> import dlviz
    >>> from dlviz.testing import tiny_context
    >>> ctx = tiny_context("tabular")
    >>> figures = dlviz.figures("shap", model=ctx.model, dataset=ctx.dataset, n_samples=20, background=20)
    >>> [figure.layout.title.text.split(":")[0] for figure in figures]
    ['SHAP summary', 'Mean |SHAP|', 'SHAP waterfall', 'SHAP dependence']
    >>> result = dlviz.compute("shap", model=ctx.model, dataset=ctx.dataset, n_samples=20, background=20)
    >>> result.method, result.additivity_error < 1e-3
    ('deep', True)
    """

    name = "shap"
    title = "SHAP values"
    title_zh = "SHAP 值"
    section = "Explanations"
    requires = frozenset({"model", "dataset"})
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        return one_output_vector_reason(ctx, "SHAP values", "SHAP 值 (SHAP values)") or True

    def compute(self, ctx: dlviz.Context, params: Params) -> ShapResult:
        started = time.perf_counter()
        handle, dataset = ctx.model, ctx.dataset
        x = explained_inputs(dataset, params.n_samples)
        check_sample(params.sample, len(x), "Waterfall sample")
        head = head_of(handle, x)
        outputs = handle.predict(x)
        targets = resolve_targets(head, outputs, params.target)
        names = feature_names(dataset, tuple(handle.input_shape))
        image = is_image(handle, dataset)

        probabilities = class_probabilities(head, outputs)
        pairs = _Pairs.choose(targets, probabilities, image, min(params.top_classes, head.n_classes))

        rng = np.random.default_rng(ctx.seed)
        train = np.asarray(dataset.x_train, dtype=np.float32)
        background = train[np.sort(rng.choice(len(train), min(params.background, len(train)), replace=False))]
        expected, seconds_per_row = _background_outputs(handle, background)
        weights, offsets = class_weights(head, pairs.classes)
        task = _Task(
            ctx=ctx,
            head=head,
            background=background,
            expected=expected,
            x=x[pairs.samples],
            classes=pairs.classes,
            outputs=np.sum(outputs[pairs.samples] * weights, axis=1) + offsets,
        )
        notes: list[tuple[str, str]] = []  # (English, Chinese)
        estimate = _estimate_seconds(params.explainer, task, len(x), seconds_per_row)
        if estimate > SLOW_SECONDS:
            notes.append(
                (
                    f"Warning: {params.explainer} with {len(background)} background rows and {len(x)} samples "
                    f"takes about {estimate / 60:.0f} min; fewer background rows or samples, or explainer=auto, "
                    "is faster.",
                    f"警告：{params.explainer} 用 {len(background)} 行背景数据 (background) 解释 {len(x)} 个样本，"
                    f"约需 {estimate / 60:.0f} 分钟；减少背景行数或样本数，或改用 explainer=auto，会更快。",
                )
            )
        ctx.report(0.05, tr(ctx.language, "explaining", "计算解释"))
        values, base, method = _explain(task, params.explainer, notes)

        main = pairs.main
        additivity_abs, additivity = _additivity(values[main], base[main], task.outputs[main])
        if additivity > ADDITIVITY_TOLERANCE:
            notes.append(
                (
                    f"Warning: base + sum(SHAP) misses the output by {additivity:.1%} of the mean output.",
                    f"警告：基准值 (base value) + SHAP 之和与模型输出相差平均输出的 {additivity:.1%}。",
                )
            )

        ctx.report(0.9, tr(ctx.language, "summarising", "汇总结果"))
        shown = display_values(dataset, x)
        flat = values[main].reshape(len(x), -1)
        dependence = _feature_index(params.feature, names, flat)
        interaction = _interaction_feature(dependence, flat, shown)
        shap = _shap()

        explanation = shap.Explanation(
            values=values[main] if image else flat,
            base_values=base[main],
            data=x if image else x.reshape(len(x), -1),
            display_data=None if image else shown,
            feature_names=list(names),
        )
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
        names_en, names_zh = head_class_names(dataset, head)
        return ShapResult(
            explanation=explanation,
            method=method,
            notes=tuple(english for english, _ in notes),
            notes_zh=tuple(chinese for _, chinese in notes),
            targets=targets,
            class_names=names_en,
            class_names_zh=names_zh,
            outputs=task.outputs[main],
            additivity_error=additivity,
            additivity_error_abs=additivity_abs,
            feature_values=shown,
            background_size=len(background),
            sample=params.sample,
            dependence_feature=dependence,
            interaction_feature=interaction,
            image_shape=tuple(handle.input_shape) if image else None,
            image_samples=pairs.image_samples,
            image_classes=pairs.image_classes,
            image_probabilities=np.take_along_axis(
                probabilities[pairs.image_samples], pairs.image_classes, axis=1
            ),
            image_values=values[pairs.shown].reshape(*pairs.image_classes.shape, *x.shape[1:]),
            seconds=time.perf_counter() - started,
        )

    def diagnose(self, result: ShapResult) -> list[dlviz.Finding]:
        findings = []
        if result.additivity_error > ADDITIVITY_TOLERANCE:
            findings.append(
                dlviz.Finding(
                    "warning",
                    f"SHAP values miss the model output by {result.additivity_error:.1%} ({result.method_label})",
                    "Base value + sum of SHAP values should equal the output. Use explainer=deep or kernel, or "
                    "more background rows, before trusting these values.",
                    headline_zh=f"SHAP 值与模型输出相差 {result.additivity_error:.1%}（{result.method_label}），"
                    "未满足可加性 (additivity)",
                    advice_zh="基准值加上全部 SHAP 值应等于模型输出。请改用 explainer=deep 或 kernel，"
                    "或增加背景样本，再相信这些值。",
                )
            )
        importance = np.abs(result.values).mean(axis=0)
        top = int(np.argmax(importance))
        findings.append(
            dlviz.Finding(
                "info",
                f"SHAP: '{result.feature_names[top]}' moves the predictions most "
                f"(mean |SHAP| {importance[top]:.3g}, {result.method_label})",
                "Check that the model relies on features that should matter; a leak or an artefact shows up here.",
                headline_zh=f"SHAP：特征 '{result.feature_names[top]}' 对预测影响最大"
                f"（平均 |SHAP| {importance[top]:.3g}，{result.method_label}）",
                advice_zh="检查模型依赖的是否是本应重要的特征；数据泄漏 (leakage) 或伪影会在这里显现。",
            )
        )
        return findings

    def figures(self, result: ShapResult, language: str = "en") -> list[go.Figure]:
        figures = [
            _beeswarm(result, language),
            _importance_bars(result, language),
            _waterfall(result, language),
            _dependence(result, language),
        ]
        if result.image_shape is not None and len(result.image_samples):
            figures.append(_image_maps(result, language))
        note_annotation(figures[0], _notes(result, language))
        return figures


# --------------------------------------------------------------------- explainers


@dataclasses.dataclass(frozen=True)
class _Pairs:
    """The (sample, class) pairs to explain, each once: every sample's explained class, and the top
    classes of the first few images. `main` and `shown` index the pairs of those two purposes."""

    samples: np.ndarray
    classes: np.ndarray
    main: np.ndarray
    shown: np.ndarray
    image_samples: np.ndarray
    image_classes: np.ndarray

    @classmethod
    def choose(cls, targets: np.ndarray, probabilities: np.ndarray, image: bool, top: int) -> _Pairs:
        image_samples = np.arange(min(IMAGE_SAMPLES, len(targets)) if image else 0)
        image_classes = np.argsort(-probabilities[image_samples], axis=1)[:, :top]
        wanted = list(zip(range(len(targets)), targets.tolist(), strict=True))
        wanted += [(int(s), int(c)) for s, row in zip(image_samples, image_classes, strict=True) for c in row]
        position = {pair: i for i, pair in enumerate(dict.fromkeys(wanted))}
        return cls(
            samples=np.array([pair[0] for pair in position], dtype=np.int64),
            classes=np.array([pair[1] for pair in position], dtype=np.int64),
            main=np.array([position[pair] for pair in wanted[: len(targets)]], dtype=np.int64),
            shown=np.array([position[pair] for pair in wanted[len(targets) :]], dtype=np.int64),
            image_samples=image_samples,
            image_classes=image_classes,
        )


@dataclasses.dataclass(frozen=True)
class _Task:
    """What every explainer works on: (sample, class) pairs, the background and its mean output."""

    ctx: dlviz.Context
    head: Head
    background: np.ndarray
    expected: np.ndarray  # the model's mean output over the background, per unit
    x: np.ndarray  # one input per pair
    classes: np.ndarray  # the class explained for each pair
    outputs: np.ndarray  # the explained class score f(x) of each pair

    @property
    def handle(self):
        return self.ctx.model

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        return class_weights(self.head, self.classes)

    def base_values(self, expected: np.ndarray) -> np.ndarray:
        weights, offsets = self.weights()
        return weights @ expected + offsets

    def additivity(self, values: np.ndarray, base: np.ndarray) -> float:
        return _additivity(values, base, self.outputs)[1]


def _additivity(values: np.ndarray, base: np.ndarray, outputs: np.ndarray) -> tuple[float, float]:
    """max |base + sum(values) - f(x)| over the samples, absolute and relative to the mean |f(x)|."""
    error = float(np.max(np.abs(base + values.reshape(len(values), -1).sum(axis=1) - outputs)))
    return error, error / max(float(np.mean(np.abs(outputs))), 1e-12)


def _explain(task: _Task, choice: str, notes: list[tuple[str, str]]):
    """SHAP values (pairs, *input_shape), base values (pairs,) of each class score and the method used;
    what it had to do differently goes to `notes` as (English, Chinese)."""
    if choice == "kernel":
        return (*_kernel_values(task), "kernel")
    functional, wrap_note = _cached(task.handle, "functional", lambda: _functional(task.handle))
    if functional is None:
        if choice != "auto":
            raise PluginError(
                f"shap's {METHOD_LABELS[choice]} needs a model with symbolic inputs, and this subclassed model "
                f"could not be wrapped in a Functional model: {wrap_note}",
                "use explainer=kernel (or auto), which only calls the model.",
            )
        notes.append(
            (
                f"KernelExplainer: the subclassed model could not be wrapped ({wrap_note}).",
                f"KernelExplainer：无法包装子类化模型 (subclassed model)（{wrap_note}）。",
            )
        )
        return (*_kernel_values(task), "kernel")
    if wrap_note:
        notes.append((wrap_note, WRAPPED_NOTE_ZH if wrap_note == WRAPPED_NOTE else wrap_note))
    if choice == "gradient":
        return (*_gradient_values(task, functional), "gradient")
    try:
        values, base = _deep_values(task, functional)
    except Exception as exc:
        if choice == "deep":
            raise PluginError(
                f"shap's DeepExplainer cannot handle this model: {type(exc).__name__}: {_first_line(exc)}",
                "use explainer=gradient or kernel (auto picks one that works).",
            ) from exc
        failure = f"{type(exc).__name__}: {_first_line(exc)}"
        notes.append(
            (
                f"GradientExplainer: DeepExplainer failed ({failure}).",
                f"GradientExplainer：DeepExplainer 失败（{failure}）。",
            )
        )
        return (*_gradient_values(task, functional), "gradient")
    error = task.additivity(values, base)
    if choice == "auto" and error > ADDITIVITY_TOLERANCE:
        notes.append(
            (
                f"GradientExplainer: DeepExplainer's values missed the output by {error:.1%} (an operation it "
                "does not handle).",
                f"GradientExplainer：DeepExplainer 的值与模型输出相差 {error:.1%}（模型中有它处理不了的运算）。",
            )
        )
        return (*_gradient_values(task, functional), "gradient")
    return values, base, "deep"


def _functional(handle) -> tuple[keras.Model | None, str]:
    """A model with `.inputs`/`.outputs` for shap: the model itself, or a subclassed one wrapped."""
    model = handle.model
    try:
        if model.inputs and model.outputs:
            return model, ""
    except (AttributeError, ValueError):
        pass
    try:
        inputs = keras.Input(shape=tuple(handle.input_shape))
        return keras.Model(inputs, model(inputs)), WRAPPED_NOTE
    except Exception as exc:
        return None, f"{type(exc).__name__}: {_first_line(exc)}"


class _DeepGraph:
    """shap's DeepExplainer (DeepLIFT rescale rule) as one compiled graph, batched over samples.

    DeepExplainer pairs each sample with every background row: the first half of a batch holds the
    sample's copies, the second half the references, and its gradient overrides compare the halves row
    by row. Its `shap_values` loops over samples and classes in Python with one graph call each; stacking
    many samples' pairs (and a class weight per row) into each call gives the same numbers in a few calls.
    The graph reads the model's variables when it runs, so it stays valid while the model trains.
    """

    def __init__(self, functional: keras.Model, background: np.ndarray, units: int):
        shap = _shap()
        from shap.explainers._deep import deep_tf
        from tensorflow.python.eager import execute as tf_execute

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._deep = shap.DeepExplainer(
                (functional.inputs[0], functional.outputs[0]), background
            ).explainer
        deep, model = self._deep, self._deep.model
        self._record_gradient = deep_tf.custom_record_gradient
        self._execute = tf_execute
        x_spec = tf.TensorSpec((None, *background.shape[1:]), tf.float32)

        @tf.function(input_signature=[x_spec, tf.TensorSpec((None, units), tf.float32)], autograph=False)
        def multipliers(joint, weights):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(joint)
                score = tf.reduce_sum(model(joint, training=False) * weights, axis=-1)
            deep._init_between_tensors(score.op, [joint])
            return tape.gradient(score, joint)

        self._multipliers = multipliers

    def multipliers(self, joint: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """DeepLIFT multipliers of the weighted output score for the paired rows of `joint`."""

        def run():
            saved = self._execute.record_gradient
            self._execute.record_gradient = self._record_gradient
            try:
                return [self._multipliers(tf.constant(joint), tf.constant(weights))]
            finally:
                self._execute.record_gradient = saved

        # shap swaps TensorFlow's global gradient registry while the graph is traced: one caller at a time
        with _SHAP_LOCK:
            (result,) = self._deep.execute_with_overridden_gradients(run)
        return result


def _deep_values(task: _Task, functional: keras.Model):
    """SHAP values by shap's DeepExplainer rules, many samples per graph call (see `_DeepGraph`)."""
    background, x = task.background, task.x
    graph = _cached(task.handle, "deep", lambda: _DeepGraph(functional, background, task.head.units))
    weights, _ = task.weights()
    n_background = len(background)
    per_call = max(1, DEEP_ROWS_PER_CALL // (2 * n_background))
    values = np.zeros(x.shape, dtype=np.float32)
    for start in range(0, len(x), per_call):
        chunk = x[start : start + per_call]
        copies = np.repeat(chunk, n_background, axis=0)
        references = np.tile(background, (len(chunk),) + (1,) * (background.ndim - 1))
        row_weights = np.repeat(weights[start : start + per_call], n_background, axis=0)
        gradients = graph.multipliers(
            np.concatenate([copies, references]), np.concatenate([row_weights, row_weights])
        )
        contributions = gradients[len(copies) :] * (copies - references)
        values[start : start + len(chunk)] = contributions.reshape(
            len(chunk), n_background, *x.shape[1:]
        ).mean(1)
        task.ctx.report(
            0.05 + 0.8 * (start + len(chunk)) / len(x),
            tr(task.ctx.language, "DeepExplainer", "用 DeepExplainer 计算"),
        )
    return values, task.base_values(task.expected)


_SHAP_LOCK = threading.Lock()
# Compiled explainer graphs and Functional wrappers, per model handle, reused while the handle lives.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(handle, key: str, build):
    entries = _CACHE.setdefault(handle, {})
    if key not in entries:
        entries[key] = build()
    return entries[key]


def _gradient_values(task: _Task, functional: keras.Model):
    """shap's GradientExplainer (expected gradients) with its defaults, one class per sample."""
    shap = _shap()

    weights, _ = task.weights()
    units = np.argmax(np.abs(weights), axis=1)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.GradientExplainer((functional.inputs[0], functional.outputs[0]), task.background)
        values, _ = explainer.shap_values(
            task.x,
            nsamples=GRADIENT_DRAWS,
            ranked_outputs=units,
            output_rank_order="custom",
            rseed=task.ctx.seed,
        )
    signs = np.sum(weights, axis=1).reshape(-1, *([1] * (task.x.ndim - 1)))
    return np.asarray(values, dtype=np.float32)[..., 0] * signs, task.base_values(task.expected)


def _kernel_values(task: _Task):
    """shap's KernelExplainer on a summarised background, calling the model's compiled predict."""
    shap = _shap()

    handle, dataset = task.handle, task.ctx.dataset
    shape = tuple(handle.input_shape)
    train = np.asarray(dataset.x_train, dtype=np.float32).reshape(len(dataset.x_train), -1)
    if len(shape) == 1:
        summary = shap.kmeans(train, min(len(task.background), len(train)))
    else:
        summary = task.background.reshape(len(task.background), -1)

    def model(rows):
        return handle.predict(np.asarray(rows, dtype=np.float32).reshape(-1, *shape))

    weights, _ = task.weights()
    state = np.random.get_state()
    np.random.seed(task.ctx.seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.KernelExplainer(model, summary)
            values = []
            for index, row in enumerate(task.x.reshape(len(task.x), -1)):
                unit_values = np.asarray(explainer.shap_values(row[None], silent=True), dtype=np.float64)
                values.append(unit_values.reshape(row.size, -1) @ weights[index])
                task.ctx.report(
                    0.05 + 0.8 * (index + 1) / len(task.x),
                    tr(task.ctx.language, "KernelExplainer", "用 KernelExplainer 计算"),
                )
    finally:
        np.random.set_state(state)
    expected = np.asarray(explainer.expected_value, dtype=np.float64).reshape(-1)
    return np.asarray(values, dtype=np.float32).reshape(task.x.shape), task.base_values(expected)


def _background_outputs(handle, background: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's mean output over the background, and its forward time per row (from a 512-row call)."""
    probe = background if len(background) >= 512 else np.resize(background, (512, *background.shape[1:]))
    started = time.perf_counter()
    outputs = handle.predict(probe)
    per_row = (time.perf_counter() - started) / len(probe)
    return outputs[: len(background)].astype(np.float64).mean(axis=0), per_row


def _estimate_seconds(choice: str, task: _Task, samples: int, per_row: float) -> float:
    """A rough run time from the model's forward time per row (a gradient costs about 3 forwards).

    Measured here: KernelExplainer's batches of 10^5 rows ran 2-3x slower per row than the 512-row probe
    and it adds about 0.5 s of its own work per sample; GradientExplainer adds about 10 ms per sample.
    """
    features = int(np.prod(task.x.shape[1:]))
    if choice == "kernel":
        coalitions = 2 * features + 2048  # KernelExplainer's automatic number of coalitions
        return samples * (2 * coalitions * len(task.background) * per_row + 0.5)
    if choice == "gradient":
        return len(task.x) * (GRADIENT_DRAWS * 3 * per_row + 0.01)
    return 2 * len(task.x) * len(task.background) * 4 * per_row + 1.0


def _feature_index(feature: str, names: tuple[str, ...], values: np.ndarray) -> int:
    if not feature:
        return int(np.argmax(np.abs(values).mean(axis=0)))
    if feature in names:
        return names.index(feature)
    raise ParamsError(
        f"Feature {feature!r} is not an input of this model.",
        f"use one of: {', '.join(names[:8])}{', ...' if len(names) > 8 else ''} (or leave it empty).",
    )


def _interaction_feature(index: int, values: np.ndarray, data: np.ndarray) -> int:
    """The feature that seems to interact most with `index`: shap's `approximate_interactions` heuristic
    (sort by the feature, cut into bins, add up |correlation| of its SHAP values with each other feature
    inside the bins), vectorised over features."""
    n, features = data.shape
    if features < 2:
        return index
    order = np.argsort(data[:, index], kind="stable")
    size = max(min(n // 10, 50), 1)
    reference, others = values[order, index], data[order]
    scores = np.zeros(features)
    for start in range(0, n, size):
        a, b = reference[start : start + size], others[start : start + size]
        a_centred, b_centred = a - a.mean(), b - b.mean(axis=0)
        spread = np.sqrt((a_centred**2).sum() * (b_centred**2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            scores += np.nan_to_num(np.abs(a_centred @ b_centred) / spread)
    scores[index] = -1.0
    return int(np.argmax(scores))


def _shap():
    """The shap package, imported on first use (it is slow to import, and warns about matplotlib)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# --------------------------------------------------------------------- figures


def _output_text(result: ShapResult, language: str) -> str:
    classes = np.unique(result.targets)
    if len(classes) == 1 and len(result.targets) > 1 or len(result.targets) == 1:
        name = tr_names(language, result.class_names, result.class_names_zh)[int(classes[0])]
        return tr(language, f"P(class {name})", f"P(类别 {name})")
    return tr(language, "P(predicted class)", "P(预测类别)")


def _method_text(result: ShapResult, language: str) -> str:
    return tr(
        language,
        f"<br><sup>{result.method_label}, {len(result.targets)} samples, background {result.background_size} rows"
        "</sup>",
        f"<br><sup>{result.method_label}，{len(result.targets)} 个样本，背景 {result.background_size} 行</sup>",
    )


def _notes(result: ShapResult, language: str) -> tuple[str, ...]:
    additivity = tr(
        language,
        f"Additivity: base + sum(SHAP) vs output, max error {result.additivity_error_abs:.2g} "
        f"({result.additivity_error:.2g} of the mean output). Computed in {result.seconds:.1f} s.",
        f"可加性：基准值 + SHAP 之和 对比 模型输出，最大误差 {result.additivity_error_abs:.2g}"
        f"（为平均输出的 {result.additivity_error:.2g}）。用时 {result.seconds:.1f} 秒。",
    )
    return (additivity, *tr_names(language, result.notes, result.notes_zh))


def _top_features(result: ShapResult, count: int = TOP_FEATURES) -> np.ndarray:
    importance = np.abs(result.values).mean(axis=0)
    return np.argsort(-importance, kind="stable")[:count]


def _beeswarm(result: ShapResult, language: str) -> go.Figure:
    values, data = result.values, result.feature_values
    features = _top_features(result)[::-1]  # the most important feature at the top
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, size=len(values))
    xs, ys, colours, text = [], [], [], []
    for row, feature in enumerate(features):
        column = data[:, feature]
        low, high = np.percentile(column, [5, 95])
        xs.append(values[:, feature])
        ys.append(row + jitter)
        colours.append(
            np.clip((column - low) / (high - low), 0, 1) if high > low else np.full(len(column), 0.5)
        )
        text.extend(f"{result.feature_names[feature]} = {value:.3g}" for value in column)
    figure = go.Figure(
        go.Scattergl(
            x=np.concatenate(xs),
            y=np.concatenate(ys),
            mode="markers",
            marker={
                "color": np.concatenate(colours),
                "colorscale": "Bluered",
                "cmin": 0,
                "cmax": 1,
                "size": 6,
                "opacity": 0.75,
                "colorbar": {
                    "title": {"text": tr(language, "feature value", "特征取值"), "side": "right"},
                    "tickvals": [0, 1],
                    "ticktext": [tr(language, "low", "低"), tr(language, "high", "高")],
                },
            },
            text=text,
            hovertemplate="%{text}<br>SHAP %{x:.3g}<extra></extra>",
            name=tr(language, "samples", "样本"),
        )
    )
    figure.add_vline(x=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(language, "SHAP summary: ", "SHAP 汇总：")
        + _output_text(result, language)
        + _method_text(result, language),
        xaxis_title=tr(
            language,
            f"SHAP value (change of {_output_text(result, language)} from the base value)",
            f"SHAP 值（{_output_text(result, language)} 相对基准值的变化）",
        ),
        yaxis={
            "title": tr(language, "feature (most important at the top)", "特征（最重要的在上）"),
            "tickvals": list(range(len(features))),
            "ticktext": [result.feature_names[f] for f in features],
        },
        height=max(400, 34 * len(features) + 160),
    )
    return figure


def _importance_bars(result: ShapResult, language: str) -> go.Figure:
    features = _top_features(result, 15)[::-1]
    importance = np.abs(result.values).mean(axis=0)
    figure = go.Figure(
        go.Bar(
            x=importance[features],
            y=[result.feature_names[f] for f in features],
            orientation="h",
            marker_color="#4C78A8",
            name=tr(language, "mean |SHAP|", "平均 |SHAP|"),
            hovertemplate="%{y}: %{x:.3g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=tr(language, "Mean |SHAP|: ", "平均 |SHAP|：")
        + tr(language, "global feature importance", "全局特征重要性")
        + _method_text(result, language),
        xaxis_title=tr(
            language,
            f"mean |SHAP value| over samples ({_output_text(result, language)})",
            f"各样本 |SHAP 值| 的平均（{_output_text(result, language)}）",
        ),
        yaxis_title=tr(language, "feature", "特征"),
        height=max(400, 26 * len(features) + 160),
    )
    return figure


def _waterfall(result: ShapResult, language: str, shown: int = 10) -> go.Figure:
    index = result.sample
    values = result.values[index]
    order = np.argsort(-np.abs(values), kind="stable")
    top, rest = order[:shown], order[shown:]
    base = float(result.base_values[index])
    labels = [tr(language, "base value E[f(x)]", "基准值 E[f(x)]")]
    labels += [f"{result.feature_names[f]} = {result.feature_values[index, f]:.3g}" for f in top]
    steps = [base, *values[top].tolist()]
    if len(rest):
        labels.append(tr(language, f"{len(rest)} other features", f"其余 {len(rest)} 个特征"))
        steps.append(float(values[rest].sum()))
    labels.append(tr(language, "model output f(x)", "模型输出 f(x)"))
    steps.append(0.0)
    target = tr_names(language, result.class_names, result.class_names_zh)[int(result.targets[index])]
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["absolute"] + ["relative"] * (len(steps) - 2) + ["total"],
            y=labels,
            x=steps,
            increasing={"marker": {"color": "#d6604d"}},
            decreasing={"marker": {"color": "#4393c3"}},
            totals={"marker": {"color": "#5f5f5f"}},
            name=tr(language, "contribution", "贡献"),
            hovertemplate="%{y}: %{x:+.3g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=tr(
            language,
            f"SHAP waterfall: sample {index}, P(class {target}) = {result.outputs[index]:.3f}"
            f"<br><sup>{result.method_label}</sup>",
            f"SHAP 瀑布图：样本 {index}，P(类别 {target}) = {result.outputs[index]:.3f}<br><sup>{result.method_label}</sup>",
        ),
        xaxis_title=tr(language, f"P(class {target})", f"P(类别 {target})"),
        yaxis={
            "title": tr(language, "contribution (largest first)", "贡献（从大到小）"),
            "autorange": "reversed",
        },
        height=max(400, 30 * len(steps) + 160),
        showlegend=False,
    )
    return figure


def _dependence(result: ShapResult, language: str) -> go.Figure:
    feature, other = result.dependence_feature, result.interaction_feature
    name, other_name = result.feature_names[feature], result.feature_names[other]
    figure = go.Figure(
        go.Scatter(
            x=result.feature_values[:, feature],
            y=result.values[:, feature],
            mode="markers",
            marker={
                "color": result.feature_values[:, other],
                "colorscale": "Bluered",
                "size": 7,
                "opacity": 0.8,
                "colorbar": {"title": {"text": other_name, "side": "right"}},
            },
            name=name,
            hovertemplate=f"{name} = %{{x:.3g}}<br>SHAP %{{y:.3g}}<br>{other_name} = %{{marker.color:.3g}}<extra></extra>",
        )
    )
    figure.add_hline(y=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(language, f"SHAP dependence: {name}", f"SHAP 依赖图：{name}")
        + _method_text(result, language),
        xaxis_title=tr(language, f"{name} (feature value)", f"{name}（特征取值）"),
        yaxis_title=tr(
            language,
            f"SHAP value of {name} ({_output_text(result, language)})",
            f"{name} 的 SHAP 值（{_output_text(result, language)}）",
        ),
    )
    return figure


def _image_maps(result: ShapResult, language: str) -> go.Figure:
    samples, classes = result.image_samples, result.image_classes
    rows, cols = len(samples), classes.shape[1] + 1
    maps = result.image_values.sum(axis=-1)  # (samples, classes, H, W): channels add up like features do
    limit = float(np.percentile(np.abs(maps), 99.5)) or 1.0
    titles = []
    for row, sample in enumerate(samples):
        titles.append(tr(language, f"sample {sample}: input", f"样本 {sample}：输入"))
        for col, klass in enumerate(classes[row]):
            name = tr_names(language, result.class_names, result.class_names_zh)[int(klass)]
            titles.append(
                f"{tr(language, 'class', '类别')} {name} (p = {result.image_probabilities[row, col]:.2f})"
            )
    figure = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.08
    )
    images = result.explanation.data
    for row, sample in enumerate(samples):
        figure.add_trace(grey_image_trace(images[sample], language), row=row + 1, col=1)
        for col in range(classes.shape[1]):
            figure.add_trace(grey_image_trace(images[sample], language), row=row + 1, col=col + 2)
            figure.add_trace(
                signed_heatmap(
                    maps[row, col],
                    limit,
                    language=language,
                    opacity=0.65,
                    colorbar_title=tr(language, "SHAP value per pixel", "每个像素的 SHAP 值"),
                    show_scale=row == 0 and col == 0,
                ),
                row=row + 1,
                col=col + 2,
            )
    image_axes(figure, rows, cols)
    figure.update_layout(
        title=tr(
            language,
            f"SHAP per pixel for the top classes ({result.method_label}; red = evidence for the class)",
            f"前几个类别的逐像素 SHAP 值（{result.method_label}；红色 = 支持该类别的证据）",
        ),
        height=230 * rows + 120,
        width=220 * cols + 160,
    )
    return figure
