"""The playground lesson: features, frames from one fit, boundary = model predictions, determinism, refusals."""

import keras
import numpy as np
import pytest

import dlviz
from dlviz.errors import DataError, ParamsError
from dlviz.plugin import make_params
from plugins._shared.lessons import grid_points
from plugins.playground import Playground
from plugins.playground.data import FEATURES, feature_matrix, playground_data
from plugins.playground.plugin import OPTIMIZERS, Params
from plugins.playground.training import label_array, parse_hidden, train_playground

SMALL = {"n_samples": 200, "epochs": 4, "resolution": 20, "batch_size": 20}


def run(seed=0, partial=None, **values):
    params = make_params(Params, {**SMALL, **values})
    data, notes = playground_data(dlviz.registry.make_context(seed=seed), params)
    model, result = train_playground(data, params, seed=seed, notes=notes, partial=partial)
    return data, model, result


@pytest.fixture(scope="module")
def xor_partials():
    """The xor run's partial results while it trains: (epochs done, result so far)."""
    return []


@pytest.fixture(scope="module")
def xor_run(xor_partials):
    return run(
        data="xor",
        features=tuple(FEATURES),
        hidden="3",
        epochs=5,
        partial=lambda so_far, done, epochs: xor_partials.append((done, so_far)),
    )


def test_partial_results_show_the_animation_so_far(xor_run, xor_partials):
    _, _, result = xor_run
    assert [done for done, _ in xor_partials] == [2, 4]  # 40% and 70% of 5 epochs (10% rounds to none)
    for done, so_far in xor_partials:
        np.testing.assert_array_equal(so_far.frames, result.frames[:done])
        np.testing.assert_array_equal(so_far.test_loss, result.test_loss[:done])
        assert set(so_far.unit_maps) == set(result.unit_maps)
    assert len(Playground().figures(xor_partials[0][1])) == 3


def test_feature_transforms():
    points = np.array([[0.5, -2.0], [1.0, 3.0]], dtype=np.float32)
    values = feature_matrix(points, tuple(FEATURES))
    x1, x2 = points[:, 0], points[:, 1]
    expected = np.column_stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)])
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    np.testing.assert_allclose(feature_matrix(points, ("x1*x2",)), (x1 * x2)[:, None])
    assert values.dtype == np.float32


def test_features_are_taken_in_canonical_order(xor_run):
    _, _, result = run(features=("sin x2", "x1"), epochs=1)
    assert result.features == ("x1", "sin x2")
    _, model, xor = xor_run
    assert xor.features == tuple(FEATURES) and model.input_shape == (None, len(FEATURES))


def test_hidden_layers_are_parsed():
    assert parse_hidden("4, 2") == (4, 2)
    assert parse_hidden(" 8 ") == (8,)
    assert parse_hidden("") == ()
    for bad in ("4, x", "0", "65", "1,1,1,1,1,1,1", "-3"):
        with pytest.raises(ParamsError):
            parse_hidden(bad)


def test_one_frame_per_epoch(xor_run):
    _, _, result = xor_run
    assert result.frames.shape == (5, 20, 20)
    for series in (result.train_loss, result.test_loss, result.train_accuracy, result.test_accuracy):
        assert series.shape == (5,)


def test_boundary_equals_model_predictions_on_the_grid(xor_run):
    _, model, result = xor_run
    grid = feature_matrix(grid_points(result.grid_x, result.grid_y), result.features)
    predicted = model.predict(grid, verbose=0)[:, 0].reshape(result.frames[-1].shape)
    np.testing.assert_allclose(result.frames[-1], predicted, atol=1e-6)
    # Each grid row is one x2 value, each column one x1 value, as the heatmap draws them.
    row, col = 3, 11
    point = np.array([[result.grid_x[col], result.grid_y[row]]], dtype=np.float32)
    alone = model.predict(feature_matrix(point, result.features), verbose=0)[0, 0]
    assert result.frames[-1][row, col] == pytest.approx(float(alone), abs=1e-6)


