"""The dashboard's dataset summary and target histogram name a regression set's targets in the UI language."""

import numpy as np

from apps import charts
from dlviz import datasets


def test_summary_and_target_histogram_use_the_chinese_target_name():
    diabetes = datasets.load("diabetes", seed=0)
    assert diabetes.target_names == ("disease progression",) and diabetes.target_names_zh == ("病情进展",)
    assert "病情进展" in charts.dataset_summary(diabetes, "zh")
    assert "disease progression" not in charts.dataset_summary(diabetes, "zh")
    assert "disease progression" in charts.dataset_summary(diabetes, "en")
    assert charts.class_counts(diabetes, "zh").layout.xaxis.title.text == "病情进展"
    assert charts.class_counts(diabetes, "en").layout.xaxis.title.text == "disease progression"
    assert diabetes.summary()["target_names_zh"] == ["病情进展"]


def test_targets_without_chinese_names_fall_back_to_english():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)).astype(np.float32), rng.normal(size=40).astype(np.float32)
    own = datasets.Dataset.from_arrays(x, y, target_names=["price"])
    assert own.target_names_zh == () and own.summary()["target_names_zh"] == []
    assert "price" in charts.dataset_summary(own, "zh")
    assert charts.class_counts(own, "zh").layout.xaxis.title.text == "price"
