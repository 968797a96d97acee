"""Bundled offline datasets, and the user's own data, in one frozen shape: `Dataset`.

Nothing is downloaded: the tabular and image sets ship with scikit-learn, the 2-D point sets (as in
TensorFlow Playground) are generated from the seed. Features are float32, labels int64 class ids. Tabular
features are standardised with a `StandardScaler` fitted on the training split only, and kept on the
dataset (`Dataset.scaler`) to transform new samples the same way. Arrays are read-only, so a dataset
shared between pages or plugins cannot be changed by one of them.

>>> from dlviz import datasets
>>> ds = datasets.load("moons", seed=1, n_samples=200, noise=0.2)
>>> ds.kind, ds.input_shape, ds.n_classes, ds.x_train.dtype, ds.y_train.dtype
('points2d', (2,), 2, dtype('float32'), dtype('int64'))
>>> len(ds.x_train), len(ds.x_test)
(160, 40)
>>> datasets.load("digits").input_shape
(8, 8, 1)
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets as sk_datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from dlviz.errors import DataError

KINDS = ("tabular", "image", "points2d")


def _spec(default: float, low: float, high: float, step: float, help: str) -> dict[str, Any]:
    return {"default": default, "min": low, "max": high, "step": step, "help": help}


def _points2d_parameters(noise: float, noise_max: float) -> dict[str, dict[str, Any]]:
    return {
        "n_samples": _spec(500, 50, 5000, 50, "Number of points, split between the two classes."),
        "noise": _spec(
            noise, 0.0, noise_max, 0.01, "Standard deviation of the Gaussian noise added to each point."
        ),
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
}
"""Per dataset, the parameters `load` accepts, with what a UI widget needs: default, min, max, step, help.
An int default means an int parameter."""


def names() -> list[str]:
    """The bundled datasets' names, in the order a menu shows them."""
    return list(PARAMETERS)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification dataset split into train and test.

    ``x_*``: float32, ``(n, features)`` or images ``(n, H, W, C)`` in [0, 1]; ``y_*``: int64 class ids
    ``(n,)``; ``kind``: "tabular", "image" or "points2d" (two features, drawable in the plane);
    ``scaler``: the `StandardScaler` fitted on the training features, or None when they are not scaled.
    ``description`` says what the data is in English, ``description_zh`` in Chinese ("" when there is
    none: show the English one instead). ``class_names_zh`` names the classes in Chinese, in the order of
    ``class_names`` (empty when there is no translation: `class_label` then falls back to English).
    Build one with `load`, `Dataset.from_arrays` or `Dataset.from_csv`.
    """

    name: str
    kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    description: str = ""
    scaler: StandardScaler | None = None
    description_zh: str = ""
    class_names_zh: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"Unknown dataset kind {self.kind!r}.", f"Use one of {', '.join(KINDS)}.")
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not (isinstance(x, np.ndarray) and x.dtype == np.float32):
                raise DataError(
                    f"x_{split} must be a float32 numpy array.", "Build datasets with Dataset.from_arrays."
                )
            if not (isinstance(y, np.ndarray) and y.dtype == np.int64 and y.ndim == 1 and len(y) == len(x)):
                raise DataError(
                    f"y_{split} must be an int64 array of one class id per row of x_{split}.",
                    "Build datasets with Dataset.from_arrays, which encodes labels.",
                )
            if len(y) and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise DataError(
                    f"y_{split} holds class ids outside 0..{len(self.class_names) - 1}.",
                    "Give one class name per class id.",
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"Train samples have shape {self.x_train.shape[1:]} but test samples {self.x_test.shape[1:]}.",
                "Give both splits the same features.",
            )
        if len(self.class_names) < 2:
            raise DataError("A dataset needs at least two classes.", "Give at least two class names.")
        if len(self.feature_names) != self.n_features:
            raise DataError(
                f"{len(self.feature_names)} feature names for {self.n_features} features.",
                "Give one name per feature.",
            )
        if self.class_names_zh and len(self.class_names_zh) != len(self.class_names):
            raise DataError(
                f"{len(self.class_names_zh)} Chinese class names for {len(self.class_names)} classes.",
                "Give one Chinese name per class, in the order of class_names, or none at all.",
            )

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape, without the batch dimension."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def is_binary(self) -> bool:
        return self.n_classes == 2

    @property
    def n_features(self) -> int:
        return math.prod(self.input_shape)

    def class_label(self, index: int, language: str = "en") -> str:
        """The name of class ``index`` in ``language`` ("en" or "zh"): the Chinese name when there is one,
        else the English.

        >>> ds = load("moons", n_samples=100)
        >>> ds.class_label(1), ds.class_label(1, "zh")
        ('lower moon', '下弦月')
        """
        if language == "zh" and self.class_names_zh:
            return self.class_names_zh[index]
        return self.class_names[index]

    def class_labels(self, language: str = "en") -> tuple[str, ...]:
        """All class names in ``language``, as `class_label` gives them."""
        return tuple(self.class_label(index, language) for index in range(self.n_classes))

    def summary(self) -> dict[str, Any]:
        """Sizes and class counts, as plain JSON-ready values (for the overview page).

        ``imbalance_ratio`` is the largest training class count over the smallest (None when a class has
        no training sample).
        """
        train_counts = np.bincount(self.y_train, minlength=self.n_classes)
        test_counts = np.bincount(self.y_test, minlength=self.n_classes)
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "description_zh": self.description_zh,
            "n_train": len(self.y_train),
            "n_test": len(self.y_test),
            "input_shape": list(self.input_shape),
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "class_names": list(self.class_names),
            "class_names_zh": list(self.class_names_zh),
            "train_counts": dict(zip(self.class_names, train_counts.tolist(), strict=True)),
            "test_counts": dict(zip(self.class_names, test_counts.tolist(), strict=True)),
            "imbalance_ratio": float(train_counts.max() / train_counts.min()) if train_counts.min() else None,
            "standardized": self.scaler is not None,
        }

    @classmethod
    def from_arrays(
        cls,
        x: Any,
        y: Any,
        *,
        x_test: Any = None,
        y_test: Any = None,
        test_size: float = 0.2,
        seed: int = 0,
        name: str = "custom",
        kind: str | None = None,
        feature_names: tuple[str, ...] | list[str] | None = None,
        class_names: tuple[str, ...] | list[str] | None = None,
        standardize: bool = True,
        description: str = "",
        description_zh: str = "",
        class_names_zh: tuple[str, ...] | list[str] = (),
    ) -> Dataset:
        """Build a dataset from the user's arrays (numpy, lists or pandas).

        ``x``: ``(n, features)`` for tabular data, ``(n, H, W)`` or ``(n, H, W, C)`` images in [0, 1].
        ``y``: one label per sample, numbers or strings; labels are mapped to class ids 0..k-1 in sorted
        order and named after their values, unless ``class_names`` is given (then integer labels are
        taken as ids into it, other labels are looked up in it). Without ``x_test``/``y_test`` the data is
        split with a stratified ``test_size`` fraction shuffled by ``seed``. ``kind`` is inferred when
        None: images from the shape, "points2d" for exactly two features, "tabular" otherwise.
        ``standardize`` scales non-image features with a scaler fitted on the training split.
        ``description`` and ``description_zh`` say what the data is, in English and in Chinese.
        ``class_names_zh``: the classes' Chinese names, one per class in the order of the class names, or
        empty for none.
        Raises `DataError` for anything that cannot make a classification dataset.
        """
        _check_test_size(test_size)
        _check_seed(seed)
        if (x_test is None) != (y_test is None):
            raise DataError(
                "Only one of x_test and y_test was given.", "Give both, or neither to split x and y."
            )
        features, columns = _feature_array(x, "x")
        kind = _resolve_kind(kind, features)
        features = _with_channel(features, kind)
        names_of_features = _feature_names(feature_names, columns, kind, features.shape[1:])
        _check_finite(features, names_of_features, "x")
        labels = _label_array(y, "y", len(features))
        if x_test is None:
            class_ids, _, names_of_classes = _encode_labels(labels, None, class_names)
            x_train, x_held, y_train, y_held = _stratified_split(
                features, class_ids, names_of_classes, test_size, seed
            )
        else:
            test_features, _ = _feature_array(x_test, "x_test")
            test_features = _with_channel(test_features, kind)
            if test_features.shape[1:] != features.shape[1:]:
                raise DataError(
                    f"x has samples of shape {features.shape[1:]} but x_test {test_features.shape[1:]}.",
                    "Give x_test the same features, in the same order, as x.",
                )
            _check_finite(test_features, names_of_features, "x_test")
            test_labels = _label_array(y_test, "y_test", len(test_features))
            y_train, y_held, names_of_classes = _encode_labels(labels, test_labels, class_names)
            x_train, x_held = features, test_features
        if kind == "image":
            _check_pixel_range(x_train, x_held)
        scaler = None
        if standardize and kind != "image":
            scaler = StandardScaler().fit(x_train)
            x_train, x_held = scaler.transform(x_train), scaler.transform(x_held)
        return cls(
            name=name,
            kind=kind,
            x_train=_frozen(x_train, np.float32),
            y_train=_frozen(y_train, np.int64),
            x_test=_frozen(x_held, np.float32),
            y_test=_frozen(y_held, np.int64),
            feature_names=names_of_features,
            class_names=names_of_classes,
            description=description,
            scaler=scaler,
            description_zh=description_zh,
            class_names_zh=tuple(str(name) for name in class_names_zh),
        )

    @classmethod
    def from_csv(
        cls,
        path_or_buffer: str | os.PathLike | Any,
        target: str,
        *,
        test_size: float = 0.2,
        seed: int = 0,
        name: str | None = None,
        kind: str | None = None,
        standardize: bool = True,
        sep: str = ",",
    ) -> Dataset:
        """Build a dataset from a CSV file (or file-like object) with a header row.

        ``target`` names the label column; every other column is a feature and must be numeric (or
        boolean). Text labels become class names. Otherwise as `Dataset.from_arrays`.

        >>> import io
        >>> csv = io.StringIO("height,weight,animal\\n1,2,cat\\n3,4,dog\\n1,3,cat\\n4,4,dog\\n2,2,cat\\n3,5,dog\\n")
        >>> ds = Dataset.from_csv(csv, target="animal", test_size=0.34)
        >>> ds.class_names, ds.feature_names, ds.kind
        (('cat', 'dog'), ('height', 'weight'), 'points2d')
        """
        table = _read_csv(path_or_buffer, sep)
        if target not in table.columns:
            columns = [str(c) for c in table.columns]
            close = difflib.get_close_matches(str(target), columns, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"The CSV has no column {target!r}. Its columns are: {_listing(columns)}.{hint}",
                "Pass target= one of those column names.",
            )
        features = table.drop(columns=[target])
        if features.shape[1] == 0:
            raise DataError(
                f"The CSV has only the target column {target!r}.", "Add at least one feature column."
            )
        if name is None:
            name = Path(path_or_buffer).stem if isinstance(path_or_buffer, str | os.PathLike) else "csv"
        return cls.from_arrays(
            features,
            table[target],
            test_size=test_size,
            seed=seed,
            name=name,
            kind=kind,
            standardize=standardize,
            description=f"Loaded from CSV, target column {target!r}.",
            description_zh=f"从 CSV 文件加载，目标列 (target column) 为 {target!r}。",
        )


def load(name: str, *, seed: int = 0, test_size: float = 0.2, **params: Any) -> Dataset:
    """Load a bundled dataset by name (see `names`), split with ``seed``; ``params`` as in `PARAMETERS`.

    >>> summary = load("imbalanced", minority=0.1).summary()
    >>> summary["n_train"], summary["n_test"], round(summary["imbalance_ratio"])
    (1600, 400, 9)
    """
    if name not in PARAMETERS:
        close = difflib.get_close_matches(str(name), names(), n=1, cutoff=0.7)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"Unknown dataset {name!r}.{hint}", f"Use one of: {', '.join(names())}.")
    _check_test_size(test_size)
    _check_seed(seed)
    values = _parameter_values(name, params)
    return Dataset.from_arrays(
        **_BUNDLED[name](seed=seed, **values), name=name, seed=seed, test_size=test_size
    )


def _parameter_values(name: str, params: dict[str, Any]) -> dict[str, Any]:
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


_BUNDLED = {
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


def _check_test_size(test_size: Any) -> None:
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise DataError(
            f"test_size must be a fraction strictly between 0 and 1; got {test_size!r}.",
            "Use e.g. test_size=0.2 to hold out 20% of the samples.",
        )


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise DataError(f"seed must be an integer from 0 to 2**32 - 1; got {seed!r}.", "Use e.g. seed=0.")


def _listing(items: list[str], limit: int = 30, quote: bool = True) -> str:
    shown = ", ".join(repr(i) if quote else i for i in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _read_csv(path_or_buffer: Any, sep: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(path_or_buffer, sep=sep, encoding="utf-8-sig")  # spreadsheets often write a BOM
    except FileNotFoundError as exc:
        raise DataError(f"No CSV file at {str(path_or_buffer)!r}.", "Check the path.") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError("The CSV file is empty.", "Give a file with a header row and data rows.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(
            f"The file could not be read as CSV: {exc}",
            f"Save it as UTF-8 text with a header row and {sep!r} between values.",
        ) from exc
    if len(table) == 0:
        raise DataError(
            "The CSV file has a header but no data rows.", "Add at least a few samples per class."
        )
    return table


def _feature_array(x: Any, label: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """x as a float64 array, and its column names when it came as a table."""
    if isinstance(x, pd.DataFrame):
        if x.size == 0:
            raise DataError(f"{label} is empty.", "Give at least a few samples per class.")
        return _table_values(x, "Feature column", quote=True), tuple(str(c) for c in x.columns)
    try:
        array = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise DataError(
            f"{label} is not a rectangular array: {exc}",
            f"Give {label} one row per sample, all the same length.",
        ) from exc
    if array.size == 0 or array.ndim == 0:
        raise DataError(f"{label} is empty.", "Give at least a few samples per class.")
    if array.dtype.kind == "O" and array.ndim == 2:  # mixed Python objects: judge column by column
        array = _table_values(pd.DataFrame(array).infer_objects(), f"{label} column", quote=False)
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{label} is not numeric (its values have type {array.dtype}).",
            "Encode text categories as numbers (e.g. one-hot) before building the dataset.",
        )
    if array.ndim not in (2, 3, 4):
        fix = (
            f"For a single feature, pass {label}.reshape(-1, 1)."
            if array.ndim == 1
            else "Give tabular data as (samples, features) and images as (samples, height, width[, channels])."
        )
        raise DataError(f"{label} has {array.ndim} dimension(s), shape {array.shape}.", fix)
    return array.astype(np.float64), None


def _table_values(table: pd.DataFrame, what: str, quote: bool) -> np.ndarray:
    """A table's values as float64 (booleans as 0/1, missing values as NaN); text columns are refused."""
    non_numeric = [
        str(c)
        for c in table.columns
        if not (pd.api.types.is_numeric_dtype(table[c]) or pd.api.types.is_bool_dtype(table[c]))
    ]
    if non_numeric:
        plural = len(non_numeric) > 1
        raise DataError(
            f"{what}{'s' if plural else ''} {_listing(non_numeric, quote=quote)} {'are' if plural else 'is'} "
            "not numeric.",
            "Encode text categories as numbers (e.g. one-hot with pandas.get_dummies) or drop those columns.",
        )
    return table.to_numpy(dtype=np.float64, na_value=np.nan)


