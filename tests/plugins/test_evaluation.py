"""The `evaluation` plugin: its scores against scikit-learn on the model's own predictions, the gallery of
confident mistakes, the scores at a run's snapshots, regression, and what the figures hold."""

import dataclasses
import pickle
import re
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from sklearn import metrics

from dlviz import datasets, models
from dlviz.datasets import Dataset
from dlviz.errors import DataError
from dlviz.plugin import make_params
from dlviz.recorder import Recorder
from dlviz.registry import make_context, run_plugin
from plugins._shared.snapshots import SNAPSHOTS_NOT_SHOWN, SnapshotModel, snapshot_indices
from plugins.evaluation import ClassificationResult, Evaluation, RegressionResult
from plugins.evaluation.metrics import class_scores

PLUGIN = Evaluation()


def evaluated(ctx, **values):
    return run_plugin(PLUGIN, ctx, make_params(Evaluation.Params, values))


@pytest.fixture(scope="module")
def image_result(image):
    return evaluated(image, gallery_size=4, max_snapshots=5)


def test_scores_are_scikit_learns_on_the_models_predictions(image, image_result):
    x, y = image.dataset.x_test, image.dataset.y_test
    predicted = image.model.predict(x).argmax(axis=1)
    result = image_result
    assert result.n_samples == len(x)
    np.testing.assert_array_equal(
        result.metrics.confusion, metrics.confusion_matrix(y, predicted, labels=range(10))
    )
    assert result.metrics.accuracy == pytest.approx((predicted == y).mean())
    assert result.metrics.support.sum() == len(x)
    np.testing.assert_allclose(
        result.metrics.recall,
        metrics.recall_score(y, predicted, labels=range(10), average=None, zero_division=0),
    )
    # top-1 accuracy is the accuracy; more guesses never score lower
    assert result.metrics.top_k[0] == pytest.approx(result.metrics.accuracy)
    assert np.all(np.diff(result.metrics.top_k) >= 0)
    assert result.calibration.counts.sum() == len(x)
    present = set(np.unique(y).tolist())
    assert {curve.class_index for curve in result.roc} == present
    assert all(0 <= curve.area <= 1 for curve in result.roc + result.precision_recall)


def test_a_sigmoid_head_has_one_roc_curve_for_the_positive_class(tabular):
    result = evaluated(tabular, gallery_size=0, snapshots=False)
    scores = class_scores(tabular.model.predict(tabular.dataset.x_test), "sigmoid")
    (curve,) = result.roc
    assert curve.class_index == 1
    assert curve.area == pytest.approx(metrics.roc_auc_score(tabular.dataset.y_test, scores[:, 1]))
    assert len(result.metrics.top_k) == 0  # top-k means nothing with two classes
    assert "Top-k" not in " ".join(figure.layout.title.text for figure in PLUGIN.figures(result))


def test_gallery_shows_the_most_confidently_wrong_samples_with_their_maps(image, image_result):
    gallery = image_result.gallery
    scores = image.model.predict(image.dataset.x_test)
    predicted, confidence = scores.argmax(axis=1), scores.max(axis=1)
    wrong = predicted != image.dataset.y_test
    assert gallery.method == "grad_cam" and gallery.kind == "image"
    assert 0 < len(gallery.items) <= 4
    shown = [item.confidence for item in gallery.items]
    assert shown == sorted(shown, reverse=True)
    for item in gallery.items:
        assert wrong[item.index] and item.predicted_class == predicted[item.index]
        assert item.true_class == image.dataset.y_test[item.index] != item.predicted_class
        assert item.attribution.shape == image.dataset.x_test.shape[1:3]
    # no wrong sample left out is more confident than the least confident one shown
    left_out = np.setdiff1d(np.flatnonzero(wrong), [item.index for item in gallery.items])
    assert confidence[left_out].max(initial=0) <= min(shown) + 1e-6
    figure = PLUGIN.figures(image_result, "zh")[
        [t.startswith("置信度最高") for t in titles(image_result, "zh")].index(True)
    ]
    assert len(figure.data) == 2 * len(gallery.items)
    assert "真实" in figure.layout.title.text


