"""Class-imbalance workbench: one network trained under several rebalancing strategies, compared fairly."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time

import keras
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import dlviz
from dlviz.errors import DataError, ModelError, ParamsError, PluginError
from dlviz.plugin import tr

STRATEGIES = (
    "none",
    "class_weight",
    "oversample",
    "undersample",
    "smote",
    "adasyn",
    "balanced_batches",
    "focal_loss",
    "augment",
)
STRATEGY_NAMES = {
    "none": ("none", "不处理"),
    "class_weight": ("class weights", "类别权重 (class weights)"),
    "oversample": ("random oversampling", "随机过采样 (oversampling)"),
    "undersample": ("random undersampling", "随机欠采样 (undersampling)"),
    "smote": ("SMOTE", "SMOTE 合成过采样"),
    "adasyn": ("ADASYN", "ADASYN 自适应合成"),
    "balanced_batches": ("balanced batches", "平衡批次 (balanced batches)"),
    "focal_loss": ("focal loss", "焦点损失 (focal loss)"),
    "augment": ("augmentation", "数据增强 (augmentation)"),
}
# Thresholds of the binary threshold sweep; 0.5 is among them (the slider starts there).
THRESHOLDS = np.round(np.arange(0.02, 0.99, 0.02), 2)
MAX_SCATTER_POINTS = 1500
MAX_CURVE_POINTS = 300
_PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC")
_MAX_REDUCIBLE_CLASS = 9


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A strategy that could not run here: why, and what to do instead (English and Chinese)."""

    strategy: str
    reason: str
    fix: str
    reason_zh: str
    fix_zh: str


class StrategyNotApplicable(PluginError):
    """Raised by `resample` when a strategy cannot apply to the data; carries the `Skipped` record."""

    def __init__(self, skipped: Skipped):
        self.skipped = skipped
        super().__init__(f"{skipped.strategy}: {skipped.reason}", skipped.fix)


@dataclasses.dataclass(frozen=True)
class ScatterPanel:
    """Training points in 2-D (features or PCA), a random subset that keeps the class ratio."""

    title: str
    xy: np.ndarray
    labels: np.ndarray
    added: np.ndarray
    total: int


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One strategy trained and scored on the untouched test split."""

    strategy: str
    train_counts: np.ndarray
    class_weights: np.ndarray
    probabilities: np.ndarray
    predictions: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    roc_auc_per_class: np.ndarray
    ap_per_class: np.ndarray
    confusion: np.ndarray
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    roc_auc: float
    pr_auc: float
    minority_recall: float
    pr_curve_precision: np.ndarray
    pr_curve_recall: np.ndarray
    threshold_precision: np.ndarray
    threshold_recall: np.ndarray
    threshold_f1: np.ndarray
    loss_history: np.ndarray
    test_fingerprint: str
    fit_seconds: float
    total_seconds: float


@dataclasses.dataclass(frozen=True)
class ImbalanceResult:
    """Everything the figures draw: the data's imbalance, each strategy's scores, and what was skipped."""

    dataset_name: str
    kind: str
    class_names: tuple[str, ...]
    multilabel: bool
    binary: bool
    n_train: int
    n_test: int
    train_counts: np.ndarray
    test_counts: np.ndarray
    minority_classes: tuple[int, ...]
    focus_class: int
    reduced_classes: tuple[int, ...]
    keep_fraction: float
    explained_variance: tuple[float, ...]
    scatter: tuple[ScatterPanel, ...]
    outcomes: tuple[Outcome, ...]
    skipped: tuple[Skipped, ...]
    thresholds: np.ndarray
    test_fingerprint: str
    majority_share: float
    architecture: str
    epochs: int
    seed: int

    def outcome(self, strategy: str) -> Outcome:
        """The outcome of `strategy` (KeyError if it did not run)."""
        for outcome in self.outcomes:
            if outcome.strategy == strategy:
                return outcome
        raise KeyError(strategy)

    @property
    def best_minority_recall(self) -> str | None:
        return _best(self.outcomes, "minority_recall")

    @property
    def best_balanced_accuracy(self) -> str | None:
        return _best(self.outcomes, "balanced_accuracy")


@dataclasses.dataclass(frozen=True)
class Resampled:
    """The training data one strategy fits on (`sequence`: balanced batches, `x`/`y` its first draw)."""

    x: np.ndarray
    y: np.ndarray
    added: np.ndarray
    class_weight: dict | None = None
    sequence: keras.utils.PyDataset | None = None


class BalancedBatches(keras.utils.PyDataset):
    """Batches from a fresh random undersampling of the training set every epoch.

    imbalanced-learn's `imblearn.keras.BalancedBatchGenerator` does run under Keras 3.15 / TF 2.21
    (it subclasses `keras.utils.PyDataset`), but it does not fit here: it never calls
    `PyDataset.__init__` (Keras warns on every construction), its sampler validates X as 2-D so it
    refuses image tensors, it draws one undersampled subset at construction and reuses it for every
    epoch (most majority samples are never seen), and it drops the last partial batch, which leaves a
    tiny minority with zero batches. This class keeps its batching (RandomUnderSampler, shuffled
    batches) and redraws each epoch from a seeded generator, resampling an index column so any
    input shape works.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int):
        super().__init__()
        self._x, self._y, self._batch_size = x, y, batch_size
        self._random = np.random.RandomState(seed)
        self.indices = self._draw()

    def _draw(self) -> np.ndarray:
        from imblearn.under_sampling import RandomUnderSampler

        sampler = RandomUnderSampler(random_state=self._random)
        sampler.fit_resample(np.arange(len(self._y)).reshape(-1, 1), self._y)
        indices = sampler.sample_indices_.copy()
        self._random.shuffle(indices)
        return indices

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self._batch_size)

    def __getitem__(self, index: int):
        chosen = self.indices[index * self._batch_size : (index + 1) * self._batch_size]
        return self._x[chosen], self._y[chosen]

    def on_epoch_end(self) -> None:
        self.indices = self._draw()


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
        try:
            targets = _Targets.of(ctx.dataset)
        except DataError as exc:
            return str(exc)
        if targets.n_classes < 2:
            return "Imbalance needs at least two classes; this dataset has one."
        if ctx.model is not None:
            units = _output_units(ctx.model)
            fits = units == targets.n_classes or (
                units == 1 and targets.n_classes == 2 and not targets.multilabel
            )
            if not fits:
                return (
                    f"The model has {units} output unit(s) but the dataset has {targets.n_classes} classes; "
                    "load a model built for this dataset, or choose architecture 'mlp'."
                )
        return True

    def compute(self, ctx: dlviz.Context, params: Params) -> ImbalanceResult:
        strategies = tuple(dict.fromkeys(params.strategies))
        if not strategies:
            raise ParamsError(
                "No strategy chosen.", "pick at least one strategy, e.g. ('none', 'class_weight')."
            )
        dataset = ctx.dataset
        targets = _Targets.of(dataset)
        x_train = np.asarray(dataset.x_train, dtype=np.float32)
        x_test = np.asarray(dataset.x_test, dtype=np.float32)
        y_train, y_test = targets.train, targets.test
        x_train, y_train = _reduce(x_train, y_train, targets, params, ctx.seed)
        n_classes = targets.n_classes
        train_counts = _counts(y_train, n_classes)
        test_counts = _counts(y_test, n_classes)
        if not targets.multilabel and np.any(train_counts == 0):
            empty = [targets.class_names[c] for c in np.flatnonzero(train_counts == 0)]
            raise DataError(
                f"Class(es) {', '.join(empty)} have no training samples.",
                "raise keep_fraction or drop those classes from the data.",
            )
        minority = _minority_classes(train_counts)
        focus = int(np.argmin(train_counts))
        binary = not targets.multilabel and n_classes == 2
        test_fingerprint = _fingerprint(x_test, y_test)

        trainer = _Trainer.create(ctx, params, targets, x_train, y_train)
        projection = _Projection.fit(x_train, ctx.seed)
        scatter = [
            projection.panel("original", x_train, y_train, np.zeros(len(y_train), bool), focus, ctx.seed)
        ]
        outcomes, skipped = [], []
        for position, strategy in enumerate(strategies):
            ctx.report(
                position / len(strategies), f"{strategy}: resampling ({position + 1}/{len(strategies)})"
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
            if strategy in _RESAMPLING:
                scatter.append(
                    projection.panel(strategy, resampled.x, resampled.y, resampled.added, focus, ctx.seed)
                )

            def progress(fraction, position=position, strategy=strategy):
                ctx.report(
                    (position + fraction) / len(strategies),
                    f"{strategy}: training ({position + 1}/{len(strategies)})",
                )

            model, history, fit_seconds = trainer.train(
                strategy, resampled, params, progress if ctx.progress else None
            )
            probabilities = trainer.probabilities(model, x_test)
            metrics = _score(y_test, probabilities, targets.multilabel, n_classes, minority, focus, binary)
            outcomes.append(
                Outcome(
                    strategy=strategy,
                    train_counts=_counts(resampled.y, n_classes),
                    class_weights=_weights_array(resampled.class_weight, n_classes),
                    probabilities=probabilities,
                    loss_history=np.asarray(history.get("loss", []), dtype=np.float64),
                    test_fingerprint=_fingerprint(x_test, y_test),
                    fit_seconds=fit_seconds,
                    total_seconds=time.perf_counter() - started,
                    **metrics,
                )
            )
        ctx.report(1.0, "done")
        return ImbalanceResult(
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
            outcomes=tuple(outcomes),
            skipped=tuple(skipped),
            thresholds=THRESHOLDS.copy(),
            test_fingerprint=test_fingerprint,
            majority_share=float("nan")
            if targets.multilabel
            else float(test_counts.max() / max(len(y_test), 1)),
            architecture=trainer.description,
            epochs=int(params.epochs),
            seed=int(ctx.seed),
        )

    def figures(self, result: ImbalanceResult, language: str = "en") -> list[go.Figure]:
        figures = [_distribution_figure(result, language), _scatter_figure(result, language)]
        if result.outcomes:
            figures += [
                _verdict_figure(result, language),
                _metrics_figure(result, language),
                _per_class_figure(result, language),
                _confusion_figure(result, language),
                _pr_figure(result, language),
            ]
            if result.binary:
                figures.append(_threshold_figure(result, language))
            figures.append(_train_counts_figure(result, language))
        if result.skipped:
            figures.append(_skipped_figure(result, language))
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
                        "Judge by minority recall, balanced accuracy or PR-AUC; try class_weight or smote.",
                        headline_zh=f"不做再平衡时，{plain.accuracy:.0%} 的准确率 (accuracy) 掩盖了仅 "
                        f"{plain.minority_recall:.0%} 的少数类召回率 (minority recall)。",
                        advice_zh="请以少数类召回率 (minority recall)、平衡准确率 (balanced accuracy) 或 PR-AUC 来评判；"
                        "试试 class_weight 或 smote。",
                    )
                )
        best = result.best_minority_recall
        if best is not None and len(result.outcomes) > 1:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"Best minority recall: {best} ({result.outcome(best).minority_recall:.2f}); "
                    f"best balanced accuracy: {result.best_balanced_accuracy} "
                    f"({result.outcome(result.best_balanced_accuracy).balanced_accuracy:.2f}).",
                    "Check its precision too: more recall usually costs precision.",
                    headline_zh=f"少数类召回率 (minority recall) 最高：{best}"
                    f"（{result.outcome(best).minority_recall:.2f}）；"
                    f"平衡准确率 (balanced accuracy) 最高：{result.best_balanced_accuracy}"
                    f"（{result.outcome(result.best_balanced_accuracy).balanced_accuracy:.2f}）。",
                    advice_zh="也要检查它的精确率 (precision)：召回率 (recall) 提高通常以精确率为代价。",
                )
            )
        for skipped in result.skipped:
            findings.append(
                dlviz.Finding(
                    "info",
                    f"{skipped.strategy} skipped: {skipped.reason}",
                    skipped.fix,
                    headline_zh=f"已跳过 {skipped.strategy}：{skipped.reason_zh}",
                    advice_zh=skipped.fix_zh,
                )
            )
        return findings


