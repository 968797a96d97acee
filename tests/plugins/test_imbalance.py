"""The imbalance workbench: real training effects, sampler promises, an untouched test split, skips, figures."""

import pickle
import types

import keras
import numpy as np
import pytest
from sklearn import metrics

import dlviz
from dlviz.errors import ParamsError
from dlviz.plugin import make_params
from dlviz.registry import make_context, run_plugin
from plugins.imbalance import plugin as imbalance_plugin
from plugins.imbalance.data import fingerprint
from plugins.imbalance.metrics import THRESHOLDS
from plugins.imbalance.resampling import BalancedBatches, StrategyNotApplicable, resample


def compute(dataset, *, model=None, seed=0, progress=None, **params):
    plugin = dlviz.get_plugin("imbalance")
    ctx = make_context(dataset=dataset, model=model, seed=seed, progress=progress)
    return run_plugin(plugin, ctx, make_params(plugin.Params, params))


def figures(result, language="en"):
    return dlviz.get_plugin("imbalance").figures(result, language=language)


def figure_titled(result, words, language="en"):
    matches = [figure for figure in figures(result, language) if words in figure.layout.title.text]
    assert len(matches) == 1, [figure.layout.title.text for figure in figures(result, language)]
    return matches[0]


@pytest.fixture(scope="module")
def imbalanced():
    return dlviz.datasets.load("imbalanced", seed=0)


@pytest.fixture(scope="module")
def small_imbalanced():
    return dlviz.datasets.load("imbalanced", seed=0, n_samples=400, minority=0.1)


@pytest.fixture(scope="module")
def trained(imbalanced):
    """none, class_weight and smote on the bundled imbalanced set (95:5), default MLP, 3 epochs."""
    return compute(imbalanced, strategies=("none", "class_weight", "smote"), epochs=3)


@pytest.mark.slow
def test_class_weight_and_smote_beat_none_on_minority_recall(trained):
    recall = {outcome.strategy: outcome.minority_recall for outcome in trained.outcomes}
    assert recall["none"] <= 0.2  # the untreated network all but ignores the 5% class
    assert recall["class_weight"] >= recall["none"] + 0.3
    assert recall["smote"] >= recall["none"] + 0.3
    assert trained.minority_classes == (1,) and trained.focus_class == 1


def test_metrics_are_sklearns_on_the_test_split(trained, imbalanced):
    y = imbalanced.y_test
    for outcome in trained.outcomes:
        positive = outcome.probabilities[:, 1]
        predicted = (positive >= 0.5).astype(int)
        np.testing.assert_array_equal(outcome.predictions, predicted)
        assert outcome.accuracy == pytest.approx(metrics.accuracy_score(y, predicted))
        assert outcome.balanced_accuracy == pytest.approx(metrics.balanced_accuracy_score(y, predicted))
        assert outcome.macro_f1 == pytest.approx(metrics.f1_score(y, predicted, average="macro"))
        assert outcome.roc_auc == pytest.approx(metrics.roc_auc_score(y, positive))
        assert outcome.pr_auc == pytest.approx(metrics.average_precision_score(y, positive))
        assert outcome.minority_recall == pytest.approx(metrics.recall_score(y, predicted))
        np.testing.assert_array_equal(outcome.confusion, metrics.confusion_matrix(y, predicted))
        at_03 = int(np.flatnonzero(np.isclose(THRESHOLDS, 0.3))[0])
        assert outcome.threshold_recall[at_03] == pytest.approx(metrics.recall_score(y, positive >= 0.3))


