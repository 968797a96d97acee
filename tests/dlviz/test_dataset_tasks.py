"""dlviz.datasets: regression and multilabel tasks, token sequences and time series, the bundled sets for them."""

import re

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from dlviz import datasets
from dlviz.datasets import Dataset
from dlviz.errors import DataError

CJK = re.compile(r"[\u4e00-\u9fff]")
NEW_SETS = {  # name: (task, kind, input shape)
    "diabetes": ("regression", "tabular", (10,)),
    "friedman1": ("regression", "tabular", (10,)),
    "curve": ("regression", "tabular", (1,)),
    "sentiment": ("classification", "sequence", (10,)),
    "sines": ("classification", "timeseries", (40, 2)),
    "sines_forecast": ("regression", "timeseries", (40, 2)),
}


@pytest.mark.parametrize("name", sorted(NEW_SETS))
def test_new_bundled_sets_have_their_task_kind_and_both_descriptions(name):
    ds = datasets.load(name)
    task, kind, shape = NEW_SETS[name]
    assert (ds.task, ds.kind, ds.input_shape) == (task, kind, shape)
    assert datasets.TASK_AND_KIND[name] == (task, kind)
    assert ds.description and CJK.search(ds.description_zh)
    assert not ds.x_train.flags.writeable and not ds.y_train.flags.writeable
    if task == "regression":
        assert ds.y_train.dtype == np.float32 and ds.class_names == () and ds.n_targets == 1
        assert ds.summary()["target_names"] == list(ds.target_names)
    else:
        assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y_train)) == set(range(ds.n_classes))
        assert len(ds.class_names_zh) == ds.n_classes


def test_regression_targets_are_standardised_on_the_training_split_and_given_back_in_units():
    ds = datasets.load("diabetes")
    assert abs(float(ds.y_train.mean())) < 1e-5 and float(ds.y_train.std()) == pytest.approx(1.0, abs=1e-4)
    units = np.concatenate([ds.in_target_units(ds.y_train), ds.in_target_units(ds.y_test)])
    assert np.allclose(np.sort(units), np.sort(load_diabetes().target), atol=1e-3)
    assert ds.summary()["target_ranges"]["disease progression"] == pytest.approx([25.0, 346.0], abs=1e-3)


def test_float_targets_mean_regression_and_task_overrides_the_guess():
    x = np.random.default_rng(0).normal(size=(30, 3))
    assert Dataset.from_arrays(x, x[:, 0] * 2.5).task == "regression"
    assert Dataset.from_arrays(x, [0.0, 1.0, 2.0] * 10).task == "classification"
    counts = Dataset.from_arrays(x, np.arange(30), task="regression")
    assert counts.task == "regression" and counts.y_train.dtype == np.float32


def test_several_regression_targets_keep_their_columns_and_names():
    x = np.random.default_rng(0).normal(size=(40, 3))
    y = np.column_stack([x[:, 0] * 10 + 3.5, x[:, 1] - 100.25])
    ds = Dataset.from_arrays(x, y, target_names=["speed", "cost"])
    assert ds.task == "regression" and ds.y_train.shape == (32, 2) and ds.n_targets == 2
    back = ds.in_target_units(ds.y_test)
    assert back.shape == (8, 2) and float(back[:, 1].mean()) == pytest.approx(-100.25, abs=5)


def test_rows_of_zeros_and_ones_are_multilabel():
    rng = np.random.default_rng(0)
    y = (rng.random((40, 3)) > 0.5).astype(int)
    y[:, 0] = 1  # some rows carry several labels, so they are not one-hot
    ds = Dataset.from_arrays(rng.normal(size=(40, 4)), y, class_names=["red", "round", "big"])
    assert ds.task == "multilabel" and ds.y_train.shape == (32, 3) and ds.n_targets == 3
    assert ds.summary()["train_counts"]["red"] == 32