# ----------------------------------------------------------------------------------------------- data


_KIND_ZH = {"tabular": "表格", "points2d": "二维点", "image": "图像"}
_RESAMPLING = frozenset({"oversample", "undersample", "smote", "adasyn", "balanced_batches", "augment"})


@dataclasses.dataclass(frozen=True)
class _Targets:
    """Labels as class ids (n,) or, for multi-label data, a 0/1 indicator matrix (n, labels)."""

    train: np.ndarray
    test: np.ndarray
    n_classes: int
    class_names: tuple[str, ...]
    multilabel: bool

    @classmethod
    def of(cls, dataset) -> _Targets:
        train, train_multi = _as_targets(dataset.y_train, "y_train")
        test, test_multi = _as_targets(dataset.y_test, "y_test")
        if train_multi != test_multi:
            raise DataError(
                "y_train and y_test disagree: one is multi-label, the other has one class per sample.",
                "give both splits the same kind of labels.",
            )
        names = tuple(str(name) for name in (getattr(dataset, "class_names", None) or ()))
        if train_multi:
            n_classes = train.shape[1]
        else:
            n_classes = max(len(names), int(max(train.max(initial=0), test.max(initial=0))) + 1)
        if len(names) != n_classes:
            names = tuple(str(c) for c in range(n_classes))
        return cls(train, test, n_classes, names, train_multi)


def _as_targets(y, what: str) -> tuple[np.ndarray, bool]:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        if y.size and (np.any(y < 0) or np.any(y != np.round(y))):
            raise DataError(
                f"{what} holds values that are not class ids.", "pass integer class ids 0..n_classes-1."
            )
        return y.astype(np.int64), False
    if y.ndim == 2 and np.isin(y, (0, 1)).all():
        if np.all(y.sum(axis=1) == 1):
            return y.argmax(axis=1).astype(np.int64), False
        return y.astype(np.int64), True
    raise DataError(
        f"{what} has shape {y.shape}; expected class ids (n,), one-hot rows, or a 0/1 multi-label matrix.",
        "pass integer class ids of shape (n,).",
    )