def test_recorded_losses_are_keras_losses_of_the_final_model(xor_run):
    data, model, result = xor_run
    test_features = feature_matrix(data.x_test, result.features)
    loss = keras.losses.BinaryCrossentropy()(
        label_array(data.y_test, 2), model.predict(test_features, verbose=0)
    )
    assert result.test_loss[-1] == pytest.approx(float(loss), abs=1e-6)


def test_unit_maps_are_the_hidden_units_outputs(xor_run):
    _, model, result = xor_run
    maps = result.unit_maps["hidden_1"]
    assert maps.shape == (3, len(result.unit_grid_y), len(result.unit_grid_x))
    probe = keras.Model(model.inputs, model.get_layer("hidden_1").output)
    grid = feature_matrix(grid_points(result.unit_grid_x, result.unit_grid_y), result.features)
    outputs = probe.predict(grid, verbose=0)
    np.testing.assert_allclose(maps[1].ravel(), outputs[:, 1], atol=1e-6)
    np.testing.assert_allclose(result.feature_maps[4].ravel(), grid[:, 4])


@pytest.mark.slow
def test_training_is_deterministic():
    _, _, first = run(data="moons")
    _, _, second = run(data="moons")
    np.testing.assert_array_equal(first.frames, second.frames)
    np.testing.assert_array_equal(first.test_loss, second.test_loss)
    _, _, other = run(seed=1, data="moons")
    assert not np.array_equal(first.frames, other.frames)


def test_multiclass_spirals():
    _, _, result = run(data="spirals", classes=3, hidden="8", epochs=2)
    assert result.class_names == ("arm 1", "arm 2", "arm 3")
    assert result.frames.shape == (2, 20, 20, 3)
    np.testing.assert_allclose(result.frames.sum(axis=-1), 1.0, atol=1e-5)
    assert set(np.unique(result.y_train)) == {0, 1, 2}
    boundary = Playground().figures(result, "zh")[0]
    np.testing.assert_array_equal(boundary.data[0].z, result.frames[-1].argmax(axis=-1))


def test_logistic_regression_and_any_keras_optimizer():
    assert {"SGD", "Adam", "RMSprop", "Adagrad", "Nadam", "Lion"} <= set(OPTIMIZERS)
    _, model, result = run(hidden="", optimizer="RMSprop", regularization="L2", epochs=2)
    assert result.unit_maps == {} and isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert isinstance(model.get_layer("output").kernel_regularizer, keras.regularizers.L2)


def test_figures_show_the_recorded_frames(xor_run):
    _, _, result = xor_run
    animation, losses, units = Playground().figures(result, "en")
    assert [int(frame.name) for frame in animation.frames] == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(animation.frames[-1].data[0].z, np.round(result.frames[-1], 3))
    np.testing.assert_allclose(animation.data[0].z, np.round(result.frames[-1], 3))
    np.testing.assert_allclose(losses.data[0].y, result.train_loss)
    np.testing.assert_allclose(losses.data[1].y, result.test_loss)
    assert len(units.data) == len(result.features) + 3


def test_context_data_needs_two_dimensional_points():
    with pytest.raises(DataError, match="2-D"):
        playground_data(dlviz.registry.make_context(dataset="iris"), Params(data="context"))
    data, _ = playground_data(dlviz.registry.make_context(dataset="gauss"), Params(data="context"))
    assert data.name == "gauss"


def test_refuses_no_feature():
    with pytest.raises(ParamsError, match="feature"):
        dlviz.compute("playground", features=(), epochs=1)


