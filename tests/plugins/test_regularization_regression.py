"""The regularization lesson on regression data: every variant a regressor (linear output, Keras' mean
squared error) on the loaded set, losses equal to Keras' evaluate, predicted-vs-actual figures, findings."""

import keras
import numpy as np
import pytest

import dlviz
from dlviz import datasets
from dlviz.plugin import make_params
from plugins.regularization import Regularization
from plugins.regularization.data import lesson_data
from plugins.regularization.plugin import Params
from plugins.regularization.result import VARIANTS
from plugins.regularization.training import model_targets, summarise, train_variants

SMALL = {"n_train": 60, "width": 16, "epochs": 60, "batch_size": 20, "patience": 10}


@pytest.fixture(scope="module")
def lesson():
    """The lesson on diabetes (seed 0): the data, the trained variants and the result."""
    ctx = dlviz.registry.make_context(dataset=datasets.load("diabetes", seed=0), seed=0)
    params = make_params(Params, SMALL)
    data, notes = lesson_data(ctx, params)
    trained = train_variants(data, params, seed=0)
    return data, trained, summarise(data, params, trained, notes)


@pytest.mark.slow
def test_trains_regressors_on_the_loaded_regression_set(lesson):
    data, trained, result = lesson
    assert data.name == "diabetes" and result.task == "regression" and data.task == "regression"
    assert result.n_train == SMALL["n_train"] and result.n_validation == len(data.x_test)
    for run in trained.values():
        output = run.model.get_layer("output")
        assert output.units == 1 and output.activation is keras.activations.linear
        assert isinstance(run.model.loss, keras.losses.MeanSquaredError)
        assert "accuracy" not in run.history
    assert result.train_accuracy == {} and result.final_val_accuracy == {}
    assert result.grid_x is None


@pytest.mark.slow
def test_losses_are_keras_mse_of_the_returned_models(lesson):
    data, trained, result = lesson
    for variant in VARIANTS:
        model = trained[variant].model
        x_val, y_val = data.x_test, model_targets(data, data.y_test)
        mse = keras.losses.MeanSquaredError()
        assert result.final_val_loss[variant] == pytest.approx(
            float(mse(y_val, model.predict(x_val, verbose=0))), rel=1e-5
        )
        if not model.losses:  # evaluate adds the L1/L2 penalty to the loss
            evaluated = model.evaluate(x_val, y_val, verbose=0, return_dict=True)["loss"]
            assert result.final_val_loss[variant] == pytest.approx(evaluated, rel=1e-4)
            evaluated = model.evaluate(
                data.x_train, model_targets(data, data.y_train), verbose=0, return_dict=True
            )["loss"]
            assert result.final_train_loss[variant] == pytest.approx(evaluated, rel=1e-4)
        # in the target's units the MSE is the standardised one times the target's variance
        scale = float(data.target_scaler.scale_[0])
        assert result.final_val_mse_in_units[variant] == pytest.approx(
            result.final_val_loss[variant] * scale**2, rel=1e-4
        )
        predicted = data.in_target_units(model.predict(x_val, verbose=0))
        np.testing.assert_allclose(result.val_predictions_in_units[variant], predicted, rtol=1e-4, atol=1e-3)
        assert result.gap[variant] == pytest.approx(
            result.final_val_loss[variant] - result.final_train_loss[variant]
        )
    np.testing.assert_allclose(
        result.y_validation_in_units[:, 0], data.in_target_units(data.y_test), rtol=1e-5
    )


@pytest.mark.slow
def test_figures_show_losses_and_predictions_in_both_languages(lesson):
    _, _, result = lesson
    plugin = Regularization()
    for language, loss_name, target in (
        ("en", "MSE (standardised targets)", "disease progression"),
        ("zh", "均方误差 MSE（标准化目标）", "病情进展"),
    ):
        curves, bars, histograms, predictions = plugin.figures(result, language)
        assert curves.layout.yaxis.title.text == loss_name
        np.testing.assert_allclose(bars.data[1].y, [result.final_val_loss[v] for v in VARIANTS])
        assert f"{result.final_val_mse_in_units['none']:.4g}" in bars.data[1].text[0]
        points = [trace for trace in predictions.data if trace.mode == "markers"]
        assert len(points) == len(VARIANTS)
        np.testing.assert_allclose(points[0].x, result.y_validation_in_units[:, 0])
        np.testing.assert_allclose(points[0].y, result.val_predictions_in_units["none"][:, 0])
        assert target in predictions.layout.title.text and target in predictions.layout.xaxis4.title.text
        assert len(histograms.data) == 2 * len(VARIANTS)
    chinese = plugin.figures(result, "zh")
    assert "训练损失" in chinese[0].layout.title.text and "差距" in chinese[1].data[1].text[0]
    assert "原单位" in chinese[1].data[1].text[0] and "in units" in plugin.figures(result)[1].data[1].text[0]
    assert (
        "真实值" in chinese[3].data[1].hovertemplate and "验证 MSE" in chinese[3].layout.annotations[0].text
    )


@pytest.mark.slow
def test_diagnosis_reads_the_mse_gap(lesson):
    _, _, result = lesson
    findings = Regularization().diagnose(result)
    assert result.gap["none"] > 0.15  # 60 diabetes samples, 16x16 units: the plain regressor overfits
    assert findings and "regressor overfits" in findings[0].headline
    assert "MSE" in findings[0].advice and "MSE" in findings[0].headline_zh


@pytest.mark.slow
def test_friedman1_through_compute():
    ctx = dlviz.registry.make_context(dataset=datasets.load("friedman1", seed=0), seed=0)
    params = make_params(Params, {**SMALL, "epochs": 20})
    result = Regularization().compute(ctx, params)
    assert result.dataset_name == "friedman1" and result.task == "regression"
    assert len(Regularization().figures(result)) == 4


def test_a_multilabel_context_falls_back_to_moons_with_a_note():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    labels = rng.integers(0, 2, size=(40, 2))
    own = datasets.Dataset.from_arrays(x, labels, task="multilabel")
    data, notes = lesson_data(dlviz.registry.make_context(dataset=own, seed=0), Params())
    assert data.name == "moons" and notes and "multilabel" in notes[0][0] and "多标签" in notes[0][1]


def test_a_time_series_regression_context_falls_back_to_moons_with_a_note():
    own = datasets.load("sines_forecast", seed=0)
    assert own.task == "regression" and own.kind == "timeseries"
    data, notes = lesson_data(dlviz.registry.make_context(dataset=own, seed=0), Params())
    assert data.name == "moons" and "timeseries" in notes[0][0] and "moons" in notes[0][1]