def _counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    if y.ndim == 2:
        return y.sum(axis=0).astype(np.int64)
    return np.bincount(y, minlength=n_classes).astype(np.int64)


def _minority_classes(counts: np.ndarray) -> tuple[int, ...]:
    """Classes with at most two thirds of the largest class's samples; the rarest one when none has."""
    rare = np.flatnonzero(counts * 1.5 <= counts.max())
    if rare.size == 0:
        rare = np.array([int(np.argmin(counts))])
    return tuple(int(c) for c in rare)


def _reduce(x, y, targets: _Targets, params, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep `keep_fraction` of the training samples of `reduce_classes` (at least one each)."""
    if not params.reduce_classes:
        return x, y
    if targets.multilabel:
        raise ParamsError(
            "reduce_classes thins classes of single-label data; this target is multi-label.",
            "leave reduce_classes empty.",
        )
    unknown = [c for c in params.reduce_classes if c >= targets.n_classes]
    if unknown:
        raise ParamsError(
            f"reduce_classes names class id(s) {unknown}, but this dataset has classes 0..{targets.n_classes - 1}.",
            f"pick class ids below {targets.n_classes}.",
        )
    random = np.random.RandomState(seed)
    keep = np.ones(len(y), bool)
    for cls in sorted(set(params.reduce_classes)):
        members = np.flatnonzero(y == cls)
        kept = max(1, int(round(params.keep_fraction * len(members))))
        dropped = random.permutation(members)[kept:]
        keep[dropped] = False
    return x[keep], y[keep]


def _fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:20]


def _weights_array(class_weight: dict | None, n_classes: int) -> np.ndarray:
    if not class_weight:
        return np.ones(n_classes)
    return np.array([class_weight.get(c, 1.0) for c in range(n_classes)], dtype=np.float64)


# ------------------------------------------------------------------------------------------ resampling


def _skip(strategy: str, reason: str, fix: str, reason_zh: str, fix_zh: str) -> StrategyNotApplicable:
    return StrategyNotApplicable(Skipped(strategy, reason, fix, reason_zh, fix_zh))


def resample(
    strategy: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int,
    kind: str = "",
    multilabel: bool = False,
    seed: int = 0,
    k_neighbors: int = 5,
    batch_size: int = 32,
    class_names: tuple[str, ...] = (),
) -> Resampled:
    """The training data `strategy` fits on; raises `StrategyNotApplicable` (with reason and fix) if it cannot apply.

    Only ever called with the training split. Counts promised: oversample, smote and augment bring
    every class up to the largest class's count, undersample (and each epoch of balanced_batches)
    down to the smallest's; adasyn brings the minority classes (at most two thirds of the largest
    class) approximately up to the largest's count (its per-sample quotas are rounded) and leaves
    the others; none, class_weight and focal_loss leave the data as it is.
    """
    if strategy not in STRATEGIES:
        raise ParamsError(f"Unknown strategy {strategy!r}.", f"use one of {', '.join(STRATEGIES)}.")
    unchanged = np.zeros(len(y), bool)
    if strategy in ("none", "focal_loss"):
        return Resampled(x, y, unchanged)
    if multilabel:
        raise _skip(
            strategy,
            "it needs one class per sample, but this target is multi-label (a sample can carry several labels).",
            "use focal_loss, which weights each label's loss, or train one binary model per label.",
            "该策略要求每个样本只有一个类别，而这里是多标签 (multi-label) 目标（一个样本可以有多个标签）。",
            "改用焦点损失 focal_loss（按每个标签加权），或为每个标签训练一个二分类模型。",
        )
    counts = np.bincount(y, minlength=n_classes)
    if strategy == "class_weight":
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(y)
        weights = compute_class_weight("balanced", classes=present, y=y)
        return Resampled(
            x, y, unchanged, class_weight={int(c): float(w) for c, w in zip(present, weights, strict=True)}
        )
    if strategy == "balanced_batches":
        batches = BalancedBatches(x, y, batch_size=batch_size, seed=seed)
        return Resampled(
            x[batches.indices], y[batches.indices], np.zeros(len(batches.indices), bool), sequence=batches
        )
    if strategy in ("oversample", "undersample"):
        from imblearn.over_sampling import RandomOverSampler
        from imblearn.under_sampling import RandomUnderSampler

        sampler = (RandomOverSampler if strategy == "oversample" else RandomUnderSampler)(random_state=seed)
        sampler.fit_resample(np.arange(len(y)).reshape(-1, 1), y)
        indices = sampler.sample_indices_
        # RandomOverSampler lists every original row first, then the copies it adds.
        added = (
            np.arange(len(indices)) >= len(y) if strategy == "oversample" else np.zeros(len(indices), bool)
        )
        return Resampled(x[indices], y[indices], added)
    if strategy == "augment":
        return _augment(x, y, counts, kind, seed)
    return _synthesise(
        strategy, x, y, counts, seed, k_neighbors, class_names or tuple(map(str, range(n_classes)))
    )


def _synthesise(strategy, x, y, counts, seed, k_neighbors, class_names) -> Resampled:
    from imblearn.over_sampling import ADASYN, SMOTE

    label = "SMOTE" if strategy == "smote" else "ADASYN"
    if strategy == "smote":
        grown = [c for c in range(len(counts)) if 0 < counts[c] < counts.max()]
    else:
        # ADASYN spreads a class's quota over its samples and rounds each share: a class only a few
        # samples short of the majority rounds to zero and imbalanced-learn then fails the whole
        # call, so ADASYN grows the minority classes only.
        grown = [c for c in _minority_classes(counts) if counts[c] < counts.max()]
    too_small = [c for c in grown if counts[c] < k_neighbors + 1]
    if too_small:
        cls = min(too_small, key=lambda c: counts[c])
        smallest = int(counts[cls])
        lower = f"set k_neighbors to {smallest - 1} or less, " if smallest > 1 else ""
        lower_zh = f"把 k_neighbors 调到 {smallest - 1} 或更小，" if smallest > 1 else ""
        raise _skip(
            strategy,
            f"{label} interpolates between a sample and its k_neighbors={k_neighbors} nearest neighbours of the "
            f"same class, so each class it grows needs at least {k_neighbors + 1} samples; "
            f"class '{class_names[cls]}' has {smallest}.",
            f"{lower}keep more samples of that class (keep_fraction), or use oversample, which copies samples and needs only one.",
            f"{label} 在样本与其同类的 k_neighbors={k_neighbors} 个最近邻之间插值，因此每个要扩充的类别至少需要 "
            f"{k_neighbors + 1} 个样本；类别 '{class_names[cls]}' 只有 {smallest} 个。",
            f"{lower_zh}保留该类别更多样本（keep_fraction），或改用随机过采样 oversample（复制样本，只需一个样本）。",
        )
    flat = x.reshape(len(x), -1)
    if strategy == "smote":
        sampler = SMOTE(k_neighbors=k_neighbors, random_state=seed)
    elif not grown:
        return Resampled(x, y, np.zeros(len(y), bool))
    else:
        target = {int(c): int(counts.max()) for c in grown}
        sampler = ADASYN(sampling_strategy=target, n_neighbors=k_neighbors, random_state=seed)
    try:
        x_new, y_new = sampler.fit_resample(flat, y)
    except (ValueError, RuntimeError) as exc:
        raise _skip(
            strategy,
            f"{label} could not resample this data: {exc}",
            "use smote or oversample instead.",
            f"{label} 无法对这份数据重采样：{exc}",
            "改用 smote 或随机过采样 oversample。",
        ) from exc
    # imbalanced-learn keeps the original rows first and appends the synthetic ones.
    added = np.arange(len(y_new)) >= len(y)
    return Resampled(x_new.reshape((-1, *x.shape[1:])).astype(np.float32), y_new.astype(np.int64), added)


def _augment(x, y, counts, kind, seed) -> Resampled:
    if kind != "image" or x.ndim != 4:
        raise _skip(
            "augment",
            f"augmentation shifts, rotates and zooms images; this dataset is {kind or 'not image'} data, where those "
            "transformations have no meaning.",
            "use smote or oversample for tabular and point data, or load an image dataset such as digits.",
            f"数据增强对图像做平移、旋转、缩放；这份数据是{_KIND_ZH.get(kind, '非图像')}数据，这些变换没有意义。",
            "表格或二维点数据请改用 smote 或随机过采样 oversample，或加载 digits 等图像数据集。",
        )
    random = np.random.RandomState(seed)
    sources = np.concatenate(
        [
            random.choice(np.flatnonzero(y == c), counts.max() - counts[c])
            for c in range(len(counts))
            if 0 < counts[c] < counts.max()
        ]
        or [np.zeros(0, np.int64)]
    ).astype(np.int64)
    if sources.size == 0:
        return Resampled(x, y, np.zeros(len(y), bool))
    # Constant (black) fill: digits and most small images have a dark background; reflecting would copy strokes.
    augmenter = keras.Sequential(
        [
            keras.layers.RandomTranslation(0.15, 0.15, fill_mode="constant", seed=seed),
            keras.layers.RandomRotation(0.05, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 2),
        ]
    )
    new = np.concatenate(
        [np.asarray(augmenter(x[sources[i : i + 1024]], training=True)) for i in range(0, len(sources), 1024)]
    )
    x_new = np.concatenate([x, np.clip(new, 0.0, 1.0).astype(np.float32)])
    y_new = np.concatenate([y, y[sources]])
    return Resampled(x_new, y_new, np.arange(len(y_new)) >= len(y))


# -------------------------------------------------------------------------------------------- training


def _output_units(handle) -> int:
    model = getattr(handle, "model", handle)
    try:
        return int(model.output_shape[-1])
    except (AttributeError, TypeError, ValueError):
        return int(handle.layers[-1].output_shape[-1])


def _head_activation(model: keras.Model) -> str:
    """The activation of the model's last layer that has one, looking into a nested last model ("" if none)."""
    for layer in reversed(model.layers):
        if isinstance(layer, keras.Model):
            return _head_activation(layer)
        if isinstance(layer, keras.layers.Softmax):
            return "softmax"
        function = getattr(layer, "activation", None)
        if function is not None:
            return getattr(function, "__name__", "")
    return ""