def test_tabular_gallery_lists_the_features_with_the_largest_saliency(tabular):
    result = evaluated(tabular, gallery_size=3, gallery_method="saliency", snapshots=False)
    assert result.gallery.kind == "table"
    item = result.gallery.items[0]
    assert item.attribution.shape == (tabular.dataset.n_features,)
    table = PLUGIN.figures(result)[-1]
    features = table.data[0].cells.values[1]
    assert features[0] == result.gallery.feature_names[int(np.abs(item.attribution).argmax())]


def test_scores_at_each_snapshot_replay_the_recorded_weights_without_touching_the_model(image, image_result):
    before = [weights.copy() for weights in image.model.model.get_weights()]
    snapshots = image_result.snapshots
    run = image.run
    indices = snapshot_indices(len(run.snapshot_steps), 5)
    np.testing.assert_array_equal(snapshots.steps, run.snapshot_steps[indices])
    # recompute one snapshot independently: a Keras clone with the snapshot's weights set, Keras' predict
    clone = keras.models.clone_model(image.model.model)
    clone.set_weights(image.model.model.get_weights())
    for variable, value in zip(
        clone.trainable_variables, run.unflatten(run.snapshots[indices[1]]), strict=True
    ):
        variable.assign(value)
    predicted = clone.predict(image.dataset.x_test, verbose=0).argmax(axis=1)
    expected = metrics.confusion_matrix(image.dataset.y_test, predicted, labels=range(10))
    np.testing.assert_array_equal(snapshots.classification[1].confusion, expected)
    SnapshotModel(image.model, run).load(0)
    for old, new in zip(before, image.model.model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_the_snapshot_slider_has_a_frame_per_snapshot(image_result):
    figures = PLUGIN.figures(image_result, "zh")
    (slider_figure,) = [
        figure for figure in figures if figure.layout.title.text.startswith("训练过程中的混淆矩阵")
    ]
    steps = image_result.snapshots.steps
    assert len(slider_figure.frames) == len(steps)
    assert [step.label for step in slider_figure.layout.sliders[0].steps] == [str(int(s)) for s in steps]
    for frame, scores in zip(slider_figure.frames, image_result.snapshots.classification, strict=True):
        np.testing.assert_array_equal(frame.data[0].text, scores.confusion)


def test_confusion_matrices_name_classes_in_the_ui_language(image, image_result):
    confusion = PLUGIN.figures(image_result, "zh")[0]
    counts, normalised = confusion.data
    assert list(counts.x) == list(image.dataset.class_labels("zh"))
    np.testing.assert_array_equal(counts.z, image_result.metrics.confusion)
    rows = np.asarray(normalised.z).sum(axis=1)
    np.testing.assert_allclose(rows[image_result.metrics.support > 0], 1.0)
    assert "预测" in counts.hovertemplate and "predicted" not in counts.hovertemplate


def test_no_snapshot_view_for_a_run_of_another_model(image, tabular):
    result = evaluated(dataclasses.replace(image, run=tabular.run), gallery_size=0)
    assert result.snapshots is None
    assert SNAPSHOTS_NOT_SHOWN in result.page.notes


def test_result_pickles_and_labels_outside_the_head_are_refused(image, image_result):
    assert isinstance(pickle.loads(pickle.dumps(image_result)), ClassificationResult)
    binary_model = keras.Sequential(
        [
            keras.Input(image.dataset.input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    with pytest.raises(DataError, match="class"):
        evaluated(make_context(model=binary_model, dataset=image.dataset), gallery_size=0)


@pytest.fixture(scope="module")
def regression_context():
    """A linear target y = 2 x0 - x1 + noise (standardised by the dataset) and a Dense(1) model."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (2 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=200) + 50).astype(np.float32)
    dataset = Dataset.from_arrays(x[:150], y[:150], x_test=x[150:], y_test=y[150:], task="regression")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    recorder = Recorder.for_dataset(dataset, every=10)
    model.fit(dataset.x_train, dataset.y_train, epochs=12, verbose=0, callbacks=[recorder])
    return make_context(model=model, dataset=dataset, run=recorder.run)


def test_regression_scores_and_views_are_in_the_targets_units(regression_context):
    result = evaluated(regression_context)
    assert isinstance(result, RegressionResult)
    dataset = regression_context.dataset
    actual = dataset.in_target_units(dataset.y_test).reshape(-1)
    predicted = dataset.in_target_units(regression_context.model.predict(dataset.x_test)).reshape(-1)
    assert actual.mean() == pytest.approx(50, abs=1)  # the user's units, not standardised ones
    assert result.metrics.mae == pytest.approx(metrics.mean_absolute_error(actual, predicted), rel=1e-4)
    assert result.metrics.rmse == pytest.approx(metrics.root_mean_squared_error(actual, predicted), rel=1e-4)
    assert result.metrics.r2 == pytest.approx(metrics.r2_score(actual, predicted), rel=1e-4)
    assert result.metrics.r2 > 0.9 and not PLUGIN.diagnose(result)
    versus, residuals, histogram, over_run = PLUGIN.figures(result, "zh")
    np.testing.assert_allclose(versus.data[1].x, actual, rtol=1e-5)
    np.testing.assert_allclose(residuals.data[0].y, actual - predicted, rtol=1e-3, atol=1e-3)
    assert "预测值" in versus.layout.title.text and histogram.data[0].type == "histogram"
    # over the run the error falls: the last snapshot scores better than the first
    mae = [scores.mae for scores in result.snapshots.regression]
    assert mae[-1] < mae[0]
    np.testing.assert_allclose(over_run.data[0].y, mae)


def test_a_regressor_worse_than_the_mean_is_a_problem(regression_context):
    result = evaluated(regression_context)
    worse = dataclasses.replace(result, predicted=-result.actual)
    worse = dataclasses.replace(worse, metrics=dataclasses.replace(result.metrics, r2=-3.0))
    (finding,) = PLUGIN.diagnose(worse)
    assert finding.severity == "problem" and "R²" in finding.headline_zh


def titles(result, language):
    return [figure.layout.title.text for figure in PLUGIN.figures(result, language)]


def test_token_sequences_are_shown_as_their_words():
    dataset = datasets.load("sentiment")
    model = models.build("mlp", dataset, seed=0)  # a bag of words: untrained, so it makes mistakes
    result = evaluated(make_context(model=model, dataset=dataset), gallery_size=3, max_samples=100)
    gallery = result.gallery
    assert gallery.kind == "text" and gallery.method == ""
    item = gallery.items[0]
    tokens = [t for t in item.inputs.tolist() if t != 0]
    assert item.text.split() == [dataset.vocabulary[t] for t in tokens]
    table = PLUGIN.figures(result, "zh")[-1]
    assert table.data[0].cells.values[1][0] == item.text and "错误样本" in table.data[0].header.values[0]


def test_progress_and_page_notes_follow_the_language(tabular):
    messages = []
    ctx = dataclasses.replace(
        tabular, language="zh", progress=lambda fraction, message: messages.append(message)
    )
    result = evaluated(ctx, gallery_size=2, max_snapshots=3)
    assert messages and all(re.search(r"[\u4e00-\u9fff]", message) for message in messages)
    assert all(re.search(r"[\u4e00-\u9fff]", note) for note in result.page.notes_in("zh"))
    multilabel = SimpleNamespace(task="multilabel")
    assert "多标签" in PLUGIN.is_compatible(dataclasses.replace(ctx, dataset=multilabel))
