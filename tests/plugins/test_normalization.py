"""The normalization lesson: scikit-learn's scalers, the elongated raw surface, plotted values, refusals."""

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import dlviz
from dlviz.errors import ParamsError
from plugins.normalization import Normalization
from plugins.normalization.plugin import Params
from plugins.normalization.training import build_model, features, hessian_eigenvalues, raw_features


@pytest.fixture(scope="module")
def data():
    return raw_features(dlviz.registry.make_context(seed=0), Params())


def test_features_come_back_in_their_units_and_through_sklearn_scalers(data):
    spread = np.asarray(data.x_train).std(axis=0)
    assert spread.max() > 1e4 * spread.min()  # breast_cancer's raw features differ wildly in scale
    standard, _ = features("standard", data)
    np.testing.assert_allclose(standard, StandardScaler().fit_transform(data.x_train), atol=1e-4)
    minmax, _ = features("minmax", data)
    np.testing.assert_allclose(minmax, MinMaxScaler().fit_transform(data.x_train), atol=1e-5)
    raw, _ = features("raw", data)
    np.testing.assert_array_equal(raw, np.asarray(data.x_train, np.float32))


def test_scaling_makes_the_loss_far_less_elongated(data):
    params = Params()
    ratios = {}
    for variant in ("raw", "standard"):
        x, _ = features(variant, data)
        values = hessian_eigenvalues(build_model(variant, data, params, seed=0), x, data.y_train)
        assert np.all(values > -1e-6 * values.max())  # a convex loss: no direction of negative curvature
        ratios[variant] = values.max()
    assert ratios["raw"] > 100 * ratios["standard"]


@pytest.fixture(scope="module")
def lesson():
    plugin = Normalization()
    params = dlviz.plugin.make_params(Params, {"epochs": 3})
    return plugin, dlviz.registry.run_plugin(plugin, dlviz.registry.make_context(seed=0), params)


@pytest.mark.slow
def test_every_variant_starts_equal_and_scaled_ones_train_better(lesson):
    plugin, result = lesson
    assert result.elongation("raw") > 1e3 * result.elongation("standard")
    assert result.stable_step("raw") > 2 > result.stable_step("standard")
    assert result.val_loss["standard"][-1] < result.val_loss["raw"][-1]
    centre = len(result.grid_offsets) // 2
    starts = [result.surfaces[variant][centre, centre] for variant in ("raw", "standard", "minmax")]
    assert all(np.isfinite(starts))
    assert {finding.severity for finding in plugin.diagnose(result)} == {"info", "warning"}


@pytest.mark.slow
def test_figures_plot_the_computed_values(lesson):
    plugin, result = lesson
    curves, curvature, surfaces = plugin.figures(result, "zh")
    np.testing.assert_allclose(curves.data[0].y, result.train_loss["raw"])
    np.testing.assert_allclose(
        curvature.data[0].y, [result.elongation(variant) for variant in result.variants]
    )
    np.testing.assert_allclose(surfaces.data[0].z, np.round(np.log10(result.surfaces["raw"]), 4))
    assert "原始特征" in surfaces.layout.annotations[0].text


def test_refusals_say_what_to_change():
    with pytest.raises(ParamsError, match="at least one"):
        Normalization().compute(dlviz.registry.make_context(seed=0), Params(variants=()))
