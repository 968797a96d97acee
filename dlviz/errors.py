"""The one hierarchy of errors dlviz raises.

Every message says what was wrong and how to fix it, so that a learner never has to
read a TensorFlow traceback to find out that a label array has the wrong length.
"""

from __future__ import annotations


class DlvizError(Exception):
    """Base class of every error dlviz raises on purpose."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if not fix else f"{problem} Fix: {fix}")


class DataError(DlvizError, ValueError):
    """A dataset, an array or a CSV file cannot be used as given."""


class ModelError(DlvizError, ValueError):
    """A model cannot be wrapped, built, trained or loaded as given."""


class UnsafeModelError(ModelError):
    """A model file was refused because loading it could run code or exhaust the machine."""


class RunError(DlvizError):
    """A recorded run cannot be written, read or interpreted."""


class PluginError(DlvizError):
    """A plugin is invalid, unknown, incompatible, or failed while computing."""


class ParamsError(PluginError, ValueError):
    """A plugin parameter is unknown or outside its declared range or choices."""
