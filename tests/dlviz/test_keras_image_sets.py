"""MNIST, Fashion-MNIST and CIFAR-10 from the Keras cache: small files of the real formats in a temporary
KERAS_HOME, the offline error when they are missing, and damaged files refused."""

import gzip
import pickle
import socket

import numpy as np
import pytest

from dlviz import datasets, models
from dlviz.errors import DataError


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("dlviz tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def images(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, *shape), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_mnist(folder, n_train=150, n_test=30):
    (x_train, y_train), (x_test, y_test) = images(n_train, (28, 28)), images(n_test, (28, 28), 1)
    np.savez(folder / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return x_train, y_train


def write_idx(path, header, array):
    with gzip.open(path, "wb") as stream:
        stream.write(bytes(header) + array.tobytes())


def write_fashion(folder, n_train=50, n_test=10):
    fashion = folder / "fashion-mnist"
    fashion.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x, y = images(n, (28, 28))
        write_idx(fashion / f"{prefix}-images-idx3-ubyte.gz", range(16), x)
        write_idx(fashion / f"{prefix}-labels-idx1-ubyte.gz", range(8), y)


def write_cifar(folder, per_batch=12):
    batches = folder / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for index, name in enumerate([*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]):
        x, y = images(per_batch, (3 * 32 * 32,), index)
        with open(batches / name, "wb") as stream:
            pickle.dump({b"data": x, b"labels": y.tolist(), b"batch_label": b"fixture"}, stream)
    return batches


def test_mnist_is_read_from_the_cache_as_unit_interval_images(keras_home, no_network):
    x_train, y_train = write_mnist(keras_home)
    ds = datasets.load("mnist", n_samples=100, seed=2)
    assert (ds.kind, ds.input_shape, ds.n_classes) == ("image", (28, 28, 1), 10)
    assert (len(ds.x_train), len(ds.x_test)) == (100, 20)
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    pixels = {tuple((row * 255).round().astype(np.uint8).ravel()[:50]) for row in ds.x_train[..., 0]}
    assert pixels <= {tuple(row.ravel()[:50]) for row in x_train}
    assert models.build("cnn", ds, hidden=(8,)).output_shape == (None, 10)


def test_fashion_mnist_and_cifar10_read_their_keras_formats(keras_home, no_network):
    write_fashion(keras_home)
    write_cifar(keras_home)
    fashion = datasets.load("fashion_mnist", n_samples=100)
    assert fashion.input_shape == (28, 28, 1) and len(fashion.x_train) == 50 and fashion.class_label(9, "zh") == "短靴"
    cifar = datasets.load("cifar10", n_samples=100)
    assert cifar.input_shape == (32, 32, 3) and len(cifar.x_train) == 60 and len(cifar.x_test) == 12
    assert cifar.class_names[0] == "airplane" and cifar.description_zh


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("mnist", ["mnist.npz", "keras.datasets.mnist.load_data()", "never downloads"]),
        ("fashion_mnist", ["fashion-mnist/train-images-idx3-ubyte.gz", "KERAS_HOME"]),
        ("cifar10", ["cifar-10-batches-py", "keras.datasets.cifar10.load_data()"]),
    ],
)
def test_a_missing_file_says_which_file_to_put_where_without_downloading(keras_home, no_network, name, fragments):
    with pytest.raises(DataError) as caught:
        datasets.load(name)
    message = str(caught.value)
    assert str(keras_home) in message
    for fragment in fragments:
        assert fragment in message


def test_damaged_cache_files_are_refused_with_a_data_error(keras_home, no_network):
    np.savez(keras_home / "mnist.npz", x_train=np.zeros((5, 8, 8), np.uint8), y_train=np.zeros(5, np.uint8),
             x_test=np.zeros((2, 8, 8), np.uint8), y_test=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="shape \\(28, 28\\)"):
        datasets.load("mnist")
    np.savez(keras_home / "mnist.npz", x_train=np.array([object()], dtype=object))
    with pytest.raises(DataError, match="not a readable MNIST file"):
        datasets.load("mnist")
    batches = write_cifar(keras_home)

    class Sneaky:
        def __reduce__(self):
            return (print, ("this would run on load",))

    with open(batches / "test_batch", "wb") as stream:
        pickle.dump({b"data": Sneaky(), b"labels": []}, stream)
    with pytest.raises(DataError, match="readable CIFAR-10 batches"):
        datasets.load("cifar10")
