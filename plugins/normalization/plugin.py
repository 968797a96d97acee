"""The `normalization` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins.normalization.figures import curvature_figure, curves_figure, surfaces_figure
from plugins.normalization.result import VARIANT_NAMES, VARIANTS, NormalizationResult
from plugins.normalization.training import BUNDLED, train_variants

# η·λ_max above this: gradient descent overshoots along the steepest direction.
STABLE_LIMIT = 2.0


@dataclasses.dataclass(frozen=True)
class Params:
    variants: tuple = dlviz.param(
        VARIANTS,
        label="Variants",
        label_zh="变体",
        choices=VARIANTS,
        multiple=True,
        choice_labels={name: english for name, (english, _) in VARIANT_NAMES.items()},
        choice_labels_zh={name: chinese for name, (_, chinese) in VARIANT_NAMES.items()},
        help="How the features reach the model: raw, through a scikit-learn scaler, or through a Keras "
        "normalisation layer.",
        help_zh="特征如何进入模型：原样、经过 scikit-learn 缩放器，或经过 Keras 归一化层。",
    )
    data: str = dlviz.param(
        "breast_cancer",
        label="Data",
        label_zh="数据",
        choices=("auto", *BUNDLED),
        help="auto: the loaded dataset when it is a table, else breast_cancer (features from 0.002 to 580 in spread).",
        help_zh="auto：已加载的数据集是表格时用它，否则用 breast_cancer（特征的离散程度从 0.002 到 580）。",
    )
    epochs: int = dlviz.param(
        30,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=500,
        step=1,
        help="Full passes over the training samples, for every variant.",
        help_zh="每个变体遍历训练样本的次数。",
    )
    batch_size: int = dlviz.param(
        32,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Samples per SGD update; every variant sees the same batches.",
        help_zh="每次 SGD 更新所用的样本数；所有变体看到相同的批次。",
    )
    learning_rate: float = dlviz.param(
        0.05,
        label="Learning rate η",
        label_zh="学习率 η",
        min=1e-6,
        max=1.0,
        log=True,
        help="Plain SGD's learning rate, the same for every variant.",
        help_zh="普通 SGD 的学习率，所有变体相同。",
    )
    surface_range: float = dlviz.param(
        1.0,
        label="Surface range",
        label_zh="曲面范围",
        min=0.01,
        max=10.0,
        log=True,
        help="How far the two weights move from their initial values in the loss-surface contours.",
        help_zh="损失曲面等高线图中两个权重离开初始值的最大距离。",
    )


class Normalization(dlviz.Plugin):
    """Data normalisation lesson: the same classifier (one Dense output layer) trained with plain SGD from
    the same initial weights on raw features, on features standardised by scikit-learn's StandardScaler or
    scaled to [0, 1] by its MinMaxScaler, and on raw features through a keras.layers.BatchNormalization or
    LayerNormalization layer. It shows the loss curves, the curvature of the loss at the start (the
    Hessian's largest and smallest eigenvalues: the surface's elongation and the effective learning rate)
    and the loss surface over two weights, contoured through the landscape plugin's evaluator.

    简介：数据归一化 (normalization) 课程：同一个分类器（一个 Dense 输出层）从相同的初始权重出发、用普通 SGD 训练，
    输入分别是原始特征、用 scikit-learn 的 StandardScaler 标准化的特征、用 MinMaxScaler 缩放到 [0, 1] 的特征，以及
    经过 keras.layers.BatchNormalization 或 LayerNormalization 层的原始特征。图中给出损失曲线、起点处损失的曲率
    （Hessian 的最大与最小特征值：曲面的拉长程度和有效学习率），以及通过 landscape 插件的求值器画出的两个权重上的损失曲面等高线。

    What to look for: on raw features one feature spreads hundreds of times more than another, so the loss
    is a long narrow valley: the contours are stretched lines, the Hessian's eigenvalues differ by many
    orders of magnitude, and any learning rate small enough for the steep direction (η·λ_max < 2) crawls
    along the flat one. The raw loss curve jumps about or stalls. Standardised and min-max scaled features
    make the contours rounder and the elongation far smaller, so the same learning rate converges quickly;
    a BatchNormalization layer does the same inside the model from each batch's statistics.
    LayerNormalization normalises each sample across its features instead, which does not undo the
    different scales of the features.

    观察要点：原始特征中，一个特征的离散程度是另一个的几百倍，损失成了一条又长又窄的山谷：等高线被拉成长条，Hessian
    的特征值相差许多个数量级，任何小到能适应陡峭方向的学习率 (η·λ_max < 2) 都会在平坦方向上爬得极慢，原始特征的损失曲线
    来回跳动或停滞。标准化和最小-最大缩放让等高线变圆、拉长程度大大降低，同样的学习率很快收敛；BatchNormalization 层
    用每批数据的统计量在模型内部做同样的事。LayerNormalization 则是对每个样本在其各特征之间归一化，不能消除各特征尺度的差异。

    >>> import dlviz
    >>> result = dlviz.compute("normalization", variants=("raw", "standard"), epochs=2)
    >>> result.elongation("raw") > 1000 * result.elongation("standard")
    True
    """

    name = "normalization"
    title = "Normalisation"
    title_zh = "数据归一化"
    section = "Lessons"
    Params = Params

    def shared_result_key(self, ctx: dlviz.Context, params: Params) -> str | None:
        """Shared by every session unless "auto" trains on the loaded tabular classification set (the rule
        of training.raw_features)."""
        own = ctx.dataset
        its_own = own is not None and own.kind in ("tabular",) and own.task == "classification"
        return None if params.data == "auto" and its_own else ""

    def compute(self, ctx: dlviz.Context, params: Params) -> NormalizationResult:
        return train_variants(ctx, params)

    def diagnose(self, result: NormalizationResult) -> list[dlviz.Finding]:
        if "raw" not in result.variants:
            return []
        step = result.stable_step("raw")
        elongation = result.elongation("raw")
        return [
            dlviz.Finding(
                "info",
                f"Normalisation lesson: on raw {result.dataset_name} features the loss is {elongation:.1e} times "
                f"more curved along its steepest direction than its flattest (η·λ_max = {step:.3g})",
                "Scale the features (StandardScaler or MinMaxScaler, fitted on the training split) before training.",
                headline_zh=f"归一化课程：在原始 {result.dataset_name} 特征上，损失沿最陡方向的曲率是最平坦方向的 "
                f"{elongation:.1e} 倍（η·λ_max = {step:.3g}）",
                advice_zh="训练前缩放特征（StandardScaler 或 MinMaxScaler，在训练集上拟合）。",
            )
        ] + (
            [
                dlviz.Finding(
                    "warning",
                    f"Normalisation lesson: η·λ_max = {step:.3g} > {STABLE_LIMIT:g} on raw features: "
                    "gradient descent overshoots along the steepest direction",
                    "Lower the learning rate or, better, scale the features.",
                    headline_zh=f"归一化课程：原始特征上 η·λ_max = {step:.3g} > {STABLE_LIMIT:g}：梯度下降在最陡方向上越过谷底",
                    advice_zh="降低学习率，或者更好的办法：缩放特征。",
                )
            ]
            if step > STABLE_LIMIT
            else []
        )

    def figures(self, result: NormalizationResult, language: str = "en") -> list[go.Figure]:
        figures = [curves_figure(result, language), curvature_figure(result, language)]
        if result.surfaces:
            figures.append(surfaces_figure(result, language))
        return figures
