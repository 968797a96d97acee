"""The only way dlviz loads a model file a user gives it: `load_model(path)`.

A `.keras` archive is a zip of `config.json`, `metadata.json` and `model.weights.h5`. Keras rebuilds
the model from the config, and a config can name any importable class or carry the bytecode of a
`Lambda`. So before Keras sees the file, dlviz checks the archive itself (size, members, links,
compression ratio) and parses the config, allowing only Keras' own built-in layers, losses,
optimizers and the like; then Keras loads it with `safe_mode=True`.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from dlviz.errors import ModelError, UnsafeModelError

MAX_ARCHIVE_BYTES = 200 * 2**20
MAX_UNPACKED_BYTES = 1024 * 2**20
MAX_COMPRESSION_RATIO = 100.0
REQUIRED_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")

_REFUSED_LAYERS = {"Lambda", "TFSMLayer"}
_SERIALIZATION_MARKERS = {"__keras_tensor__", "__tuple__", "__numpy__", "__slice__", "__ellipsis__", "__bytes__"}
_MODEL_CLASSES = {
    "keras": {"Sequential", "Functional", "Model", "DTypePolicy", "FloatDTypePolicy"},
    "keras.src.models.functional": {"Functional"},
    "keras.src.models.sequential": {"Sequential"},
}
_API_MODULES = (
    "keras.layers",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.losses",
    "keras.metrics",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.activations",
    "keras.dtype_policies",
)
# Keras' own tensor operations, which a Functional config names when the model applies them to symbolic
# tensors (e.g. NotEqual: the mask of an Embedding with mask_zero=True). None of them takes a function.
_OP_MODULES = ("keras.src.ops.numpy", "keras.src.ops.math", "keras.src.ops.nn")


def load_model(path: str | os.PathLike, *, max_bytes: int = MAX_ARCHIVE_BYTES, compile: bool = True) -> Any:
    """Load a `.keras` model file after checking it cannot run code or exhaust the machine.

    Raises `UnsafeModelError` for a hostile or suspicious file (path traversal, links, decompression
    bombs, oversized archives, classes outside Keras' built-ins, `Lambda` layers, attempts to turn
    off safe mode) and `ModelError` for files that are simply not `.keras` models.

    >>> import keras, tempfile, os, dlviz
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> dlviz.load_model(path).output_shape
    (None, 2)
    """
    path = Path(path)
    _check_file(path, max_bytes)
    config = _check_archive(path)
    check_config(config)
    import keras

    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:
        raise ModelError(
            f"Keras could not load {path.name}: {type(exc).__name__}: {exc}",
            "check that the file was written by model.save('name.keras') with Keras 3.",
        ) from exc


def _check_file(path: Path, max_bytes: int) -> None:
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise ModelError(
                f"{path} is a TensorFlow SavedModel directory, which dlviz does not load (it can hold arbitrary graphs).",
                "in the program that trained it, save with model.save('model.keras') and load that file.",
            )
        raise ModelError(f"{path} is a directory, not a model file.", "pass the path of a .keras file.")
    if not path.exists():
        raise ModelError(f"No model file at {path}.", "check the path.")
    if path.suffix.lower() in (".h5", ".hdf5"):
        raise ModelError(
            f"{path.name} is a legacy HDF5 model; dlviz loads only the .keras format.",
            "load it once in Keras and re-save it with model.save('model.keras').",
        )
    if path.suffix.lower() != ".keras":
        raise ModelError(f"{path.name} is not a .keras file.", "save the model with model.save('model.keras').")
    size = path.stat().st_size
    if size > max_bytes:
        raise UnsafeModelError(
            f"{path.name} is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit for model files.",
            "use a smaller model, or load it in your own script and pass the model to dlviz.wrap.",
        )
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path.name} is not a .keras archive (not a zip file).", "save it with model.save('model.keras').")


def _check_archive(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        names = [member.filename for member in members]
        for member in members:
            _check_member(member)
        _check_expansion(members)
        missing = [name for name in REQUIRED_MEMBERS if name not in names]
        if missing:
            raise ModelError(
                f"The archive lacks {', '.join(missing)}, so it is not a Keras 3 model file.",
                "save the model with model.save('model.keras').",
            )
        try:
            config = json.loads(archive.read("config.json"))
            json.loads(archive.read("metadata.json"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"The archive's config is not valid JSON: {exc}.", "re-save the model with Keras 3.") from exc
    if not isinstance(config, dict):
        raise ModelError("The archive's config.json does not describe a model.", "re-save the model with Keras 3.")
    return config


def _check_expansion(members: list[zipfile.ZipInfo]) -> None:
    """Refuse archives that unpack far beyond their size, as a whole or in any one large member."""
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    worst = max(members, key=lambda member: member.file_size / max(member.compress_size, 1), default=None)
    worst_ratio = worst.file_size / max(worst.compress_size, 1) if worst and worst.file_size > 2**20 else 0.0
    if unpacked > MAX_UNPACKED_BYTES or max(unpacked / packed, worst_ratio) > MAX_COMPRESSION_RATIO:
        raise UnsafeModelError(
            f"The archive unpacks to {unpacked / 2**20:.0f} MB from {packed / 2**20:.2f} MB "
            f"(up to {max(unpacked / packed, worst_ratio):.0f}x); this looks like a decompression bomb.",
            "load only model files written by Keras' model.save.",
        )


def _check_member(member: zipfile.ZipInfo) -> None:
    name = member.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise UnsafeModelError(f"The archive member {name!r} points outside the archive (path traversal).")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise UnsafeModelError(f"The archive member {name!r} is a symbolic link; model files contain none.")
    if name not in REQUIRED_MEMBERS and not name.startswith("assets/"):
        raise UnsafeModelError(
            f"The archive holds an unexpected member {name!r}.",
            "a .keras file holds only config.json, metadata.json, model.weights.h5 and assets/.",
        )


def check_config(config: Any, where: str = "config") -> None:
    """Refuse a model config that names anything but Keras' own built-in classes."""
    if isinstance(config, list):
        for index, item in enumerate(config):
            check_config(item, f"{where}[{index}]")
        return
    if not isinstance(config, dict):
        return
    for key, value in config.items():
        if key == "safe_mode" or (isinstance(value, str) and "unsafe_deserialization" in value):
            raise UnsafeModelError(f"The model config tries to turn off safe mode at {where}.{key}.")
    if "class_name" in config:
        _check_object(config, where)
    for key, value in config.items():
        check_config(value, f"{where}.{key}")