def _resolve_kind(kind: str | None, x: np.ndarray) -> str:
    if kind is None:
        if x.ndim > 2:
            return "image"
        return "points2d" if x.shape[1] == 2 else "tabular"
    if kind not in KINDS:
        raise DataError(
            f"Unknown dataset kind {kind!r}.", f"Use one of {', '.join(KINDS)}, or None to infer it."
        )
    if kind == "image" and x.ndim == 2:
        raise DataError(
            f"kind='image' needs images shaped (samples, height, width[, channels]); got {x.shape}.",
            "Reshape flat pixels, e.g. x.reshape(len(x), 8, 8, 1).",
        )
    if kind != "image" and x.ndim != 2:
        raise DataError(
            f"kind={kind!r} needs x shaped (samples, features); got {x.shape}.",
            "Flatten samples with x.reshape(len(x), -1), or use kind='image'.",
        )
    if kind == "points2d" and x.shape[1] != 2:
        raise DataError(
            f"kind='points2d' needs exactly 2 features; x has {x.shape[1]}.", "Use kind='tabular'."
        )
    return kind


def _with_channel(x: np.ndarray, kind: str) -> np.ndarray:
    return x[..., np.newaxis] if kind == "image" and x.ndim == 3 else x


def _feature_names(
    given: Any, columns: tuple[str, ...] | None, kind: str, sample_shape: tuple[int, ...]
) -> tuple[str, ...]:
    n_features = math.prod(sample_shape)
    if given is not None:
        names_given = tuple(str(n) for n in given)
        if len(names_given) != n_features:
            raise DataError(
                f"{len(names_given)} feature names for {n_features} features.", "Give one name per feature."
            )
        return names_given
    if columns is not None:
        return columns
    if kind == "image":
        height, width, channels = sample_shape
        return tuple(
            f"pixel_{r}_{c}" if channels == 1 else f"pixel_{r}_{c}_{ch}"
            for r in range(height)
            for c in range(width)
            for ch in range(channels)
        )
    if kind == "points2d":
        return ("x1", "x2")
    return tuple(f"feature_{i}" for i in range(n_features))


