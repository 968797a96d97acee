"""The dashboard on every task and kind: regression, token sequences and time series open, build a model and
train; MNIST opens from the Keras cache (and says which file is missing without it); .npz and zip uploads
become the dataset, and corrupt, unsafe, pickled, bomb and oversized files get a clear error."""

from __future__ import annotations

import base64
import io
import zipfile

import keras
import numpy as np
import pytest
from dashboard_helpers import assert_no_exception, chart_specs, new_app, texts, train, workspace

from dlviz import _dataset_files


def values_of(array):
    """A trace's values from Plotly's JSON, which packs numpy arrays as base64 typed arrays."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def choose(at, name):
    at.selectbox(key="data.name").set_value(name).run()
    return at


def upload(at, name, data):
    at.file_uploader(key="data.csv").set_value((name, data, "application/octet-stream")).run()
    return at


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def png(value):
    buffer = io.BytesIO()
    keras.utils.array_to_img(np.full((6, 6, 1), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kind"), [("curve", "mlp"), ("sentiment", "lstm"), ("sines_forecast", "gru")])
def test_regression_sequence_and_time_series_sets_open_and_train(name, kind):
    at = choose(new_app().run(), name)
    at.selectbox(key="model.kind").set_value(kind).run()
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    ws = workspace(at)
    assert ws.dataset.name == name and ws.model is not None
    train(at, epochs=1)
    assert_no_exception(at)
    assert ws.trained_epochs == 1


def test_a_regression_set_previews_its_targets_in_the_users_units():
    at = choose(new_app().run(), "diabetes")
    assert_no_exception(at)
    histograms = [trace for spec in chart_specs(at) for trace in spec["data"] if trace["type"] == "histogram"]
    values = np.concatenate([values_of(trace["x"]) for trace in histograms])
    assert len(histograms) >= 2 and values.min() == pytest.approx(25, abs=1e-3) and values.max() > 300
    assert workspace(at).model.loss == "mean_squared_error"


def test_mnist_opens_from_the_keras_cache_and_its_absence_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = choose(new_app().run(), "mnist")
    assert_no_exception(at)
    assert any("mnist.npz" in text and str(tmp_path) in text for text in texts(at.error)), texts(at.error)
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    arrays = {"x_train": (150, 28, 28), "x_test": (40, 28, 28)}
    np.savez(
        tmp_path / "datasets" / "mnist.npz",
        **{key: rng.integers(0, 256, shape, dtype=np.uint8) for key, shape in arrays.items()},
        y_train=np.arange(150, dtype=np.uint8) % 10,
        y_test=np.arange(40, dtype=np.uint8) % 10,
    )
    at.slider(key="data.mnist.n_samples").set_value(100).run()
    assert_no_exception(at)
    ws = workspace(at)
    assert ws.dataset.name == "mnist" and ws.dataset.input_shape == (28, 28, 1)
    assert at.selectbox(key="model.kind").value == "cnn"


def test_npz_and_zip_uploads_become_the_dataset():
    at = choose(new_app().run(), "__csv__")
    rng = np.random.default_rng(0)
    upload(at, "points.npz", npz_bytes(x=rng.normal(size=(40, 3)), y=np.arange(40) % 2))
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    assert workspace(at).dataset.name == "points" and workspace(at).dataset.input_shape == (3,)
    upload(at, "shades.zip", zip_bytes({f"{label}/{i}.png": png(20 * i + v) for label, v in (("dark", 0), ("light", 120))
                                          for i in range(5)}))
    assert_no_exception(at)
    assert workspace(at).dataset.kind == "image" and workspace(at).dataset.class_names == ("dark", "light")


def test_a_csv_target_can_be_declared_a_number():
    at = choose(new_app().run(), "__csv__")
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{i * 1.5}" for i in range(40))
    upload(at, "houses.csv", f"rooms,age,price\n{rows}\n".encode())
    at.segmented_control(key="data.csv_task").set_value("regression").run()
    assert_no_exception(at)
    assert workspace(at).dataset.task == "regression"


def pickled_npz():
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((4, 2)), y=np.array([{"a": 1}] * 4, dtype=object))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.zip", b"PK\x03\x04 not really", "not a readable zip archive"),
        ("slip.zip", zip_bytes({"../../outside/a.png": png(1), "b/c.png": png(2)}), "outside the archive"),
        ("objects.npz", pickled_npz(), "pickled Python objects"),
        ("bomb.zip", zip_bytes({"a/zeros.png": bytes(30 * 2**20)}), "zip bomb"),
        ("broken.npz", b"not an archive", "not a readable zip archive"),
    ],
    ids=["corrupt zip", "zip-slip", "pickled npz", "zip bomb", "corrupt npz"],
)
def test_bad_uploads_get_a_clear_error_and_leave_the_page_working(name, data, message):
    at = choose(new_app().run(), "__csv__")
    upload(at, name, data)
    assert_no_exception(at)
    assert any(message in text for text in texts(at.error)), texts(at.error)


def test_an_oversized_upload_is_refused(monkeypatch):
    monkeypatch.setattr(_dataset_files, "MAX_FILE_BYTES", 1000)
    at = choose(new_app().run(), "__csv__")
    upload(at, "big.npz", npz_bytes(x=np.ones((200, 3)), y=np.arange(200) % 2))
    assert_no_exception(at)
    assert any("reads files of up to" in text for text in texts(at.error)), texts(at.error)
