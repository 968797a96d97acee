"""The bundled datasets: scikit-learn's tables and digits, and sets generated from the seed (2-D points, an
imbalanced table, regression sets, token sequences, time series).

Each loader takes the seed and its parameters (as `dlviz.datasets.PARAMETERS` lists them) and returns
the keyword arguments of `Dataset.from_arrays`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn import datasets as sk_datasets

from dlviz import _keras_image_sets
from dlviz.errors import DataError


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


def _diabetes(seed: int) -> dict[str, Any]:
    bunch = sk_datasets.load_diabetes(scaled=False)
    return {
        "x": bunch.data,
        "y": bunch.target,
        "kind": "tabular",
        "task": "regression",
        "feature_names": tuple(str(f) for f in bunch.feature_names),
        "target_names": ("disease progression",),
        "target_names_zh": ("病情进展",),
        "description": "Diabetes: disease progression one year on from 10 baseline measurements (442 "
        "patients, scikit-learn); a regression target from 25 to 346.",
        "description_zh": "糖尿病：根据 10 项基线测量值预测一年后的病情进展（442 位患者，由 scikit-learn 提供）；"
        "回归 (regression) 目标取值 25 到 346。",
    }


def _friedman1(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    x, y = sk_datasets.make_friedman1(n_samples=n_samples, n_features=10, noise=noise, random_state=seed)
    return {
        "x": x,
        "y": y,
        "kind": "tabular",
        "task": "regression",
        "feature_names": tuple(f"x{i}" for i in range(1, 11)),
        "target_names": ("y",),
        "target_names_zh": ("y",),
        "description": "Friedman #1: y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise; x6 to x10 "
        "are irrelevant (regression).",
        "description_zh": "Friedman #1：y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + 噪声；x6 到 x10 "
        "与目标无关（回归 (regression)）。",
    }


def _curve(seed: int, n_samples: int, noise: float) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 1))
    y = np.sin(3.0 * x[:, 0]) + 0.5 * x[:, 0] ** 2 + rng.normal(0.0, noise, n_samples)
    return {
        "x": x,
        "y": y,
        "kind": "tabular",
        "task": "regression",
        "feature_names": ("x",),
        "target_names": ("y",),
        "target_names_zh": ("y",),
        "standardize": False,  # drawn in its own coordinates, x in [-1, 1]
        "description": "A 1-D curve to fit: y = sin(3x) + x^2 / 2 + noise, x in [-1, 1] (regression).",
        "description_zh": "一维曲线拟合：y = sin(3x) + x^2 / 2 + 噪声，x 取值 [-1, 1]（回归 (regression)）。",
    }


SENTIMENT_WORDS = ("<pad>", "the", "film", "was", "plot", "and", "acting", "very", "not", "good", "bad")
_FILLERS = (1, 2, 3, 4, 5, 6, 7)
_NOT, _GOOD, _BAD = 8, 9, 10


def _sentiment(seed: int, n_samples: int, length: int) -> dict[str, Any]:
    """Every review holds one opinion word and one "not"; "not" flips the opinion only right before it.

    A bag of words sees the same words either way, so only a model that reads the order does better than
    guessing the opinion word's class.
    """
    rng = np.random.default_rng(seed)
    x = rng.choice(_FILLERS, size=(n_samples, length))
    opinion = rng.integers(0, 2, n_samples)  # 1: good
    negated = rng.integers(0, 2, n_samples).astype(bool)
    position = rng.integers(1, length - 1, n_samples)
    for row in range(n_samples):
        x[row, position[row]] = _GOOD if opinion[row] else _BAD
        if negated[row]:
            x[row, position[row] - 1] = _NOT
        else:  # "not" after the opinion word, where it negates nothing
            x[row, rng.integers(position[row] + 1, length)] = _NOT
    return {
        "x": x,
        "y": np.where(negated, 1 - opinion, opinion),
        "kind": "sequence",
        "vocabulary": SENTIMENT_WORDS,
        "class_names": ("negative", "positive"),
        "class_names_zh": ("负面", "正面"),
        "description": "Generated reviews of token ids: 'not' right before 'good' or 'bad' flips the opinion, "
        "so the order of words decides the class (a recurrent network beats a bag of words).",
        "description_zh": "生成的词元 (token) 序列影评：紧挨在 good 或 bad 前的 not 会反转情感，词序决定类别"
        "（循环神经网络 (RNN) 胜过词袋模型 (bag of words)）。",
    }


def _sine_series(seed: int, n_samples: int, length: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sines of three frequencies (the class) with a random-walk second feature that carries nothing."""
    rng = np.random.default_rng(seed)
    frequency = rng.integers(0, 3, n_samples)
    steps = np.arange(length + 1)
    phase = rng.uniform(0, 2 * np.pi, (n_samples, 1))
    signal = np.sin(2 * np.pi * (1 + frequency[:, None]) * steps / 20.0 + phase)
    signal = signal * rng.uniform(0.5, 2.0, (n_samples, 1)) + rng.normal(0.0, noise, signal.shape)
    drift = np.cumsum(rng.normal(0.0, 0.3, signal.shape), axis=1)
    return np.stack([signal, drift], axis=-1), frequency