@pytest.mark.slow
def test_good_features_replace_hidden_layers():
    """The lesson's claim: a network without hidden layers separates circles only given x1², x2², xor only given x1·x2."""
    for data, plain, crafted in (
        ("circles", ("x1", "x2"), ("x1^2", "x2^2")),
        ("xor", ("x1", "x2"), ("x1*x2",)),
    ):
        _, _, straight = run(data=data, features=plain, hidden="", epochs=15)
        _, _, curved = run(data=data, features=crafted, hidden="", epochs=15)
        assert straight.test_accuracy[-1] < 0.7 < 0.9 < curved.test_accuracy[-1]


def test_notes_say_what_was_changed_in_both_languages():
    _, notes = playground_data(dlviz.registry.make_context(), Params(data="circles", noise=0.5, classes=3))
    english = " ".join(en for en, _ in notes)
    assert "noise up to 0.3" in english and "two classes" in english
    assert all(any("\u4e00" <= c <= "\u9fff" for c in zh) for _, zh in notes)


@pytest.fixture(scope="module")
def curve_run():
    return run(problem="regression", data="curve", features=("x1", "x1^2", "sin x1"), hidden="4", epochs=3)


def test_regression_on_the_curve_fits_one_linear_unit_on_the_mse(curve_run):
    data, model, result = curve_run
    assert result.task == "regression" and result.target_name == "y" and result.grid_y.size == 0
    assert model.get_layer("output").activation.__name__ == "linear" and model.loss == "mean_squared_error"
    predicted = model.predict(feature_matrix(result.grid_x[:, None], result.features), verbose=0)[:, 0]
    assert result.frames.shape == (3, len(result.grid_x))
    np.testing.assert_allclose(result.frames[-1], predicted, atol=1e-5)
    mse = keras.losses.MeanSquaredError()(
        data.y_test[:, None], model.predict(feature_matrix(data.x_test, result.features), verbose=0)
    )
    assert result.test_loss[-1] == pytest.approx(float(mse), rel=1e-5)
    assert (
        result.unit_maps["hidden_1"].shape == (4, len(result.unit_grid_x)) and result.test_accuracy.size == 0
    )


def test_regression_figures_draw_the_predicted_curve(curve_run):
    _, _, result = curve_run
    for language in ("en", "zh"):
        curve, losses, units = Playground().figures(result, language)
        np.testing.assert_allclose(curve.data[0].y, np.round(result.frames[-1], 4))
        np.testing.assert_allclose(curve.frames[0].data[0].y, np.round(result.frames[0], 4))
        np.testing.assert_allclose(losses.data[1].y, result.test_loss)
        assert len(units.data) == len(result.features) + 4
    assert "均方误差" in Playground().figures(result, "zh")[1].layout.yaxis.title.text


@pytest.mark.slow
def test_regression_over_the_plane_draws_the_predicted_surface():
    data, model, result = run(problem="regression", data="multigauss", hidden="3", epochs=2)
    grid = feature_matrix(grid_points(result.grid_x, result.grid_y), result.features)
    predicted = model.predict(grid, verbose=0)[:, 0].reshape(result.frames[-1].shape)
    assert result.frames.shape == (2, 20, 20) and data.task == "regression"
    np.testing.assert_allclose(result.frames[-1], predicted, atol=1e-5)
    surface = Playground().figures(result, "en")[0]
    np.testing.assert_allclose(surface.data[0].z, np.round(result.frames[-1], 4))
    np.testing.assert_allclose(surface.data[1].marker.color, result.y_train)


def test_problem_and_data_must_match():
    context = dlviz.registry.make_context()
    with pytest.raises(ParamsError, match="classification set"):
        playground_data(context, Params(problem="regression", data="circles"))
    with pytest.raises(ParamsError, match="regression set"):
        playground_data(context, Params(data="plane"))
    with pytest.raises(DataError, match="one or two features"):
        playground_data(
            dlviz.registry.make_context(dataset="diabetes"), Params(problem="regression", data="context")
        )
    data, _ = playground_data(
        dlviz.registry.make_context(dataset="curve"), Params(problem="regression", data="context")
    )
    assert data.name == "curve"