def _check_finite(x: np.ndarray, feature_names: tuple[str, ...], label: str) -> None:
    bad = ~np.isfinite(x)
    if not bad.any():
        return
    where = ""
    if x.ndim == 2:
        per_column = bad.sum(axis=0)
        counts = [f"{feature_names[i]} ({per_column[i]})" for i in np.flatnonzero(per_column)]
        where = " in " + _listing(counts, quote=False)
    subject = "The test features have" if label == "x_test" else "The features have"
    raise DataError(
        f"{subject} {int(bad.sum())} missing or infinite value(s){where}.",
        "Drop those rows (pandas: df.dropna()) or fill them in (df.fillna(...)) before building the dataset.",
    )


def _label_array(y: Any, label: str, n_samples: int) -> np.ndarray:
    array = np.asarray(y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        fix = (
            f"For one-hot labels pass {label}.argmax(axis=1); multi-label targets are not supported."
            if array.ndim == 2
            else f"Give one label per sample, shape ({n_samples},)."
        )
        raise DataError(f"{label} must hold one label per sample; got shape {array.shape}.", fix)
    if len(array) != n_samples:
        x_label = "x_test" if label == "y_test" else "x"
        raise DataError(
            f"{x_label} has {n_samples} samples but {label} has {len(array)} labels.",
            "Give exactly one label per sample, in the same order.",
        )
    missing = pd.isna(array)
    if missing.any():
        subject = "The test labels have" if label == "y_test" else "The labels have"
        raise DataError(
            f"{subject} {int(missing.sum())} missing value(s).",
            "Drop the samples without a label, or label them.",
        )
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or not np.equal(np.round(array), array).all():
            example = (
                array[np.flatnonzero(np.round(array) != array)[0]] if np.isfinite(array).all() else np.inf
            )
            raise DataError(
                f"{label} has non-integer values (e.g. {float(example)}): dlviz datasets are for classification.",
                "Give class labels (integers or text), or bin a continuous target into classes.",
            )
        array = array.astype(np.int64)
    if array.dtype.kind == "O":
        array = array.astype(str)
    return array


def _encode_labels(
    y: np.ndarray, y_test: np.ndarray | None, class_names: Any
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    if class_names is not None:
        names_given = tuple(str(n) for n in class_names)
        if len(set(names_given)) != len(names_given):
            raise DataError(f"class_names has duplicates: {names_given}.", "Give each class a distinct name.")
        if len(names_given) < 2:
            raise DataError(
                f"class_names has {len(names_given)} name(s).", "A classifier needs at least two classes."
            )
        ids = _ids_from_names(y, names_given)
        test_ids = None if y_test is None else _ids_from_names(y_test, names_given)
        names_out = names_given
    else:
        values = np.unique(y)
        names_out = tuple(str(v) for v in values.tolist())
        ids = np.searchsorted(values, y).astype(np.int64)
        test_ids = None
        if y_test is not None:
            unseen = sorted({str(v) for v in np.setdiff1d(np.unique(y_test), values).tolist()})
            if unseen:
                raise DataError(
                    f"y_test has classes that y does not: {_listing(unseen)}.",
                    "Train on every class you test on, or drop those test samples.",
                )
            test_ids = np.searchsorted(values, y_test).astype(np.int64)
    present = np.unique(ids)
    if len(present) < 2:
        only = names_out[present[0]] if len(present) else "none"
        raise DataError(
            f"The labels hold only one class ({only!r}); a classifier needs at least two.",
            "Check the target column, or add samples of the other classes.",
        )
    return ids, test_ids, names_out


def _ids_from_names(labels: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    if labels.dtype.kind in "iu":
        outside = (labels < 0) | (labels >= len(class_names))
        if outside.any():
            raise DataError(
                f"Labels {_listing(sorted(set(labels[outside].tolist())))} are not class ids 0..{len(class_names) - 1} "
                f"for class_names {class_names}.",
                "Give integer labels as ids into class_names, or omit class_names.",
            )
        return labels.astype(np.int64)
    lookup = {name: i for i, name in enumerate(class_names)}
    as_text = labels.astype(str)
    unknown = sorted(set(as_text.tolist()) - set(lookup))
    if unknown:
        raise DataError(
            f"Labels {_listing(unknown)} are not in class_names {class_names}.",
            "Add them to class_names, or omit class_names to take the classes from the labels.",
        )
    return np.array([lookup[label] for label in as_text], dtype=np.int64)


def _stratified_split(
    x: np.ndarray, ids: np.ndarray, class_names: tuple[str, ...], test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    counts = np.bincount(ids, minlength=len(class_names))
    too_small = [f"{class_names[i]!r} ({counts[i]})" for i in np.flatnonzero((counts > 0) & (counts < 2))]
    if too_small:
        raise DataError(
            f"A stratified split needs at least 2 samples per class; these classes have 1: {', '.join(too_small)}.",
            "Add samples of those classes, drop them, or pass x_test and y_test yourself.",
        )
    n_classes = int((counts > 0).sum())
    n_test = math.ceil(test_size * len(ids))
    if n_test < n_classes or len(ids) - n_test < n_classes:
        raise DataError(
            f"test_size={test_size} of {len(ids)} samples leaves {n_test} for testing and {len(ids) - n_test} "
            f"for training, but both need at least one sample of each of the {n_classes} classes.",
            "Choose a test_size closer to 0.5 or add samples.",
        )
    try:
        return train_test_split(x, ids, test_size=test_size, random_state=seed, stratify=ids)
    except ValueError as exc:
        raise DataError(f"The stratified split failed: {exc}", "Add samples or change test_size.") from exc


def _check_pixel_range(*images: np.ndarray) -> None:
    low = min(float(i.min()) for i in images)
    high = max(float(i.max()) for i in images)
    if low < 0 or high > 1:
        raise DataError(
            f"Image pixels must lie in [0, 1]; these range from {low:g} to {high:g}.",
            "Divide 8-bit images by 255 (or by the largest possible value) first.",
        )


def _frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    copy = np.array(array, dtype=dtype, copy=True)
    copy.setflags(write=False)
    return copy