def test_figures_plot_the_computed_values(trained):
    distribution = figure_titled(trained, "Class distribution")
    assert [list(trace.y) for trace in distribution.data] == [
        trained.train_counts.tolist(),
        trained.test_counts.tolist(),
    ]
    assert "19.0 : 1" in distribution.layout.title.text

    scores = figure_titled(trained, "Test-split scores")
    keys = ["minority_recall", "balanced_accuracy", "macro_f1", "roc_auc", "pr_auc", "accuracy"]
    for trace, outcome in zip(scores.data, trained.outcomes, strict=True):
        assert trace.meta == outcome.strategy
        assert list(trace.y) == pytest.approx([getattr(outcome, key) for key in keys])

    per_class = figure_titled(trained, "Per-class precision and recall")
    by_metric = {trace.meta: np.array(trace.z) for trace in per_class.data}
    np.testing.assert_allclose(by_metric["precision"], [o.precision for o in trained.outcomes])
    np.testing.assert_allclose(by_metric["recall"], [o.recall for o in trained.outcomes])

    confusion = figure_titled(trained, "Confusion matrices")
    for trace, outcome in zip(confusion.data, trained.outcomes, strict=True):
        assert np.array(trace.text).tolist() == outcome.confusion.tolist()

    pr = figure_titled(trained, "Precision-recall curves")
    for trace, outcome in zip(pr.data, trained.outcomes, strict=False):
        assert trace.meta == outcome.strategy
        np.testing.assert_allclose(trace.x, outcome.pr_curve_recall)
        np.testing.assert_allclose(trace.y, outcome.pr_curve_precision)

    threshold = figure_titled(trained, "Decision threshold")
    curves = {trace.meta: trace for trace in threshold.data}
    for outcome in trained.outcomes:
        for key in ("threshold_precision", "threshold_recall", "threshold_f1"):
            plotted = np.array(
                [np.nan if v is None else v for v in curves[f"{outcome.strategy}:{key}"].y], float
            )
            np.testing.assert_allclose(plotted, getattr(outcome, key))
            np.testing.assert_allclose(curves[f"{outcome.strategy}:{key}"].x, THRESHOLDS)
    slider = threshold.layout.sliders[0]
    assert len(slider.steps) == len(THRESHOLDS)
    assert float(slider.steps[slider.active].label) == 0.5

    verdict = figure_titled(trained, "Verdict")
    assert trained.best_minority_recall in ("class_weight", "smote")
    assert (
        "misleading" in verdict.layout.annotations[0].text and "leaks" in verdict.layout.annotations[0].text
    )


def test_figures_in_chinese(trained):
    titles = " ".join(figure.layout.title.text for figure in figures(trained, "zh"))
    for term in ("类别分布", "召回率", "精确率", "决策阈值"):
        assert term in titles
    verdict = figure_titled(trained, "结论", "zh")
    assert "类别权重" in " ".join(verdict.data[0].cells.values[0])


@pytest.mark.slow
def test_test_split_is_identical_across_strategies_and_never_resampled(small_imbalanced, monkeypatch):
    seen = []
    original = imbalance_plugin.resample

    def recording(strategy, x, y, **kwargs):
        seen.append((strategy, len(x), fingerprint(x, y)))
        return original(strategy, x, y, **kwargs)

    monkeypatch.setattr(imbalance_plugin, "resample", recording)
    strategies = ("none", "oversample", "smote", "balanced_batches")
    result = compute(small_imbalanced, strategies=strategies, epochs=1)
    expected = fingerprint(small_imbalanced.x_test, small_imbalanced.y_test)
    assert result.test_fingerprint == expected
    assert {outcome.test_fingerprint for outcome in result.outcomes} == {expected}
    assert [strategy for strategy, _, _ in seen] == list(strategies)
    train = fingerprint(small_imbalanced.x_train, small_imbalanced.y_train)
    assert {(n, seen_fingerprint) for _, n, seen_fingerprint in seen} == {
        (len(small_imbalanced.y_train), train)
    }
    test_counts = np.bincount(small_imbalanced.y_test)
    for outcome in result.outcomes:
        np.testing.assert_array_equal(outcome.support, test_counts)
        np.testing.assert_array_equal(outcome.confusion.sum(axis=1), test_counts)
        assert len(outcome.probabilities) == len(small_imbalanced.y_test)
    assert result.outcome("oversample").train_counts.tolist() == [result.train_counts.max()] * 2


def _three_classes():
    random = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], [120, 45, 15]).astype(np.int64)
    x = (random.randn(len(y), 4) + y[:, None]).astype(np.float32)
    return x, y


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("none", [120, 45, 15]),
        ("class_weight", [120, 45, 15]),
        ("focal_loss", [120, 45, 15]),
        ("oversample", [120, 120, 120]),
        ("smote", [120, 120, 120]),
        ("undersample", [15, 15, 15]),
        ("balanced_batches", [15, 15, 15]),
    ],
)
def test_resampled_training_sets_have_the_promised_counts(strategy, expected):
    x, y = _three_classes()
    resampled = resample(strategy, x, y, n_classes=3, seed=0, batch_size=8)
    assert np.bincount(resampled.y, minlength=3).tolist() == expected
    assert resampled.x.shape == (sum(expected), 4)
    if strategy in ("oversample", "smote"):
        # the original rows come first, unchanged; the rest is what the sampler added
        np.testing.assert_array_equal(resampled.x[: len(y)], x)
        assert resampled.added.sum() == sum(expected) - len(y)
    if strategy == "class_weight":
        assert resampled.class_weight == pytest.approx(
            {c: len(y) / (3 * n) for c, n in enumerate([120, 45, 15])}
        )


