"""The bundled datasets: scikit-learn's tables and digits, and sets generated from the seed (2-D points, an
imbalanced table).

Each loader takes the seed and its parameters (as `dlviz.datasets.PARAMETERS` lists them) and returns
the keyword arguments of `Dataset.from_arrays`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import datasets as sk_datasets


def _digits(seed: int) -> dict[str, Any]:
    bunch = sk_datasets.load_digits()
    return {
        "x": bunch.images[..., np.newaxis] / 16.0,  # 4-bit grey levels 0..16 to [0, 1]
        "y": bunch.target,
        "kind": "image",
        "class_names": tuple(str(c) for c in bunch.target_names),
        "description": "Handwritten digits 0-9 as 8x8 grey images (1,797 samples, UCI via scikit-learn).",
        "description_zh": "手写数字 0-9，8x8 灰度图像（1,797 个样本，UCI 数据集，由 scikit-learn 提供）。",
    }


def _sklearn_tabular(
    loader: Any, description: str, description_zh: str, class_names_zh: tuple[str, ...]
) -> Any:
    def load_table(seed: int) -> dict[str, Any]:
        bunch = loader()
        return {
            "x": bunch.data,
            "y": bunch.target,
            "kind": "tabular",
            "feature_names": tuple(str(f) for f in bunch.feature_names),
            "class_names": tuple(str(c) for c in bunch.target_names),
            "class_names_zh": class_names_zh,
            "description": description,
            "description_zh": description_zh,
        }

    return load_table


def _two_classes(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([first, second]), np.repeat([0, 1], [len(first), len(second)])


def _halves(n_samples: int) -> tuple[int, int]:
    return n_samples // 2, n_samples - n_samples // 2


def _points(
    x: np.ndarray,
    y: np.ndarray,
    class_names: tuple[str, str],
    class_names_zh: tuple[str, str],
    description: str,
    description_zh: str,
) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "kind": "points2d",
        "feature_names": ("x1", "x2"),
        "class_names": class_names,
        "class_names_zh": class_names_zh,
        "description": description,
        "description_zh": description_zh,
        "standardize": False,  # the shapes are drawn in their own coordinates, already around [-1.5, 1.5]
    }


def _moons(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    x, y = sk_datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    centred = x - np.array([0.5, 0.25])
    return _points(
        centred,
        y,
        ("upper moon", "lower moon"),
        ("上弦月", "下弦月"),
        "Two interleaving half circles.",
        "两个相互交错的半圆（双月）。",
    )


def _circles(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    x, y = sk_datasets.make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    return _points(
        x,
        y,
        ("outer circle", "inner circle"),
        ("外圈", "内圈"),
        "A circle inside a ring: not linearly separable.",
        "圆环里套着一个圆：不是线性可分的 (linearly separable)。",
    )


def _spirals(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    arms = []
    for arm, size in enumerate(_halves(n_samples)):
        radius = rng.uniform(0.05, 1.0, size)
        angle = 1.75 * 2 * np.pi * radius + arm * np.pi
        arms.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    x, y = _two_classes(*arms)
    x = x + rng.normal(0.0, noise, x.shape)
    return _points(
        x,
        y,
        ("spiral A", "spiral B"),
        ("螺旋 A", "螺旋 B"),
        "Two interleaved spirals, 1.75 turns each.",
        "两条相互缠绕的螺旋线，各绕 1.75 圈。",
    )


def _xor(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 2))
    x += np.where(x >= 0, 0.1, -0.1)  # a gap along the axes keeps the classes apart without noise
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    x = x + rng.normal(0.0, noise, x.shape)
    return _points(
        x,
        y,
        ("opposite signs", "same sign"),
        ("异号", "同号"),
        "XOR: the class is the sign of x1 * x2.",
        "异或 (XOR)：类别由 x1 * x2 的正负号决定。",
    )


def _gauss(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    low, high = _halves(n_samples)
    x, y = _two_classes(rng.normal(-0.6, 0.3, (low, 2)), rng.normal(0.6, 0.3, (high, 2)))
    x = x + rng.normal(0.0, noise, x.shape)
    return _points(
        x,
        y,
        ("blob A", "blob B"),
        ("团 A", "团 B"),
        "Two Gaussian blobs: linearly separable up to their overlap.",
        "两团高斯分布 (Gaussian blobs) 的点：除重叠部分外线性可分 (linearly separable)。",
    )


def _imbalanced(seed: int, n_samples: int, minority: float) -> dict[str, Any]:
    x, y = sk_datasets.make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=4,
        n_redundant=2,
        weights=[1.0 - minority],
        flip_y=0.0,
        random_state=seed,
    )
    return {
        "x": x,
        "y": y,
        "kind": "tabular",
        "feature_names": tuple(f"feature_{i}" for i in range(x.shape[1])),
        "class_names": ("majority", "minority"),
        "class_names_zh": ("多数类", "少数类"),
        "description": f"Synthetic binary problem, 10 features, {minority:.0%} minority class.",
        "description_zh": f"合成的二分类问题，10 个特征，少数类 (minority class) 占 {minority:.0%}。",
    }


BUNDLED = {
    "digits": _digits,
    "breast_cancer": _sklearn_tabular(
        sk_datasets.load_breast_cancer,
        "Breast cancer diagnosis from 30 cell-nucleus measurements (569 samples, mildly imbalanced).",
        "根据 30 项细胞核测量值诊断乳腺癌（569 个样本，类别轻度不平衡 (imbalanced)）。",
        ("恶性", "良性"),  # sklearn's target_names order: malignant, benign
    ),
    "iris": _sklearn_tabular(
        sk_datasets.load_iris,
        "Iris flowers: 3 species from 4 measurements (150 samples).",
        "鸢尾花：根据 4 项测量值区分 3 个品种（150 个样本）。",
        ("山鸢尾", "变色鸢尾", "维吉尼亚鸢尾"),  # setosa, versicolor, virginica
    ),
    "wine": _sklearn_tabular(
        sk_datasets.load_wine,
        "Wines: 3 cultivars from 13 chemical measurements (178 samples).",
        "葡萄酒：根据 13 项化学测量值区分 3 个葡萄品种（178 个样本）。",
        ("类别 0", "类别 1", "类别 2"),  # class_0, class_1, class_2
    ),
    "moons": _moons,
    "circles": _circles,
    "spirals": _spirals,
    "xor": _xor,
    "gauss": _gauss,
    "imbalanced": _imbalanced,
}