@dataclasses.dataclass
class _Trainer:
    """Trains one initialised template (first strategy) and clones of it holding its initial weights."""

    template: keras.Model
    initial_weights: list
    optimizer_config: dict
    units: int
    from_logits: bool
    multilabel: bool
    n_classes: int
    seed: int
    description: str
    template_used: bool = False

    @classmethod
    def create(cls, ctx, params, targets: _Targets, x_train, y_train) -> _Trainer:
        from dlviz import models

        kind = params.architecture
        dataset = ctx.dataset
        image = getattr(dataset, "kind", "") == "image"
        if kind == "cnn" and not image:
            raise ParamsError("architecture 'cnn' needs image data.", "choose 'mlp' or 'auto'.")
        # dlviz.models.build seeds its own initialisers; a clone or the multi-label MLP draws from the
        # global seed. (Re-seeding costs: TensorFlow drops its cached kernels.)
        if kind == "auto" and ctx.model is not None:
            keras.utils.set_random_seed(ctx.seed)
            source = ctx.model.model if hasattr(ctx.model, "model") else ctx.model
            try:
                template = keras.models.clone_model(source)
            except Exception as exc:  # Keras raises many types for models it cannot rebuild from config
                raise ModelError(
                    f"The model cannot be cloned to train it afresh under each strategy ({type(exc).__name__}: {exc}).",
                    "give subclassed models get_config/from_config, or choose architecture 'mlp'.",
                ) from exc
            description = f"{source.name} (cloned, re-initialised)"
        elif targets.multilabel:
            keras.utils.set_random_seed(ctx.seed)
            source = template = _multilabel_mlp(x_train.shape[1:], targets.n_classes)
            description = "MLP (32, 16), sigmoid per label"
        else:
            kind = ("cnn" if image else "mlp") if kind == "auto" else kind
            source = template = models.build(kind, dataset, seed=ctx.seed)
            description = f"dlviz.models.build({kind!r})"
        if not template.built:
            template(x_train[:1])
        units = _output_units(template)
        activation = _head_activation(template)
        if targets.multilabel and (units != targets.n_classes or activation == "softmax"):
            raise ModelError(
                f"A multi-label target needs {targets.n_classes} independent sigmoid outputs; the model has {units} "
                f"({activation or 'unknown'} activation).",
                "end the model with Dense(n_labels, activation='sigmoid').",
            )
        optimizer = getattr(source, "optimizer", None) or keras.optimizers.Adam(learning_rate=1e-3)
        return cls(
            template=template,
            initial_weights=template.get_weights(),
            optimizer_config=keras.optimizers.serialize(optimizer),
            units=units,
            from_logits=activation == "linear",
            multilabel=targets.multilabel,
            n_classes=targets.n_classes,
            seed=ctx.seed,
            description=description,
        )

    def _loss(self, strategy: str, gamma: float):
        focal = strategy == "focal_loss"
        if self.units == 1 or self.multilabel:
            if focal:
                return keras.losses.BinaryFocalCrossentropy(gamma=gamma, from_logits=self.from_logits)
            return keras.losses.BinaryCrossentropy(from_logits=self.from_logits)
        if focal:
            return keras.losses.CategoricalFocalCrossentropy(gamma=gamma, from_logits=self.from_logits)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=self.from_logits)

    def _labels(self, strategy: str, y: np.ndarray) -> np.ndarray:
        if self.multilabel or self.units == 1:
            return y.astype(np.float32)
        if strategy == "focal_loss":
            # CategoricalFocalCrossentropy has no sparse form: it needs one-hot rows.
            return np.eye(self.units, dtype=np.float32)[y]
        return y

    def _fresh_model(self) -> keras.Model:
        if not self.template_used:
            self.template_used = True
            return self.template
        # Seeded like the template, so layers that draw random numbers (dropout) start alike too.
        keras.utils.set_random_seed(self.seed)
        model = keras.models.clone_model(self.template)
        model.set_weights(self.initial_weights)
        return model

    def train(self, strategy: str, data: Resampled, params, progress) -> tuple[keras.Model, dict, float]:
        model = self._fresh_model()
        keras.utils.set_random_seed(self.seed)
        model.compile(
            optimizer=keras.optimizers.deserialize(self.optimizer_config),
            loss=self._loss(strategy, params.gamma),
        )
        callbacks = [_EpochProgress(progress, params.epochs)] if progress else []
        started = time.perf_counter()
        try:
            if data.sequence is not None:
                history = model.fit(
                    data.sequence, epochs=params.epochs, shuffle=False, verbose=0, callbacks=callbacks
                )
            else:
                history = model.fit(
                    data.x,
                    self._labels(strategy, data.y),
                    epochs=params.epochs,
                    batch_size=params.batch_size,
                    class_weight=data.class_weight,
                    verbose=0,
                    callbacks=callbacks,
                )
        except Exception as exc:  # surface TensorFlow failures as a dlviz error naming the strategy
            raise ModelError(
                f"Training under strategy {strategy!r} failed: {type(exc).__name__}: {exc}",
                "check that the model's output matches the dataset's classes.",
            ) from exc
        return model, history.history, time.perf_counter() - started

    def probabilities(self, model: keras.Model, x: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes); multi-label: per-label probabilities."""
        outputs = np.concatenate(
            [
                np.asarray(model(x[i : i + 1024], training=False), dtype=np.float64)
                for i in range(0, len(x), 1024)
            ]
        )
        if self.from_logits:
            if self.units == 1 or self.multilabel:
                outputs = 1.0 / (1.0 + np.exp(-outputs))
            else:
                outputs = np.exp(outputs - outputs.max(axis=1, keepdims=True))
                outputs /= outputs.sum(axis=1, keepdims=True)
        if self.units == 1 and not self.multilabel:
            positive = outputs.reshape(-1)
            outputs = np.stack([1.0 - positive, positive], axis=1)
        return outputs


def _multilabel_mlp(input_shape, n_labels: int) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(n_labels, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


class _EpochProgress(keras.callbacks.Callback):
    def __init__(self, progress, epochs: int):
        super().__init__()
        self._progress, self._epochs = progress, epochs

    def on_epoch_end(self, epoch, logs=None):
        self._progress((epoch + 1) / self._epochs)


# --------------------------------------------------------------------------------------------- metrics


def _score(y_true, probabilities, multilabel, n_classes, minority, focus, binary) -> dict:
    """Every metric of one strategy on the test split, from scikit-learn."""
    from sklearn import metrics

    if multilabel:
        indicator = y_true
        predictions = (probabilities >= 0.5).astype(np.int64)
        confusion = metrics.multilabel_confusion_matrix(indicator, predictions)
        balanced = float(
            np.mean(
                [
                    metrics.balanced_accuracy_score(indicator[:, k], predictions[:, k])
                    for k in range(n_classes)
                ]
            )
        )
        accuracy = float(np.mean(indicator == predictions))
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            indicator, predictions, zero_division=0
        )
    else:
        indicator = np.eye(n_classes, dtype=np.int64)[y_true]
        predictions = probabilities.argmax(axis=1)
        labels = list(range(n_classes))
        confusion = metrics.confusion_matrix(y_true, predictions, labels=labels)
        balanced = float(metrics.balanced_accuracy_score(y_true, predictions))
        accuracy = float(np.trace(confusion) / max(len(y_true), 1))
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            y_true, predictions, labels=labels, zero_division=0
        )
    roc_per_class = np.full(n_classes, np.nan)
    ap_per_class = np.full(n_classes, np.nan)
    for k in range(n_classes):
        column = indicator[:, k]
        if 0 < column.sum() < len(column):
            roc_per_class[k] = metrics.roc_auc_score(column, probabilities[:, k])
            ap_per_class[k] = metrics.average_precision_score(column, probabilities[:, k])
    present = [c for c in minority if support[c] > 0]
    scores = probabilities[:, focus]
    curve_precision, curve_recall = _pr_curve(indicator[:, focus], scores)
    thresholds = _threshold_sweep(indicator[:, focus], scores) if binary else (np.zeros(0),) * 3
    return {
        "predictions": predictions,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "roc_auc_per_class": roc_per_class,
        "ap_per_class": ap_per_class,
        "confusion": confusion,
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        # sklearn's macro F1 is this mean of the per-class F1 scores (a second call would only re-validate).
        "macro_f1": float(np.mean(f1)),
        # Binary: ROC-AUC is the same for either class; PR-AUC is the minority class's (the informative one).
        "roc_auc": _nanmean(roc_per_class),
        "pr_auc": float(ap_per_class[focus]) if binary else _nanmean(ap_per_class),
        "minority_recall": float(np.mean(recall[present])) if present else float("nan"),
        "pr_curve_precision": curve_precision,
        "pr_curve_recall": curve_recall,
        "threshold_precision": thresholds[0],
        "threshold_recall": thresholds[1],
        "threshold_f1": thresholds[2],
    }


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _pr_curve(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.metrics import precision_recall_curve

    if truth.sum() == 0:
        return np.zeros(0), np.zeros(0)
    precision, recall, _ = precision_recall_curve(truth, scores)
    if len(precision) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(precision) - 1, MAX_CURVE_POINTS).round().astype(int))
        precision, recall = precision[keep], recall[keep]
    return precision, recall


def _threshold_sweep(truth: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 of the focus class when it is predicted for scores >= each threshold."""
    predicted = scores[None, :] >= THRESHOLDS[:, None]
    positive = truth.astype(bool)[None, :]
    true_pos = (predicted & positive).sum(axis=1)
    predicted_pos = predicted.sum(axis=1)
    # Precision is undefined (NaN, a gap in the plot) where nothing is predicted; F1 is 0 there, as in sklearn.
    precision = np.divide(
        true_pos, predicted_pos, out=np.full(len(THRESHOLDS), np.nan), where=predicted_pos > 0
    )
    recall = true_pos / max(int(positive.sum()), 1)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(len(THRESHOLDS)), where=total > 0)
    return precision, recall, f1


