"""dlviz.datasets: bundled sets, the user's arrays and CSV files, and the errors for bad data."""

import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets as sk_datasets

from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError

CJK = re.compile(r"[\u4e00-\u9fff]")

POINTS2D = ("moons", "circles", "spirals", "xor", "gauss")
EXPECTED = {  # name: (kind, input shape, classes)
    "digits": ("image", (8, 8, 1), 10),
    "breast_cancer": ("tabular", (30,), 2),
    "iris": ("tabular", (4,), 3),
    "wine": ("tabular", (13,), 3),
    "imbalanced": ("tabular", (10,), 2),
    **{name: ("points2d", (2,), 2) for name in POINTS2D},
}


def test_names_are_the_bundled_sets_each_with_parameters():
    assert sorted([*EXPECTED, "mnist", "fashion_mnist", "cifar10"]) == sorted(
        datasets.names(task="classification", kinds=("tabular", "image", "points2d"))
    )
    assert set(datasets.TASK_AND_KIND) == set(datasets.names())
    assert list(datasets.PARAMETERS) == datasets.names()
    for specs in datasets.PARAMETERS.values():
        for spec in specs.values():
            assert set(spec) == {"default", "min", "max", "step", "help"}
            assert spec["min"] <= spec["default"] <= spec["max"] and spec["help"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bundled_dataset_loads_with_the_promised_shape(name):
    ds = datasets.load(name)
    kind, shape, n_classes = EXPECTED[name]
    assert (ds.name, ds.kind, ds.input_shape, ds.n_classes) == (name, kind, shape, n_classes)
    assert ds.is_binary == (n_classes == 2)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64 and y.shape == (len(x),)
        assert set(np.unique(y)) == set(range(n_classes))
        assert np.isfinite(x).all()
        assert not x.flags.writeable and not y.flags.writeable
    assert len(ds.x_test) / (len(ds.x_train) + len(ds.x_test)) == pytest.approx(0.2, abs=0.01)
    assert len(ds.feature_names) == ds.n_features and len(ds.class_names) == n_classes
    assert ds.description
    assert (ds.scaler is not None) == (kind == "tabular")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bundled_dataset_is_described_in_chinese_too(name):
    ds = datasets.load(name)
    assert CJK.search(ds.description_zh), f"{name}: no Chinese description"
    assert ds.description_zh != ds.description
    summary = ds.summary()
    assert (summary["description"], summary["description_zh"]) == (ds.description, ds.description_zh)


def test_the_chinese_descriptions_keep_the_numbers():
    assert "20%" in datasets.load("imbalanced", minority=0.2).description_zh
    assert "1.75" in datasets.load("spirals").description_zh
    assert "569" in datasets.load("breast_cancer").description_zh


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chinese_class_names_match_the_classes_one_to_one(name):
    ds = datasets.load(name)
    if name == "digits":  # digits need no translation
        assert ds.class_names_zh == ()
        assert ds.class_labels("zh") == ds.class_names
    else:
        assert len(ds.class_names_zh) == ds.n_classes
        assert all(CJK.search(label) for label in ds.class_names_zh), ds.class_names_zh
        assert ds.class_labels("zh") == ds.class_names_zh
    assert ds.class_labels("en") == ds.class_names == ds.class_labels()
    assert ds.summary()["class_names_zh"] == list(ds.class_names_zh)


def test_chinese_class_names_follow_the_english_order():
    assert datasets.load("breast_cancer").class_names == ("malignant", "benign")
    assert datasets.load("breast_cancer").class_labels("zh") == ("恶性", "良性")
    moons = datasets.load("moons", n_samples=100)
    assert (moons.class_label(0, "zh"), moons.class_label(1, "zh")) == ("上弦月", "下弦月")
    assert moons.class_label(1, "en") == "lower moon"


def test_class_labels_fall_back_to_english_without_chinese_names():
    ds = Dataset.from_arrays(np.arange(40.0).reshape(20, 2), ["cat", "dog"] * 10)
    assert ds.class_names_zh == ()
    assert ds.class_labels("zh") == ("cat", "dog") and ds.class_label(1, "zh") == "dog"
    assert ds.summary()["class_names_zh"] == []


def test_from_arrays_takes_chinese_class_names_of_the_right_length():
    x, y = np.arange(40.0).reshape(20, 2), ["cat", "dog"] * 10
    ds = Dataset.from_arrays(x, y, class_names_zh=["猫", "狗"])
    assert ds.class_names_zh == ("猫", "狗") and ds.class_label(0, "zh") == "猫"
    with pytest.raises(DataError, match="Chinese class names"):
        Dataset.from_arrays(x, y, class_names_zh=("猫",))
    with pytest.raises(DataError, match="Chinese class names"):
        dataclasses.replace(ds, class_names_zh=("猫", "狗", "鸟"))


def test_digits_are_images_in_the_unit_interval():
    ds = datasets.load("digits")
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.class_names == tuple("0123456789")
    assert len(ds.x_train) + len(ds.x_test) == 1797


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_seed_gives_the_same_dataset_and_another_seed_a_different_split(name):
    first, again, other = (
        datasets.load(name, seed=3),
        datasets.load(name, seed=3),
        datasets.load(name, seed=4),
    )
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.x_train, other.x_train)


