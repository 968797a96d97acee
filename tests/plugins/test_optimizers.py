"""The optimizer race: real Keras optimizers, paths, convergence, exact first steps, figures."""

import contextlib

import numpy as np
import pytest

import dlviz
from dlviz.errors import ParamsError
from dlviz.plugin import Context, draw_page, make_params
from plugins.optimizers import Optimizers
from plugins.optimizers.functions import FUNCTIONS
from plugins.optimizers.race import OPTIMIZERS

PLUGIN = Optimizers()


def race(**values):
    return PLUGIN.compute(Context(), make_params(Optimizers.Params, values))


@pytest.fixture(scope="module")
def ravine():
    """Every optimizer, tuned learning rates, on the convex quadratic."""
    return race(function="ravine", steps=500)


def numeric_gradient(spec, x, y, h=1e-6):
    f = spec.formula
    return np.array(
        [(f(x + h, y, np) - f(x - h, y, np)) / (2 * h), (f(x, y + h, np) - f(x, y - h, np)) / (2 * h)]
    )


@pytest.mark.parametrize("key", sorted(FUNCTIONS))
def test_known_minima_are_stationary_points_with_the_stated_value(key):
    spec = FUNCTIONS[key]
    assert spec.latex and spec.text
    for x, y in spec.minima:
        assert np.abs(numeric_gradient(spec, x, y)).max() < 1e-3
        if spec.min_value is not None:
            assert spec.formula(x, y, np) == pytest.approx(spec.min_value, abs=1e-9)
            grid = spec.formula(
                *np.meshgrid(np.linspace(*spec.x_range, 101), np.linspace(*spec.y_range, 101)), np
            )
            assert grid.min() >= spec.min_value - 1e-12


def test_every_path_starts_at_the_start_point(ravine):
    assert ravine.paths.shape == (len(OPTIMIZERS), 501, 2)
    np.testing.assert_array_equal(ravine.paths[:, 0], np.tile(np.float32(FUNCTIONS["ravine"].start), (8, 1)))
    custom = race(function="beale", steps=5, custom_start=True, start_x=0.5, start_y=-1.25)
    np.testing.assert_array_equal(custom.paths[:, 0], np.tile(np.float32([0.5, -1.25]), (8, 1)))
    assert custom.x_range == list(FUNCTIONS["beale"].x_range)  # inside the usual domain: unchanged


def test_a_start_outside_the_usual_domain_widens_the_plot():
    result = race(
        function="ravine", optimizers=("adam",), steps=5, custom_start=True, start_x=-8.0, start_y=0.5
    )
    contour = PLUGIN.figures(result)[0]
    assert result.x[0] < -8.0 < result.x[-1] and result.y_range == list(FUNCTIONS["ravine"].y_range)
    assert contour.layout.xaxis.range[0] == result.x[0] and contour.data[0].x[0] == pytest.approx(result.x[0])


def test_every_optimizer_with_a_sane_rate_converges_on_the_convex_quadratic(ravine):
    start_loss = ravine.losses[0, 0]
    for index, key in enumerate(ravine.optimizers):
        assert ravine.diverged_at[index] == -1
        assert np.hypot(*ravine.paths[index, -1]) < 0.1, key
        assert ravine.losses[index, -1] < start_loss * 1e-3, key
    assert all(finding.severity == "ok" for finding in PLUGIN.diagnose(ravine))


def test_the_paths_are_those_of_the_keras_optimizers_on_their_own(ravine):
    """The compiled race must step exactly like one optimizer in a plain eager loop."""
    import keras
    import tensorflow as tf

    spec = FUNCTIONS["ravine"]
    for key, optimizer in (
        ("adam", keras.optimizers.Adam(0.1)),
        ("momentum", keras.optimizers.SGD(0.1, momentum=0.9)),
    ):
        index = ravine.optimizers.index(key)
        position = keras.Variable(np.float32(spec.start))
        for _ in range(20):
            with tf.GradientTape() as tape:
                loss = spec.formula(position.value[0], position.value[1], tf.math)
            optimizer.apply_gradients([(tape.gradient(loss, position.value), position)])
        np.testing.assert_allclose(position.numpy(), ravine.paths[index, 20], rtol=1e-6, atol=1e-7)