def _best(outcomes, metric: str) -> str | None:
    scored = [(getattr(o, metric), o.strategy) for o in outcomes if np.isfinite(getattr(o, metric))]
    if not scored:
        return None
    best = max(value for value, _ in scored)
    return next(name for value, name in scored if value == best)


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


# --------------------------------------------------------------------------------------------- figures


def _strategy_label(strategy: str, language: str) -> str:
    en, zh = STRATEGY_NAMES.get(strategy, (strategy, strategy))
    return tr(language, en, zh)


def _color(index: int) -> str:
    return _PALETTE[index % len(_PALETTE)]


def _ratio_text(counts: np.ndarray) -> str:
    if counts.min() == 0:
        return "∞"
    return f"{counts.max() / counts.min():.1f} : 1"


def _fmt(value: float, digits: int = 3) -> str:
    return "—" if not np.isfinite(value) else f"{value:.{digits}f}"


def _edge_titles(figure: go.Figure, n_panels: int, columns: int, x_title: str, y_title: str) -> None:
    """Axis titles on the outer panels of a subplot grid only, so they never cover tick labels."""
    for index in range(n_panels):
        row, col = index // columns + 1, index % columns + 1
        figure.update_xaxes(showticklabels=True, row=row, col=col)
        if index + columns >= n_panels:
            figure.update_xaxes(title_text=x_title, row=row, col=col)
        if col == 1:
            figure.update_yaxes(title_text=y_title, row=row, col=col)


