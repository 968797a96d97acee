"""The initialization lesson: Keras' initialisers with their documented variance, the symmetry of zeros and
constant starts, the vanishing signal of a small start, plotted values and refusals."""

import numpy as np
import pytest

import dlviz
from dlviz import datasets, models
from dlviz.errors import ParamsError
from plugins.initialization import Initialization
from plugins.initialization.compute import build_model
from plugins.initialization.plugin import Params

WIDTH = 128


def documented_variance(name: str, fan_in: int, fan_out: int) -> float:
    """The kernel variance the Keras documentation gives for each initialiser of the lesson."""
    return {
        "glorot_uniform": 2 / (fan_in + fan_out),
        "he_normal": 2 / fan_in,
        "lecun_normal": 1 / fan_in,
        "small_normal": models.SMALL_NORMAL_STDDEV**2,
        "large_normal": models.LARGE_NORMAL_STDDEV**2,
    }[name]


@pytest.mark.parametrize(
    "name", ["glorot_uniform", "he_normal", "lecun_normal", "small_normal", "large_normal"]
)
def test_kernels_have_the_initialisers_documented_variance(name):
    data = datasets.load("moons", n_samples=100)
    model = build_model(data, Params(width=WIDTH, depth=2), name, seed=3)
    kernel = model.get_layer("hidden_2").kernel.numpy().ravel()
    expected = documented_variance(name, WIDTH, WIDTH)
    # Standard error of a sample variance: sqrt((m4 - var^2) / n), with m4 = 3 var^2 for a normal and
    # 9/5 var^2 for a uniform; the truncated normals of He and LeCun lie between the two.
    error = expected * np.sqrt(2 / kernel.size)
    assert abs(kernel.var() - expected) < 4 * error, (kernel.var(), expected)
    assert abs(kernel.mean()) < 4 * np.sqrt(expected / kernel.size)


@pytest.fixture(scope="module")
def lesson():
    plugin = Initialization()
    params = dlviz.plugin.make_params(
        Params, {"depth": 4, "width": 16, "epochs": 3, "samples": 200, "activation": "tanh"}
    )
    return plugin, dlviz.registry.run_plugin(plugin, dlviz.registry.make_context(seed=0), params)


@pytest.mark.slow
def test_zeros_and_constant_starts_leave_identical_units(lesson):
    _, result = lesson
    assert set(result.symmetric) == {"zeros", "constant"}
    for name in ("zeros", "constant"):
        outputs = result.unit_outputs[name]
        np.testing.assert_allclose(outputs, outputs[:, :1].repeat(outputs.shape[1], axis=1), atol=1e-6)
    glorot = result.initializers.index("glorot_uniform")
    assert np.all(result.distinct_units[glorot] == result.width)
    zeros = result.initializers.index("zeros")
    assert not np.any(result.activation_std[zeros]) and not np.any(result.gradient_norms[zeros])


@pytest.mark.slow
def test_a_small_start_shrinks_the_signal_layer_by_layer_and_fan_scaled_ones_keep_it(lesson):
    plugin, result = lesson
    small = result.activation_std[result.initializers.index("small_normal")][:-1]
    assert np.all(np.diff(small) < 0) and small[-1] < 1e-3 * small[0]
    for name in ("glorot_uniform", "lecun_normal"):
        spread = result.activation_std[result.initializers.index(name)][:-1]
        assert spread.max() < 10 * spread.min()
    headlines = " ".join(finding.headline for finding in plugin.diagnose(result))
    assert "normal σ = 0.01" in headlines and "shrinks" in headlines and "symmetry" in headlines


@pytest.mark.slow
def test_weight_spread_at_step_zero_is_the_models_own(lesson):
    _, result = lesson
    he = result.initializers.index("he_normal")
    expected = np.sqrt([2 / fan for fan in result.fan_in])
    np.testing.assert_allclose(result.weight_std[he][1:-1], expected[1:-1], rtol=0.3)
    constant = result.initializers.index("constant")
    np.testing.assert_allclose(result.weight_std[constant], 0.0, atol=1e-6)


@pytest.mark.slow
def test_figures_plot_every_initialiser(lesson):
    plugin, result = lesson
    step_zero, curves, symmetry = plugin.figures(result, "zh")
    assert len(step_zero.data) == 2 * len(result.initializers)
    zeros = result.initializers.index("zeros")
    plotted = np.asarray(step_zero.data[2 * zeros].y, dtype=float)
    assert np.all(np.isnan(plotted))  # zeros cannot be drawn on a log scale: said in an annotation instead
    assert any("全零" in annotation.text for annotation in step_zero.layout.annotations)
    first = curves.data[0]
    np.testing.assert_allclose(first.y, result.train_loss[result.initializers[0]])
    assert len(symmetry.data) == len(result.initializers)
    np.testing.assert_allclose(symmetry.data[-1].z, np.round(result.unit_outputs[result.initializers[-1]], 4))


def test_refusals_say_what_to_change():
    ctx = dlviz.registry.make_context(seed=0)
    with pytest.raises(ParamsError, match="at least one"):
        Initialization().compute(ctx, Params(initializers=()))
    with pytest.raises(ParamsError, match="at most"):
        Initialization().compute(ctx, Params(samples=100, batch_size=200))
