"""The `shap` plugin class, its controls and its help text."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from plugins._shared.explain import one_output_vector_reason
from plugins._shared.inputs import one_input_one_output_reason
from plugins.shap.compute import shap_values
from plugins.shap.figures import result_figures
from plugins.shap.result import ADDITIVITY_TOLERANCE, METHOD_LABELS, ShapResult

EXPLAINERS = ("auto", "deep", "gradient", "kernel")


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
        return (
            one_input_one_output_reason(ctx, "SHAP values", "SHAP 值 (SHAP values)")
            or one_output_vector_reason(ctx, "SHAP values", "SHAP 值 (SHAP values)")
            or True
        )

    def compute(self, ctx: dlviz.Context, params: Params) -> ShapResult:
        return shap_values(ctx, params)

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
        return result_figures(result, language)
