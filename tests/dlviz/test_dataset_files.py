"""Dataset.from_file: .csv, .npz and zips of class folders, and the unsafe or malformed files it refuses."""

import io
import zipfile

import keras
import numpy as np
import pytest

from dlviz import _dataset_files
from dlviz.datasets import Dataset
from dlviz.errors import DataError


def png(value, size=(6, 5), colour=False):
    pixels = np.full((*size, 3 if colour else 1), value, np.uint8)
    if colour:
        pixels[..., 0] = 255 - value
    buffer = io.BytesIO()
    keras.utils.array_to_img(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_of(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_npz_with_its_own_test_split_and_class_names(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "points.npz"
    np.savez(path, x=rng.normal(size=(30, 3)), y=np.arange(30) % 3, x_test=rng.normal(size=(9, 3)),
             y_test=np.arange(9) % 3, class_names=np.array(["a", "b", "c"]))
    ds = Dataset.from_file(path)
    assert (ds.name, ds.class_names, len(ds.x_train), len(ds.x_test)) == ("points", ("a", "b", "c"), 30, 9)


def test_npz_regression_and_time_series_options_pass_through(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "series.npz"
    np.savez(path, x=rng.normal(size=(40, 6, 2)), y=rng.normal(size=40))
    ds = Dataset.from_file(path, kind="timeseries", seed=3)
    assert (ds.task, ds.kind, ds.input_shape) == ("regression", "timeseries", (6, 2))


def test_zip_of_class_folders_becomes_grey_or_colour_images(tmp_path):
    grey = {f"digits/{label}/{i}.png": png(40 * i + 10) for label in ("one", "two") for i in range(5)}
    ds = Dataset.from_file(zip_of(tmp_path / "digits.zip", grey), test_size=0.2)
    assert (ds.kind, ds.input_shape, ds.class_names) == ("image", (6, 5, 1), ("one", "two"))
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    colour = {f"{label}/{i}.png": png(30 * i, colour=True) for label in ("cat", "dog") for i in range(5)}
    resized = Dataset.from_file(zip_of(tmp_path / "pets.zip", colour), image_size=(4, 4))
    assert resized.input_shape == (4, 4, 3)


def test_csv_goes_through_from_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,price\n" + "".join(f"{i},{i % 3},{i * 0.5 + 0.1}\n" for i in range(20)))
    ds = Dataset.from_file(path, target="price")
    assert ds.task == "regression" and ds.target_names == ("price",)


def pickled_npz(path):
    np.savez(path, x=np.ones((4, 2)), y=np.array([{"a": 1}] * 4, dtype=object))
    return path


BAD_FILES = {
    "unknown suffix": (lambda tmp: tmp / "data.parquet", {}, "reads .csv, .npz and .zip"),
    "missing file": (lambda tmp: tmp / "none.npz", {}, "No file"),
    "corrupt archive": (lambda tmp: (tmp / "bad.zip").write_bytes(b"PK\x03\x04 broken") and tmp / "bad.zip", {},
                        "not a readable zip archive"),
    "zip-slip member": (lambda tmp: zip_of(tmp / "slip.zip", {"../../evil/a.png": png(1), "ok/b.png": png(2)}), {},
                        "leads outside"),
    "absolute member": (lambda tmp: zip_of(tmp / "abs.zip", {"/etc/a.png": png(1)}), {}, "leads outside"),
    "zip bomb": (lambda tmp: zip_of(tmp / "bomb.zip", {"a/zeros.png": bytes(20 * 2**20)}), {}, "zip bomb"),
    "pickled npz": (lambda tmp: pickled_npz(tmp / "p.npz"), {}, "pickled Python objects"),
    "npz without y": (lambda tmp: np.savez(tmp / "noy.npz", x=np.ones((4, 2))) or tmp / "noy.npz", {}, "no y array"),
    "npz with other arrays": (lambda tmp: np.savez(tmp / "o.npz", x=np.ones((4, 2)), y=np.ones(4), w=np.ones(4))
                              or tmp / "o.npz", {}, "'w'"),
    "flat zip": (lambda tmp: zip_of(tmp / "flat.zip", {"a.png": png(1)}), {}, "one folder per class"),
    "not an image": (lambda tmp: zip_of(tmp / "txt.zip", {"a/x.txt": b"hi", "b/y.png": png(1)}), {}, "not images"),
    "damaged image": (lambda tmp: zip_of(tmp / "dmg.zip", {"a/x.png": b"\x89PNG broken", "b/y.png": png(1)}), {},
                      "could not be read as an image"),
    "csv without target": (lambda tmp: (tmp / "c.csv").write_text("a,b\n1,2\n") and tmp / "c.csv", {}, "target="),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_unsafe_or_malformed_files_raise_a_data_error(tmp_path, case):
    make, options, fragment = BAD_FILES[case]
    path = make(tmp_path)
    with pytest.raises(DataError) as caught:
        Dataset.from_file(path, **options)
    assert fragment in str(caught.value) and caught.value.fix
    assert not (tmp_path.parent / "evil").exists()


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_dataset_files, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.npz"
    np.savez(path, x=np.ones((200, 2)), y=np.arange(200) % 2)
    with pytest.raises(DataError, match="reads files of up to"):
        Dataset.from_file(path)