def test_csv_target_can_be_a_number(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("rooms,area,price\n" + "".join(f"{i % 5},{i * 3},{i * 1.5 + 0.25}\n" for i in range(30)))
    ds = Dataset.from_csv(path, target="price", task="regression")
    assert ds.task == "regression" and ds.target_names == ("price",)
    counted = Dataset.from_csv(path, target="rooms")
    assert counted.task == "classification" and counted.n_classes == 5


def test_token_sequences_keep_integer_ids_and_their_vocabulary():
    ds = datasets.load("sentiment", n_samples=200)
    assert ds.x_train.dtype == np.int32 and ds.scaler is None
    assert ds.vocabulary_size == len(ds.vocabulary) == 11 and ds.vocabulary[ds.x_train.max()] in ds.vocabulary
    assert ds.feature_names[0] == "token_0"
    ids = np.array([[1, 2, 3], [3, 2, 1]] * 5)
    own = Dataset.from_arrays(ids, [0, 1] * 5, vocabulary_size=4)
    assert (own.kind, own.vocabulary_size, own.vocabulary) == ("sequence", 4, ())


def test_sentiment_labels_depend_on_word_order_not_on_the_bag_of_words():
    ds = datasets.load("sentiment", n_samples=2000)
    words = np.array(ds.vocabulary)
    bags = np.stack([np.bincount(row, minlength=ds.vocabulary_size) for row in ds.x_train])
    good = words.tolist().index("good")
    # the opinion word alone predicts the class no better than chance: "not" can flip it
    agreement = float(((bags[:, good] > 0).astype(int) == ds.y_train).mean())
    assert 0.4 < agreement < 0.6
    for row, label in zip(ds.x_train[:100], ds.y_train[:100], strict=True):
        text = " ".join(words[row])
        assert text.count("not") == 1 and text.count("good") + text.count("bad") == 1
        flipped = "not good" in text or "not bad" in text
        assert label == (("good" in text) != flipped)


def test_time_series_are_standardised_per_feature_over_all_steps():
    ds = datasets.load("sines", n_samples=120)
    flat = ds.x_train.reshape(-1, 2)
    assert np.allclose(flat.mean(axis=0), 0, atol=1e-4) and np.allclose(flat.std(axis=0), 1, atol=1e-3)
    assert ds.feature_names == ("signal", "drift") and ds.scaler.n_features_in_ == 2


def test_a_3d_array_outside_the_unit_interval_is_not_guessed():
    series = np.random.default_rng(0).normal(size=(20, 12, 4))
    with pytest.raises(DataError) as caught:
        Dataset.from_arrays(series, [0, 1] * 10)
    assert "kind='timeseries'" in str(caught.value) and "255" in str(caught.value)
    ds = Dataset.from_arrays(series, [0, 1] * 10, kind="timeseries")
    assert ds.kind == "timeseries" and ds.input_shape == (12, 4) and len(ds.feature_names) == 4


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Dataset.from_arrays(np.ones((10, 3)), [0, 1] * 5, task="ranking"), "Unknown task 'ranking'"),
        (lambda: Dataset.from_arrays(np.ones((10, 3)), ["a", "b"] * 5, task="regression"), "must be numbers"),
        (lambda: Dataset.from_arrays(np.ones((10, 3)), np.ones(10) * 0.5, class_names=["a"]), "class_names"),
        (lambda: Dataset.from_arrays([[1, -2]] * 10, [0, 1] * 5, kind="sequence"), "non-negative"),
        (lambda: Dataset.from_arrays([[1, 5]] * 10, [0, 1] * 5, vocabulary_size=4), "vocabulary size is 4"),
        (lambda: Dataset.from_arrays([[1, 2]] * 10, [0, 1] * 5, vocabulary=["a", "b"]), "vocabulary size"),
        (lambda: Dataset.from_arrays(np.ones((10, 3)), [0, 1] * 5, kind="timeseries"), "(samples, steps"),
        (
            lambda: Dataset.from_arrays(np.ones((10, 3)), np.full((10, 2), 0.5), task="multilabel"),
            "rows of 0 and 1",
        ),
        (lambda: Dataset.from_arrays(np.ones((2, 3)), [0.5, 1.5]), "test_size=0.2 of 2 samples"),
    ],
)
def test_bad_tasks_and_kinds_raise_a_data_error_with_a_fix(make, fragment):
    with pytest.raises(DataError) as caught:
        make()
    assert fragment in str(caught.value) and caught.value.fix
