"""Attributions of sequences: a time series explained over time (a time × feature heatmap under the
series), token ids explained per token through the Embedding (Integrated Gradients on its output)."""

import numpy as np
import pytest

import dlviz
from dlviz import datasets, models
from plugins.attributions import Params, attribute


@pytest.fixture(scope="module")
def forecaster():
    dataset = datasets.load("sines_forecast", n_samples=80, length=10)
    model = models.build("gru", dataset, hidden=(4,))
    model.fit(dataset.x_train, dataset.y_train, epochs=1, verbose=0)
    return dataset, model


def test_time_series_attributions_are_drawn_over_time(forecaster):
    dataset, model = forecaster
    context = dlviz.Context(model=dlviz.wrap(model), dataset=dataset)
    result = attribute(context, Params(methods=("integrated_gradients", "saliency"), n_samples=2))
    assert result.series_shape == (10, 2) and result.series_features == ("signal", "drift")
    for language in ("en", "zh"):
        figure = dlviz.get_plugin("attributions").figures(result, language)[0]
        lines, heatmaps = figure.data[:2], figure.data[2:]
        np.testing.assert_allclose(lines[1].y, result.inputs[0][:, 1])
        assert [trace.type for trace in heatmaps] == ["heatmap", "heatmap"]
        for method, heatmap in zip(result.methods, heatmaps, strict=True):
            expected = result.maps[method][0].reshape(10, 2).T
            assert tuple(heatmap.y) == ("signal", "drift") and len(heatmap.x) == 10
            np.testing.assert_allclose(heatmap.customdata, expected)
            np.testing.assert_allclose(heatmap.z, np.round(expected / np.abs(expected).max(), 4))
