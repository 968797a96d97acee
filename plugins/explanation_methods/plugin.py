"""The `explanation_methods` lesson class, its controls and its help text."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from plugins.attributions import Attributions
from plugins.explanation_methods.compute import compare
from plugins.explanation_methods.figures import result_figures
from plugins.explanation_methods.result import METHOD_NAMES, PAIRS, ComparisonResult
from plugins.shap import Shap

# Mean rank correlation below which two methods are reported as disagreeing.
DISAGREEMENT = 0.3


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
        for plugin in (Shap(), Attributions()):
            verdict = plugin.is_compatible(ctx)
            if verdict is not True:
                return verdict
        return True

    def compute(self, ctx: dlviz.Context, params: Params) -> ComparisonResult:
        return compare(ctx, params)

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
        return result_figures(result, language)