def _sines(seed: int, n_samples: int, length: int, noise: float) -> dict[str, Any]:
    series, frequency = _sine_series(seed, n_samples, length, noise)
    return {
        "x": series[:, :length],
        "y": frequency,
        "kind": "timeseries",
        "feature_names": ("signal", "drift"),
        "class_names": ("slow", "medium", "fast"),
        "class_names_zh": ("慢", "中", "快"),
        "description": "Noisy sine waves of 3 frequencies, with a random-walk 'drift' feature that carries "
        "nothing: classify the frequency (time series).",
        "description_zh": "三种频率的带噪正弦波，另有一个不含信息的随机游走特征 drift：判别频率（时间序列 (time series)）。",
    }


def _sines_forecast(seed: int, n_samples: int, length: int, noise: float) -> dict[str, Any]:
    series, _ = _sine_series(seed, n_samples, length, noise)
    return {
        "x": series[:, :length],
        "y": series[:, length, 0],
        "kind": "timeseries",
        "task": "regression",
        "feature_names": ("signal", "drift"),
        "target_names": ("next signal",),
        "target_names_zh": ("下一个信号值",),
        "description": "Noisy sine waves with a random-walk 'drift' feature: forecast the signal's next value "
        "(time series regression).",
        "description_zh": "带噪正弦波，另有随机游走特征 drift：预测信号的下一个值（时间序列回归 (regression)）。",
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
    "diabetes": _diabetes,
    "friedman1": _friedman1,
    "curve": _curve,
    "sentiment": _sentiment,
    "sines": _sines,
    "sines_forecast": _sines_forecast,
    "mnist": _keras_image_sets.mnist,
    "fashion_mnist": _keras_image_sets.fashion_mnist,
    "cifar10": _keras_image_sets.cifar10,
}


def _spec(default: float, low: float, high: float, step: float, help: str) -> dict[str, Any]:
    return {"default": default, "min": low, "max": high, "step": step, "help": help}


def _points2d_parameters(noise: float, noise_max: float) -> dict[str, dict[str, Any]]:
    return {
        "n_samples": _spec(500, 50, 5000, 50, "Number of points, split between the two classes."),
        "noise": _spec(
            noise, 0.0, noise_max, 0.01, "Standard deviation of the Gaussian noise added to each point."
        ),
    }


def _series_parameters() -> dict[str, dict[str, Any]]:
    return {
        "n_samples": _spec(600, 60, 10000, 60, "Number of series."),
        "length": _spec(40, 10, 200, 10, "Time steps per series."),
        "noise": _spec(0.2, 0.0, 1.0, 0.05, "Standard deviation of the Gaussian noise added to the signal."),
    }