def test_scaler_is_fitted_on_the_training_split_only():
    ds = datasets.load("breast_cancer", seed=2)
    raw = sk_datasets.load_breast_cancer().data
    raw_train = ds.scaler.inverse_transform(ds.x_train.astype(np.float64))
    np.testing.assert_allclose(ds.scaler.mean_, raw_train.mean(axis=0), rtol=1e-5)
    assert not np.allclose(ds.scaler.mean_, raw.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1, atol=1e-4)
    assert np.abs(ds.x_test.mean(axis=0)).max() > 1e-3  # the test split is transformed, never refitted
    # every scaled training row is a row of the original data
    matches = np.isclose(raw_train[:20, None, :], raw[None, :, :], rtol=1e-5, atol=1e-6).all(axis=2)
    assert matches.any(axis=1).all()


def test_split_is_stratified():
    ds = datasets.load("breast_cancer")
    train_share = np.bincount(ds.y_train) / len(ds.y_train)
    test_share = np.bincount(ds.y_test) / len(ds.y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.01)


@pytest.mark.parametrize("name", POINTS2D)
def test_point_sets_take_n_samples_and_noise(name):
    ds = datasets.load(name, n_samples=300, noise=0.2)
    assert len(ds.y_train) + len(ds.y_test) == 300
    assert ds.feature_names == ("x1", "x2") and ds.scaler is None
    quiet = datasets.load(name, n_samples=300, noise=0.0)
    assert not np.allclose(np.sort(ds.x_train, axis=0), np.sort(quiet.x_train, axis=0))


def test_noise_free_point_sets_follow_their_rule():
    xor = datasets.load("xor", noise=0.0)
    x, y = np.concatenate([xor.x_train, xor.x_test]), np.concatenate([xor.y_train, xor.y_test])
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    circles = datasets.load("circles", noise=0.0)
    radius = np.linalg.norm(circles.x_train, axis=1)
    np.testing.assert_allclose(radius, np.where(circles.y_train == 0, 1.0, 0.5), atol=1e-6)


def test_imbalanced_has_the_minority_fraction_asked_for():
    for minority in (0.05, 0.2):
        ds = datasets.load("imbalanced", minority=minority, n_samples=1000)
        y = np.concatenate([ds.y_train, ds.y_test])
        assert y.mean() == pytest.approx(minority, abs=0.005)
        assert ds.class_names == ("majority", "minority")


def test_summary_counts_each_class():
    ds = datasets.load("iris")
    summary = ds.summary()
    assert summary["n_train"] == 120 and summary["n_test"] == 30
    assert summary["train_counts"] == {"setosa": 40, "versicolor": 40, "virginica": 40}
    assert sum(summary["test_counts"].values()) == 30
    assert summary["input_shape"] == [4] and summary["imbalance_ratio"] == 1.0 and summary["standardized"]


