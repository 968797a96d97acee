"""The `evaluation` plugin class, its controls and its help text."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins._shared.inputs import one_head_reason
from plugins.evaluation.compute import evaluate
from plugins.evaluation.figures import classification_figures, regression_figures
from plugins.evaluation.result import ClassificationResult, RegressionResult

# Expected calibration error above which the confidences are called unreliable.
CALIBRATION_LIMIT = 0.1
# A class whose recall falls this far below the mean recall is named in the findings.
RECALL_GAP = 0.2


@dataclasses.dataclass(frozen=True)
class Params:
    """Controls of the evaluation view."""

    split: str = dlviz.param(
        "test",
        label="Split",
        label_zh="数据划分",
        help="Evaluate on the test split (what the model never trained on) or the training split.",
        help_zh="在测试集（模型从未训练过的数据）或训练集上评估。",
        choices=("test", "train"),
        choice_labels={"test": "test", "train": "training"},
        choice_labels_zh={"test": "测试集", "train": "训练集"},
    )
    max_samples: int = dlviz.param(
        5000,
        label="Samples evaluated",
        label_zh="评估的样本数",
        help="At most this many samples of the split (a random subset fixed by the seed).",
        help_zh="最多评估该划分中的这么多个样本（由随机种子固定的随机子集）。",
        min=10,
        max=100_000,
        step=10,
    )
    calibration_bins: int = dlviz.param(
        10,
        label="Calibration bins",
        label_zh="校准分箱数",
        help="Confidence bins of the reliability diagram.",
        help_zh="可靠性图 (reliability diagram) 的置信度分箱数。",
        min=2,
        max=50,
        step=1,
    )
    gallery_size: int = dlviz.param(
        8,
        label="Mistakes shown",
        label_zh="显示的错误样本数",
        help="How many of the most confidently wrong samples to show with their attribution maps (0: none).",
        help_zh="显示多少个置信度最高的错误样本及其归因图（0 表示不显示）。",
        min=0,
        max=24,
        step=1,
    )
    gallery_method: str = dlviz.param(
        "auto",
        label="Why it was wrong",
        label_zh="错误原因的解释方法",
        help="Attribution map of each mistake, for the class it predicted: auto = Grad-CAM for convolutional "
        "models, saliency otherwise.",
        help_zh="每个错误样本针对其预测类别的归因图：auto 表示卷积模型用 Grad-CAM，其他模型用显著图 (saliency)。",
        choices=("auto", "saliency", "grad_cam"),
        choice_labels={"auto": "auto", "saliency": "saliency (gradient)", "grad_cam": "Grad-CAM"},
        choice_labels_zh={"auto": "auto（自动）", "saliency": "显著图 (saliency)", "grad_cam": "Grad-CAM"},
    )
    snapshots: bool = dlviz.param(
        True,
        label="Scores over the run",
        label_zh="训练过程中的分数",
        help="Also score the weights of each snapshot of the loaded run, with a step slider.",
        help_zh="同时对所载训练记录的每个权重快照评分，并提供步数滑块。",
    )
    max_snapshots: int = dlviz.param(
        20,
        label="Snapshots scored",
        label_zh="评分的快照数",
        help="At most this many snapshots, spread evenly over the run (first and last always).",
        help_zh="最多评分这么多个快照，均匀分布在整个训练过程中（总是包括第一个和最后一个）。",
        min=2,
        max=200,
        step=1,
    )


class Evaluation(dlviz.Plugin):
    """How good the model's predictions are, and where they go wrong. For a classifier: the confusion matrix
    (counts and normalised by true class), precision, recall, F1 and support per class, one-vs-rest ROC and
    precision-recall curves with their areas, a reliability diagram of its confidence, top-k accuracy, and the
    most confidently wrong samples beside the attribution map (saliency or Grad-CAM) of the class predicted.
    For a regressor: predicted against actual, residuals against predicted, the residuals' histogram, and MAE,
    RMSE and R². With a recorded run, the same scores at each weight snapshot, with a step slider. Every score
    is computed by scikit-learn's metrics.

    简介：模型的预测有多好、错在哪里。分类模型：混淆矩阵 (confusion matrix，计数及按真实类别归一化)、各类别的
    精确率 (precision)、召回率 (recall)、F1 和样本数 (support)、一对其余 (one-vs-rest) 的 ROC 曲线和精确率-召回率曲线
    及其曲线下面积、置信度的可靠性图 (reliability diagram)、Top-k 准确率，以及置信度最高的错误样本与其预测类别的
    归因图（显著图或 Grad-CAM）。回归模型：预测值与真实值、残差与预测值、残差直方图，以及 MAE、RMSE 和 R²。
    载入训练记录时，还给出每个权重快照上的同样分数，并提供步数滑块。所有分数都由 scikit-learn 的指标函数计算。

    What to look for: off-diagonal cells of the confusion matrix show which classes are mixed up; a class
    with low recall is missed, one with low precision is over-predicted (common with imbalanced data). A
    ROC area near 0.5 is chance. In the reliability diagram a curve below the diagonal means the model is
    overconfident. Confident mistakes whose maps point at the wrong strokes or features show what misled
    the model; mislabelled samples show up here too. For regression, residuals should scatter evenly around
    zero: a funnel or a curve means the model misses part of the pattern. Over the run, watch the
    confusion matrix's diagonal fill in as classes separate.

    观察要点：混淆矩阵中对角线以外的格子表示哪些类别被混淆；召回率低的类别常被漏掉，精确率低的类别被过多预测
    （不平衡数据中很常见）。ROC 曲线下面积接近 0.5 相当于随机猜测。可靠性图中曲线低于对角线，说明模型过于自信
    (overconfident)。高置信度的错误样本若其归因图指向错误的笔画或特征，就揭示了模型被什么误导；标注错误的样本也会出现在这里。
    回归模型的残差应均匀分布在零附近：呈漏斗形或曲线形说明模型漏掉了部分规律。在训练过程中，观察混淆矩阵的对角线
    随着各类别分开而逐渐变深。

    >>> import dlviz
    >>> from dlviz.testing import tiny_context
    >>> ctx = tiny_context("points2d")
    >>> result = dlviz.compute("evaluation", model=ctx.model, dataset=ctx.dataset, gallery_size=0, snapshots=False)
    >>> int(result.metrics.confusion.sum()) == len(ctx.dataset.x_test), len(result.roc)
    (True, 1)
    """

    name = "evaluation"
    title = "Evaluation"
    title_zh = "模型评估"
    section = "Explanations"
    requires = frozenset({"model", "dataset"})
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        return one_head_reason(ctx, "Evaluation views", "模型评估 (evaluation)") or True

    def compute(self, ctx: dlviz.Context, params: Params) -> ClassificationResult | RegressionResult:
        return evaluate(ctx, params)

    def figures(
        self, result: ClassificationResult | RegressionResult, language: str = "en"
    ) -> list[go.Figure]:
        if isinstance(result, RegressionResult):
            return regression_figures(result, language)
        return classification_figures(result, language)

    def diagnose(self, result: ClassificationResult | RegressionResult) -> list[dlviz.Finding]:
        if isinstance(result, RegressionResult):
            if result.metrics.r2 < 0:
                return [
                    dlviz.Finding(
                        "problem",
                        f"R² = {result.metrics.r2:.2f}: the model predicts worse than the mean of the targets",
                        "Train longer, check that the targets are scaled, and that the output layer is linear.",
                        headline_zh=f"R² = {result.metrics.r2:.2f}：模型的预测还不如直接预测目标值的平均值",
                        advice_zh="请训练更久，检查目标值是否已缩放，以及输出层是否为线性激活。",
                    )
                ]
            return []
        findings = []
        metrics = result.metrics
        worst = int(metrics.recall.argmin())
        if metrics.recall.mean() - metrics.recall[worst] > RECALL_GAP:
            findings.append(
                dlviz.Finding(
                    "warning",
                    f"Class {result.class_names[worst]} is often missed: recall {metrics.recall[worst]:.0%} against "
                    f"{metrics.recall.mean():.0%} on average",
                    "Look at its row of the confusion matrix; more or rebalanced training data for it may help.",
                    headline_zh=f"类别 {result.names('zh')[worst]} 常被漏掉：召回率 {metrics.recall[worst]:.0%}，"
                    f"平均为 {metrics.recall.mean():.0%}",
                    advice_zh="查看混淆矩阵中它所在的行；为它增加或重新平衡训练数据可能有帮助。",
                )
            )
        error = result.calibration.expected_error
        if error > CALIBRATION_LIMIT:
            findings.append(
                dlviz.Finding(
                    "warning",
                    f"The model's confidence is unreliable: expected calibration error {error:.2f}",
                    "Read its probabilities with care; label smoothing or temperature scaling calibrates them.",
                    headline_zh=f"模型的置信度不可靠：期望校准误差 (ECE) 为 {error:.2f}",
                    advice_zh="请谨慎解读它输出的概率；标签平滑 (label smoothing) 或温度缩放 (temperature scaling) 可以校准。",
                )
            )
        return findings
