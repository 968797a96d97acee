"""Plugins on regression and time-series data: a bundled regression set, a model from the zoo and a recorded
run go through every plugin that applies (the regularization lesson trains its variants as regressors on the
set); imbalance refuses with a reason in the UI language."""

import re

import numpy as np
import pytest

import dlviz
from dlviz import datasets, models
from dlviz.datasets import Dataset

CJK = re.compile(r"[\u4e00-\u9fff]")
REGRESSION_PLUGINS = (
    "shap",
    "attributions",
    "landscape",
    "gradients",
    "activations",
    "loss_functions",
    "model_summary",
    "regularization",
)


@pytest.fixture(scope="module")
def regression_run():
    full = datasets.load("diabetes")
    dataset = Dataset.from_arrays(
        full.x_train[:120],
        full.in_target_units(full.y_train[:120]),
        x_test=full.x_test[:40],
        y_test=full.in_target_units(full.y_test[:40]),
        feature_names=full.feature_names,
        target_names=full.target_names,
        name="diabetes",
    )
    model = models.build("mlp", dataset, hidden=(8,), learning_rate=1e-2)
    recorder = dlviz.Recorder.for_dataset(dataset, every=1)
    model.fit(dataset.x_train, dataset.y_train, epochs=2, verbose=0, callbacks=[recorder])
    return dataset, model, recorder.run


@pytest.mark.slow
@pytest.mark.parametrize("name", REGRESSION_PLUGINS)
def test_regression_capable_plugins_draw_on_a_regression_model(regression_run, name):
    dataset, model, run = regression_run
    assert dataset.task == "regression" and model.loss == "mean_squared_error"
    for language in ("en", "zh"):
        figures = dlviz.figures(name, model=model, dataset=dataset, run=run, language=language)
        assert figures and all(figure.data for figure in figures), name


def test_imbalance_refuses_regression_through_is_compatible():
    dataset = datasets.load("curve", n_samples=40)
    model = models.build("logreg", dataset)
    plugin = dlviz.get_plugin("imbalance")
    for language in ("en", "zh"):
        verdict = plugin.is_compatible(dlviz.Context(model=dlviz.wrap(model), dataset=dataset, language=language))
        assert isinstance(verdict, str) and ("regression" in verdict)
        assert bool(CJK.search(verdict)) == (language == "zh")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["shap", "attributions", "gradients", "activations", "landscape"])
def test_time_series_models_are_explained_and_inspected(name):
    dataset = datasets.load("sines_forecast", n_samples=120, length=10)
    model = models.build("gru", dataset, hidden=(6,))
    recorder = dlviz.Recorder.for_dataset(dataset, every=1)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, verbose=0, callbacks=[recorder])
    figures = dlviz.figures(name, model=model, dataset=dataset, run=recorder.run)
    assert figures and all(figure.data for figure in figures)


def _context(dataset, model, language="en"):
    return dlviz.Context(model=dlviz.wrap(model), dataset=dataset, language=language)


@pytest.mark.slow
def test_attributions_of_a_regressor_are_in_the_target_units():
    from plugins.attributions import Params, attribute

    dataset = datasets.load("diabetes")
    model = models.build("mlp", dataset, hidden=(6,), learning_rate=1e-2)
    model.fit(dataset.x_train[:64], dataset.y_train[:64], epochs=1, verbose=0)
    result = attribute(_context(dataset, model), Params(methods=("integrated_gradients",), n_samples=4, steps=64))
    predicted = dataset.in_target_units(model.predict(dataset.x_test[:4], verbose=0)[:, 0])
    assert result.regression and result.class_names == ("disease progression",)
    assert result.outputs == pytest.approx(predicted, rel=1e-4) and result.probabilities == pytest.approx(predicted)
    baseline = dataset.in_target_units(model.predict(np.zeros((1, 10), np.float32), verbose=0)[:, 0])
    assert result.ig_deltas == pytest.approx(predicted - baseline, rel=1e-3)
    assert result.maps["integrated_gradients"].sum(axis=1) == pytest.approx(result.ig_deltas, rel=0.05, abs=0.5)
    for language, name in (("en", "predicted disease progression"), ("zh", "预测的病情进展")):
        figures = dlviz.get_plugin("attributions").figures(result, language)
        assert name in figures[0].layout.title.text and "p =" not in figures[0].layout.title.text


@pytest.mark.slow
def test_shap_of_a_regressor_is_in_the_target_units():
    from plugins.shap import Params, shap_values

    dataset = datasets.load("diabetes")
    model = models.build("mlp", dataset, hidden=(6,), learning_rate=1e-2)
    model.fit(dataset.x_train[:64], dataset.y_train[:64], epochs=1, verbose=0)
    result = shap_values(_context(dataset, model), Params(explainer="kernel", background=10, n_samples=3))
    predicted = dataset.in_target_units(model.predict(dataset.x_test[:3], verbose=0)[:, 0])
    assert result.regression and result.outputs == pytest.approx(predicted, rel=1e-4)
    assert result.base_values + result.values.sum(axis=1) == pytest.approx(predicted, rel=1e-3, abs=0.5)
    for language, name in (("en", "predicted disease progression"), ("zh", "预测的病情进展")):
        waterfall = dlviz.get_plugin("shap").figures(result, language)[2]
        assert name in waterfall.layout.title.text and waterfall.layout.xaxis.title.text == name


@pytest.mark.slow
def test_explanation_methods_compare_on_a_gru_forecaster_in_the_target_units():
    from plugins.explanation_methods.compute import compare
    from plugins.explanation_methods.plugin import Params

    dataset = datasets.load("sines_forecast", n_samples=80, length=10)
    model = models.build("gru", dataset, hidden=(4,))
    model.fit(dataset.x_train, dataset.y_train, epochs=1, verbose=0)
    params = Params(n_samples=3, lime_samples=200, background=10)
    result = compare(_context(dataset, model), params)
    predicted = dataset.in_target_units(model.predict(dataset.x_test[:3], verbose=0)[:, 0])
    assert result.regression and result.probabilities == pytest.approx(predicted, rel=1e-4, abs=1e-4)
    assert all(values.shape == (3, 20) for values in result.importances.values())
    assert np.all(np.isfinite(result.spearman)) and np.any(result.importances["lime"])
    for language, name in (("en", "predicted next signal"), ("zh", "预测的下一个信号值")):
        figures = dlviz.get_plugin("explanation_methods").figures(result, language)
        assert any(name in (figure.layout.title.text or "") for figure in figures)
