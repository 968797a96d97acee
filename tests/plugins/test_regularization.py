"""The regularization lesson: the invariants of issue 8 on the default noisy moons, plotted values, refusals."""

import numpy as np
import pytest

import dlviz
from dlviz import datasets
from dlviz.errors import ParamsError
from dlviz.plugin import make_params
from plugins.regularization import Regularization
from plugins.regularization.data import lesson_data
from plugins.regularization.plugin import Params
from plugins.regularization.result import VARIANTS
from plugins.regularization.training import loss_and_accuracy, summarise, train_variants


@pytest.fixture(scope="module")
def partials():
    """The lesson's partial results while it trains: (epochs done, result so far)."""
    return []


@pytest.fixture(scope="module")
def lesson(partials):
    """The default lesson (bundled noisy moons, seed 0): the data, the trained variants and the result."""
    ctx = dlviz.registry.make_context(seed=0)
    params = Params()
    data, notes = lesson_data(ctx, params)

    def partial(so_far, done, epochs):
        partials.append((done, summarise(data, params, so_far, notes)))

    trained = train_variants(data, params, seed=0, partial=partial)
    return data, trained, summarise(data, params, trained, notes)


def test_partial_results_show_the_curves_so_far(lesson, partials):
    _, _, result = lesson
    assert [done for done, _ in partials] == [20, 80, 140]  # 10%, 40% and 70% of 200 epochs
    for done, so_far in partials:
        for variant in VARIANTS:
            np.testing.assert_array_equal(so_far.val_loss[variant], result.val_loss[variant][:done])
        assert set(so_far.grid_outputs) == set(result.grid_outputs)
    first_view = Regularization().figures(partials[0][1])
    assert len(first_view) == 4 and len(first_view[0].data[0].y) == 20  # all figures, curves to epoch 20


@pytest.mark.slow
def test_default_data_is_a_small_noisy_bundled_set(lesson):
    data, _, result = lesson
    assert result.dataset_name == "moons" and data.kind == "points2d"
    assert result.n_train == Params().n_train < result.n_validation
    assert result.n_parameters > 10 * result.n_train  # over-parameterised


def test_every_variant_starts_from_the_same_weights(lesson):
    _, trained, _ = lesson
    start = trained["none"].initial_kernels
    for variant in VARIANTS:
        np.testing.assert_array_equal(trained[variant].initial_kernels, start)


def test_l1_drives_more_weights_to_zero_than_l2_and_none(lesson):
    _, _, result = lesson
    assert result.near_zero["l1"] > result.near_zero["l2"] > result.near_zero["none"]
    assert result.near_zero["l1"] > 0.5
    # L2 shrinks: smaller weights overall than without a penalty.
    assert np.mean(np.abs(result.weights["l2"])) < np.mean(np.abs(result.weights["none"]))


def test_early_stopping_restores_the_best_weights(lesson):
    data, trained, result = lesson
    run = trained["early_stopping"]
    history = run.history["val_loss"]
    assert result.stopped_epoch is not None and result.stopped_epoch == len(history) < Params().epochs
    assert result.stopped_epoch - run.best_epoch == Params().patience
    assert run.best_epoch == int(np.argmin(history)) + 1
    val_loss, _ = loss_and_accuracy(run.model, data.x_test, data.y_test, data.is_binary)
    assert val_loss == pytest.approx(float(history.min()), abs=1e-6)
    assert result.final_val_loss["early_stopping"] == pytest.approx(float(history.min()), abs=1e-6)


def test_the_unregularised_model_has_the_largest_validation_gap(lesson):
    _, _, result = lesson
    assert result.most_overfit == "none"
    assert result.gap["none"] > 0.15
    assert result.final_train_loss["none"] < min(result.final_train_loss[v] for v in VARIANTS if v != "none")


def test_curves_follow_the_training_loop(lesson):
    _, trained, result = lesson
    for variant in VARIANTS:
        assert len(result.train_loss[variant]) == len(trained[variant].history["loss"])
        if variant != "early_stopping":
            assert len(result.val_loss[variant]) == Params().epochs
            # The returned model is the last epoch's: its loss is the curve's last point.
            assert result.final_val_loss[variant] == pytest.approx(
                float(result.val_loss[variant][-1]), abs=1e-5
            )


def test_figures_plot_the_computed_values(lesson):
    _, _, result = lesson
    plugin = Regularization()
    curves, bars, histograms, boundaries = plugin.figures(result, "en")
    lines = [
        trace for trace in curves.data if trace.name in ("training loss", "validation loss (gap shaded)")
    ]
    assert len(lines) == 2 * len(VARIANTS)
    np.testing.assert_allclose(lines[0].y, result.train_loss["none"])
    np.testing.assert_allclose(lines[1].y, result.val_loss["none"])
    np.testing.assert_allclose(bars.data[0].y, [result.final_train_loss[v] for v in VARIANTS])
    np.testing.assert_allclose(bars.data[1].y, [result.final_val_loss[v] for v in VARIANTS])
    heat = boundaries.data[0]
    np.testing.assert_allclose(heat.z, np.round(result.grid_outputs["none"], 3))
    assert "L1" in histograms.layout.annotations[1].text
    chinese = plugin.figures(result, "zh")
    assert "训练损失" in chinese[0].layout.title.text and "早停" in chinese[1].layout.title.text


def test_diagnosis_names_the_overfitting(lesson):
    _, _, result = lesson
    findings = Regularization().diagnose(result)
    assert findings and "overfits" in findings[0].headline


@pytest.mark.slow
def test_uses_a_loaded_tabular_dataset():
    dataset = datasets.load("iris", seed=0)
    ctx = dlviz.registry.make_context(dataset=dataset, seed=0)
    params = make_params(Params, {"n_train": 30, "width": 8, "epochs": 20, "batch_size": 15})
    result = Regularization().compute(ctx, params)
    assert result.dataset_name == "iris" and result.kind == "tabular"
    assert result.n_train == 30 and result.n_validation == len(dataset.x_test)
    assert np.bincount(result.y_train).min() >= 9  # a stratified draw
    assert result.grid_x is None and len(Regularization().figures(result)) == 3


def test_an_image_context_falls_back_to_bundled_moons():
    ctx = dlviz.registry.make_context(dataset=datasets.load("digits", seed=0), seed=0)
    data, _ = lesson_data(ctx, Params())
    assert data.name == "moons"


def test_refuses_a_batch_larger_than_the_training_set():
    with pytest.raises(ParamsError, match="Batch size"):
        dlviz.compute("regularization", n_train=20, batch_size=50, epochs=20)
    with pytest.raises(ParamsError):
        make_params(Params, {"data": "mnist"})
