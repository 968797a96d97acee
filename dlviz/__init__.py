"""dlviz: see deep learning. What happens inside a Keras model while it trains, and why it predicts what it does.

>>> import dlviz
>>> dataset = dlviz.datasets.load("xor", n_samples=200)
>>> model = dlviz.models.build("mlp", dataset, hidden=(8,))
>>> recorder = dlviz.Recorder.for_dataset(dataset, every=5)
>>> _ = model.fit(dataset.x_train, dataset.y_train, epochs=2, verbose=0, callbacks=[recorder])
>>> figures = dlviz.figures("model_summary", model=model)

The public names are loaded on first use, so `import dlviz` stays fast and TensorFlow starts only
when something needs it (quietly: TF_CPP_MIN_LOG_LEVEL is set before TensorFlow is imported).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dlviz._env import quiet_tensorflow
from dlviz.errors import (
    DataError,
    DlvizError,
    ModelError,
    ParamsError,
    PluginError,
    RunError,
    UnsafeModelError,
)
from dlviz.plugin import Context, Finding, Formula, Note, Page, Plugin, param

quiet_tensorflow()

__version__ = "0.1.0"

_LAZY = {
    "wrap": "dlviz.handle",
    "ModelHandle": "dlviz.handle",
    "Recorder": "dlviz.recorder",
    "Run": "dlviz.runs",
    "register": "dlviz.registry",
    "plugins": "dlviz.registry",
    "get_plugin": "dlviz.registry",
    "figures": "dlviz.registry",
    "compute": "dlviz.registry",
    "load_model": "dlviz.loader",
}
_SUBMODULES = ("datasets", "models", "device", "handle", "recorder", "runs", "registry", "testing", "i18n", "loader")

__all__ = [
    "Context",
    "DataError",
    "DlvizError",
    "Finding",
    "Formula",
    "ModelError",
    "Note",
    "Page",
    "ParamsError",
    "Plugin",
    "PluginError",
    "RunError",
    "UnsafeModelError",
    "param",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"dlviz.{name}")
    raise AttributeError(f"module 'dlviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBMODULES])


if TYPE_CHECKING:
    from dlviz import datasets, device, models  # noqa: F401
    from dlviz.handle import ModelHandle, wrap  # noqa: F401
    from dlviz.loader import load_model  # noqa: F401
    from dlviz.recorder import Recorder  # noqa: F401
    from dlviz.registry import compute, figures, get_plugin, plugins, register  # noqa: F401
    from dlviz.runs import Run  # noqa: F401