def test_adasyn_grows_minority_classes_to_about_the_majority():
    x, y = _three_classes()
    counts = np.bincount(resample("adasyn", x, y, n_classes=3, seed=0).y)
    assert counts[0] == 120
    assert np.all(np.abs(counts[1:] - 120) <= 6)


def test_augment_balances_image_classes_with_transformed_images():
    random = np.random.RandomState(0)
    x = random.rand(30, 8, 8, 1).astype(np.float32)
    y = np.repeat([0, 1], [24, 6]).astype(np.int64)
    resampled = resample("augment", x, y, n_classes=2, kind="image", seed=0)
    assert np.bincount(resampled.y).tolist() == [24, 24]
    added = resampled.x[resampled.added]
    assert added.shape == (18, 8, 8, 1) and added.min() >= 0 and added.max() <= 1
    assert np.all(resampled.y[resampled.added] == 1)
    assert not any(np.array_equal(image, source) for image in added for source in x[y == 1])
    again = resample("augment", x, y, n_classes=2, kind="image", seed=0)
    np.testing.assert_array_equal(again.x, resampled.x)


def test_balanced_batches_redraw_the_majority_every_epoch():
    x, y = _three_classes()
    batches = BalancedBatches(x, y, batch_size=8, seed=0)
    first = batches.indices.copy()
    assert len(batches) == 6  # 45 samples in batches of 8, the last one partial
    assert np.concatenate([batches[i][1] for i in range(len(batches))]).tolist() == y[first].tolist()
    batches.on_epoch_end()
    second = batches.indices
    assert np.bincount(y[second]).tolist() == [15, 15, 15]
    assert set(first[y[first] == 0]) != set(second[y[second] == 0])
    assert set(first[y[first] == 2]) == set(second[y[second] == 2]) == set(np.flatnonzero(y == 2))


@pytest.mark.slow
def test_smote_with_too_few_minority_samples_is_skipped_with_reason_and_fix(small_imbalanced):
    result = compute(
        small_imbalanced,
        strategies=("none", "smote", "class_weight"),
        reduce_classes=(1,),
        keep_fraction=0.1,
        epochs=1,
    )
    assert result.train_counts[1] == 3
    assert [outcome.strategy for outcome in result.outcomes] == ["none", "class_weight"]
    (skipped,) = result.skipped
    assert skipped.strategy == "smote"
    assert "k_neighbors=5" in skipped.reason and "has 3" in skipped.reason
    assert "k_neighbors to 2" in skipped.fix and "oversample" in skipped.fix
    assert skipped.reason_zh and skipped.fix_zh
    table = figure_titled(result, "skipped")
    assert list(table.data[0].cells.values[0]) == ["SMOTE"]
    assert list(table.data[0].cells.values[1]) == [skipped.reason]


def test_augment_on_tabular_data_is_skipped_and_the_others_run(small_imbalanced):
    x, y = small_imbalanced.x_train, small_imbalanced.y_train
    with pytest.raises(StrategyNotApplicable, match="tabular"):
        resample("augment", x, y, n_classes=2, kind="tabular")
    result = compute(small_imbalanced, strategies=("augment", "none"), epochs=1)
    assert [outcome.strategy for outcome in result.outcomes] == ["none"]
    assert result.skipped[0].strategy == "augment" and "smote" in result.skipped[0].fix
    verdict = figure_titled(result, "Verdict")
    assert list(verdict.data[0].cells.values[0]) == ["no rebalancing", "augmentation"]
    assert verdict.data[0].cells.values[1][-1] == "skipped"


@pytest.mark.slow
def test_multilabel_target_skips_single_label_strategies_and_trains_the_rest():
    random = np.random.RandomState(0)
    x = random.randn(300, 6).astype(np.float32)
    labels = np.stack([x[:, 0] > 0, x[:, 1] > 1.2, x[:, 2] > -0.5], axis=1).astype(np.int64)
    dataset = types.SimpleNamespace(
        name="multi-label",
        kind="tabular",
        x_train=x[:240],
        y_train=labels[:240],
        x_test=x[240:],
        y_test=labels[240:],
        class_names=("a", "b", "c"),
    )
    result = compute(dataset, strategies=("none", "class_weight", "smote", "focal_loss"), epochs=2)
    assert result.multilabel
    assert [outcome.strategy for outcome in result.outcomes] == ["none", "focal_loss"]
    assert [skipped.strategy for skipped in result.skipped] == ["class_weight", "smote"]
    assert all("multi-label" in skipped.reason and "focal_loss" in skipped.fix for skipped in result.skipped)
    assert result.focus_class == 1  # label b is the rarest
    outcome = result.outcome("none")
    assert outcome.probabilities.shape == (60, 3)
    assert outcome.macro_f1 == pytest.approx(
        metrics.f1_score(labels[240:], outcome.probabilities >= 0.5, average="macro", zero_division=0)
    )
    assert outcome.confusion.shape == (3, 2, 2)
    assert all(figure.layout.title.text for figure in figures(result))


