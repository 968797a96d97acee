"""dlviz.load_model: built-in models load; a corpus of hostile files is refused before Keras runs."""

import json
import zipfile

import keras
import numpy as np
import pytest

import dlviz
from dlviz.loader import load_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A compiled functional model with batch norm, dropout and a regulariser, saved once."""
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01))(inputs)
    hidden = keras.layers.Dropout(0.1)(keras.layers.BatchNormalization()(hidden))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(), metrics=["accuracy"])
    path = tmp_path_factory.mktemp("models") / "good.keras"
    model.save(path)
    return model, path


def _rewrite(source, target, *, config=None, extra=(), drop=()):
    """Copy a .keras archive, replacing its config and adding or dropping members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if item.filename in drop:
                continue
            data = old.read(item)
            if item.filename == "config.json" and config is not None:
                data = json.dumps(config).encode()
            new.writestr(item, data)
        for info, data in extra:
            new.writestr(info, data)
    return target


def _config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def test_builtin_models_load_and_predict_the_same(saved, tmp_path):
    model, path = saved
    loaded = load_model(path)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    sequential = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                                   keras.layers.Dense(10, activation="softmax")])
    sequential.compile("sgd", "sparse_categorical_crossentropy")
    sequential.save(tmp_path / "cnn.keras")
    assert dlviz.load_model(tmp_path / "cnn.keras").output_shape == (None, 10)


def test_lambda_with_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = keras.layers.Lambda(lambda t, _m=str(marker): (open(_m, "w").close(), t)[1])
    model = keras.Sequential([keras.Input((2,)), payload])
    model.save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)
    with pytest.raises(dlviz.UnsafeModelError, match="Lambda layer"):
        load_model(tmp_path / "lambda.keras")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["config"]["layers"][1].update(module="os", class_name="system"), "not one of Keras' built-in"),
        (lambda c: c["config"]["layers"][1].update(module="keras.layers", class_name="TFSMLayer"), "TFSMLayer"),
        (lambda c: c["config"]["layers"][1].update(registered_name="evil>Payload"), "custom object"),
        (lambda c: c["config"]["layers"][1].update(module="keras.src.utils", class_name="Progbar"), "built-in"),
        (lambda c: c.update(safe_mode=False), "safe mode"),
        (lambda c: c["config"].update(note="keras.config.enable_unsafe_deserialization()"), "safe mode"),
    ],
)
def test_config_injection_is_refused(saved, tmp_path, mutate, message):
    _, path = saved
    config = _config(path)
    mutate(config)
    hostile = _rewrite(path, tmp_path / "hostile.keras", config=config)
    with pytest.raises(dlviz.UnsafeModelError, match=message):
        load_model(hostile)


def test_zip_slip_and_links_are_refused(saved, tmp_path):
    _, path = saved
    slip = _rewrite(path, tmp_path / "slip.keras", extra=[(zipfile.ZipInfo("../../escaped.txt"), b"x")])
    with pytest.raises(dlviz.UnsafeModelError, match="path traversal"):
        load_model(slip)
    link = zipfile.ZipInfo("assets/link")
    link.external_attr = (0o120777 << 16)
    linked = _rewrite(path, tmp_path / "link.keras", extra=[(link, b"/etc/passwd")])
    with pytest.raises(dlviz.UnsafeModelError, match="symbolic link"):
        load_model(linked)
    stray = _rewrite(path, tmp_path / "stray.keras", extra=[(zipfile.ZipInfo("run.py"), b"print(1)")])
    with pytest.raises(dlviz.UnsafeModelError, match="unexpected member"):
        load_model(stray)


def test_decompression_bomb_and_oversized_archives_are_refused(saved, tmp_path):
    _, path = saved
    zeros = zipfile.ZipInfo("assets/zeros")
    zeros.compress_type = zipfile.ZIP_DEFLATED
    bomb = _rewrite(path, tmp_path / "bomb.keras", extra=[(zeros, bytes(60 * 2**20))])
    with pytest.raises(dlviz.UnsafeModelError, match="decompression bomb"):
        load_model(bomb)
    with pytest.raises(dlviz.UnsafeModelError, match="over the 0 MB limit"):
        load_model(path, max_bytes=100)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d, p: d / "missing.keras", "No model file"),
        (lambda d, p: (d / "legacy.h5").write_bytes(b"x") and d / "legacy.h5", "legacy HDF5"),
        (lambda d, p: ((d / "sm").mkdir(), (d / "sm" / "saved_model.pb").write_bytes(b""))[0] or d / "sm", "SavedModel"),
        (lambda d, p: (d / "text.keras").write_text("hello") and d / "text.keras", "not a zip"),
        (lambda d, p: (d / "model.pkl").write_bytes(b"x") and d / "model.pkl", "not a .keras file"),
        (lambda d, p: _rewrite(p, d / "noweights.keras", drop=("model.weights.h5",)), "lacks model.weights.h5"),
    ],
)
def test_files_that_are_not_keras_models_get_clear_errors(saved, tmp_path, make, message):
    with pytest.raises(dlviz.ModelError, match=message):
        load_model(make(tmp_path, saved[1]))
