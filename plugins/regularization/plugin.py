"""The `regularization` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr
from plugins.regularization.data import BUNDLED, lesson_data
from plugins.regularization.figures import (
    boundaries_figure,
    curves_figure,
    gap_bars_figure,
    histograms_figure,
    predictions_figure,
)
from plugins.regularization.result import VARIANT_NAMES, RegularizationResult
from plugins.regularization.training import summarise, train_variants

# A validation gap above this (in nats of cross-entropy, or for regression in mean squared error on the
# standardised targets: a fraction of the target's variance) is reported as overfitting.
OVERFITTING_GAP = 0.15


@dataclasses.dataclass(frozen=True)
class Params:
    data: str = dlviz.param(
        "auto",
        label="Data",
        label_zh="数据",
        choices=("auto", *BUNDLED),
        help="auto: the loaded dataset when it is 2-D points or a table (class labels or regression targets), "
        "else noisy moons. The others are bundled 2-D sets with the noise below.",
        help_zh="auto：已加载的数据集是二维点或表格（类别标签或回归目标）时用它，否则用带噪声的 moons。"
        "其余为内置二维数据集，噪声见下。",
    )
    noise: float = dlviz.param(
        0.3,
        label="Noise (bundled sets)",
        label_zh="噪声（内置数据集）",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Standard deviation of the noise of a bundled set (capped at the set's own maximum).",
        help_zh="内置数据集的噪声标准差（不超过该数据集允许的最大值）。",
    )
    n_train: int = dlviz.param(
        100,
        label="Training samples",
        label_zh="训练样本数",
        min=10,
        max=1000,
        step=10,
        help="Few samples make overfitting easy to see; validation uses the held-out split.",
        help_zh="训练样本越少越容易看到过拟合；验证使用留出的测试集。",
    )
    width: int = dlviz.param(
        64,
        label="Units per hidden layer",
        label_zh="每个隐藏层的单元数",
        min=4,
        max=256,
        step=4,
        help="Width of every hidden layer: far more parameters than samples (over-parameterised).",
        help_zh="每个隐藏层的宽度：参数远多于样本（过参数化 (over-parameterised)）。",
    )
    depth: int = dlviz.param(
        2,
        label="Hidden layers",
        label_zh="隐藏层数",
        min=1,
        max=4,
        step=1,
        help="Dense ReLU layers.",
        help_zh="ReLU 全连接层的层数。",
    )
    epochs: int = dlviz.param(
        200,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=20,
        max=3000,
        step=10,
        help="Full passes over the training samples.",
        help_zh="遍历全部训练样本的次数。",
    )
    batch_size: int = dlviz.param(
        25,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=1000,
        step=1,
        help="Samples per update (Adam); batches are reshuffled every epoch with the seed.",
        help_zh="每次更新（Adam）所用的样本数；每轮按随机种子重新打乱。",
    )
    learning_rate: float = dlviz.param(
        0.01,
        label="Learning rate",
        label_zh="学习率",
        min=1e-4,
        max=1.0,
        log=True,
        help="Adam's learning rate, the same for every variant.",
        help_zh="Adam 的学习率，所有变体相同。",
    )
    l1: float = dlviz.param(
        1e-3,
        label="L1 strength λ₁",
        label_zh="L1 强度 λ₁",
        min=1e-6,
        max=1.0,
        log=True,
        help="keras.regularizers.L1 on every kernel of the L1 variant.",
        help_zh="L1 变体的每个权重矩阵使用 keras.regularizers.L1。",
    )
    l2: float = dlviz.param(
        1e-3,
        label="L2 strength λ₂",
        label_zh="L2 强度 λ₂",
        min=1e-6,
        max=1.0,
        log=True,
        help="keras.regularizers.L2 on every kernel of the L2 variant.",
        help_zh="L2 变体的每个权重矩阵使用 keras.regularizers.L2。",
    )
    dropout: float = dlviz.param(
        0.5,
        label="Dropout rate p",
        label_zh="失活率 p",
        min=0.05,
        max=0.9,
        step=0.05,
        help="Fraction of hidden units dropped at each training step of the dropout variant.",
        help_zh="dropout 变体每个训练步随机丢弃的隐藏单元比例。",
    )
    patience: int = dlviz.param(
        30,
        label="Early-stopping patience",
        label_zh="早停耐心值 (patience)",
        min=1,
        max=500,
        step=1,
        help="Epochs without a better validation loss before early stopping ends training and restores the best weights.",
        help_zh="验证损失连续这么多轮没有改善时，早停结束训练并恢复最佳权重。",
    )
    near_zero: float = dlviz.param(
        0.01,
        label="Near-zero threshold",
        label_zh="近零阈值",
        min=1e-6,
        max=0.5,
        log=True,
        help="Weights with |w| below this count as (near) zero in the histograms.",
        help_zh="|w| 小于此值的权重在直方图中计为（接近）零。",
    )


class Regularization(dlviz.Plugin):
    """Regularization lesson: the same over-parameterised MLP (far more weights than training samples) trained
    on a few noisy samples six ways from the same initial weights: without regularization, with L1 and L2
    weight penalties, dropout, batch normalization, and early stopping that restores the best weights. It
    shows training against validation loss with the overfitting gap marked, the weight histograms, and for
    2-D data the decision boundaries side by side. On a loaded regression set (diabetes, friedman1, a table
    of your own) each variant is a regressor: one linear output per target trained on Keras' mean squared
    error of the standardised targets, and the last figure plots predicted against actual values on the
    validation split in the target's units (MSE in units = σ² × the standardised MSE). Everything is Keras' own: keras.regularizers.L1/L2,
    keras.layers.Dropout and BatchNormalization, keras.callbacks.EarlyStopping, the Adam optimizer.

    简介：正则化 (regularization) 课程：同一个过参数化的多层感知机（权重数量远多于训练样本）在少量带噪声的样本上，
    从相同的初始权重出发用六种方式训练：无正则化、L1 和 L2 权重惩罚、随机失活 (dropout)、批归一化 (batch
    normalization)，以及恢复最佳权重的早停 (early stopping)。图中给出训练损失与验证损失曲线并标出过拟合差距，
    各变体的权重直方图，二维数据还并排画出决策边界 (decision boundary)。若加载的是回归 (regression) 数据集
    （diabetes、friedman1 或自己的表格），每个变体都是回归模型：每个目标一个线性输出，用 Keras 的均方误差
    (MSE) 在标准化后的目标上训练；最后一张图以目标的原单位画出验证集上的预测值与真实值（原单位的 MSE =
    σ² × 标准化 MSE）。所用的全是 Keras 自己的实现：
    keras.regularizers.L1/L2、keras.layers.Dropout 与 BatchNormalization、keras.callbacks.EarlyStopping、Adam 优化器。

    What to look for: without regularization the training loss keeps falling while the validation loss turns
    up after a few dozen epochs: the widening gap is overfitting (过拟合), and the decision boundary bends
    around single noisy points. L1 pushes most weights to (almost) exactly zero, a spike in the histogram,
    leaving a sparse network; L2 shrinks all weights towards zero without zeroing them. Dropout and batch
    normalization add noise to training and usually narrow the gap, but not always: on some data the
    dropout network, run whole at test time, grows overconfident and its validation loss climbs (try the
    breast_cancer table). Early stopping keeps the weights of the epoch with the lowest validation loss
    (the dotted line), so its gap is small by construction. The smoothest boundaries usually have the lowest
    validation loss. On regression data, the overfit model's validation points scatter further from the
    diagonal of the predicted-against-actual panels than those of the variant with the lowest validation MSE.

    观察要点：没有正则化时，训练损失一直下降，而验证损失在几十轮之后掉头上升：两者之间不断扩大的差距就是过拟合
    (overfitting)，决策边界会绕着个别噪声点弯曲。L1 把大部分权重压到（几乎）恰好为零，直方图在零处出现尖峰，
    网络变得稀疏 (sparse)；L2 把所有权重向零收缩，但不会变成零。随机失活和批归一化给训练加入噪声，通常能缩小差距，但并非总是如此：在某些数据上，
    测试时完整运行的 dropout 网络会过于自信，验证损失反而上升（可以试试 breast_cancer 表格数据）。    早停保留验证损失最低那一轮（虚线）的权重，因此它的差距天然很小。边界越平滑的模型，验证损失通常越低。
    在回归数据上，过拟合模型在“预测值与真实值”图中的验证点离对角线更远，验证 MSE 最低的变体则更贴近对角线。

    >>> import dlviz
    >>> result = dlviz.compute("regularization", epochs=40, width=16, data="moons")
    >>> result.dataset_name, len(result.train_loss["none"])
    ('moons', 40)
    >>> len(dlviz.get_plugin("regularization").figures(result))
    4
    """

    name = "regularization"
    title = "Regularization"
    title_zh = "正则化"
    section = "Lessons"
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> RegularizationResult:
        data, notes = lesson_data(ctx, params)

        def partial(trained, done, total):
            message = tr(ctx.language, "training six variants", "训练六个变体")
            ctx.report_partial(summarise(data, params, trained, notes), done, total, message)

        trained = train_variants(
            data,
            params,
            seed=ctx.seed,
            progress=ctx.report,
            language=ctx.language,
            partial=partial if ctx.wants_partial else None,
        )
        return summarise(data, params, trained, notes)

    def shared_result_key(self, ctx: dlviz.Context, params: Params) -> str | None:
        """Shared by every session unless the lesson trains on the loaded set ('auto' on 2-D points or a
        table); on other loaded data it reads only the set's name, kind and task, for its note."""
        own = ctx.dataset
        if params.data != "auto" or own is None:
            return ""
        if own.task != "multilabel" and own.kind in ("points2d", "tabular"):
            return None
        return f"{own.name}|{own.kind}|{own.task}"

    def diagnose(self, result: RegularizationResult) -> list[dlviz.Finding]:
        gap = result.gap["none"]
        best = result.best_variant
        lowest, unregularised = result.final_val_loss[best], result.final_val_loss["none"]
        findings = []
        if gap > OVERFITTING_GAP and result.task == "regression":
            best_units, none_units = (
                result.final_val_mse_in_units[best],
                result.final_val_mse_in_units["none"],
            )
            findings.append(
                dlviz.Finding(
                    "info",
                    "Regularization lesson: the unregularised regressor overfits (validation − training MSE "
                    f"on standardised targets {gap:.2f})",
                    f"Lowest validation MSE: {VARIANT_NAMES[best][0]} ({lowest:.3f} on standardised targets, "
                    f"{best_units:.4g} in the target's units², against {unregularised:.3f}, {none_units:.4g}).",
                    headline_zh=f"正则化课程：无正则化的回归模型过拟合（标准化目标上验证 MSE − 训练 MSE = {gap:.2f}）",
                    advice_zh=f"验证 MSE 最低的是{VARIANT_NAMES[best][1]}（标准化目标上 {lowest:.3f}，"
                    f"目标原单位的平方下 {best_units:.4g}；无正则化为 {unregularised:.3f}、{none_units:.4g}）。",
                )
            )
        elif gap > OVERFITTING_GAP:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Regularization lesson: the unregularised model overfits (validation − training loss {gap:.2f})",
                    f"Lowest validation loss: {VARIANT_NAMES[best][0]} ({lowest:.3f} against {unregularised:.3f}).",
                    headline_zh=f"正则化课程：无正则化的模型过拟合（验证损失 − 训练损失 = {gap:.2f}）",
                    advice_zh=f"验证损失最低的是{VARIANT_NAMES[best][1]}（{lowest:.3f}，无正则化为 {unregularised:.3f}）。",
                )
            )
        return findings

    def figures(self, result: RegularizationResult, language: str = "en") -> list[go.Figure]:
        figures = [
            curves_figure(result, language),
            gap_bars_figure(result, language),
            histograms_figure(result, language),
        ]
        if result.grid_x is not None:
            figures.append(boundaries_figure(result, language))
        if result.task == "regression":
            figures.append(predictions_figure(result, language))
        return figures
