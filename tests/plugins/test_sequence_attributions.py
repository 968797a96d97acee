"""Attributions of sequences: a time series explained over time (a time × feature heatmap under the
series), token ids explained per token through the Embedding (Integrated Gradients on its output)."""

import keras
import numpy as np
import pytest

import dlviz
from dlviz import datasets, models
from dlviz.errors import ParamsError
from plugins.attributions import Params, attribute
from plugins.attributions.result import COMPLETENESS_LIMIT


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


@pytest.fixture(scope="module")
def sentiment_lstm():
    dataset = datasets.load("sentiment", n_samples=400, length=8)
    model = models.build("lstm", dataset, hidden=(8,))
    model.fit(dataset.x_train, dataset.y_train, epochs=4, verbose=0)
    return dataset, model


def test_per_token_integrated_gradients_sum_to_the_prediction_difference(sentiment_lstm):
    dataset, model = sentiment_lstm
    context = dlviz.Context(model=dlviz.wrap(model), dataset=dataset)
    assert dlviz.get_plugin("attributions").is_compatible(context) is True
    result = attribute(context, Params(n_samples=6, steps=64, score="probability", target=1))
    assert result.methods == ("integrated_gradients", "gradient_x_input")
    assert result.maps["integrated_gradients"].shape == (6, 8)
    # The baseline (zero embedding vectors) through the same network: a copy whose embedding table is zero.
    zeroed = keras.models.clone_model(model)
    zeroed.set_weights(
        [
            np.zeros_like(w) if w.shape == model.get_layer("embedding").embeddings.shape else w
            for w in model.get_weights()
        ]
    )
    outputs = model.predict(dataset.x_test[:6], verbose=0)[:, 0]
    baseline = zeroed.predict(dataset.x_test[:6], verbose=0)[:, 0]
    np.testing.assert_allclose(result.outputs, outputs, atol=1e-5)
    sums = result.maps["integrated_gradients"].sum(axis=1)
    tolerance = COMPLETENESS_LIMIT * np.mean(np.abs(outputs - baseline))
    np.testing.assert_allclose(sums, outputs - baseline, atol=tolerance)
    assert result.completeness_error <= COMPLETENESS_LIMIT


def test_per_token_attributions_are_drawn_over_the_token_text(sentiment_lstm):
    dataset, model = sentiment_lstm
    result = attribute(dlviz.Context(model=dlviz.wrap(model), dataset=dataset), Params(n_samples=2))
    words = tuple(dataset.vocabulary[token] for token in dataset.x_test[0])
    assert result.tokens[0] == words
    for language in ("en", "zh"):
        figure = dlviz.get_plugin("attributions").figures(result, language)[0]
        heatmap = figure.data[0]
        assert tuple(heatmap.text[0]) == words and heatmap.texttemplate == "%{text}"
        np.testing.assert_allclose(heatmap.customdata[0], result.maps["integrated_gradients"][0])
    with pytest.raises(ParamsError, match="Embedding"):
        attribute(dlviz.Context(model=dlviz.wrap(model), dataset=dataset), Params(methods=("saliency",)))


def test_shap_of_a_time_series_is_drawn_over_time(forecaster):
    from plugins.shap import Params as ShapParams
    from plugins.shap import shap_values

    dataset, model = forecaster
    context = dlviz.Context(model=dlviz.wrap(model), dataset=dataset, language="zh")
    result = shap_values(context, ShapParams(n_samples=3, background=10, explainer="gradient"))
    assert result.series_shape == (10, 2)
    figure = dlviz.get_plugin("shap").figures(result, "zh")[-1]
    assert figure.layout.title.text.startswith("随时间的 SHAP")
    np.testing.assert_allclose(figure.data[0].z, result.values[0].reshape(10, 2).T)
    np.testing.assert_allclose(figure.data[1].z, np.abs(result.values).mean(axis=0).reshape(10, 2).T)
    assert tuple(figure.data[0].y) == ("signal", "drift")