def _check_object(config: dict, where: str) -> None:
    class_name, module = config.get("class_name"), config.get("module")
    registered = config.get("registered_name")
    label = f"{class_name!r} (module {module!r}) at {where}"
    if class_name == "__lambda__" or class_name in _REFUSED_LAYERS:
        raise UnsafeModelError(
            f"The model contains a {class_name.strip('_')} layer, which runs Python code stored in the file.",
            "replace Lambda layers by built-in layers, or load the model in your own script and pass it to dlviz.wrap.",
        )
    if module is None and class_name in _SERIALIZATION_MARKERS:
        return
    if registered not in (None, class_name):
        raise UnsafeModelError(
            f"The model uses the custom object {registered!r} at {where}; dlviz loads only Keras built-ins.",
            "load the model in your own script (with its custom objects) and pass it to dlviz.wrap.",
        )
    if not isinstance(class_name, str) or not isinstance(module, str) or not _is_builtin(module, class_name):
        raise UnsafeModelError(
            f"The model config names {label}, which is not one of Keras' built-in classes.",
            "load the model in your own script (with its custom objects) and pass it to dlviz.wrap.",
        )


def _is_builtin(module: str, class_name: str) -> bool:
    if class_name in _MODEL_CLASSES.get(module, ()):
        return True
    if module not in _API_MODULES and module not in _OP_MODULES:
        return False
    import importlib

    import keras

    candidate = getattr(importlib.import_module(module), class_name, None)
    if module in _OP_MODULES and not (isinstance(candidate, type) and issubclass(candidate, keras.Operation)):
        return False
    return isinstance(candidate, type) and candidate.__module__.startswith("keras.")