def test_dataset_is_frozen():
    ds = datasets.load("iris")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.name = "other"
    with pytest.raises(ValueError):
        ds.x_train[0, 0] = 1.0


def test_from_arrays_maps_any_labels_to_class_ids():
    x = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array(["cat", "dog"] * 10)
    ds = Dataset.from_arrays(x, y, seed=1)
    assert ds.class_names == ("cat", "dog") and ds.kind == "points2d"
    raw_train = ds.scaler.inverse_transform(ds.x_train.astype(np.float64))
    np.testing.assert_array_equal(ds.y_train, (np.round(raw_train[:, 0]) % 4 == 2).astype(np.int64))

    sparse = Dataset.from_arrays(np.ones((6, 3)), [1, 5, 1, 5, 1, 5], test_size=0.34, standardize=False)
    assert sparse.class_names == ("1", "5") and sparse.scaler is None and sparse.kind == "tabular"


def test_from_arrays_takes_class_names_as_names_of_ids():
    ds = Dataset.from_arrays(np.eye(6), [0, 1, 2] * 2, class_names=["a", "b", "c"], test_size=0.5)
    assert ds.class_names == ("a", "b", "c")
    assert ds.feature_names == tuple(f"feature_{i}" for i in range(6))


def test_from_arrays_uses_a_given_test_split_as_is():
    x, y = np.random.default_rng(0).normal(size=(10, 3)), np.array([0, 1] * 5)
    ds = Dataset.from_arrays(x, y, x_test=x[:4], y_test=y[:4], standardize=False)
    np.testing.assert_array_equal(ds.x_train, x.astype(np.float32))
    np.testing.assert_array_equal(ds.x_test, x[:4].astype(np.float32))


def test_from_arrays_reads_a_dataframe_and_images():
    table = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [0, 1] * 3, "flag": [True, False] * 3})
    ds = Dataset.from_arrays(table, [0, 1] * 3, test_size=0.34)
    assert ds.feature_names == ("a", "b", "flag")
    images = Dataset.from_arrays(np.full((10, 4, 4), 0.5), [0, 1] * 5)
    assert images.kind == "image" and images.input_shape == (4, 4, 1) and images.scaler is None


def test_from_csv_reads_string_labels(tmp_path):
    path = tmp_path / "animals.csv"
    rows = ["height,weight,indoor,animal"] + [
        f"{i},{2 * i},{i % 2 == 0},{'dog' if i % 3 else 'cat'}" for i in range(30)
    ]
    path.write_text("\n".join(rows) + "\n")
    ds = Dataset.from_csv(path, target="animal", seed=5)
    assert ds.name == "animals" and ds.kind == "tabular"
    assert ds.feature_names == ("height", "weight", "indoor")
    assert ds.class_names == ("cat", "dog")
    heights = np.round(ds.scaler.inverse_transform(ds.x_train.astype(np.float64))[:, 0]).astype(int)
    np.testing.assert_array_equal(ds.y_train, (heights % 3 != 0).astype(np.int64))
    assert ds.summary()["train_counts"] == {"cat": 8, "dog": 16}


def test_from_csv_describes_the_target_in_both_languages():
    ds = Dataset.from_csv(csv("a,b,label\n1,2,x\n3,4,y\n1,3,x\n4,4,y\n"), target="label", test_size=0.5)
    assert "'label'" in ds.description and "'label'" in ds.description_zh
    assert CJK.search(ds.description_zh)


def test_from_arrays_takes_descriptions_in_both_languages():
    x, y = np.arange(12.0).reshape(6, 2), [0, 1] * 3
    described = Dataset.from_arrays(x, y, test_size=0.34, description="Mine.", description_zh="我的数据。")
    assert (described.description, described.description_zh) == ("Mine.", "我的数据。")
    plain = Dataset.from_arrays(x, y, test_size=0.34)
    assert (plain.description, plain.description_zh) == ("", "")


