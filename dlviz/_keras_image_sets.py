"""MNIST, Fashion-MNIST and CIFAR-10 read from the cache of `keras.datasets`, never downloaded.

`keras.datasets.<name>.load_data()` keeps its files under ``$KERAS_HOME/datasets`` (``~/.keras/datasets``
when KERAS_HOME is unset, ``/tmp/.keras/datasets`` when that folder is not writable). These loaders look
for the files there themselves and read them as Keras does (`numpy.load` without pickles, the gzipped IDX
files, Keras' own restricted CIFAR batch reader) instead of calling ``load_data``: it would try to
download a missing file, or any file whose hash differs from the original (a subset, a test fixture).
A missing file raises a `DataError` that names the file, the folder to put it in and where to get it.
Each loader returns the keyword arguments of `Dataset.from_arrays`, with a seeded subset of ``n_samples``
training images and a fifth as many test images.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import numpy as np

from dlviz.errors import DataError

_FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_CIFAR_FOLDERS = ("cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py")  # Keras 3, 2
_MAX_IMAGES = 70_000  # the largest of the three sets; a file claiming more is not one of them

FASHION_CLASSES = (
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ("T 恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"),
)
CIFAR_CLASSES = (
    ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    ("飞机", "汽车", "鸟", "猫", "鹿", "狗", "青蛙", "马", "船", "卡车"),
)


def cache_folders() -> list[Path]:
    """Where `keras.datasets` keeps its files, in the order Keras looks."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    return [home / "datasets", Path("/tmp/.keras/datasets")]


def _find(relative: str, what: str, get_from: str) -> Path:
    for folder in cache_folders():
        if (folder / relative).exists():
            return folder / relative
    raise DataError(
        f"{what} is not in the Keras cache: no {relative!r} in {cache_folders()[0]} (dlviz never downloads).",
        f"On a machine with a network run {get_from} once, or download it, and copy it to "
        f"{cache_folders()[0] / relative} (set KERAS_HOME to use another folder).",
    )


def _subset(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], seed: int, n_samples: int
) -> dict[str, Any]:
    x_train, y_train, x_test, y_test = arrays
    rng = np.random.default_rng(seed)
    train = np.sort(rng.permutation(len(x_train))[:n_samples])
    test = np.sort(rng.permutation(len(x_test))[: max(1, n_samples // 5)])
    return {
        "x": x_train[train] / 255.0,  # 8-bit grey levels to [0, 1]
        "y": y_train.reshape(-1)[train],
        "x_test": x_test[test] / 255.0,
        "y_test": y_test.reshape(-1)[test],
        "kind": "image",
    }


def _check_images(arrays: tuple[np.ndarray, ...], shape: tuple[int, ...], path: Path) -> None:
    x_train, y_train, x_test, y_test = arrays
    ok = (
        x_train.shape[1:] == shape
        and x_test.shape[1:] == shape
        and len(x_train) == len(y_train) > 0
        and len(x_test) == len(y_test) > 0
        and x_train.dtype == x_test.dtype == np.uint8
        and y_train.size == len(y_train)
        and y_test.size == len(y_test)
        and int(max(y_train.max(), y_test.max())) < 10
    )
    if not ok:
        raise DataError(
            f"{path} does not hold the expected uint8 images of shape {shape} with labels 0-9.",
            "Delete it and copy the original file from keras.datasets again.",
        )


def mnist(seed: int, n_samples: int) -> dict[str, Any]:
    path = _find("mnist.npz", "MNIST", "keras.datasets.mnist.load_data()")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = tuple(archive[key] for key in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(
            f"{path} is not a readable MNIST file ({exc}).", "Delete it and copy the original mnist.npz again."
        ) from exc
    _check_images(arrays, (28, 28), path)
    return {
        **_subset(arrays, seed, n_samples),
        "class_names": tuple(str(digit) for digit in range(10)),
        "description": "MNIST handwritten digits, 28x28 grey images (from the Keras cache).",
        "description_zh": "MNIST 手写数字，28x28 灰度图像（来自 Keras 缓存）。",
    }


def _idx(path: Path, offset: int, item_size: int) -> np.ndarray:
    """An IDX file's items, as Keras reads them (header skipped), read no further than 70,000 items."""
    limit = offset + _MAX_IMAGES * item_size
    try:
        with gzip.open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable gzip file ({exc}).", "Copy the original file again.") from exc
    if len(data) > limit or (len(data) - offset) % item_size or len(data) <= offset:
        raise DataError(
            f"{path} does not hold whole {item_size}-byte items after its {offset}-byte header.",
            "Copy the original Fashion-MNIST file again.",
        )
    return np.frombuffer(data, np.uint8, offset=offset)


def fashion_mnist(seed: int, n_samples: int) -> dict[str, Any]:
    paths = [
        _find(f"fashion-mnist/{name}", "Fashion-MNIST", "keras.datasets.fashion_mnist.load_data()")
        for name in _FASHION_FILES
    ]
    arrays = (
        _idx(paths[0], 16, 28 * 28).reshape(-1, 28, 28),
        _idx(paths[1], 8, 1),
        _idx(paths[2], 16, 28 * 28).reshape(-1, 28, 28),
        _idx(paths[3], 8, 1),
    )
    _check_images(arrays, (28, 28), paths[0].parent)
    return {
        **_subset(arrays, seed, n_samples),
        "class_names": FASHION_CLASSES[0],
        "class_names_zh": FASHION_CLASSES[1],
        "description": "Fashion-MNIST: 10 kinds of clothing, 28x28 grey images (from the Keras cache).",
        "description_zh": "Fashion-MNIST：10 类服饰，28x28 灰度图像（来自 Keras 缓存）。",
    }


def cifar10(seed: int, n_samples: int) -> dict[str, Any]:
    folder = None
    for relative in _CIFAR_FOLDERS:
        for cache in cache_folders():
            if (cache / relative / "test_batch").exists():
                folder = cache / relative
    if folder is None:
        _find(_CIFAR_FOLDERS[0] + "/test_batch", "CIFAR-10", "keras.datasets.cifar10.load_data()")
    # Keras' CIFAR reader, with its restricted unpickler; imported here because importing Keras imports
    # TensorFlow, which `dlviz.datasets` must not (the dashboard greets with the digits before that import)
    from keras.src.datasets.cifar import load_batch

    try:
        batches = [load_batch(str(folder / f"data_batch_{i}")) for i in range(1, 6)]
        test_images, test_labels = load_batch(str(folder / "test_batch"))
    except Exception as exc:  # a damaged pickle fails in many ways; all mean "copy it again"
        raise DataError(
            f"{folder} does not hold readable CIFAR-10 batches ({type(exc).__name__}: {exc}).",
            "Extract cifar-10-python.tar.gz there again (data_batch_1 to data_batch_5 and test_batch).",
        ) from exc
    arrays = (
        np.concatenate([images for images, _ in batches]).transpose(0, 2, 3, 1),
        np.concatenate([np.asarray(labels, np.uint8) for _, labels in batches]),
        np.asarray(test_images).transpose(0, 2, 3, 1),
        np.asarray(test_labels, np.uint8),
    )
    _check_images(arrays, (32, 32, 3), folder)
    return {
        **_subset(arrays, seed, n_samples),
        "class_names": CIFAR_CLASSES[0],
        "class_names_zh": CIFAR_CLASSES[1],
        "description": "CIFAR-10: 10 classes of objects, 32x32 colour images (from the Keras cache).",
        "description_zh": "CIFAR-10：10 类物体，32x32 彩色图像（来自 Keras 缓存）。",
    }