def test_sgd_first_step_is_minus_learning_rate_times_gradient_exactly():
    rate = 0.0123
    result = race(function="rosenbrock", optimizers=("sgd",), steps=3, tuned_rates=False, lr_sgd=rate)
    start, gradient = result.paths[0, 0], result.gradients[0, 0]
    assert start.dtype == gradient.dtype == np.float32
    np.testing.assert_array_equal(result.paths[0, 1], start - gradient * np.float32(rate))
    np.testing.assert_allclose(gradient, [145.0, 50.0], rtol=1e-6)  # ∇f at (-1.5, 2.5), by hand
    np.testing.assert_allclose(gradient, numeric_gradient(FUNCTIONS["rosenbrock"], -1.5, 2.5), rtol=1e-4)


def test_results_are_deterministic():
    first = race(function="rastrigin", steps=60)
    second = race(function="rastrigin", steps=60)
    np.testing.assert_array_equal(first.paths, second.paths)
    np.testing.assert_array_equal(first.gradients, second.gradients)


def test_hyperparameters_reach_the_keras_optimizers():
    plain = race(function="ravine", optimizers=("momentum", "adam"), steps=30)
    changed = race(function="ravine", optimizers=("momentum", "adam"), steps=30, momentum=0.5, beta_1=0.5)
    assert not np.array_equal(plain.paths[0], changed.paths[0])
    assert not np.array_equal(plain.paths[1], changed.paths[1])
    assert dict(changed.hyperparameters)["momentum"] == 0.5


def test_a_too_large_learning_rate_is_reported_as_divergence_and_still_drawn():
    result = race(function="rosenbrock", optimizers=("sgd", "adam"), steps=50, tuned_rates=False, lr_sgd=1.0)
    step = result.diverged_at[0]
    assert 0 < step < 50 and result.diverged_at[1] == -1
    assert np.isnan(result.paths[0, step:]).all() and np.isfinite(result.paths[0, :step]).all()
    finding = PLUGIN.diagnose(result)[0]
    assert finding.severity == "problem" and finding.step == step and "SGD" in finding.headline
    contour = PLUGIN.figures(result)[0]
    assert contour.data[3].x[step] is None


def test_saddle_escape_is_diagnosed():
    result = race(function="saddle", optimizers=("sgd", "adam"), steps=100)
    sgd, adam = PLUGIN.diagnose(result)
    assert sgd.severity == "warning" and "saddle" in sgd.headline
    assert adam.severity == "ok"