def _distribution_figure(result: ImbalanceResult, language: str) -> go.Figure:
    figure = go.Figure()
    splits = (
        (tr(language, "training split", "训练集"), result.train_counts, result.n_train),
        (tr(language, "test split", "测试集"), result.test_counts, result.n_test),
    )
    for index, (label, counts, total) in enumerate(splits):
        figure.add_bar(
            x=list(result.class_names),
            y=counts.tolist(),
            name=label,
            marker_color=_PALETTE[index],
            text=[f"{share:.0%}" for share in counts / max(total, 1)],
            textposition="outside",
        )
    title = tr(language, "Class distribution", "类别分布") + (
        f" — {tr(language, 'imbalance ratio', '不平衡比 (imbalance ratio)')}: "
        f"{tr(language, 'train', '训练集')} {_ratio_text(result.train_counts)}, "
        f"{tr(language, 'test', '测试集')} {_ratio_text(result.test_counts)}"
    )
    if result.reduced_classes:
        reduced = ", ".join(result.class_names[c] for c in result.reduced_classes)
        title += tr(
            language,
            f"<br><sup>training samples of {reduced} thinned to {result.keep_fraction:.0%}; test split untouched</sup>",
            f"<br><sup>{reduced} 的训练样本只保留 {result.keep_fraction:.0%}；测试集未改动</sup>",
        )
    figure.update_layout(
        title=title,
        barmode="group",
        xaxis_title=tr(language, "label", "标签") if result.multilabel else tr(language, "class", "类别"),
        yaxis_title=tr(language, "samples (count)", "样本数"),
        legend_title=tr(language, "split", "数据集划分"),
    )
    return figure


def _scatter_figure(result: ImbalanceResult, language: str) -> go.Figure:
    panels = result.scatter
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    titles = []
    for panel in panels:
        if panel.title == "original":
            titles.append(
                tr(language, "original training split", "原始训练集") + f"<br><sup>n={panel.total}</sup>"
            )
        elif panel.title == "balanced_batches":
            titles.append(
                _strategy_label(panel.title, language)
                + tr(
                    language,
                    f"<br><sup>n={panel.total} per epoch</sup>",
                    f"<br><sup>每轮 n={panel.total}</sup>",
                )
            )
        else:
            titles.append(_strategy_label(panel.title, language) + f"<br><sup>n={panel.total}</sup>")
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        shared_xaxes="all",
        shared_yaxes="all",
        horizontal_spacing=0.05,
        vertical_spacing=0.12,
    )
    if result.multilabel:
        focus = result.class_names[result.focus_class]
        legend_names = {
            0: tr(language, f"without {focus}", f"不含 {focus}"),
            1: tr(language, f"with {focus}", f"含 {focus}"),
        }
    else:
        legend_names = dict(enumerate(result.class_names))
    shown = set()
    for index, panel in enumerate(panels):
        for cls in np.unique(panel.labels):
            for added in (False, True):
                mask = (panel.labels == cls) & (panel.added == added)
                if not mask.any():
                    continue
                key = (int(cls), added)
                figure.add_scatter(
                    x=panel.xy[mask, 0].tolist(),
                    y=panel.xy[mask, 1].tolist(),
                    mode="markers",
                    name=legend_names[int(cls)] + (tr(language, " (added)", "（新增）") if added else ""),
                    legendgroup=str(key),
                    showlegend=key not in shown,
                    marker={
                        "color": _color(int(cls)),
                        "size": 6 if added else 5,
                        "symbol": "x" if added else "circle",
                        "opacity": 0.9 if added else 0.55,
                    },
                    meta=panel.title,
                    row=index // columns + 1,
                    col=index % columns + 1,
                )
                shown.add(key)
    if not result.explained_variance:
        x_title, y_title = tr(language, "feature 1", "特征 1"), tr(language, "feature 2", "特征 2")
        view = tr(language, "the two input features", "两个输入特征")
    else:
        x_title = tr(language, "PC 1 (standardised units)", "主成分 1（标准化单位）")
        y_title = tr(language, "PC 2 (standardised units)", "主成分 2（标准化单位）")
        first, second = result.explained_variance
        view = tr(
            language,
            f"PCA of the original training split ({first:.0%} + {second:.0%} of its variance)",
            f"原始训练集的主成分分析 PCA（解释 {first:.0%} + {second:.0%} 的方差）",
        )
    _edge_titles(figure, len(panels), columns, x_title, y_title)
    figure.update_layout(
        title=tr(language, "Training points before and after resampling", "重采样前后的训练样本")
        + f" — {view}"
        + tr(
            language,
            "<br><sup>✕ = sample added by the strategy (copy, synthetic or augmented)</sup>",
            "<br><sup>✕ = 策略新增的样本（复制、合成或增强）</sup>",
        ),
        height=320 * rows + 110,
        legend_title=tr(language, "class", "类别"),
    )
    return figure


def _verdict_figure(result: ImbalanceResult, language: str) -> go.Figure:
    header = [tr(language, "strategy", "策略")] + [label for _, label in _metric_rows(result, language)]
    header.append(tr(language, "training time (s)", "训练时间（秒）"))
    best = {
        "minority_recall": result.best_minority_recall,
        "balanced_accuracy": result.best_balanced_accuracy,
    }
    columns = [[] for _ in header]
    fills = [[] for _ in header]
    for outcome in result.outcomes:
        columns[0].append(_strategy_label(outcome.strategy, language))
        fills[0].append("white")
        for column, (key, _) in enumerate(_metric_rows(result, language), start=1):
            winner = best.get(key) == outcome.strategy
            columns[column].append(_fmt(getattr(outcome, key)) + (" ★" if winner else ""))
            fills[column].append("#DCEFD8" if winner else "white")
        columns[-1].append(f"{outcome.fit_seconds:.1f}")
        fills[-1].append("white")
    for skipped in result.skipped:
        columns[0].append(_strategy_label(skipped.strategy, language))
        for column in range(len(header)):
            if column:
                columns[column].append(tr(language, "skipped", "已跳过"))
            fills[column].append("#F3F3F3")
    figure = go.Figure(
        go.Table(
            columnwidth=[1.8] + [1.1] * (len(header) - 1),
            header={"values": header, "align": "left", "fill_color": "#E8EEF6"},
            cells={"values": columns, "align": "left", "fill_color": fills, "height": 26},
        )
    )
    if best["minority_recall"] and best["balanced_accuracy"]:
        recall, balanced = (
            _strategy_label(best[key], language) for key in ("minority_recall", "balanced_accuracy")
        )
        title = tr(
            language,
            f"Verdict — best on minority recall: {recall}; best on balanced accuracy: {balanced}",
            f"结论 —— 少数类召回率最佳：{recall}；平衡准确率最佳：{balanced}",
        )
    else:
        title = tr(language, "Verdict", "结论")
    caveats = _caveats(result, language)
    figure.update_layout(
        title=title,
        height=60 + 52 + 28 * (len(result.outcomes) + len(result.skipped)) + 16 + 24 * len(caveats),
        margin={"l": 10, "r": 10, "t": 60, "b": 16 + 24 * len(caveats)},
        annotations=[
            {
                "text": "<br>".join(caveats),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "yanchor": "top",
                "xanchor": "left",
                "showarrow": False,
                "align": "left",
                "font": {"size": 12},
            }
        ],
    )
    return figure


