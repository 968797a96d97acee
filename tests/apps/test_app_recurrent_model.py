"""A recurrent model a user brings: an Embedding + Bidirectional(LSTM) `.keras` file uploaded through the
safe loader for the bundled sentiment set, trained one epoch, then every page of the dashboard opened:
each draws charts or says why its plugin cannot run, and nothing raises."""

from __future__ import annotations

import keras
import pytest
from dashboard_helpers import assert_no_exception, chart_specs, new_app, open_page, texts, train, workspace

import dlviz

PLUGINS = sorted(name for name, info in dlviz.plugins().items() if info.plugin is not None)


@pytest.mark.slow
def test_an_uploaded_bidirectional_lstm_opens_every_page(tmp_path):
    dataset = dlviz.datasets.load("sentiment", seed=0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(dataset.input_shape, dtype="int32"),
            keras.layers.Embedding(int(dataset.x_train.max()) + 1, 4, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(3)),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.save(tmp_path / "bilstm.keras")

    at = new_app().run()
    at.selectbox(key="data.name").set_value("sentiment").run()
    at.segmented_control(key="model.source").set_value("upload").run()
    data = (tmp_path / "bilstm.keras").read_bytes()
    at.file_uploader(key="model.file").set_value(("bilstm.keras", data, "application/octet-stream")).run()
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    assert workspace(at).model_label == "bilstm.keras"
    train(at, epochs=1)
    assert_no_exception(at)
    assert workspace(at).trained_epochs == 1

    for page in ["overview", *PLUGINS]:
        at = open_page(at, page).run()
        assert_no_exception(at)
        failures = [text for text in texts(at.error) if "failed:" in text]
        assert not failures, (page, failures)
        if page != "overview":
            refused = [text for text in texts(at.info) if "cannot run on the current model and data" in text]
            assert chart_specs(at) or refused, f"{page} shows neither a chart nor why it cannot run"
