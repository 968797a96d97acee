"""The `explanation_methods` lesson: LIME beside SHAP and Integrated Gradients on the same samples, class
and model, and how far the three agree (Spearman rank correlation of their feature importances).

SHAP values and Integrated Gradients are the results of the `shap` and `attributions` plugins, run
through the registry with matching parameters (the same explained test samples and classes); only LIME
is computed here, with the `lime` package's own explainers (imported when needed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import dlviz
from dlviz import registry
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import make_params, tr, tr_names
from plugins._shared.explain import (
    check_sample,
    class_probabilities,
    explained_inputs,
    grey_image_trace,
    head_of,
    image_axes,
    is_image,
    pixel_hover,
    signed_heatmap,
)

METHODS = ("lime", "shap", "integrated_gradients")
METHOD_NAMES = {
    "lime": ("LIME", "LIME"),
    "shap": ("SHAP", "SHAP"),
    "integrated_gradients": ("Integrated Gradients", "积分梯度 (IG)"),
}
METHOD_COLOURS = {"lime": "#54A24B", "shap": "#E45756", "integrated_gradients": "#4C78A8"}
PAIRS = (("lime", "shap"), ("lime", "integrated_gradients"), ("shap", "integrated_gradients"))
PAIR_COLOURS = ("#B279A2", "#F58518", "#72B7B2")
TOP_FEATURES = 15
# Mean rank correlation below which two methods are reported as disagreeing.
DISAGREEMENT = 0.3

FORMULAS = (
    dlviz.Formula(
        "LIME (lime package): a weighted linear model fitted to the model's outputs on perturbed copies z of x",
        "LIME（lime 库）：在 x 的扰动样本 z 上，用加权线性模型拟合模型输出",
        r"\hat g = \arg\min_{g} \sum_{z} \pi_x(z)\,\big(f(z) - g(z')\big)^2 + \Omega(g),"
        r"\quad \pi_x(z) = \exp\!\big(-d(x, z)^2 / \sigma^2\big)",
    ),
    dlviz.Formula(
        "SHAP (shap package): Shapley values of the features, averaged over a training background",
        "SHAP（shap 库）：特征的 Shapley 值，在训练集背景样本上取平均",
        r"\phi_i = \sum_{S \subseteq F \setminus \{i\}} \frac{|S|!\,(|F| - |S| - 1)!}{|F|!}"
        r"\big(f(x_{S \cup \{i\}}) - f(x_S)\big),\quad f(x) = \mathbb{E}[f] + \sum_i \phi_i",
    ),
    dlviz.Formula(
        "Integrated Gradients (attributions plugin): gradients summed along the path from a baseline x′",
        "积分梯度（attributions 插件）：沿基线 x′ 到 x 的直线路径累加梯度",
        r"\mathrm{IG}_i(x) = (x_i - x'_i) \int_0^1 \frac{\partial f\big(x' + \alpha (x - x')\big)}{\partial x_i}\, d\alpha",
    ),
    dlviz.Formula(
        "Agreement: Spearman rank correlation of two methods' importances over the features",
        "一致性：两种方法的特征重要性之间的斯皮尔曼秩相关 (Spearman)",
        r"\rho = 1 - \frac{6 \sum_i d_i^2}{n (n^2 - 1)},\quad d_i = \operatorname{rank}(a_i) - \operatorname{rank}(b_i)",
    ),
)


@dataclasses.dataclass(frozen=True)
class Params:
    n_samples: int = dlviz.param(
        5,
        label="Samples explained",
        label_zh="解释的样本数",
        min=1,
        max=100,
        step=1,
        help="The first test samples, explained by all three methods; the agreement is averaged over them.",
        help_zh="测试集中的前若干个样本，三种方法都解释它们；一致性在这些样本上取平均。",
    )
    sample: int = dlviz.param(
        0,
        label="Sample shown",
        label_zh="显示的样本",
        min=0,
        max=99,
        step=1,
        help="Which explained sample the side-by-side view shows.",
        help_zh="并排对比图显示第几个被解释的样本。",
    )
    target: int = dlviz.param(
        -1,
        label="Class explained",
        label_zh="解释的类别",
        min=-1,
        max=999,
        step=1,
        help="Which class's probability every method explains; -1 = each sample's predicted class.",
        help_zh="三种方法都解释哪个类别的概率；-1 表示每个样本各自的预测类别。",
    )
    compare: str = dlviz.param(
        "signed",
        label="Compare",
        label_zh="比较方式",
        choices=("signed", "magnitude"),
        help="signed: rank the importances with their sign (for vs against the class); magnitude: rank |importance|.",
        help_zh="signed：按带符号的重要性排序（支持或反对该类别）；magnitude：按 |重要性| 排序。",
    )
    lime_samples: int = dlviz.param(
        1000,
        label="LIME perturbations",
        label_zh="LIME 扰动样本数",
        min=100,
        max=10000,
        step=100,
        help="Perturbed copies of each sample LIME's local linear model is fitted to.",
        help_zh="LIME 为每个样本生成的扰动样本数，用来拟合局部线性模型。",
    )
    segment: int = dlviz.param(
        2,
        label="LIME segment size (images)",
        label_zh="LIME 分块大小（图像）",
        min=1,
        max=8,
        step=1,
        help="Images are cut into square blocks of this many pixels a side (1 = every pixel); LIME switches "
        "blocks off (to 0), and SHAP and IG are summed per block to compare like with like.",
        help_zh="图像被切成边长为这么多像素的方块（1 表示逐像素）；LIME 把方块关掉（置 0），SHAP 和积分梯度按方块求和，"
        "以便在同一粒度上比较。",
    )
    background: int = dlviz.param(
        50,
        label="SHAP background rows",
        label_zh="SHAP 背景样本数",
        min=10,
        max=1000,
        step=10,
        help="Training rows SHAP averages over (passed to the shap plugin).",
        help_zh="SHAP 在其上取平均的训练样本数（传给 shap 插件）。",
    )
    ig_baseline: str = dlviz.param(
        "zeros",
        label="IG baseline",
        label_zh="积分梯度基线",
        choices=("zeros", "mean", "blurred"),
        help="Integrated Gradients' starting input (passed to the attributions plugin); blurred is for images.",
        help_zh="积分梯度的起点输入（传给 attributions 插件）；blurred 仅用于图像。",
    )


@dataclasses.dataclass(frozen=True)
class ComparisonResult:
    """Importances of the explained samples by the three methods, on the same units, and their agreement.

    `importances[method]` is (samples, units): units are the features of a table, or the image's blocks
    of `segment` pixels (LIME's segments; SHAP and IG summed per block). `spearman` is (samples, 3, 3), the
    rank correlation of every pair of methods on each sample (of the signed or absolute importances, as
    `compare` says); `agreement` its mean over the samples. `segments` maps each pixel to its unit.
    """

    methods: tuple[str, ...]
    image: bool
    unit_names: tuple[str, ...]
    importances: dict
    targets: np.ndarray
    class_names: tuple[str, ...]
    probabilities: np.ndarray
    compare: str
    spearman: np.ndarray
    agreement: np.ndarray
    sample: int
    inputs: np.ndarray
    segments: np.ndarray | None
    lime_scores: np.ndarray
    shap_method: str
    ig_completeness: float | None
    settings: dict
    page: dlviz.Page  # the lesson's notes and formulas
    class_names_zh: tuple[str, ...] = ()  # `class_names` in Chinese; empty when the dataset has none

    def pair(self, first: str, second: str) -> float:
        """Mean rank correlation of two methods."""
        return float(self.agreement[self.methods.index(first), self.methods.index(second)])


class ExplanationMethods(dlviz.Plugin):
    """Explanation methods compared: LIME (the lime package) beside SHAP and Integrated Gradients on the same
    samples, the same class and the same model, for tables and images. LIME fits a weighted linear model to
    the model's outputs on perturbed copies of the sample (for images, square blocks of pixels switched
    off); SHAP and Integrated Gradients are the results of the SHAP and Attributions views, run with the
    same samples and class. The Spearman rank correlation of every pair of methods' feature importances
    says how far they agree (a matrix averaged over the samples, and per sample), and the side-by-side view
    of one sample shows where they disagree.

    简介：解释方法对比：在同一个模型、同样的样本和同一个类别上，把 LIME（lime 库）与 SHAP 和积分梯度
    (Integrated Gradients) 并排比较，适用于表格和图像数据。LIME 在样本的扰动副本上（图像则是关掉若干像素方块）
    用加权线性模型拟合模型输出；SHAP 和积分梯度直接取自「SHAP 值」和「归因图」两个视图的结果，使用相同的样本和类别。
    每两种方法的特征重要性之间的斯皮尔曼秩相关 (Spearman rank correlation) 衡量它们的一致程度（在样本上取平均的
    矩阵，以及逐样本的分布），单个样本的并排对比则显示它们在哪里不一致。这是可解释性 (explainability) 的一课。

    What to look for: a high correlation (close to 1) means the methods rank the features alike, so the
    explanation is not an artefact of one method. Disagreement is common and informative: the methods ask
    different questions. Integrated Gradients measures change from its baseline (zeros: a black image), so
    pixels without ink get exactly zero; LIME switches blocks off to black too, so it agrees with IG there;
    SHAP compares with the average training sample, so the absence of ink where other digits have it counts
    as evidence. LIME's local linear fit (its R² is shown) can be poor; its weights then mean little. For
    tables, features ranked differently by the methods deserve a second look before you trust any one story.

    观察要点：相关系数高（接近 1）表示几种方法对特征的排序相似，说明解释不只是某一种方法的假象。不一致很常见，
    而且有启发性：这些方法回答的是不同的问题。积分梯度衡量相对于基线（zeros：全黑图像）的变化，所以没有笔画的像素
    恰好为零；LIME 也把方块关成黑色，因此在这些地方与积分梯度一致；SHAP 与训练集的平均样本比较，所以“其他数字
    有笔画而这里没有”也会被算作证据。LIME 的局部线性拟合（图中给出其 R²）可能很差，此时它的权重意义不大。
    对于表格数据，各方法排序差别大的特征值得再看一眼，再决定相信哪种解释。

    >>> import dlviz
    >>> from dlviz.testing import tiny_context
    >>> ctx = tiny_context("tabular")
    >>> result = dlviz.compute("explanation_methods", model=ctx.model, dataset=ctx.dataset, n_samples=3, lime_samples=300)
    >>> result.methods, result.spearman.shape
    (('lime', 'shap', 'integrated_gradients'), (3, 3, 3))
    >>> bool(-1 <= result.pair("lime", "shap") <= 1)
    True
    """

    name = "explanation_methods"
    title = "Explanation methods compared"
    title_zh = "解释方法对比 (LIME / SHAP / IG)"
    section = "Lessons"
    requires = frozenset({"model", "dataset"})
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        for name in ("shap", "attributions"):
            try:
                verdict = registry.get_plugin(name).is_compatible(ctx)
            except PluginError as exc:
                return tr(
                    ctx.language,
                    f"The comparison uses the {name} view, which is not available: {exc}",
                    f"对比要用到 {name} 视图，但它不可用：{exc}",
                )
            if verdict is not True:
                return verdict
        return True

    def compute(self, ctx: dlviz.Context, params: Params) -> ComparisonResult:
        check_sample(params.sample, params.n_samples)
        handle, dataset = ctx.model, ctx.dataset
        image = is_image(handle, dataset)
        if params.ig_baseline == "blurred" and not image:
            raise ParamsError(
                "The blurred IG baseline applies to images only.", "use zeros or mean for tables."
            )
        common = {"n_samples": params.n_samples, "sample": params.sample, "target": params.target}
        ctx.report(0.05, tr(ctx.language, "SHAP values (shap view)", "SHAP 值（shap 视图）"))
        shap_result = _run("shap", ctx, {**common, "background": params.background})
        ctx.report(
            0.4,
            tr(
                ctx.language,
                "Integrated Gradients (attributions view)",
                "积分梯度 (Integrated Gradients)（attributions 视图）",
            ),
        )
        ig_result = _run(
            "attributions",
            ctx,
            {
                **common,
                "methods": ("integrated_gradients",),
                "baseline": params.ig_baseline,
                "score": "probability",
                "sanity_check": False,
            },
        )
        targets = np.asarray(ig_result.targets)
        if not np.array_equal(np.asarray(shap_result.targets), targets):
            raise PluginError(
                "The shap and attributions views explained different classes for the same samples.",
                "set 'Class explained' to a fixed class.",
            )
        x = explained_inputs(dataset, params.n_samples)
        ctx.report(0.7, tr(ctx.language, "LIME", "LIME（拟合局部线性模型）"))
        notes: list[str] = []
        if image:
            segments = block_segments(handle.input_shape[:2], params.segment)
            lime_values, scores = _lime_image(handle, x, targets, segments, params, ctx.seed)
            shap_maps = np.asarray(shap_result.values).reshape(x.shape).sum(axis=-1)
            importances = {
                "lime": lime_values,
                "shap": per_segment(shap_maps, segments),
                "integrated_gradients": per_segment(
                    np.asarray(ig_result.maps["integrated_gradients"]), segments
                ),
            }
            blocks = int(segments.max()) + 1
            unit_names = tuple(_block_name(segments, unit) for unit in range(blocks))
            shown_inputs = x[..., 0] if x.shape[-1] == 1 else x.mean(axis=-1)
        else:
            segments = None
            lime_values, scores = _lime_tabular(handle, dataset, x, targets, params, ctx.seed)
            importances = {
                "lime": lime_values,
                "shap": np.asarray(shap_result.values, dtype=np.float64),
                "integrated_gradients": np.asarray(ig_result.maps["integrated_gradients"], dtype=np.float64),
            }
            unit_names = tuple(shap_result.feature_names)
            shown_inputs = np.asarray(ig_result.feature_values)
        if float(np.median(scores)) < 0.3:
            notes.append(
                (
                    f"LIME's local linear model explains little of the model here (median R² {np.median(scores):.2f}): "
                    "its weights are rough. More perturbations or larger segments may help.",
                    f"LIME 的局部线性模型对这里的模型解释得很少（R² 中位数 {np.median(scores):.2f}）："
                    "其权重只是粗略的。增加扰动样本数或加大分块也许有帮助。",
                )
            )
        if len(unit_names) < 4:
            notes.append(
                (
                    f"Only {len(unit_names)} features: a rank correlation over so few can only be coarse (±1 for two).",
                    f"只有 {len(unit_names)} 个特征：在这么少的特征上，秩相关只能很粗略（两个特征时只能是 ±1）。",
                )
            )
        spearman = agreement_matrices(importances, params.compare)
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
        return ComparisonResult(
            methods=METHODS,
            image=image,
            unit_names=unit_names,
            importances=importances,
            targets=targets,
            class_names=tuple(ig_result.class_names),
            class_names_zh=tuple(ig_result.class_names_zh),
            probabilities=np.asarray(ig_result.probabilities),
            compare=params.compare,
            spearman=spearman,
            agreement=mean_agreement(spearman),
            sample=params.sample,
            inputs=shown_inputs,
            segments=segments,
            lime_scores=scores,
            shap_method=shap_result.method_label,
            ig_completeness=ig_result.completeness_error,
            settings={
                "lime_samples": params.lime_samples,
                "segment": params.segment if image else None,
                "background": shap_result.background_size,
                "ig_baseline": params.ig_baseline,
                "ig_steps": ig_result.steps,
            },
            page=dlviz.Page(tuple(dlviz.Note(*note) for note in notes), FORMULAS),
        )

    def diagnose(self, result: ComparisonResult) -> list[dlviz.Finding]:
        findings = []
        for first, second in PAIRS:
            value = result.pair(first, second)
            if np.isfinite(value) and value < DISAGREEMENT:
                findings.append(
                    dlviz.Finding(
                        "info",
                        f"Explanation methods: {METHOD_NAMES[first][0]} and {METHOD_NAMES[second][0]} disagree "
                        f"(mean rank correlation {value:.2f})",
                        "They answer different questions (different baselines / perturbations): check the "
                        "side-by-side view before trusting one explanation.",
                        headline_zh=f"解释方法：{METHOD_NAMES[first][1]} 与 {METHOD_NAMES[second][1]} 不一致"
                        f"（平均秩相关 {value:.2f}）",
                        advice_zh="它们回答的是不同的问题（基线或扰动方式不同）：在相信某一种解释之前，先看并排对比图。",
                    )
                )
        return findings

    def figures(self, result: ComparisonResult, language: str = "en") -> list[go.Figure]:
        shown = _image_sample(result, language) if result.image else _feature_bars(result, language)
        return [
            _agreement_heatmap(result, language),
            _per_sample(result, language),
            shown,
            _scatter(result, language),
        ]



# --------------------------------------------------------------------------- computation


def _run(name: str, ctx: dlviz.Context, values: dict):
    """Another plugin's result, through the registry, with its own parameter checks."""
    plugin = registry.get_plugin(name)
    return registry.run_plugin(plugin, ctx, make_params(plugin.Params, values))


