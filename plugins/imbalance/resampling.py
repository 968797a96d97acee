"""The imbalance workbench's strategies as training data: `resample` turns the training split into what
one strategy fits on (copies, synthetic SMOTE/ADASYN samples, augmented images, an undersampled draw,
balanced batches redrawn every epoch, class weights, or the data as it is), or raises
`StrategyNotApplicable` with the reason and a fix when the strategy cannot apply. imbalanced-learn is
imported inside the functions that use it.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from dlviz.errors import ParamsError, PluginError
from plugins.imbalance.data import minority_classes

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
_KIND_ZH = {"tabular": "表格", "points2d": "二维点", "image": "图像"}
RESAMPLING = frozenset({"oversample", "undersample", "smote", "adasyn", "balanced_batches", "augment"})


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
            "use focal loss (focal_loss), which weights each label's loss, or train one binary model per label.",
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
        grown = [c for c in minority_classes(counts) if counts[c] < counts.max()]
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
            f"{lower}keep more samples of that class (keep_fraction), or use random oversampling (oversample), which copies samples and needs only one.",
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
            "use SMOTE or random oversampling (smote, oversample) instead.",
            f"{label} 无法对这份数据重采样：{exc}",
            "改用 SMOTE 或随机过采样（smote、oversample）。",
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
            "use SMOTE or random oversampling (smote, oversample) for tabular and point data, or load an image "
            "dataset such as digits.",
            f"数据增强对图像做平移、旋转、缩放；这份数据是{_KIND_ZH.get(kind, '非图像')}数据，这些变换没有意义。",
            "表格或二维点数据请改用 SMOTE 或随机过采样（smote、oversample），或加载 digits 等图像数据集。",
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
