"""Uploads: CSV datasets, model files and run zips; bad or hostile files get clear errors in the page."""

from __future__ import annotations

import io
import json
import zipfile

import keras
import pytest
from dashboard_helpers import assert_no_exception, finish_training, new_app, texts, workspace

import dlviz
from apps import export


@pytest.fixture(scope="module")
def app():
    return new_app().run()


def choose_csv(at):
    at.selectbox(key="data.name").set_value("__csv__").run()
    return at


def upload(at, key, name, data, mime="application/octet-stream"):
    at.file_uploader(key=key).set_value((name, data, mime)).run()
    return at


def test_a_valid_csv_becomes_the_dataset_and_rebuilds_the_model():
    at = choose_csv(new_app().run())
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{'cat' if i % 2 else 'dog'}" for i in range(40))
    upload(at, "data.csv", "pets.csv", f"height,weight,animal\n{rows}\n".encode(), "text/csv")
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    ws = workspace(at)
    assert ws.dataset.name == "pets" and ws.dataset.class_names == ("cat", "dog")
    assert at.selectbox(key="data.csv_target").value == "animal"
    assert ws.model is not None and ws.model.input_shape == (None, 2)
    assert at.selectbox(key="model.kind").value == "mlp", "a CNN cannot take tabular data"
    assert any("for the *pets* dataset is ready" in text for text in texts(at.markdown)), "the welcome follows"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"height,weight,animal\n1,heavy,cat\n2,light,dog\n3,x,cat\n4,y,dog\n", "numeric"),
        (b"height,weight,animal\n1,2,cat\n2,,dog\n3,4,cat\n4,5,dog\n5,6,cat\n", "missing"),
        (b"height,weight,animal\n1,2,cat\n2,3,cat\n3,4,cat\n4,5,cat\n", "class"),
        (b"", "header"),
        (b"a;b;label\n1;2;0\n3;4;1\n", "only the target column"),
    ],
)
def test_bad_csv_files_get_a_clear_error_in_the_page(app, content, message):
    choose_csv(app)
    upload(app, "data.csv", "bad.csv", content, "text/csv")
    assert_no_exception(app)
    errors = " ".join(texts(app.error))
    assert message.lower() in errors.lower(), errors
    assert workspace(app).dataset is not None, "the previous dataset stays usable"


def _lambda_model(tmp_path, marker):
    payload = keras.layers.Lambda(lambda x, _m=str(marker): (open(_m, "w").close(), x)[1])
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), payload, keras.layers.Dense(10)])
    path = tmp_path / "evil.keras"
    model.save(path)
    marker.unlink(missing_ok=True)
    return path.read_bytes()


def _module_injection(tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    path = tmp_path / "good.keras"
    model.save(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(buffer, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"][-1].update(module="os", class_name="system")
                data = json.dumps(config).encode()
            new.writestr(item, data)
    return buffer.getvalue()


def _zip_slip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escaped.txt", "x")
        archive.writestr("config.json", "{}")
    return buffer.getvalue()


@pytest.mark.parametrize("case", ["lambda", "module", "zip_slip", "h5", "garbage"])
def test_hostile_or_wrong_model_files_are_refused_with_a_clear_error(app, tmp_path, case):
    marker = tmp_path / "pwned"
    files = {
        "lambda": lambda: ("evil.keras", _lambda_model(tmp_path, marker), "Lambda"),
        "module": lambda: ("injected.keras", _module_injection(tmp_path), "built-in"),
        "zip_slip": lambda: ("slip.keras", _zip_slip(), "path"),
        "h5": lambda: ("old.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64, ".keras"),
        "garbage": lambda: ("noise.keras", b"not a zip at all", "zip"),
    }
    name, data, message = files[case]()
    app.segmented_control(key="model.source").set_value("upload").run()
    upload(app, "model.file", name, data)
    assert_no_exception(app)
    errors = " ".join(texts(app.error))
    assert f"The model file {name} was not loaded" in errors and message.lower() in errors.lower(), errors
    assert workspace(app).model is None
    assert not marker.exists(), "the Lambda's code never ran"
    assert not (tmp_path.parent / "escaped.txt").exists()


@pytest.mark.slow
def test_a_good_model_file_is_loaded_and_trainable(tmp_path):
    dataset = dlviz.datasets.load("digits")
    model = dlviz.models.build("mlp", dataset, hidden=(8,))
    model.save(tmp_path / "mine.keras")
    at = new_app().run()
    at.segmented_control(key="model.source").set_value("upload").run()
    upload(at, "model.file", "mine.keras", (tmp_path / "mine.keras").read_bytes())
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    assert workspace(at).model_label == "mine.keras"
    at.number_input(key="train.epochs").set_value(1)
    finish_training(at.button(key="train.go").click().run())
    assert_no_exception(at)
    assert not at.error, texts(at.error)
    assert workspace(at).trained_epochs == 1


@pytest.mark.slow
def test_a_run_zip_opens_as_a_run(tmp_path):
    at = new_app().run()
    at.number_input(key="train.epochs").set_value(1)
    finish_training(at.button(key="train.go").click().run())
    run = workspace(at).runs[workspace(at).current_run].run
    data = export.run_zip(run, "digits run")

    other = new_app().run()
    upload(other, "runs.upload", "digits-run.zip", data, "application/zip")
    assert_no_exception(other)
    ws = workspace(other)
    opened = ws.runs[ws.current_run]
    assert opened.origin == "opened"
    assert list(opened.run.epochs["loss"]) == pytest.approx(list(run.epochs["loss"]))
    assert any("Opened the run digits-run.zip" in text for text in texts(other.success))

    upload(other, "runs.upload", "bomb.zip", _bomb(), "application/zip")
    assert any("unpacks to far more" in text for text in texts(other.error)), texts(other.error)


def _bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run/meta.json", b"0" * 50_000_000)
    return buffer.getvalue()