def block_segments(shape, size: int) -> np.ndarray:
    """An (H, W) map of square blocks of `size` pixels, numbered row by row (LIME's segmentation)."""
    height, width = int(shape[0]), int(shape[1])
    per_row = -(-width // size)
    rows, cols = np.arange(height)[:, None] // size, np.arange(width)[None, :] // size
    return (rows * per_row + cols).astype(np.int64)


def per_segment(maps: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """(n, H, W) pixel attributions summed within each segment: (n, segments)."""
    count = int(segments.max()) + 1
    flat = segments.ravel()
    return np.stack([np.bincount(flat, weights=m.ravel(), minlength=count) for m in maps])


def _block_name(segments: np.ndarray, unit: int, language: str = "en") -> str:
    rows, cols = np.nonzero(segments == unit)
    rows_text, cols_text = f"{rows.min()}-{rows.max()}", f"{cols.min()}-{cols.max()}"
    return tr(language, f"rows {rows_text}, cols {cols_text}", f"第 {rows_text} 行，第 {cols_text} 列")


def _unit_names(result: ComparisonResult, language: str) -> tuple[str, ...]:
    """The units' names in `language`: an image's pixel blocks are named anew, a table's features as they are."""
    if result.image and result.segments is not None:
        return tuple(_block_name(result.segments, unit, language) for unit in range(len(result.unit_names)))
    return result.unit_names


def _lime_import(module: str):
    try:
        if module == "image":
            from lime import lime_image

            return lime_image
        from lime import lime_tabular

        return lime_tabular
    except ImportError as exc:
        raise PluginError("The lime package is not installed.", "pip install lime") from exc


def _classifier(handle, sample: np.ndarray, shape: tuple, grey: bool):
    """LIME's classifier function: rows (or RGB images LIME made from grey ones) -> class probabilities."""
    head = head_of(handle, sample)

    def probabilities(rows):
        rows = np.asarray(rows, dtype=np.float32)
        if grey:
            rows = rows[..., :1]
        return class_probabilities(head, handle.predict(rows.reshape((-1, *shape))))

    return probabilities


def _lime_tabular(handle, dataset, x, targets, params: Params, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """LimeTabularExplainer (quartile discretisation, the package's default) on the training data."""
    lime_tabular = _lime_import("tabular")
    train = np.asarray(dataset.x_train, dtype=np.float64).reshape(len(dataset.x_train), -1)
    explainer = lime_tabular.LimeTabularExplainer(
        train,
        mode="classification",
        feature_names=list(dataset.feature_names),
        class_names=[str(name) for name in dataset.class_names],
        random_state=seed,
    )
    predict = _classifier(handle, x, tuple(handle.input_shape), grey=False)
    values = np.zeros((len(x), train.shape[1]))
    scores = np.zeros(len(x))
    for index, (row, target) in enumerate(zip(x.reshape(len(x), -1), targets, strict=True)):
        explanation = explainer.explain_instance(
            row.astype(np.float64),
            predict,
            labels=(int(target),),
            num_features=train.shape[1],
            num_samples=params.lime_samples,
        )
        for feature, weight in explanation.as_map()[int(target)]:
            values[index, feature] = weight
        scores[index] = explanation.score
    return values, scores


def _lime_image(handle, x, targets, segments, params: Params, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """LimeImageExplainer with square-block segments, switched-off blocks set to 0 (hide_color=0)."""
    lime_image = _lime_import("image")
    explainer = lime_image.LimeImageExplainer(random_state=seed)
    grey = x.shape[-1] == 1
    predict = _classifier(handle, x, tuple(handle.input_shape), grey=grey)
    count = int(segments.max()) + 1
    values = np.zeros((len(x), count))
    scores = np.zeros(len(x))
    for index, (image, target) in enumerate(zip(x, targets, strict=True)):
        with contextlib.redirect_stderr(io.StringIO()):  # lime draws a tqdm progress bar on stderr
            explanation = explainer.explain_instance(
                image[..., 0].astype(np.float64) if grey else image.astype(np.float64),
                predict,
                labels=(int(target),),
                top_labels=None,
                hide_color=0,
                num_features=count,
                num_samples=params.lime_samples,
                batch_size=params.lime_samples,
                segmentation_fn=lambda _image: segments,
                random_seed=seed,
            )
        for unit, weight in explanation.local_exp[int(target)]:
            values[index, unit] = weight
        scores[index] = explanation.score
    return values, scores


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN when either side is constant."""
    from scipy.stats import rankdata

    ra, rb = rankdata(a), rankdata(b)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def agreement_matrices(importances: dict, compare: str) -> np.ndarray:
    """(samples, methods, methods) rank correlations of every pair of methods on each sample."""
    n = len(importances[METHODS[0]])
    result = np.ones((n, len(METHODS), len(METHODS)))
    for sample in range(n):
        for i, first in enumerate(METHODS):
            for j in range(i + 1, len(METHODS)):
                a, b = importances[first][sample], importances[METHODS[j]][sample]
                if compare == "magnitude":
                    a, b = np.abs(a), np.abs(b)
                result[sample, i, j] = result[sample, j, i] = spearman(a, b)
    return result


def mean_agreement(spearman: np.ndarray) -> np.ndarray:
    """The mean over samples of each pair's correlation, skipping samples where it is undefined (NaN)."""
    finite = np.isfinite(spearman)
    total = np.where(finite, spearman, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def normalised(values: np.ndarray) -> np.ndarray:
    """Each row divided by its largest |value| (methods have different units)."""
    scale = np.max(np.abs(values), axis=-1, keepdims=True)
    return values / np.where(scale > 0, scale, 1.0)


def disagreement(result: ComparisonResult, sample: int) -> np.ndarray:
    """Per unit: the spread (standard deviation) of the methods' normalised importances for one sample."""
    stacked = np.stack([normalised(result.importances[m][sample]) for m in result.methods])
    if result.compare == "magnitude":
        stacked = np.abs(stacked)
    return stacked.std(axis=0)


# --------------------------------------------------------------------------- figures


def _name(method: str, language: str) -> str:
    return tr(language, *METHOD_NAMES[method])


def _class_text(result: ComparisonResult, language: str) -> str:
    index = result.sample
    target = int(result.targets[index])
    name = tr_names(language, result.class_names, result.class_names_zh)[target]
    return tr(
        language,
        f"sample {index}, class {name} (P = {result.probabilities[index]:.2f})",
        f"样本 {index}，类别 {name}（P = {result.probabilities[index]:.2f}）",
    )


def _compare_text(result: ComparisonResult, language: str) -> str:
    if result.compare == "magnitude":
        return tr(language, "of |importance|", "（按 |重要性|）")
    return tr(language, "of signed importance", "（按带符号的重要性）")


def _agreement_heatmap(result: ComparisonResult, language: str) -> go.Figure:
    names = [_name(m, language) for m in result.methods]
    values = np.round(result.agreement, 3)
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=names,
            y=names,
            zmin=-1.0,
            zmax=1.0,
            zmid=0.0,
            colorscale="RdBu",
            text=[[f"{v:.2f}" for v in row] for row in values],
            texttemplate="%{text}",
            colorbar={"title": {"text": tr(language, "Spearman ρ", "斯皮尔曼 ρ"), "side": "right"}},
            hovertemplate="%{y} / %{x}: ρ = %{z:.3f}<extra></extra>",
        )
    )
    unit = tr(language, "pixel blocks", "像素块") if result.image else tr(language, "features", "特征")
    figure.update_layout(
        title=tr(
            language,
            f"Agreement: mean Spearman rank correlation {_compare_text(result, language)} over "
            f"{len(result.targets)} samples ({len(result.unit_names)} {unit})",
            f"一致性：{len(result.targets)} 个样本上的平均斯皮尔曼秩相关{_compare_text(result, language)}"
            f"（{len(result.unit_names)} 个{unit}）",
        ),
        xaxis_title=tr(language, "method", "方法"),
        yaxis={"title": tr(language, "method", "方法"), "autorange": "reversed"},
        width=640,
        height=520,
    )
    return figure


def _per_sample(result: ComparisonResult, language: str) -> go.Figure:
    figure = go.Figure()
    for (first, second), colour in zip(PAIRS, PAIR_COLOURS, strict=True):
        i, j = result.methods.index(first), result.methods.index(second)
        label = f"{_name(first, language)} – {_name(second, language)}"
        figure.add_trace(
            go.Box(
                y=np.round(result.spearman[:, i, j], 4),
                name=label,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker_color=colour,
                text=[tr(language, f"sample {s}", f"样本 {s}") for s in range(len(result.targets))],
                hovertemplate="%{text}: ρ = %{y:.3f}<extra></extra>",
            )
        )
    figure.add_hline(y=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(
            language,
            f"Rank correlation per sample (LIME's local fit: median R² {np.median(result.lime_scores):.2f}; "
            f"SHAP by {result.shap_method})",
            f"逐样本的秩相关（LIME 局部拟合的 R² 中位数 {np.median(result.lime_scores):.2f}；SHAP 使用 {result.shap_method}）",
        ),
        xaxis_title=tr(language, "pair of methods", "方法对"),
        yaxis={
            "title": tr(language, "Spearman ρ (one point per sample)", "斯皮尔曼 ρ（每点一个样本）"),
            "range": [-1.05, 1.05],
        },
        showlegend=False,
    )
    return figure


def _feature_bars(result: ComparisonResult, language: str) -> go.Figure:
    index = result.sample
    scaled = {m: normalised(result.importances[m][index]) for m in result.methods}
    weight = np.mean([np.abs(v) for v in scaled.values()], axis=0)
    order = np.argsort(-weight)[:TOP_FEATURES][::-1]
    signs = np.stack([np.sign(scaled[m][order]) for m in result.methods])
    conflict = np.any(signs > 0, axis=0) & np.any(signs < 0, axis=0)
    names = _unit_names(result, language)
    labels = [f"{names[f]} {'⚠' if clash else ''}".strip() for f, clash in zip(order, conflict, strict=True)]
    figure = go.Figure()
    for method in result.methods:
        figure.add_trace(
            go.Bar(
                x=scaled[method][order],
                y=labels,
                orientation="h",
                name=_name(method, language),
                marker_color=METHOD_COLOURS[method],
                customdata=result.importances[method][index][order],
                hovertemplate="%{y}: %{customdata:.4g}<extra>" + _name(method, language) + "</extra>",
            )
        )
    figure.add_vline(x=0, line_color="grey", line_width=1)
    figure.update_layout(
        barmode="group",
        title=tr(
            language,
            f"Where they disagree: {_class_text(result, language)} (⚠ = the methods' signs differ)",
            f"哪里不一致：{_class_text(result, language)}（⚠ = 各方法符号不同）",
        ),
        xaxis_title=tr(
            language,
            "importance / the method's max |importance| (> 0 = for the class)",
            "重要性 / 该方法的最大 |重要性|（> 0 = 支持该类别）",
        ),
        yaxis_title=tr(
            language,
            f"feature (top {len(order)} by mean |importance|)",
            f"特征（按平均 |重要性| 的前 {len(order)} 个）",
        ),
        legend_title_text=tr(language, "method", "方法"),
        height=max(460, 26 * len(order) * 2 + 160),
    )
    return figure


def _image_sample(result: ComparisonResult, language: str) -> go.Figure:
    index = result.sample
    segments = result.segments
    titles = [tr(language, "input", "输入")] + [_name(m, language) for m in result.methods]
    titles.append(tr(language, "disagreement (spread)", "不一致程度（离散度）"))
    figure = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.03)
    figure.add_trace(grey_image_trace(result.inputs[index][..., None], language), row=1, col=1)
    for col, method in enumerate(result.methods, start=2):
        painted = normalised(result.importances[method][index])[segments]
        figure.add_trace(
            signed_heatmap(
                np.round(painted, 4),
                1.0,
                language=language,
                colorbar_title=tr(language, "importance / max |importance|", "重要性 / 最大 |重要性|"),
                show_scale=col == 2,
            ),
            row=1,
            col=col,
        )
    spread = disagreement(result, index)[segments]
    figure.add_trace(
        go.Heatmap(
            z=np.round(spread, 4),
            colorscale="Purples",
            zmin=0.0,
            showscale=False,
            hovertemplate=pixel_hover(language, tr(language, "spread", "离散度"), ".3f"),
        ),
        row=1,
        col=len(titles),
    )
    image_axes(figure, 1, len(titles))
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Where they disagree: {_class_text(result, language)}; blocks of {result.settings['segment']} px "
            "(red = for the class, blue = against; purple = methods differ)",
            f"哪里不一致：{_class_text(result, language)}；{result.settings['segment']} 像素方块"
            "（红 = 支持该类别，蓝 = 反对；紫 = 各方法差异大）",
        ),
        height=330,
        width=1100,
    )
    return figure


