"""Bundled offline datasets, and the user's own data, in one frozen shape: `Dataset`.

Nothing is downloaded: the tabular and image sets ship with scikit-learn, the 2-D point sets (as in
TensorFlow Playground) are generated from the seed. Features are float32, labels int64 class ids. Tabular
features are standardised with a `StandardScaler` fitted on the training split only, and kept on the
dataset (`Dataset.scaler`) to transform new samples the same way. Arrays are read-only, so a dataset
shared between pages or plugins cannot be changed by one of them.
The bundled sets are made in `dlviz._bundled_datasets`; the user's data is read, checked, encoded and
split in `dlviz._dataset_input`.

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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.preprocessing import StandardScaler

from dlviz._bundled_datasets import BUNDLED, PARAMETERS, TASK_AND_KIND, parameter_values
from dlviz._dataset_files import checked_size, read_image_folders, read_npz
from dlviz._dataset_input import (
    KINDS,
    TASKS,
    check_finite,
    check_pixel_range,
    check_seed,
    check_test_size,
    encode_targets,
    feature_array,
    feature_name_count,
    frozen,
    label_array,
    listing,
    random_split,
    read_csv,
    resolve_feature_names,
    resolve_kind,
    resolve_task,
    scaled,
    series_scaler,
    stratified_split,
    target_scaler,
    vocabulary_of,
    with_channel,
)
from dlviz.errors import DataError


def names(task: str | None = None, kinds: tuple[str, ...] | None = None) -> list[str]:
    """The bundled datasets' names, in the order a menu shows them; only those for ``task`` and of one of
    ``kinds`` when given.

    >>> names(task="regression")
    ['diabetes', 'friedman1', 'curve', 'sines_forecast']
    """
    return [
        name
        for name in PARAMETERS
        if (task is None or TASK_AND_KIND[name][0] == task) and (kinds is None or TASK_AND_KIND[name][1] in kinds)
    ]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A dataset for one task, split into train and test.

    ``task``: "classification" (``y_*`` int64 class ids ``(n,)``, named by ``class_names``), "regression"
    (``y_*`` float32 ``(n,)`` or ``(n, targets)``, named by ``target_names``, standardised by
    ``target_scaler`` fitted on the training split: `in_target_units` gives them back in the user's units)
    or "multilabel" (``y_*`` int64 rows of 0/1, a column per name in ``class_names``).
    ``kind``: "tabular" ``(n, features)``, "points2d" (two features, drawable in the plane), "image"
    ``(n, H, W, C)`` in [0, 1], "sequence" (int32 token ids ``(n, steps)`` below ``vocabulary_size``, with
    the words in ``vocabulary`` when known) or "timeseries" ``(n, steps, features)``; ``x_*`` are float32
    except token ids. ``scaler``: the `StandardScaler` fitted on the training features (per feature over
    all steps for time series), or None when they are not scaled. ``feature_names``: one per value of a
    sample, except time series: one per feature of a step.
    ``description`` says what the data is in English, ``description_zh`` in Chinese ("" when there is
    none: show the English one instead). ``class_names_zh`` names the classes in Chinese, in the order of
    ``class_names`` (empty when there is no translation: `class_label` then falls back to English);
    ``target_names_zh`` names the regression targets in Chinese the same way.
    Build one with `load`, `Dataset.from_arrays`, `Dataset.from_csv` or `Dataset.from_file`.
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
    task: str = "classification"
    target_names: tuple[str, ...] = ()
    target_scaler: StandardScaler | None = None
    vocabulary_size: int = 0
    vocabulary: tuple[str, ...] = ()
    target_names_zh: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"Unknown dataset kind {self.kind!r}.", f"Use one of {', '.join(KINDS)}.")
        if self.task not in TASKS:
            raise DataError(f"Unknown task {self.task!r}.", f"Use one of {', '.join(TASKS)}.")
        x_dtype = np.int32 if self.kind == "sequence" else np.float32
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not (isinstance(x, np.ndarray) and x.dtype == x_dtype):
                raise DataError(
                    f"x_{split} must be a {np.dtype(x_dtype).name} numpy array.",
                    "Build datasets with Dataset.from_arrays.",
                )
            self._check_targets(split, y, len(x))
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(
                f"Train samples have shape {self.x_train.shape[1:]} but test samples {self.x_test.shape[1:]}.",
                "Give both splits the same features.",
            )
        expected_names = feature_name_count(self.kind, self.input_shape)
        if len(self.feature_names) != expected_names:
            raise DataError(
                f"{len(self.feature_names)} feature names for {expected_names} features.",
                "Give one name per feature.",
            )
        if self.class_names_zh and len(self.class_names_zh) != len(self.class_names):
            raise DataError(
                f"{len(self.class_names_zh)} Chinese class names for {len(self.class_names)} classes.",
                "Give one Chinese name per class, in the order of class_names, or none at all.",
            )
        if self.target_names_zh and len(self.target_names_zh) != len(self.target_names):
            raise DataError(
                f"{len(self.target_names_zh)} Chinese target names for {len(self.target_names)} targets.",
                "Give one Chinese name per target, in the order of target_names, or none at all.",
            )
        if self.kind == "sequence" and not (
            self.vocabulary_size >= 2
            and (not self.vocabulary or len(self.vocabulary) == self.vocabulary_size)
            and max(int(self.x_train.max()), int(self.x_test.max())) < self.vocabulary_size
        ):
            raise DataError(
                "Token ids must lie below vocabulary_size (at least 2), with one vocabulary word per id.",
                "Build sequence datasets with Dataset.from_arrays(x, y, kind='sequence').",
            )

    def _check_targets(self, split: str, y: Any, n_samples: int) -> None:
        if self.task == "regression":
            width = len(self.target_names)
            shapes = [(n_samples,)] if width == 1 else [(n_samples, width)]
            if not (isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape in shapes):
                raise DataError(
                    f"y_{split} must be float32 targets, one row per sample and one column per target "
                    f"name ({width}).",
                    "Build datasets with Dataset.from_arrays(x, y, task='regression').",
                )
            return
        if self.task == "multilabel":
            if not (
                isinstance(y, np.ndarray)
                and y.dtype == np.int64
                and y.shape == (n_samples, len(self.class_names))
                and np.isin(y, (0, 1)).all()
            ):
                raise DataError(
                    f"y_{split} must be int64 rows of 0/1, one column per class name.",
                    "Build datasets with Dataset.from_arrays(x, y, task='multilabel').",
                )
            return
        if not (isinstance(y, np.ndarray) and y.dtype == np.int64 and y.ndim == 1 and len(y) == n_samples):
            raise DataError(
                f"y_{split} must be an int64 array of one class id per row of x_{split}.",
                "Build datasets with Dataset.from_arrays, which encodes labels.",
            )
        if len(y) and (y.min() < 0 or y.max() >= len(self.class_names)):
            raise DataError(
                f"y_{split} holds class ids outside 0..{len(self.class_names) - 1}.",
                "Give one class name per class id.",
            )
        if len(self.class_names) < 2:
            raise DataError("A dataset needs at least two classes.", "Give at least two class names.")

    @property
    def n_targets(self) -> int:
        """How many numbers the model predicts per sample: one per class, label or regression target (one
        for two classes: a single sigmoid unit)."""
        if self.task == "regression":
            return len(self.target_names)
        return 1 if self.is_binary else len(self.class_names)

    def in_target_units(self, y: Any) -> np.ndarray:
        """Standardised regression targets or predictions ``y`` back in the user's units.

        >>> ds = load("diabetes")
        >>> bool(np.allclose(ds.in_target_units(ds.y_train).mean(), 152.0, atol=5))
        True
        """
        if self.task != "regression":
            raise DataError(
                f"Dataset {self.name!r} is for {self.task}; only regression targets have units.",
                "Use class_label for class names.",
            )
        values = np.asarray(y, dtype=np.float64)
        if self.target_scaler is None:
            return values
        return self.target_scaler.inverse_transform(values.reshape(len(values), -1)).reshape(values.shape)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape, without the batch dimension."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def is_binary(self) -> bool:
        """Two classes of a classification task."""
        return self.task == "classification" and self.n_classes == 2

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
        no training sample). Regression sets give each target's range and mean in the user's units
        instead of class counts (``target_names_zh``: their Chinese names, empty when there are none);
        multilabel sets count the samples carrying each label.
        """
        common = {
            "name": self.name,
            "kind": self.kind,
            "task": self.task,
            "description": self.description,
            "description_zh": self.description_zh,
            "n_train": len(self.y_train),
            "n_test": len(self.y_test),
            "input_shape": list(self.input_shape),
            "n_features": self.n_features,
            "standardized": self.scaler is not None,
        }
        if self.task == "regression":
            values = self.in_target_units(self.y_train).reshape(len(self.y_train), -1)
            return {
                **common,
                "target_names": list(self.target_names),
                "target_names_zh": list(self.target_names_zh),
                "target_ranges": {
                    name: [float(values[:, i].min()), float(values[:, i].max())]
                    for i, name in enumerate(self.target_names)
                },
                "target_means": {name: float(values[:, i].mean()) for i, name in enumerate(self.target_names)},
            }
        if self.task == "multilabel":
            return {
                **common,
                "class_names": list(self.class_names),
                "train_counts": dict(zip(self.class_names, self.y_train.sum(axis=0).tolist(), strict=True)),
                "test_counts": dict(zip(self.class_names, self.y_test.sum(axis=0).tolist(), strict=True)),
            }
        train_counts = np.bincount(self.y_train, minlength=self.n_classes)
        test_counts = np.bincount(self.y_test, minlength=self.n_classes)
        return {
            **common,
            "n_classes": self.n_classes,
            "class_names": list(self.class_names),
            "class_names_zh": list(self.class_names_zh),
            "train_counts": dict(zip(self.class_names, train_counts.tolist(), strict=True)),
            "test_counts": dict(zip(self.class_names, test_counts.tolist(), strict=True)),
            "imbalance_ratio": float(train_counts.max() / train_counts.min()) if train_counts.min() else None,
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
        task: str | None = None,
        feature_names: tuple[str, ...] | list[str] | None = None,
        class_names: tuple[str, ...] | list[str] | None = None,
        target_names: tuple[str, ...] | list[str] | None = None,
        standardize: bool = True,
        description: str = "",
        description_zh: str = "",
        class_names_zh: tuple[str, ...] | list[str] = (),
        vocabulary_size: int | None = None,
        vocabulary: tuple[str, ...] | list[str] | None = None,
        target_names_zh: tuple[str, ...] | list[str] = (),
    ) -> Dataset:
        """Build a dataset from the user's arrays (numpy, lists or pandas).

        ``x``: ``(n, features)`` for tabular data, ``(n, H, W)`` or ``(n, H, W, C)`` images in [0, 1],
        ``(n, steps)`` token ids (kind "sequence": give ``vocabulary_size`` and/or the ``vocabulary``
        words, else the size is the largest id + 1) or ``(n, steps, features)`` time series (kind
        "timeseries"). ``kind`` is inferred when None: "sequence" when a vocabulary is given, images from
        the shape (a 3-D array outside [0, 1] is refused: say kind="timeseries" or scale the images),
        "points2d" for exactly two features, "tabular" otherwise.
        ``y``: one label or target per sample. ``task`` is inferred when None: integer or text labels
        mean "classification", other numbers "regression" (``(n, k)`` for k targets, named by
        ``target_names``), rows of 0/1 "multilabel". Class labels are mapped to ids 0..k-1 in sorted
        order and named after their values, unless ``class_names`` is given (then integer labels are
        taken as ids into it, other labels are looked up in it). Without ``x_test``/``y_test`` the data is
        split with a ``test_size`` fraction shuffled by ``seed`` (stratified for classes).
        ``standardize`` scales non-image features (time series per feature) and regression targets with
        scalers fitted on the training split; token ids are never scaled.
        ``description`` and ``description_zh`` say what the data is, in English and in Chinese.
        ``class_names_zh``: the classes' Chinese names, one per class in the order of the class names, or
        empty for none; ``target_names_zh`` the same for regression targets.
        Raises `DataError` for anything that cannot make a dataset.

        >>> ds = Dataset.from_arrays(np.arange(40.0).reshape(20, 2), np.linspace(0.5, 9.7, 20))
        >>> ds.task, ds.target_names, ds.y_train.dtype, abs(float(ds.y_train.mean())) < 1e-6
        ('regression', ('target',), dtype('float32'), True)
        >>> units = np.concatenate([ds.in_target_units(ds.y_train), ds.in_target_units(ds.y_test)])
        >>> bool(np.allclose(np.sort(units), np.linspace(0.5, 9.7, 20), atol=1e-5))
        True
        """
        check_test_size(test_size)
        check_seed(seed)
        if (x_test is None) != (y_test is None):
            raise DataError(
                "Only one of x_test and y_test was given.", "Give both, or neither to split x and y."
            )
        features, columns = feature_array(x, "x")
        kind = resolve_kind(kind, features, vocabulary_size is not None or vocabulary is not None)
        features = with_channel(features, kind)
        names_of_features = resolve_feature_names(feature_names, columns, kind, features.shape[1:])
        check_finite(features, names_of_features, "x")
        labels = label_array(y, "y", len(features))
        task = resolve_task(task, labels)
        if x_test is None:
            targets, _, names_of_classes, names_of_targets = encode_targets(
                task, labels, None, class_names, target_names
            )
            if task == "classification":
                x_train, x_held, y_train, y_held = stratified_split(
                    features, targets, names_of_classes, test_size, seed
                )
            else:
                x_train, x_held, y_train, y_held = random_split(features, targets, test_size, seed)
        else:
            test_features, _ = feature_array(x_test, "x_test")
            test_features = with_channel(test_features, kind)
            if test_features.shape[1:] != features.shape[1:]:
                raise DataError(
                    f"x has samples of shape {features.shape[1:]} but x_test {test_features.shape[1:]}.",
                    "Give x_test the same features, in the same order, as x.",
                )
            check_finite(test_features, names_of_features, "x_test")
            test_labels = label_array(y_test, "y_test", len(test_features))
            y_train, y_held, names_of_classes, names_of_targets = encode_targets(
                task, labels, test_labels, class_names, target_names
            )
            x_train, x_held = features, test_features
        size, words = 0, ()
        scaler = None
        if kind == "image":
            check_pixel_range(x_train, x_held)
        elif kind == "sequence":
            size, words = vocabulary_of(x_train, x_held, vocabulary_size, vocabulary)
        elif standardize:
            scaler = series_scaler(x_train) if kind == "timeseries" else StandardScaler().fit(x_train)
            x_train, x_held = scaled(scaler, x_train), scaled(scaler, x_held)
        scaler_of_targets = None
        if task == "regression" and standardize:
            scaler_of_targets = target_scaler(y_train)
            y_train, y_held = scaled(scaler_of_targets, y_train), scaled(scaler_of_targets, y_held)
        return cls(
            name=name,
            kind=kind,
            x_train=frozen(x_train, np.int32 if kind == "sequence" else np.float32),
            y_train=frozen(y_train, np.float32 if task == "regression" else np.int64),
            x_test=frozen(x_held, np.int32 if kind == "sequence" else np.float32),
            y_test=frozen(y_held, np.float32 if task == "regression" else np.int64),
            feature_names=names_of_features,
            class_names=names_of_classes,
            description=description,
            scaler=scaler,
            description_zh=description_zh,
            class_names_zh=tuple(str(name) for name in class_names_zh),
            task=task,
            target_names=names_of_targets,
            target_scaler=scaler_of_targets,
            vocabulary_size=size,
            vocabulary=words,
            target_names_zh=tuple(str(name) for name in target_names_zh),
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
        task: str | None = None,
        standardize: bool = True,
        sep: str = ",",
    ) -> Dataset:
        """Build a dataset from a CSV file (or file-like object) with a header row.

        ``target`` names the label column; every other column is a feature and must be numeric (or
        boolean). Text labels become class names; ``task="regression"`` (or non-integer numbers) makes the
        target a number to predict, named after its column. Otherwise as `Dataset.from_arrays`.

        >>> import io
        >>> csv = io.StringIO("height,weight,animal\\n1,2,cat\\n3,4,dog\\n1,3,cat\\n4,4,dog\\n2,2,cat\\n3,5,dog\\n")
        >>> ds = Dataset.from_csv(csv, target="animal", test_size=0.34)
        >>> ds.class_names, ds.feature_names, ds.kind
        (('cat', 'dog'), ('height', 'weight'), 'points2d')
        """
        table = read_csv(path_or_buffer, sep)
        if target not in table.columns:
            columns = [str(c) for c in table.columns]
            close = difflib.get_close_matches(str(target), columns, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"The CSV has no column {target!r}. Its columns are: {listing(columns)}.{hint}",
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
            task=task,
            target_names=(str(target),) if task == "regression" or task is None else None,
            standardize=standardize,
            description=f"Loaded from CSV, target column {target!r}.",
            description_zh=f"从 CSV 文件加载，目标列 (target column) 为 {target!r}。",
        )


    @classmethod
    def from_file(cls, path: str | os.PathLike, **options: Any) -> Dataset:
        """Build a dataset from a ``.csv``, ``.npz`` or ``.zip`` file, checked the same way whatever its origin.

        ``.csv``: as `Dataset.from_csv` (``target=`` is required). ``.npz``: arrays ``x`` and ``y``, optionally
        ``x_test``, ``y_test`` and ``class_names``, read without pickles. ``.zip``: one folder of images per
        class (``image_size=(height, width)`` resizes them; else all take the first image's size).
        ``options`` go to `Dataset.from_arrays` (``task``, ``kind``, ``test_size``, ``seed``, ...). Files over
        200 MiB, archives that would decompress past 1 GiB or escape their folder, pickled objects and
        malformed files raise `DataError`.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".npz", ".zip"):
            raise DataError(
                f"dlviz cannot read {path.name!r}: it reads .csv, .npz and .zip files.",
                "Save the data as CSV, as numpy arrays (np.savez(path, x=x, y=y)) or zip one folder of images "
                "per class.",
            )
        checked_size(path)
        options.setdefault("name", path.stem)
        if suffix == ".csv":
            if "target" not in options:
                raise DataError(f"Reading {path.name} needs target=, the label column.", "Pass target='...'.")
            return cls.from_csv(path, **options)
        if suffix == ".npz":
            return cls.from_arrays(**{**read_npz(path), **options})
        image_size = options.pop("image_size", None)
        return cls.from_arrays(**read_image_folders(path, image_size), **options)


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
    check_test_size(test_size)
    check_seed(seed)
    values = parameter_values(name, params)
    return Dataset.from_arrays(
        **BUNDLED[name](seed=seed, **values), name=name, seed=seed, test_size=test_size
    )