def test_every_strategy_starts_from_the_same_initial_weights(small_imbalanced):
    # Focal loss with gamma = 0 is plain binary cross-entropy: the same start, data order and loss
    # must give the same network.
    result = compute(small_imbalanced, strategies=("none", "focal_loss"), gamma=0.0, epochs=2)
    np.testing.assert_allclose(
        result.outcome("none").probabilities, result.outcome("focal_loss").probabilities, atol=1e-5
    )


def test_strategies_start_alike_with_dropout_in_the_context_model(small_imbalanced):
    model = keras.Sequential(
        [
            keras.Input((10,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    result = compute(small_imbalanced, model=model, strategies=("none", "focal_loss"), gamma=0.0, epochs=2)
    np.testing.assert_allclose(
        result.outcome("none").probabilities, result.outcome("focal_loss").probabilities, atol=1e-5
    )


@pytest.mark.slow
def test_deterministic_for_a_seed(small_imbalanced):
    first = compute(small_imbalanced, strategies=("smote", "balanced_batches"), epochs=2, seed=3)
    second = compute(small_imbalanced, strategies=("smote", "balanced_batches"), epochs=2, seed=3)
    for a, b in zip(first.outcomes, second.outcomes, strict=True):
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
    for a, b in zip(first.scatter, second.scatter, strict=True):
        np.testing.assert_array_equal(a.xy, b.xy)
    pickle.loads(pickle.dumps(first))


def test_uses_the_context_models_architecture_and_leaves_it_untouched(small_imbalanced):
    model = keras.Sequential(
        [keras.Input((10,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(1)],
        name="tiny_logits",
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.BinaryCrossentropy(from_logits=True)
    )
    before = [w.copy() for w in model.get_weights()]
    result = compute(small_imbalanced, model=model, strategies=("none", "focal_loss"), epochs=1)
    assert result.architecture.startswith("tiny_logits")
    for weight, kept in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(weight, kept)
    probabilities = result.outcome("none").probabilities
    assert np.all((probabilities >= 0) & (probabilities <= 1))  # linear output read as logits
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_digits_made_imbalanced_keeps_a_fraction_of_chosen_training_classes():
    digits = dlviz.datasets.load("digits", seed=0)
    result = compute(
        digits, strategies=("none",), epochs=1, reduce_classes=(3, 8), keep_fraction=0.1, architecture="mlp"
    )
    full = np.bincount(digits.y_train)
    for cls in range(10):
        expected = round(0.1 * full[cls]) if cls in (3, 8) else full[cls]
        assert result.train_counts[cls] == expected
    np.testing.assert_array_equal(result.test_counts, np.bincount(digits.y_test))
    assert result.minority_classes == (3, 8)
    assert not result.binary
    assert not any("Decision threshold" in figure.layout.title.text for figure in figures(result))


@pytest.mark.slow
def test_progress_is_reported_per_strategy(small_imbalanced):
    reports = []
    compute(
        small_imbalanced,
        strategies=("none", "class_weight"),
        epochs=2,
        progress=lambda f, m: reports.append((f, m)),
    )
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(message.startswith("none") for _, message in reports)
    assert any(message.startswith("class_weight") for _, message in reports)


def test_bad_parameters_and_incompatible_models_are_refused(small_imbalanced):
    with pytest.raises(ParamsError, match="at least one strategy"):
        compute(small_imbalanced, strategies=())
    with pytest.raises(ParamsError, match="not one of its choices"):
        compute(small_imbalanced, strategies=("bagging",))
    with pytest.raises(ParamsError, match="class id"):
        compute(small_imbalanced, reduce_classes=(5,))
    with pytest.raises(ParamsError, match="image"):
        compute(small_imbalanced, architecture="cnn")
    plugin = dlviz.get_plugin("imbalance")
    wrong = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3, activation="softmax")])
    verdict = plugin.is_compatible(make_context(dataset=small_imbalanced, model=wrong))
    assert isinstance(verdict, str) and "3 output unit" in verdict
    assert "dataset" in plugin.is_compatible(dlviz.Context())