def _scatter(result: ComparisonResult, language: str) -> go.Figure:
    index = result.sample
    titles = []
    for first, second in PAIRS:
        value = result.spearman[index, result.methods.index(first), result.methods.index(second)]
        titles.append(f"{_name(first, language)} / {_name(second, language)}: ρ = {value:.2f}")
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.08)
    for col, (first, second) in enumerate(PAIRS, start=1):
        x, y = normalised(result.importances[first][index]), normalised(result.importances[second][index])
        figure.add_trace(
            go.Scatter(
                x=np.round(x, 4),
                y=np.round(y, 4),
                mode="markers",
                marker={"color": METHOD_COLOURS[second], "size": 7, "opacity": 0.8},
                text=list(_unit_names(result, language)),
                hovertemplate="%{text}<br>%{x:.3f} / %{y:.3f}<extra></extra>",
                name=f"{_name(first, language)} / {_name(second, language)}",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        figure.add_trace(
            go.Scatter(
                x=[-1, 1],
                y=[-1, 1],
                mode="lines",
                line={"color": "grey", "dash": "dot", "width": 1},
                hoverinfo="skip",
                showlegend=col == 1,
                name=tr(language, "equal importance", "重要性相同"),
            ),
            row=1,
            col=col,
        )
        figure.update_xaxes(title_text=_name(first, language), range=[-1.1, 1.1], row=1, col=col)
        figure.update_yaxes(title_text=_name(second, language), range=[-1.1, 1.1], row=1, col=col)
    unit = tr(language, "pixel block", "像素块") if result.image else tr(language, "feature", "特征")
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Method against method: {_class_text(result, language)}, one point per {unit} (importance / max |importance|)",
            f"方法两两对比：{_class_text(result, language)}，每点一个{unit}（重要性 / 最大 |重要性|）",
        ),
        legend={"orientation": "h", "y": -0.2},
        height=440,
    )
    return figure
