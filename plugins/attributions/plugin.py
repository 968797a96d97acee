"""The `attributions` plugin class, its controls and its help text."""

from __future__ import annotations

import dataclasses

import keras
import plotly.graph_objects as go

import dlviz
from plugins._shared.explain import one_output_vector_reason
from plugins._shared.inputs import several_inputs_reason, several_outputs_reason, token_inputs_reason
from plugins.attributions.compute import attribute
from plugins.attributions.figures import result_figures
from plugins.attributions.result import (
    COMPLETENESS_LIMIT,
    METHOD_NAMES,
    METHODS,
    SANITY_LIMIT,
    AttributionResult,
)
from plugins.attributions.sanity import LARGE_MODEL_LAYERS
from plugins.attributions.tokens import embedding_layer

BASELINES = ("zeros", "blurred", "mean")


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
    sanity_stages: int = dlviz.param(
        8,
        label="Sanity-check stages",
        label_zh="合理性检验的阶段数",
        help="The check randomises the layers from the top in this many groups of consecutive layers, one "
        "attribution pass each (one layer per stage when the model has no more trainable layers than this).",
        help_zh="合理性检验把各层从顶层开始分成这么多组相邻的层依次随机化，每组计算一次归因"
        "（模型的可训练层不多于此数时，每个阶段随机化一层）。",
        min=1,
        max=16,
        step=1,
    )
    sanity_check_large_models: bool = dlviz.param(
        False,
        label="Sanity check on large models",
        label_zh="大模型上也做合理性检验",
        help=f"On a model of more than {LARGE_MODEL_LAYERS} layers the sanity check runs only when this is ticked: "
        "it repeats every method once per stage, several times a training epoch there.",
        help_zh=f"在超过 {LARGE_MODEL_LAYERS} 层的模型上，只有勾选此项才做合理性检验：它要在每个阶段把每种方法重新计算一遍，"
        "耗时是一个训练轮次的数倍。",
    )


class Attributions(dlviz.Plugin):
    """Attribution maps: which input values (pixels or features) a prediction depends on, by five gradient
    methods side by side: Integrated Gradients, vanilla saliency, SmoothGrad, Gradient x Input and Grad-CAM.

    Integrated Gradients adds up the gradients along the straight path from a baseline input (zeros, a
    blurred copy or the mean input) to the input, so its attributions sum to score(input) -
    score(baseline): the completeness check reports how close they come. Grad-CAM weighs the last
    convolutional layer's feature maps by their gradients (convolutional models only). The sanity check of
    Adebayo et al. (2018) randomises the model's weights from the top layer down and measures how much each
    method's maps change: maps that survive randomisation show the input, not what the model learned.
    Every method runs batched through one compiled TensorFlow function. A time series is drawn as its
    features over the steps above a time x feature heatmap per method; token ids are explained through the
    model's Embedding (Integrated Gradients and Gradient x Input on its output, summed over its dimensions),
    one value per token over the token text. A regressor's attributions and predictions are in the target's
    own units.

    简介：归因图 (attribution map) 是一种可解释性 (explainability) 方法：显示一次预测依赖于哪些输入值（像素或特征）。
    这里并排比较五种基于梯度的方法：积分梯度 (Integrated Gradients)、普通显著图 (saliency map，即输入梯度)、
    SmoothGrad（对加噪声的输入的梯度取平均）、梯度 × 输入 (Gradient × Input) 和 Grad-CAM。积分梯度沿着从基线
    (baseline：全零、模糊后的图像或平均输入) 到输入的直线路径累加梯度，因此其归因之和等于 分数(输入) − 分数(基线)：
    完整性检验 (completeness check) 报告两者相差多少。Grad-CAM 用梯度对最后一个卷积层的特征图加权（仅限卷积模型）。
    Adebayo 等人 (2018) 的合理性检验 (sanity check) 从最顶层开始逐层随机化模型权重，衡量每种方法的归因图变化多少：
    权重随机后依然不变的图反映的是输入本身，而不是模型学到的东西。所有方法都在同一个编译好的 TensorFlow 函数中批量计算。
    时间序列 (time series) 画成各特征随时间步的曲线，下方是每种方法的 时间 × 特征 热力图；词元编号 (token ids)
    经由模型的嵌入层 (Embedding) 解释（对其输出计算积分梯度和梯度 × 输入，并对嵌入维度求和），每个词元一个值，
    显示在词元文本上。回归 (regression) 模型的归因和预测值使用目标变量本身的单位。

    What to look for: methods that agree on the same strokes or features are more believable than any one
    alone. Red marks evidence for the class, blue evidence against it. Saliency maps are noisy; SmoothGrad
    and Integrated Gradients are smoother. In the sanity-check curve every method should fall towards zero
    as more layers are randomised; a method whose curve stays high (flagged) produces the same picture for a
    trained and a random network, so it cannot tell you what the model uses. A completeness error above a
    few percent means Integrated Gradients needs more steps. Grad-CAM is coarse: its resolution is that of
    the convolutional layer. On a sequence, look at which steps or words carry the attribution: a model
    that reads the order puts it on "not" right before "good" or "bad", not on every "good".

    观察要点：多种方法都指向相同笔画或特征时，比任何一种方法单独给出的结果更可信。红色是支持该类别的证据，蓝色是反对的证据。
    普通显著图噪声较大；SmoothGrad 和积分梯度更平滑。在合理性检验曲线中，随着被随机化的层增多，每种方法的曲线都应
    降向零；曲线一直很高（会被标记）的方法对训练好的网络和随机网络给出同样的图，因此无法说明模型依赖什么。
    完整性误差超过百分之几，说明积分梯度需要更多步数。Grad-CAM 较粗糙：其分辨率就是卷积层特征图的分辨率。
    对序列，看归因落在哪些时间步或哪些词上：能读懂词序的模型会把归因放在紧挨 good 或 bad 之前的 not 上，而不是每个 good 上。

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
        what = ("Attributions", "归因图 (attributions)")
        # Token ids are explained through the model's Embedding, when it has one.
        model = getattr(ctx.model, "model", None)
        has_embedding = isinstance(model, keras.Model) and embedding_layer(model) is not None
        tokens_reason = None if has_embedding else token_inputs_reason(ctx, *what)
        return (
            several_inputs_reason(ctx, *what)
            or several_outputs_reason(ctx, *what)
            or tokens_reason
            or one_output_vector_reason(ctx, *what)
            or True
        )

    def compute(self, ctx: dlviz.Context, params: Params) -> AttributionResult:
        return attribute(ctx, params)

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
        return result_figures(result, language)