def test_from_csv_reads_a_buffer():
    ds = Dataset.from_csv(
        io.StringIO("x1;x2;y\n0;1;a\n1;0;b\n0;0;a\n1;1;b\n"), target="y", sep=";", test_size=0.5
    )
    assert ds.name == "csv" and ds.kind == "points2d"


def test_from_csv_reads_bytes_with_a_byte_order_mark():
    data = "\ufefflabel,size\na,1\nb,2\na,1\nb,2\n".encode()
    ds = Dataset.from_csv(io.BytesIO(data), target="label", test_size=0.5)
    assert ds.class_names == ("a", "b") and ds.feature_names == ("size",)


def csv(text):
    return io.StringIO(text)


TWO_CLASSES = np.array([0, 1] * 5)
BAD_INPUTS = {
    "unknown dataset": (
        lambda: datasets.load("imagenet"),
        ["Unknown dataset 'imagenet'. Fix", "digits, breast_cancer"],
    ),
    "misspelt dataset": (lambda: datasets.load("moon"), ["Did you mean 'moons'"]),
    "unknown parameter": (lambda: datasets.load("moons", noize=0.1), ["'noize'", "n_samples, noise"]),
    "parameter of a set without any": (lambda: datasets.load("iris", noise=0.1), ["takes no parameters"]),
    "parameter out of range": (lambda: datasets.load("moons", noise=5.0), ["'noise'", "from 0.0 to 0.5"]),
    "float n_samples": (lambda: datasets.load("xor", n_samples=100.5), ["an integer"]),
    "test_size 0": (lambda: datasets.load("iris", test_size=0), ["strictly between 0 and 1"]),
    "test_size 1": (lambda: datasets.load("iris", test_size=1.0), ["strictly between 0 and 1"]),
    "test_size negative": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, test_size=-0.2),
        ["test_size"],
    ),
    "test_size not a number": (lambda: datasets.load("iris", test_size="20%"), ["test_size"]),
    "negative seed": (lambda: datasets.load("iris", seed=-1), ["seed"]),
    "mismatched lengths": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), [0, 1] * 4),
        ["10 samples", "8 labels"],
    ),
    "empty x": (lambda: Dataset.from_arrays(np.ones((0, 3)), []), ["x is empty"]),
    "empty table": (lambda: Dataset.from_arrays(pd.DataFrame(), []), ["x is empty"]),
    "1-D x": (lambda: Dataset.from_arrays(np.ones(10), TWO_CLASSES), ["1 dimension", "reshape(-1, 1)"]),
    "5-D x": (lambda: Dataset.from_arrays(np.ones((10, 2, 2, 2, 2)), TWO_CLASSES), ["5 dimension"]),
    "one-hot y": (lambda: Dataset.from_arrays(np.ones((10, 3)), np.eye(2)[TWO_CLASSES]), ["argmax(axis=1)"]),
    "ragged x": (lambda: Dataset.from_arrays([[1, 2], [3]], [0, 1]), ["rectangular"]),
    "text in x": (
        lambda: Dataset.from_arrays(np.array([[1, "a"], [2, "b"]] * 5, dtype=object), TWO_CLASSES),
        ["x column 1 is not numeric"],
    ),
    "NaN in x": (
        lambda: Dataset.from_arrays(
            np.where(np.eye(10, 3) > 0, np.nan, 1.0), TWO_CLASSES, feature_names=list("abc")
        ),
        ["The features have 3 missing", "a (1), b (1), c (1)", "dropna"],
    ),
    "inf in x": (
        lambda: Dataset.from_arrays(np.full((10, 3), np.inf), TWO_CLASSES),
        ["30 missing or infinite"],
    ),
    "NaN label": (
        lambda: Dataset.from_arrays(np.ones((4, 3)), [0, 1, np.nan, 1]),
        ["The labels have 1 missing value"],
    ),
    "non-integer class labels": (
        lambda: Dataset.from_arrays(np.ones((4, 3)), [0.5, 1.2, 3.3, 0.1], task="classification"),
        ["non-integer", "0.5", "task='regression'"],
    ),
    "one class": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), [1] * 10),
        ["only one class ('1')", "at least two"],
    ),
    "class too small to stratify": (
        lambda: Dataset.from_arrays(np.ones((9, 3)), ["a"] * 4 + ["b"] * 4 + ["c"]),
        ["'c' (1)", "at least 2 samples per class"],
    ),
    "test split too small for the classes": (
        lambda: Dataset.from_arrays(np.ones((30, 3)), [0, 1, 2] * 10, test_size=0.05),
        ["test_size=0.05", "3 classes"],
    ),
    "only x_test": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, x_test=np.ones((2, 3))),
        ["y_test"],
    ),
    "x_test of other width": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, x_test=np.ones((2, 4)), y_test=[0, 1]),
        ["(3,)", "(4,)"],
    ),
    "unseen test class": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, x_test=np.ones((2, 3)), y_test=[0, 7]),
        ["'7'"],
    ),
    "label outside class_names": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), [0, 1, 2, 3, 4] * 2, class_names=["a", "b"]),
        ["not class ids 0..1"],
    ),
    "unknown text label": (
        lambda: Dataset.from_arrays(np.ones((4, 3)), ["a", "b", "c", "a"], class_names=["a", "b"]),
        ["'c'", "not in class_names"],
    ),
    "wrong number of feature names": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, feature_names=["a"]),
        ["1 feature names for 3 features"],
    ),
    "unknown kind": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, kind="audio"),
        ["'audio'", "tabular"],
    ),
    "points2d with 3 features": (
        lambda: Dataset.from_arrays(np.ones((10, 3)), TWO_CLASSES, kind="points2d"),
        ["exactly 2 features"],
    ),
    "flat image": (lambda: Dataset.from_arrays(np.ones((10, 64)), TWO_CLASSES, kind="image"), ["reshape"]),
    "8-bit image": (lambda: Dataset.from_arrays(np.full((10, 4, 4), 255), TWO_CLASSES), ["[0, 1]", "255"]),
    "csv without target column": (
        lambda: Dataset.from_csv(csv("age,income,label\n1,2,a\n"), target="Label"),
        ["no column 'Label'", "'age', 'income', 'label'", "Did you mean 'label'"],
    ),
    "csv with text features": (
        lambda: Dataset.from_csv(csv("city,age,y\nParis,3,a\nRome,4,b\n"), target="y"),
        ["Feature column 'city' is not numeric", "get_dummies"],
    ),
    "csv with missing values": (
        lambda: Dataset.from_csv(csv("a,b,y\n1,,x\n,,y\n3,4,x\n5,6,y\n"), target="y"),
        ["3 missing", "a (1), b (2)"],
    ),
    "csv with missing labels": (
        lambda: Dataset.from_csv(csv("a,y\n1,x\n2,\n3,y\n4,x\n"), target="y"),
        ["The labels have 1 missing value"],
    ),
    "csv with one class": (
        lambda: Dataset.from_csv(csv("a,y\n1,x\n2,x\n"), target="y"),
        ["only one class ('x')"],
    ),
    "csv with only the target": (lambda: Dataset.from_csv(csv("y\na\nb\n"), target="y"), ["only the target"]),
    "empty csv": (lambda: Dataset.from_csv(csv(""), target="y"), ["empty"]),
    "csv header only": (lambda: Dataset.from_csv(csv("a,y\n"), target="y"), ["no data rows"]),
    "no such csv": (
        lambda: Dataset.from_csv("/no/such/file.csv", target="y"),
        ["No CSV file", "/no/such/file.csv"],
    ),
    "dataset with float labels": (
        lambda: Dataset(
            "d",
            "tabular",
            np.ones((2, 1), np.float32),
            np.zeros(2),
            np.ones((2, 1), np.float32),
            np.zeros(2, np.int64),
            ("f",),
            ("a", "b"),
        ),
        ["int64"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_raises_a_data_error_that_says_what_and_how(case):
    make, fragments = BAD_INPUTS[case]
    with pytest.raises(DataError) as caught:
        make()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert caught.value.fix, "every data error says how to fix it"