PARAMETERS: dict[str, dict[str, dict[str, Any]]] = {
    "digits": {},
    "breast_cancer": {},
    "iris": {},
    "wine": {},
    "moons": _points2d_parameters(0.1, 0.5),
    "circles": _points2d_parameters(0.05, 0.3),
    "spirals": _points2d_parameters(0.05, 0.3),
    "xor": _points2d_parameters(0.05, 0.5),
    "gauss": _points2d_parameters(0.1, 0.5),
    "imbalanced": {
        "n_samples": _spec(2000, 200, 20000, 100, "Number of samples."),
        "minority": _spec(0.05, 0.01, 0.5, 0.01, "Fraction of the samples in the minority class."),
    },
    "diabetes": {},
    "friedman1": {
        "n_samples": _spec(1000, 100, 20000, 100, "Number of samples."),
        "noise": _spec(1.0, 0.0, 5.0, 0.1, "Standard deviation of the Gaussian noise added to y."),
    },
    "curve": {
        "n_samples": _spec(200, 20, 5000, 10, "Number of points on the curve."),
        "noise": _spec(0.1, 0.0, 1.0, 0.01, "Standard deviation of the Gaussian noise added to y."),
    },
    "sentiment": {
        "n_samples": _spec(2000, 200, 20000, 100, "Number of reviews."),
        "length": _spec(10, 4, 40, 1, "Tokens per review."),
    },
    "sines": _series_parameters(),
    "sines_forecast": _series_parameters(),
    **{
        name: {"n_samples": _spec(6000, 100, 60000, 100, "Training images kept (a fifth as many for testing).")}
        for name in ("mnist", "fashion_mnist", "cifar10")
    },
}
"""Per dataset, the parameters `load` accepts, with what a UI widget needs: default, min, max, step, help.
An int default means an int parameter."""


TASK_AND_KIND: dict[str, tuple[str, str]] = {
    **{name: ("classification", "tabular") for name in ("breast_cancer", "iris", "wine", "imbalanced")},
    "digits": ("classification", "image"),
    **{name: ("classification", "points2d") for name in ("moons", "circles", "spirals", "xor", "gauss")},
    **{name: ("regression", "tabular") for name in ("diabetes", "friedman1", "curve")},
    "sentiment": ("classification", "sequence"),
    "sines": ("classification", "timeseries"),
    "sines_forecast": ("regression", "timeseries"),
    **{name: ("classification", "image") for name in ("mnist", "fashion_mnist", "cifar10")},
}
"""Per bundled dataset, its task and kind, known without loading it (for menus)."""


def parameter_values(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against the dataset's `PARAMETERS`, with the defaults filled in."""
    specs = PARAMETERS[name]
    unknown = sorted(set(params) - set(specs))
    if unknown:
        valid = ", ".join(specs) if specs else "none: it takes no parameters"
        raise DataError(
            f"Dataset {name!r} has no parameter {', '.join(map(repr, unknown))}.",
            f"Valid parameters for {name!r}: {valid}.",
        )
    values = {}
    for param, spec in specs.items():
        value = params.get(param, spec["default"])
        wants_int = isinstance(spec["default"], int)
        number_type = numbers.Integral if wants_int else numbers.Real
        if (
            isinstance(value, bool)
            or not isinstance(value, number_type)
            or not spec["min"] <= value <= spec["max"]
        ):
            kind_of_number = "an integer" if wants_int else "a number"
            raise DataError(
                f"Parameter {param!r} of dataset {name!r} must be {kind_of_number} from {spec['min']} to "
                f"{spec['max']}; got {value!r}.",
                f"Pick a value in that range (default {spec['default']}). {param}: {spec['help']}",
            )
        values[param] = int(value) if wants_int else float(value)
    return values