def _caveats(result: ImbalanceResult, language: str) -> list[str]:
    lines = []
    if np.isfinite(result.majority_share):
        lines.append(
            tr(
                language,
                "⚠ Accuracy is misleading under imbalance: always predicting the largest class scores "
                f"{result.majority_share:.0%} on this test split.",
                f"⚠ 不平衡时准确率有误导性：在这个测试集上，永远预测最大类别就能得到 {result.majority_share:.0%} 的准确率。",
            )
        )
    lines.append(
        tr(
            language,
            "⚠ Resample the training split only: oversampling (or SMOTE) before the train/test split leaks copies "
            "of test samples into training and inflates every score.",
            "⚠ 只对训练集重采样：在划分训练/测试集之前过采样（或 SMOTE）会把测试样本的副本泄漏 (leakage) 进训练集，让所有分数虚高。",
        )
    )
    lines.append(
        tr(
            language,
            f"One seed ({result.seed}), {result.epochs} epochs, {result.n_test} test samples: "
            "differences of a few points may be noise.",
            f"单一随机种子 ({result.seed})、{result.epochs} 轮训练、{result.n_test} 个测试样本：几个百分点的差别可能只是噪声。",
        )
    )
    return lines


def _metric_rows(result: ImbalanceResult, language: str) -> list[tuple[str, str]]:
    average = tr(language, "minority", "少数类") if result.binary else tr(language, "macro", "宏平均")
    return [
        ("minority_recall", tr(language, "minority recall", "少数类召回率")),
        ("balanced_accuracy", tr(language, "balanced accuracy", "平衡准确率")),
        ("macro_f1", tr(language, "macro F1", "宏平均 F1")),
        ("roc_auc", "ROC-AUC"),
        ("pr_auc", f"PR-AUC ({average})"),
        ("accuracy", tr(language, "accuracy (misleading)", "准确率（有误导性）")),
    ]


def _metrics_figure(result: ImbalanceResult, language: str) -> go.Figure:
    rows = _metric_rows(result, language)
    figure = go.Figure()
    for index, outcome in enumerate(result.outcomes):
        values = [getattr(outcome, key) for key, _ in rows]
        figure.add_bar(
            x=[label for _, label in rows],
            y=[value if np.isfinite(value) else None for value in values],
            name=_strategy_label(outcome.strategy, language),
            marker_color=_color(index),
            text=[_fmt(value) for value in values] if len(result.outcomes) <= 4 else None,
            textposition="outside",
            meta=outcome.strategy,
        )
    figure.update_layout(
        title=tr(language, "Test-split scores per strategy", "各策略在测试集上的得分"),
        barmode="group",
        xaxis_title=tr(language, "metric", "指标"),
        yaxis_title=tr(language, "score (0–1, higher is better)", "得分（0–1，越高越好）"),
        yaxis_range=[0, 1.1],
        legend_title=tr(language, "strategy", "策略"),
    )
    return figure


def _per_class_figure(result: ImbalanceResult, language: str) -> go.Figure:
    names = [
        name + (" *" if c in result.minority_classes else "") for c, name in enumerate(result.class_names)
    ]
    strategies = [_strategy_label(outcome.strategy, language) for outcome in result.outcomes]
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=[
            tr(language, "precision", "精确率 (precision)"),
            tr(language, "recall", "召回率 (recall)"),
        ],
        shared_yaxes=True,
        horizontal_spacing=0.04,
    )
    for col, key in ((1, "precision"), (2, "recall")):
        z = np.array([getattr(outcome, key) for outcome in result.outcomes], dtype=np.float64)
        figure.add_heatmap(
            z=z.tolist(),
            x=names,
            y=strategies,
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            text=[[f"{value:.2f}" for value in row] for row in z],
            texttemplate="%{text}",
            showscale=col == 2,
            colorbar={"title": tr(language, "score", "得分")},
            meta=key,
            row=1,
            col=col,
        )
    noun = tr(language, "label", "标签") if result.multilabel else tr(language, "class", "类别")
    figure.update_xaxes(title_text=noun + tr(language, " (* = minority)", "（* = 少数类）"))
    figure.update_yaxes(autorange="reversed")
    figure.update_yaxes(title_text=tr(language, "strategy", "策略"), col=1)
    figure.update_layout(
        title=tr(
            language, "Per-class precision and recall on the test split", "测试集上每个类别的精确率和召回率"
        ),
        height=200 + 34 * len(strategies),
    )
    return figure


