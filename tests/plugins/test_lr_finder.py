"""lr_finder: the range test runs on a copy (the user's model is untouched), from the run's first weights,
with exponentially rising learning rates; it marks the steepest descent and the divergence."""

import keras
import numpy as np
import pytest

import dlviz
from dlviz.plugin import make_params
from dlviz.registry import make_context, run_plugin
from dlviz.testing import tiny_context
from plugins.lr_finder import LRFinder
from plugins.lr_finder.compute import copy_of, learning_rates, smooth, steepest_descent


@pytest.fixture(scope="module")
def ctx():
    return tiny_context("points2d")


@pytest.fixture(scope="module")
def result(ctx):
    model = ctx.model.model
    weights = [w.copy() for w in model.get_weights()]
    optimizer_state = [v.numpy().copy() for v in model.optimizer.variables]
    found = run_plugin(LRFinder(), ctx, make_params(LRFinder.Params, {"steps": 60, "max_lr": 100.0}))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    assert all(
        np.array_equal(a, v.numpy()) for a, v in zip(optimizer_state, model.optimizer.variables, strict=True)
    )
    return found


def test_the_users_model_is_never_changed(result):
    assert len(result.losses) > 10  # the fixture checked weights and optimizer state around a real test


def test_rates_rise_exponentially_and_the_test_stops_at_divergence(result):
    ratios = result.learning_rates[1:] / result.learning_rates[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert result.learning_rates[0] == pytest.approx(1e-6)
    assert result.diverged == len(result.losses) - 1 and len(result.losses) < 60
    assert result.smoothed[result.diverged] > 4.0 * np.nanmin(result.smoothed[: result.diverged])


def test_the_suggestion_is_the_steepest_fall_before_the_minimum(result):
    assert result.steepest <= result.minimum
    slopes = np.gradient(
        result.smoothed[: result.minimum + 1], np.log10(result.learning_rates[: result.minimum + 1])
    )
    assert slopes[result.steepest] == slopes.min() < 0
    assert result.suggested_settings == {"learning_rate": result.suggested_learning_rate}
    assert result.optimizer == "Adam" and result.start == "initial"


def test_the_copy_starts_from_the_runs_first_weights(ctx):
    copy, start = copy_of(ctx.model, ctx.run, "initial")
    first = ctx.run.unflatten(ctx.run.snapshots[0])
    assert start == "initial" and copy is not ctx.model.model
    for variable, value in zip(copy.trainable_variables, first, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)
    assert not np.array_equal(ctx.model.model.trainable_variables[0].numpy(), first[0])  # it was trained
    current, start = copy_of(ctx.model, None, "initial")
    assert start == "current"
    np.testing.assert_array_equal(
        current.trainable_variables[0].numpy(), ctx.model.model.trainable_variables[0]
    )


def test_smoothing_and_steepest_descent_on_a_known_curve():
    rates = learning_rates(1e-4, 1.0, 5)
    np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    np.testing.assert_allclose(smooth(np.array([2.0, 2.0, 2.0]), 0.9), 2.0)  # bias-corrected: no drift from 0
    assert steepest_descent(rates, np.array([1.0, 0.9, 0.3, 0.2, 5.0])) == (1, 3)


def test_the_figure_marks_the_points_in_both_languages(result):
    figure = LRFinder().figures(result, "zh")[0]
    names = [trace.name for trace in figure.data]
    assert any(name.startswith("下降最快处") for name in names) and any(
        name.startswith("发散") for name in names
    )
    assert figure.layout.xaxis.type == "log"
    (star,) = [trace for trace in figure.data if trace.marker.symbol == "star"]
    assert star.x[0] == pytest.approx(result.suggested_learning_rate)
    assert "建议学习率" in LRFinder().diagnose(result)[0].text("zh")[0]


def test_refusals_are_clear():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    ctx = make_context(model=model, dataset=dlviz.datasets.load("xor", n_samples=50), language="zh")
    assert "编译" in LRFinder().is_compatible(ctx)
    with pytest.raises(dlviz.ParamsError, match="below"):
        run_plugin(
            LRFinder(),
            tiny_context("points2d"),
            make_params(LRFinder.Params, {"min_lr": 1e-2, "max_lr": 1e-2}),
        )
