"""How `Dataset.from_file` reads a user's file (a local path or a dashboard upload), whatever its origin.

``.npz``: arrays ``x``, ``y`` and optionally ``x_test``, ``y_test``, ``class_names``, read with
``allow_pickle=False`` (a pickled object would run code on load). ``.zip``: images in one folder per class,
as `keras.utils.image_dataset_from_directory` takes them, decoded in memory by `keras.utils.load_img`
(nothing is extracted to disk). Both are zip archives, so both are checked before anything is decompressed:
member names (no absolute paths, no ``..``: zip-slip), member count, total size and compression ratio
(zip bombs). Every problem raises a `DataError` that says what is wrong and how to fix it.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from dlviz.errors import DataError

MAX_FILE_BYTES = 200 * 2**20  # the largest file read at all
MAX_UNPACKED_BYTES = 1024 * 2**20  # the most an archive may hold once decompressed
MAX_RATIO = 100  # a member that decompresses to more than 100 times its size is a bomb, not data
MAX_MEMBERS = 50_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
NPZ_KEYS = ("x", "y", "x_test", "y_test", "class_names")


def checked_size(path: Path) -> int:
    if not path.is_file():
        raise DataError(f"No file at {str(path)!r}.", "Check the path.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataError(
            f"{path.name} is {size / 2**20:.0f} MiB; dlviz reads files of up to {MAX_FILE_BYTES // 2**20} MiB.",
            "Use a subset of the data (a few thousand samples are plenty to explore a model).",
        )
    return size


def open_archive(path: Path) -> zipfile.ZipFile:
    """The zip archive at ``path``, after checking its members cannot escape a folder or blow up."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path.name} is not a readable zip archive ({exc}).", "Save the archive again.") from exc
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise DataError(f"{path.name} holds {len(members)} files.", f"Keep it under {MAX_MEMBERS} files.")
    total = 0
    for member in members:
        name = PurePosixPath(member.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
            raise DataError(
                f"{path.name} holds {member.filename!r}, a path that leads outside the archive's folder.",
                "Zip the folder itself, with relative paths only.",
            )
        total += member.file_size
        if member.file_size > MAX_RATIO * max(member.compress_size, 1) and member.file_size > 2**20:
            raise DataError(
                f"{member.filename!r} in {path.name} would grow {member.file_size / max(member.compress_size, 1):.0f}"
                " times when decompressed: it looks like a zip bomb.",
                "Give an archive of ordinary data files.",
            )
    if total > MAX_UNPACKED_BYTES:
        raise DataError(
            f"{path.name} holds {total / 2**20:.0f} MiB once decompressed; the limit is "
            f"{MAX_UNPACKED_BYTES // 2**20} MiB.",
            "Use a subset of the data.",
        )
    return archive


def read_npz(path: Path) -> dict[str, Any]:
    """The arrays of an ``.npz`` file as `Dataset.from_arrays` keyword arguments."""
    open_archive(path).close()
    try:
        with np.load(path, allow_pickle=False) as arrays:
            unknown = sorted(set(arrays.files) - set(NPZ_KEYS))
            if unknown:
                raise DataError(
                    f"{path.name} holds arrays {', '.join(map(repr, unknown))} that dlviz does not know.",
                    f"Name the arrays {', '.join(NPZ_KEYS)} (x and y required): np.savez(path, x=x, y=y).",
                )
            if not {"x", "y"} <= set(arrays.files):
                raise DataError(
                    f"{path.name} has no {'x' if 'x' not in arrays.files else 'y'} array.",
                    "Save the features as x and the labels or targets as y: np.savez(path, x=x, y=y).",
                )
            values = {key: arrays[key] for key in arrays.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise DataError(
                f"{path.name} holds pickled Python objects, which would run code when loaded; refused.",
                "Save plain numeric arrays (labels as integers, or text as a fixed-width string array).",
            ) from exc
        raise DataError(f"{path.name} is not a readable .npz file ({exc}).", "Save it with numpy.savez.") from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path.name} is not a readable .npz file ({exc}).", "Save it with numpy.savez.") from exc
    if "class_names" in values:
        values["class_names"] = tuple(str(name) for name in values["class_names"].tolist())
    return values


def read_image_folders(path: Path, image_size: tuple[int, int] | None) -> dict[str, Any]:
    """Images in one folder per class (optionally inside one top folder) as `from_arrays` arguments.

    Every image gets the size of the first one unless ``image_size`` (height, width) is given; images
    whose colour channels are all equal become one grey channel.
    """
    with open_archive(path) as archive:
        files = [m for m in archive.infolist() if not m.is_dir() and not _hidden(m.filename)]
        parts = [PurePosixPath(m.filename.replace("\\", "/")).parts for m in files]
        depth = {len(p) for p in parts}
        if depth == {3} and len({p[0] for p in parts}) == 1:  # a top folder around the class folders
            parts = [p[1:] for p in parts]
        if not parts or {len(p) for p in parts} != {2}:
            raise DataError(
                f"{path.name} is not laid out as one folder per class holding its images.",
                "Zip folders named after the classes (cat/1.png, dog/2.png, ...), as "
                "keras.utils.image_dataset_from_directory reads them.",
            )
        odd = sorted({p[1] for p in parts if Path(p[1]).suffix.lower() not in IMAGE_SUFFIXES})
        if odd:
            raise DataError(
                f"{path.name} holds files that are not images: {', '.join(map(repr, odd[:5]))}.",
                f"Keep only images ({', '.join(IMAGE_SUFFIXES)}) in the class folders.",
            )
        images, labels = [], []
        for member, (label, name) in zip(files, parts, strict=True):
            image = _decode(archive.read(member), name, image_size)
            image_size = image_size or image.shape[:2]
            images.append(image)
            labels.append(label)
    x = np.stack(images)
    if np.array_equal(x[..., :1].repeat(3, axis=-1), x):
        x = x[..., :1]
    return {"x": x / 255.0, "y": np.array(labels), "kind": "image"}


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


def _decode(data: bytes, name: str, image_size: tuple[int, int] | None) -> np.ndarray:
    import keras  # here, not at the top: `dlviz.datasets` must load without importing TensorFlow

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # PIL warns of decompression bombs: refuse them
            image = keras.utils.load_img(io.BytesIO(data), color_mode="rgb", target_size=image_size)
            return keras.utils.img_to_array(image, dtype="float32")
    except Exception as exc:  # PIL raises many types for a damaged image; all mean "not an image"
        raise DataError(
            f"{name!r} could not be read as an image ({type(exc).__name__}: {exc}).",
            "Remove or replace that file.",
        ) from exc
