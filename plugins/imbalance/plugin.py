"""Class-imbalance workbench: one network trained under several rebalancing strategies, compared fairly."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz.errors import DataError, ParamsError
from dlviz.plugin import tr
from plugins._shared.inputs import several_inputs_reason, several_outputs_reason
from plugins.imbalance.data import (
    Targets,
    class_counts,
    fingerprint,
    minority_classes,
    thin_classes,
    weights_array,
)
from plugins.imbalance.figures import (
    STRATEGY_NAMES,
    confusion_figure,
    distribution_figure,
    metrics_figure,
    per_class_figure,
    pr_figure,
    scatter_figure,
    skipped_figure,
    strategy_label,
    threshold_figure,
    train_counts_figure,
    verdict_figure,
)
from plugins.imbalance.metrics import THRESHOLDS, score
from plugins.imbalance.resampling import (
    RESAMPLING,
    STRATEGIES,
    StrategyNotApplicable,
    resample,
)
from plugins.imbalance.result import ImbalanceResult, Outcome, ScatterPanel
from plugins.imbalance.training import Trainer, output_units

MAX_SCATTER_POINTS = 1500
_MAX_REDUCIBLE_CLASS = 9


class Imbalance(dlviz.Plugin):
    """Trains one network under several strategies for imbalanced classes (class weights, random over- and undersampling, SMOTE, ADASYN, balanced batches, focal loss, image augmentation), each from the same initial weights, and compares them on the untouched test split: per-class precision and recall, balanced accuracy, macro F1, ROC-AUC, PR-AUC, confusion matrices, precision-recall curves and, for two classes, a decision-threshold slider.

    简介：不平衡数据 (imbalanced data) 工作台：用同一个网络、同一组初始权重，在多种策略下分别训练——类别权重
    (class weights)、随机过采样 (oversampling)、随机欠采样 (undersampling)、SMOTE、ADASYN、平衡批次
    (balanced batches)、焦点损失 (focal loss)、图像数据增强 (augmentation)——再在未改动的测试集上比较：
    每个类别的精确率 (precision) 与召回率 (recall)、平衡准确率 (balanced accuracy)、宏平均 F1 (macro F1)、
    ROC-AUC、PR-AUC、混淆矩阵 (confusion matrix)、精确率-召回率曲线，二分类时还有决策阈值 (decision threshold) 滑块。

    What to look for: the recall of the rare class, not accuracy. Without rebalancing a network often
    predicts the majority class almost always: accuracy stays high while minority recall is low.
    Class weights and oversampling usually raise minority recall and lower its precision; the PR
    curves show whether a strategy truly ranks the rare class better or only moved the threshold
    (moving the threshold slider on the untreated model can give the same trade-off). Undersampling
    throws data away and gets noisy on small sets. Resample the training split only: resampling
    before the split puts copies of test samples into training and inflates every score.

    观察要点：看少数类 (minority class) 的召回率 (recall)，而不是准确率 (accuracy)。不做处理时网络常常几乎总是
    预测多数类：准确率很高，少数类召回率却很低。类别权重和过采样通常提高少数类召回率、降低其精确率 (precision)；
    PR 曲线告诉你一种策略是真的把少数类排得更靠前，还是只是移动了阈值（在未处理的模型上拖动阈值滑块也许能得到同样
    的权衡）。欠采样 (undersampling) 丢弃数据，在小数据集上波动大。只对训练集重采样：先重采样再划分会把测试样本的
    副本带进训练集 (数据泄漏, leakage)，让所有分数虚高。

    >>> import dlviz
    >>> ds = dlviz.datasets.load("imbalanced", seed=0)
    >>> result = dlviz.compute("imbalance", dataset=ds, strategies=("none", "class_weight"), epochs=2)
    >>> [outcome.strategy for outcome in result.outcomes]
    ['none', 'class_weight']
    >>> len(dlviz.get_plugin("imbalance").figures(result)) >= 6
    True
    """

    name = "imbalance"
    title = "Imbalanced classes"
    title_zh = "不平衡数据 (imbalanced data)"
    section = "Data"
    requires = frozenset({"dataset"})

    @dataclasses.dataclass(frozen=True)
    class Params:
        strategies: tuple = dlviz.param(
            ("none", "class_weight", "smote"),
            label="Strategies",
            label_zh="策略",
            help="Each is trained from the same initial weights and scored on the same untouched test split.",
            help_zh="每种策略都从相同的初始权重开始训练，并在同一个未改动的测试集上评估。",
            choices=STRATEGIES,
            multiple=True,
            choice_labels={strategy: en for strategy, (en, _) in STRATEGY_NAMES.items()},
            choice_labels_zh={strategy: zh for strategy, (_, zh) in STRATEGY_NAMES.items()},
        )
        epochs: int = dlviz.param(
            10,
            label="Epochs",
            label_zh="训练轮数 (epochs)",
            help="Epochs per strategy.",
            help_zh="每种策略的训练轮数。",
            min=1,
            max=200,
            step=1,
        )
        batch_size: int = dlviz.param(
            32,
            label="Batch size",
            label_zh="批大小 (batch size)",
            min=4,
            max=1024,
            step=4,
            help="Samples per gradient step.",
            help_zh="每次梯度更新使用的样本数。",
        )
        gamma: float = dlviz.param(
            2.0,
            label="Focal loss gamma",
            label_zh="焦点损失 gamma",
            min=0.0,
            max=5.0,
            step=0.5,
            help="focal_loss: how strongly easy, confident samples are down-weighted (0 = cross-entropy).",
            help_zh="焦点损失：对容易、已分对的样本降权的强度（0 即交叉熵）。",
        )
        k_neighbors: int = dlviz.param(
            5,
            label="SMOTE/ADASYN neighbours",
            label_zh="SMOTE/ADASYN 近邻数",
            min=1,
            max=20,
            step=1,
            help="New samples are interpolated toward one of this many nearest neighbours of the same class.",
            help_zh="新样本在同类的这么多个最近邻之间插值生成。",
        )
        reduce_classes: tuple = dlviz.param(
            (),
            label="Make classes rare",
            label_zh="制造少数类",
            choices=tuple(range(_MAX_REDUCIBLE_CLASS + 1)),
            multiple=True,
            help="Class ids whose training samples are thinned to keep_fraction (e.g. digits 3 and 8). The test split is kept as it is.",
            help_zh="这些类别的训练样本只保留 keep_fraction 的比例（例如数字 3 和 8），测试集保持不变。",
        )
        keep_fraction: float = dlviz.param(
            0.1,
            label="Fraction kept",
            label_zh="保留比例",
            min=0.01,
            max=1.0,
            step=0.01,
            help="Fraction of the training samples kept for the classes in reduce_classes.",
            help_zh="reduce_classes 中各类别保留的训练样本比例。",
        )
        rare_if_balanced: bool = dlviz.param(
            True,
            label="Make a class rare on balanced data",
            label_zh="数据平衡时制造一个少数类",
            help="When no class is rare (the largest has less than 1.5x the smallest's training samples) and "
            "'Make classes rare' is empty, the last class is thinned to 'Fraction kept', so the strategies have "
            "a rare class to rescue. Untick it to compare them on the data as it is.",
            help_zh="当没有类别稀少（最大类别的训练样本不到最小类别的 1.5 倍）且“制造少数类”为空时，把最后一个类别的"
            "训练样本减少到“保留比例”，让各种策略有少数类可以挽救。取消勾选则在原始数据上比较。",
        )
        architecture: str = dlviz.param(
            "auto",
            label="Architecture",
            label_zh="网络结构",
            choices=("auto", "mlp", "cnn"),
            help="auto: the loaded model's architecture (re-initialised), or a CNN for images and an MLP otherwise.",
            help_zh="auto：使用已加载模型的结构（重新初始化），没有模型时图像用 CNN，其他数据用 MLP。",
        )

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        task = getattr(ctx.dataset, "task", "classification")
        if task != "classification":
            return tr(
                ctx.language,
                f"Imbalance is about how often each class occurs; this dataset's task is {task}, without classes.",
                f"不平衡数据 (imbalanced data) 视图研究各类别出现的频率；这个数据集的任务是"
                f"{'回归 (regression)' if task == 'regression' else '多标签 (multilabel)'}，没有互斥的类别。",
            )
        try:
            targets = Targets.of(ctx.dataset)
        except DataError as exc:
            return tr(ctx.language, str(exc), f"无法使用这个数据集的类别标签 (labels)：{exc}")
        if targets.n_classes < 2:
            return tr(
                ctx.language,
                "Imbalance needs at least two classes; this dataset has one.",
                "不平衡数据 (imbalanced data) 视图需要至少两个类别；这个数据集只有一个。",
            )
        several = several_inputs_reason(
            ctx,
            "Imbalance, which retrains the loaded model under each strategy,",
            "不平衡数据 (imbalanced data) 视图会在每种策略下重新训练已加载的模型，它",
            "Close the model to compare the strategies on a fresh MLP or CNN built for this dataset.",
            "关闭这个模型后，可以在为该数据集新建的 MLP 或 CNN 上比较各种策略。",
        ) or several_outputs_reason(ctx, "Imbalance", "不平衡数据 (imbalanced data) 视图")
        if several is not None:
            return several
        if ctx.model is not None:
            units = output_units(ctx.model)
            fits = units == targets.n_classes or (
                units == 1 and targets.n_classes == 2 and not targets.multilabel
            )
            if not fits:
                return tr(
                    ctx.language,
                    f"The model has {units} output unit(s) but the dataset has {targets.n_classes} classes; "
                    "load a model built for this dataset, or choose architecture 'mlp'.",
                    f"模型有 {units} 个输出单元 (output units)，但数据集有 {targets.n_classes} 个类别；"
                    "请加载为这个数据集搭建的模型，或把网络结构 (architecture) 选为 'mlp'。",
                )
        return True

    def compute(self, ctx: dlviz.Context, params: Params) -> ImbalanceResult:
        strategies = tuple(dict.fromkeys(params.strategies))
        if not strategies:
            raise ParamsError(
                "No strategy chosen.", "pick at least one strategy, e.g. ('none', 'class_weight')."
            )
        dataset = ctx.dataset
        targets = Targets.of(dataset)
        x_train = np.asarray(dataset.x_train, dtype=np.float32)
        x_test = np.asarray(dataset.x_test, dtype=np.float32)
        y_train, y_test = targets.train, targets.test
        params, notes = made_rare_if_balanced(params, targets, dataset)
        x_train, y_train = thin_classes(x_train, y_train, targets, params, ctx.seed)
        n_classes = targets.n_classes
        train_counts = class_counts(y_train, n_classes)
        test_counts = class_counts(y_test, n_classes)
        if not targets.multilabel and np.any(train_counts == 0):
            empty = [targets.class_names[c] for c in np.flatnonzero(train_counts == 0)]
            raise DataError(
                f"Class(es) {', '.join(empty)} have no training samples.",
                "raise keep_fraction or drop those classes from the data.",
            )
        minority = minority_classes(train_counts)
        focus = int(np.argmin(train_counts))
        binary = not targets.multilabel and n_classes == 2
        test_fingerprint = fingerprint(x_test, y_test)

        trainer = Trainer.create(ctx, params, targets, x_train, y_train)
        projection = _Projection.fit(x_train, ctx.seed)
        scatter = [
            projection.panel("original", x_train, y_train, np.zeros(len(y_train), bool), focus, ctx.seed)
        ]
        so_far = ImbalanceResult(
            dataset_name=str(getattr(dataset, "name", "")),
            kind=str(getattr(dataset, "kind", "")),
            class_names=targets.class_names,
            multilabel=targets.multilabel,
            binary=binary,
            n_train=len(y_train),
            n_test=len(y_test),
            train_counts=train_counts,
            test_counts=test_counts,
            minority_classes=minority,
            focus_class=focus,
            reduced_classes=tuple(int(c) for c in params.reduce_classes),
            keep_fraction=float(params.keep_fraction),
            explained_variance=projection.explained_variance,
            scatter=tuple(scatter),
            outcomes=(),
            skipped=(),
            thresholds=THRESHOLDS.copy(),
            test_fingerprint=test_fingerprint,
            majority_share=float("nan")
            if targets.multilabel
            else float(test_counts.max() / max(len(y_test), 1)),
            architecture=trainer.description,
            epochs=int(params.epochs),
            seed=int(ctx.seed),
            class_names_zh=targets.class_names_zh,
            page=dlviz.Page(notes),
        )
        # The data first (distribution, 2-D view), then each strategy as soon as it is scored.
        ctx.report_partial(so_far, 0, len(strategies), tr(ctx.language, "the data", "数据"))
        outcomes, skipped = [], []
        for position, strategy in enumerate(strategies):
            label_zh, count = strategy_label(strategy, "zh"), f"{position + 1}/{len(strategies)}"
            ctx.report(
                position / len(strategies),
                tr(ctx.language, f"{strategy}: resampling ({count})", f"{label_zh}：重采样（{count}）"),
            )
            started = time.perf_counter()
            try:
                resampled = resample(
                    strategy,
                    x_train,
                    y_train,
                    n_classes=n_classes,
                    kind=getattr(dataset, "kind", ""),
                    multilabel=targets.multilabel,
                    seed=ctx.seed,
                    k_neighbors=params.k_neighbors,
                    batch_size=params.batch_size,
                    class_names=targets.class_names,
                )
            except StrategyNotApplicable as exc:
                skipped.append(exc.skipped)
                continue
            if strategy in RESAMPLING:
                scatter.append(
                    projection.panel(strategy, resampled.x, resampled.y, resampled.added, focus, ctx.seed)
                )

            training = tr(ctx.language, f"{strategy}: training ({count})", f"{label_zh}：训练（{count}）")

            def progress(fraction, position=position, message=training):
                ctx.report((position + fraction) / len(strategies), message)

            model, history, fit_seconds = trainer.train(
                strategy, resampled, params, progress if ctx.progress else None
            )
            probabilities = trainer.probabilities(model, x_test)
            metrics = score(y_test, probabilities, targets.multilabel, n_classes, minority, focus, binary)
            outcomes.append(
                Outcome(
                    strategy=strategy,
                    train_counts=class_counts(resampled.y, n_classes),
                    class_weights=weights_array(resampled.class_weight, n_classes),
                    probabilities=probabilities,
                    loss_history=np.asarray(history.get("loss", []), dtype=np.float64),
                    test_fingerprint=fingerprint(x_test, y_test),
                    fit_seconds=fit_seconds,
                    total_seconds=time.perf_counter() - started,
                    **metrics,
                )
            )
            so_far = dataclasses.replace(
                so_far, scatter=tuple(scatter), outcomes=tuple(outcomes), skipped=tuple(skipped)
            )
            if position + 1 < len(strategies):
                ctx.report_partial(so_far, position + 1, len(strategies), training)
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
        return dataclasses.replace(
            so_far, scatter=tuple(scatter), outcomes=tuple(outcomes), skipped=tuple(skipped)
        )

    def figures(self, result: ImbalanceResult, language: str = "en") -> list[go.Figure]:
        figures = [distribution_figure(result, language), scatter_figure(result, language)]
        if result.outcomes:
            figures += [
                verdict_figure(result, language),
                metrics_figure(result, language),
                per_class_figure(result, language),
                confusion_figure(result, language),
                pr_figure(result, language),
            ]
            if result.binary:
                figures.append(threshold_figure(result, language))
            figures.append(train_counts_figure(result, language))
        if result.skipped:
            figures.append(skipped_figure(result, language))
        return figures

    def diagnose(self, result: ImbalanceResult) -> list[dlviz.Finding]:
        findings = []
        if "none" in {o.strategy for o in result.outcomes} and not result.multilabel:
            plain = result.outcome("none")
            if plain.minority_recall < 0.5 and plain.accuracy >= 0.8:
                findings.append(
                    dlviz.Finding(
                        "warning",
                        f"Accuracy {plain.accuracy:.0%} hides a minority recall of {plain.minority_recall:.0%} without rebalancing.",
                        "Judge by minority recall, balanced accuracy or PR-AUC; try class weights or SMOTE.",
                        headline_zh=f"不做再平衡时，{plain.accuracy:.0%} 的准确率 (accuracy) 掩盖了仅 "
                        f"{plain.minority_recall:.0%} 的少数类召回率 (minority recall)。",
                        advice_zh="请以少数类召回率 (minority recall)、平衡准确率 (balanced accuracy) 或 PR-AUC 来评判；"
                        f"在“策略”中试试{strategy_label('class_weight', 'zh')} 或 {strategy_label('smote', 'zh')}。",
                    )
                )
        best = result.best_minority_recall
        if best is not None and len(result.outcomes) > 1:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Best minority recall: {strategy_label(best, 'en')} ({result.outcome(best).minority_recall:.2f}); "
                    f"best balanced accuracy: {strategy_label(result.best_balanced_accuracy, 'en')} "
                    f"({result.outcome(result.best_balanced_accuracy).balanced_accuracy:.2f}).",
                    "Check its precision too: more recall usually costs precision.",
                    headline_zh=f"少数类召回率 (minority recall) 最高：{strategy_label(best, 'zh')}"
                    f"（{result.outcome(best).minority_recall:.2f}）；"
                    f"平衡准确率 (balanced accuracy) 最高：{strategy_label(result.best_balanced_accuracy, 'zh')}"
                    f"（{result.outcome(result.best_balanced_accuracy).balanced_accuracy:.2f}）。",
                    advice_zh="也要检查它的精确率 (precision)：召回率 (recall) 提高通常以精确率为代价。",
                )
            )
        for skipped in result.skipped:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"{strategy_label(skipped.strategy, 'en')} skipped: {skipped.reason}",
                    skipped.fix,
                    headline_zh=f"已跳过 {strategy_label(skipped.strategy, 'zh')}：{skipped.reason_zh}",
                    advice_zh=skipped.fix_zh,
                )
            )
        return findings


def made_rare_if_balanced(params, targets: Targets, dataset) -> tuple[object, tuple[dlviz.Note, ...]]:
    """`params` with the last class in `reduce_classes` when the training split is balanced (nothing for the
    strategies to fix) and the user chose no class to thin, and the note that says so."""
    if params.reduce_classes or not params.rare_if_balanced or targets.multilabel:
        return params, ()
    counts = class_counts(targets.train, targets.n_classes)
    if np.any(counts * 1.5 <= counts.max()) or counts.min() < 2:
        return params, ()
    rare = targets.n_classes - 1
    names_zh = targets.class_names_zh or targets.class_names
    name = str(getattr(dataset, "name", "")) or "this dataset"
    ratio = counts.max() / counts.min()
    note = dlviz.Note(
        f"{name} is balanced (largest : smallest class = {ratio:.1f} : 1), so no strategy would have anything to "
        f"fix: the training samples of class {targets.class_names[rare]} were thinned to "
        f"{params.keep_fraction:.0%} to make it rare (the test split is untouched). Choose classes under "
        "'Make classes rare', or untick 'Make a class rare on balanced data' to compare on the data as it is.",
        f"{name} 是平衡的（最大类 : 最小类 = {ratio:.1f} : 1），各种策略没有什么可纠正的：因此把类别 "
        f"{names_zh[rare]} 的训练样本减少到 {params.keep_fraction:.0%}，让它成为少数类（测试集未改动）。"
        "可以在“制造少数类”中自选类别，或取消勾选“数据平衡时制造一个少数类”，在原始数据上比较。",
    )
    return dataclasses.replace(params, reduce_classes=(rare,)), (note,)


# ------------------------------------------------------------------------------------------ projection


@dataclasses.dataclass(frozen=True)
class _Projection:
    """The 2-D view of training data: the two features of point sets, else a PCA fitted on the original split."""

    pca: object
    explained_variance: tuple[float, ...]

    @classmethod
    def fit(cls, x_train: np.ndarray, seed: int) -> _Projection:
        flat = x_train.reshape(len(x_train), -1)
        if flat.shape[1] == 2:
            return cls(None, ())
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, svd_solver="full", random_state=seed).fit(flat)
        return cls(pca, tuple(float(share) for share in pca.explained_variance_ratio_))

    def panel(self, title, x, y, added, focus, seed) -> ScatterPanel:
        chosen = np.arange(len(x))
        if len(x) > MAX_SCATTER_POINTS:
            chosen = np.sort(np.random.RandomState(seed).choice(len(x), MAX_SCATTER_POINTS, replace=False))
        flat = x[chosen].reshape(len(chosen), -1)
        xy = flat if self.pca is None else self.pca.transform(flat)
        labels = y[chosen] if y.ndim == 1 else y[chosen, focus]
        return ScatterPanel(title, xy.astype(np.float32), labels.astype(np.int64), added[chosen], int(len(x)))