def _confusion_figure(result: ImbalanceResult, language: str) -> go.Figure:
    outcomes = result.outcomes
    columns = min(3, len(outcomes))
    rows = math.ceil(len(outcomes) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[_strategy_label(outcome.strategy, language) for outcome in outcomes],
        horizontal_spacing=0.07,
        vertical_spacing=0.14,
    )
    names = list(result.class_names)
    for index, outcome in enumerate(outcomes):
        if result.multilabel:
            counts = outcome.confusion.reshape(len(names), 4)
            negatives = np.maximum(counts[:, :2].sum(axis=1, keepdims=True), 1)
            positives = np.maximum(counts[:, 2:].sum(axis=1, keepdims=True), 1)
            rates = np.hstack([counts[:, :2] / negatives, counts[:, 2:] / positives])
            columns_shown = [
                tr(language, word, zh)
                for word, zh in (("TN", "真阴"), ("FP", "假阳"), ("FN", "假阴"), ("TP", "真阳"))
            ]
        else:
            counts = outcome.confusion
            rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
            columns_shown = names
        figure.add_heatmap(
            z=rates.tolist(),
            x=columns_shown,
            y=names,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            text=counts.tolist(),
            texttemplate="%{text}",
            showscale=index == 0,
            colorbar={"title": tr(language, "share of<br>true class", "占真实类别<br>的比例")},
            hovertemplate=tr(
                language,
                "true %{y}, predicted %{x}: %{text} samples<extra></extra>",
                "真实 %{y}，预测 %{x}：%{text} 个样本<extra></extra>",
            ),
            meta=outcome.strategy,
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_yaxes(autorange="reversed")
    _edge_titles(
        figure,
        len(outcomes),
        columns,
        tr(language, "outcome", "结果") if result.multilabel else tr(language, "predicted class", "预测类别"),
        tr(language, "label", "标签") if result.multilabel else tr(language, "true class", "真实类别"),
    )
    figure.update_layout(
        title=tr(
            language,
            "Confusion matrices on the test split (numbers: samples; colour: share of the true class)",
            "测试集上的混淆矩阵 (confusion matrix)（数字：样本数；颜色：占真实类别的比例）",
        ),
        height=300 * rows + 100,
    )
    return figure


def _pr_figure(result: ImbalanceResult, language: str) -> go.Figure:
    focus = result.class_names[result.focus_class]
    figure = go.Figure()
    for index, outcome in enumerate(result.outcomes):
        if outcome.pr_curve_recall.size == 0:
            continue
        figure.add_scatter(
            x=outcome.pr_curve_recall.tolist(),
            y=outcome.pr_curve_precision.tolist(),
            mode="lines",
            name=f"{_strategy_label(outcome.strategy, language)} (AP {outcome.ap_per_class[result.focus_class]:.3f})",
            line={"color": _color(index), "shape": "hv"},
            meta=outcome.strategy,
        )
    prevalence = result.test_counts[result.focus_class] / max(result.n_test, 1)
    figure.add_scatter(
        x=[0, 1],
        y=[prevalence, prevalence],
        mode="lines",
        name=tr(language, f"chance (prevalence {prevalence:.2f})", f"随机猜测（占比 {prevalence:.2f}）"),
        line={"color": "grey", "dash": "dash"},
        meta="chance",
    )
    figure.update_layout(
        title=tr(
            language,
            f"Precision-recall curves of the rarest class '{focus}' on the test split",
            f"最稀少类别 '{focus}' 在测试集上的精确率-召回率曲线 (PR curve)",
        ),
        xaxis_title=tr(language, f"recall of '{focus}'", f"'{focus}' 的召回率 (recall)"),
        yaxis_title=tr(language, f"precision of '{focus}'", f"'{focus}' 的精确率 (precision)"),
        xaxis_range=[0, 1.02],
        yaxis_range=[0, 1.05],
        legend_title=tr(language, "strategy (average precision)", "策略（平均精确率 AP）"),
    )
    return figure


def _threshold_figure(result: ImbalanceResult, language: str) -> go.Figure:
    focus = result.class_names[result.focus_class]
    thresholds = result.thresholds.tolist()
    metrics = (
        ("threshold_recall", tr(language, "recall", "召回率 (recall)")),
        ("threshold_precision", tr(language, "precision", "精确率 (precision)")),
        ("threshold_f1", "F1"),
    )
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[label for _, label in metrics],
    )
    for index, outcome in enumerate(result.outcomes):
        for row, (key, _) in enumerate(metrics, start=1):
            figure.add_scatter(
                x=thresholds,
                y=[value if np.isfinite(value) else None for value in getattr(outcome, key)],
                mode="lines",
                name=_strategy_label(outcome.strategy, language),
                legendgroup=outcome.strategy,
                showlegend=row == 1,
                line={"color": _color(index)},
                meta=f"{outcome.strategy}:{key}",
                row=row,
                col=1,
            )
    readout = len(figure.layout.annotations)
    start = int(np.argmin(np.abs(result.thresholds - 0.5)))
    texts = []
    for position, threshold in enumerate(thresholds):
        lines = [f"<b>{tr(language, 'threshold', '阈值')} {threshold:.2f}</b>", "P · R · F1"]
        lines += [
            f"{_strategy_label(outcome.strategy, language)}: {_fmt(outcome.threshold_precision[position], 2)} · "
            f"{_fmt(outcome.threshold_recall[position], 2)} · {_fmt(outcome.threshold_f1[position], 2)}"
            for outcome in result.outcomes
        ]
        texts.append("<br>".join(lines))
    steps = [
        {
            "method": "relayout",
            "label": f"{threshold:.2f}",
            "args": [
                {"shapes[0].x0": threshold, "shapes[0].x1": threshold, f"annotations[{readout}].text": text}
            ],
        }
        for threshold, text in zip(thresholds, texts, strict=True)
    ]
    figure.add_annotation(
        text=texts[start],
        xref="paper",
        yref="paper",
        x=1.02,
        y=0.0,
        xanchor="left",
        yanchor="bottom",
        align="left",
        showarrow=False,
        font={"size": 11},
    )
    figure.add_shape(
        type="line",
        x0=thresholds[start],
        x1=thresholds[start],
        y0=0,
        y1=1,
        xref="x",
        yref="paper",
        line={"color": "black", "width": 1, "dash": "dot"},
    )
    figure.update_yaxes(range=[0, 1.05], title_text=tr(language, "score", "得分"))
    figure.update_xaxes(range=[0, 1])
    figure.update_xaxes(
        title_text=tr(
            language, f"threshold on the predicted probability of '{focus}'", f"'{focus}' 预测概率的阈值"
        ),
        row=3,
        col=1,
    )
    figure.update_layout(
        title=tr(
            language,
            f"Decision threshold for '{focus}': slide to trade recall for precision (test split)",
            f"'{focus}' 的决策阈值 (decision threshold)：拖动滑块，在召回率与精确率之间权衡（测试集）",
        ),
        height=760,
        margin={"r": 290, "b": 110},
        legend_title=tr(language, "strategy", "策略"),
        sliders=[
            {
                "active": start,
                "currentvalue": {"prefix": tr(language, "threshold: ", "阈值：")},
                "pad": {"t": 60},
                "steps": steps,
            }
        ],
    )
    return figure


def _train_counts_figure(result: ImbalanceResult, language: str) -> go.Figure:
    strategies = [_strategy_label(outcome.strategy, language) for outcome in result.outcomes]
    figure = go.Figure()
    for cls, name in enumerate(result.class_names):
        figure.add_bar(
            x=strategies,
            y=[int(outcome.train_counts[cls]) for outcome in result.outcomes],
            name=name,
            marker_color=_color(cls),
            text=[
                f"w={outcome.class_weights[cls]:.1f}" if outcome.strategy == "class_weight" else ""
                for outcome in result.outcomes
            ],
            textposition="outside",
        )
    figure.update_layout(
        title=tr(
            language,
            "Training samples per class under each strategy (balanced batches: per epoch; w = class weight in the loss)",
            "各策略下每个类别的训练样本数（平衡批次：每轮；w = 损失中的类别权重）",
        ),
        barmode="group",
        xaxis_title=tr(language, "strategy", "策略"),
        yaxis_title=tr(language, "training samples (count)", "训练样本数"),
        legend_title=tr(language, "class", "类别"),
    )
    return figure


def _skipped_figure(result: ImbalanceResult, language: str) -> go.Figure:
    header = [
        tr(language, "strategy", "策略"),
        tr(language, "why it was skipped", "跳过原因"),
        tr(language, "what to do", "怎么办"),
    ]
    figure = go.Figure(
        go.Table(
            columnwidth=[1, 3, 3],
            header={"values": header, "align": "left", "fill_color": "#F6E3E3"},
            cells={
                "values": [
                    [_strategy_label(skipped.strategy, language) for skipped in result.skipped],
                    [tr(language, skipped.reason, skipped.reason_zh) for skipped in result.skipped],
                    [tr(language, skipped.fix, skipped.fix_zh) for skipped in result.skipped],
                ],
                "align": "left",
            },
        )
    )
    figure.update_layout(
        title=tr(
            language,
            "Strategies skipped on this data (the others ran)",
            "在这份数据上跳过的策略（其余策略照常运行）",
        ),
        height=150 + 70 * len(result.skipped),
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return figure