def test_contour_figure_plots_the_computed_paths_with_frames_slider_and_play_button():
    result = race(function="himmelblau", steps=200)
    contour, losses, surface = PLUGIN.figures(result)
    minima = contour.data[1]
    np.testing.assert_allclose(np.c_[minima.x, minima.y], FUNCTIONS["himmelblau"].minima)
    np.testing.assert_allclose(
        [contour.data[2].x[0], contour.data[2].y[0]], FUNCTIONS["himmelblau"].start, rtol=1e-6
    )
    for index, key in enumerate(result.optimizers):
        line, marker = contour.data[3 + 2 * index], contour.data[4 + 2 * index]
        assert OPTIMIZERS[key].label in line.name
        np.testing.assert_allclose(np.c_[line.x, line.y], result.paths[index], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose([marker.x[0], marker.y[0]], result.paths[index, -1], rtol=1e-4)
        np.testing.assert_allclose(losses.data[index].y, result.losses[index], rtol=1e-4, atol=1e-12)
        assert surface.data[1 + index].name == line.name
    frames = contour.frames
    assert [frame.name for frame in frames][0] == "0" and frames[-1].name == "200"
    assert len(contour.layout.sliders[0].steps) == len(frames)
    assert contour.layout.updatemenus[0].buttons[0].method == "animate"
    first, last = frames[0].data, frames[-1].data
    np.testing.assert_allclose([first[1].x[0], first[1].y[0]], FUNCTIONS["himmelblau"].start)
    np.testing.assert_allclose([last[1].x[0], last[1].y[0]], result.paths[0, -1], rtol=1e-4)
    assert list(frames[-1].traces) == list(range(3, 3 + 2 * len(result.optimizers)))
    assert type(surface.data[0]).__name__ == "Surface"
    assert losses.layout.yaxis.type == "log" and losses.layout.xaxis.title.text


def test_contour_levels_are_log_scaled_and_labelled_in_f():
    result = race(function="rosenbrock", steps=2)
    contour = PLUGIN.figures(result)[0].data[0]
    z = np.array(contour.z, dtype=float)
    assert z.max() - z.min() > 4  # log10 of f spans several decades
    order = np.argsort(result.z.ravel())
    assert np.all(np.diff(z.ravel()[order]) >= -1e-3)  # levels rise with f
    labels = [float(text) for text in contour.colorbar.ticktext]
    assert labels == sorted(labels) and labels[-1] >= 1000
    saddle = PLUGIN.figures(race(function="saddle", steps=2))[0].data[0]
    assert saddle.zmid == 0 and np.nanmin(np.array(saddle.z, dtype=float)) < 0


def test_chinese_figures():
    result = race(function="beale", steps=5)
    titles = [figure.layout.title.text for figure in PLUGIN.figures(result, language="zh")]
    assert titles[0].startswith("优化器赛跑") and "Beale 函数" in titles[1]


def test_bad_parameters_are_refused():
    with pytest.raises(ParamsError, match="No optimizer"):
        race(optimizers=())
    with pytest.raises(ParamsError, match="not one of its choices"):
        make_params(Optimizers.Params, {"function": "sphere"})
    with pytest.raises(ParamsError, match="outside its range"):
        make_params(Optimizers.Params, {"steps": 0})
    with pytest.raises(ParamsError, match="not one of its choices"):
        make_params(Optimizers.Params, {"optimizers": ("sgd", "lbfgs")})


def test_quick_method_needs_no_model():
    figures = dlviz.figures("optimizers", function="ravine", optimizers=("adam",), steps=10)
    assert len(figures) == 3


class RecordingStreamlit:
    """Stands in for the streamlit module: records every call."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))

    def expander(self, *args, **kwargs):
        self.calls.append(("expander", args, kwargs))
        return contextlib.nullcontext()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_page_shows_the_function_its_note_and_every_update_rule_in_latex(language):
    result = race(function="beale", optimizers=("sgd", "adam", "nadam"), steps=5)
    st = RecordingStreamlit()
    draw_page(st, PLUGIN.page(result), language)
    latex = [args[0] for name, args, _ in st.calls if name == "latex"]
    assert latex == [FUNCTIONS["beale"].latex] + [OPTIMIZERS[key].latex for key in ("sgd", "adam", "nadam")]
    note, gradient_note = (args[0] for name, args, _ in st.calls if name == "caption")
    assert note == (FUNCTIONS["beale"].note if language == "en" else FUNCTIONS["beale"].note_zh)
    assert (
        gradient_note.startswith("g_t")
        and ("learning rate" if language == "en" else "学习率") in gradient_note
    )
    (title,) = (args[0] for name, args, _ in st.calls if name == "expander")
    assert ("update rules" if language == "en" else "更新规则") in title
    labels = [args[0] for name, args, _ in st.calls if name == "markdown"]
    expected = OPTIMIZERS["adam"].teaching if language == "en" else OPTIMIZERS["adam"].teaching_zh
    assert any("Adam" in label and expected in label for label in labels)
