"""Quiet TensorFlow's start-up noise, without hiding real errors.

This module must not import TensorFlow at module level: its settings only work when they are in
place before TensorFlow loads.

What TensorFlow 2.21 prints on a Linux machine without a GPU, and what silences it (measured):

- ``port.cc`` "oneDNN custom operations are on" and ``cudart_stub.cc`` "Could not find cuda drivers"
  (INFO, each printed twice). TensorFlow's shared libraries log them while they load, before TensorFlow
  applies ``TF_CPP_MIN_LOG_LEVEL``, so no setting hides them (even level 3 does not).
  ``quiet_tensorflow`` therefore applies TensorFlow's own rule to them: while ``tensorflow`` is imported,
  native stderr goes through a filter that drops the log lines whose severity is below
  ``TF_CPP_MIN_LOG_LEVEL``, and passes everything else through unchanged.
- ``cuda_platform.cc`` "failed call to cuInit" (ERROR, when TensorFlow lists its devices).
  ``CUDA_VISIBLE_DEVICES`` ("" or "-1") does not prevent it, because cuInit runs anyway.
  ``TF_ENABLED_DEVICE_TYPES=CPU`` does: TensorFlow then never registers its GPU device factory. It is set
  only when the machine shows no accelerator at all, since it would hide one.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}

# absl's format ("I0000 00:00:1795693900.460844    5406 port.cc:153] ...") and TensorFlow's older one
# ("2025-09-17 14:44:05.157831: I external/.../cudart_stub.cc:32] ...").
_LOG_LINE = re.compile(
    rb"^(?:(?P<absl>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tsl>[IWEF]) \S+:\d+\] )"
)
_ABSL_BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"

# The filter runs in a child process, so that if TensorFlow's import kills this process (a CPU without
# the instructions it was built for ends in a FATAL log and abort()), the child still drains the pipe
# and the user sees the error.
_FILTER_PROGRAM = f"""
import re, sys
min_level = int(sys.argv[1])
line_re = re.compile({_LOG_LINE.pattern!r})
severity = {_SEVERITY!r}
banner = {_ABSL_BANNER!r}
for line in sys.stdin.buffer:
    match = line_re.match(line)
    if match and severity[match.group("absl") or match.group("tsl")] < min_level:
        continue
    if min_level >= 1 and line.rstrip() == banner:
        continue
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
"""


def quiet_tensorflow() -> None:
    """Prepare a quiet TensorFlow start; call it before anything imports TensorFlow. Idempotent, and cheap:
    it does not import TensorFlow.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` (info and warnings hidden, errors shown) unless the user chose a level,
    and ``TF_FORCE_GPU_ALLOW_GROWTH=true`` unless the user chose otherwise;
    on a Linux machine that shows no accelerator (no NVIDIA, WSL, ROCm or TPU device node, no
    pluggable-device plugin) sets ``TF_ENABLED_DEVICE_TYPES=CPU`` unless the user set it; and arranges for
    the first ``import tensorflow``, wherever it happens, to run through a filter that drops the native log
    lines below that level. Errors, Python warnings and tracebacks pass through. Once TensorFlow is
    imported there is nothing left to do: it reads these settings when it loads.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Read by TensorFlow when it creates its GPU devices, however it is first imported, so a
    # dashboard never grabs the whole card even before dlviz.device has run.
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    if "tensorflow" in sys.modules:
        return
    if (
        "TF_ENABLED_DEVICE_TYPES" not in os.environ
        and sys.platform.startswith("linux")
        and not _accelerator_visible()
    ):
        os.environ["TF_ENABLED_DEVICE_TYPES"] = "CPU"
    if not any(isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, through the other finders, and hands back a loader that filters stderr."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        # Put the real loader back first, so nothing after the import ever sees this wrapper.
        module.__spec__.loader = module.__loader__ = self._loader
        with _native_stderr_filtered(_min_log_level()):
            self._loader.exec_module(module)


def _min_log_level() -> int:
    """The level TensorFlow itself will apply (it reads a non-number as 0)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def _accelerator_visible() -> bool:
    """True when the machine shows any device TensorFlow could compute on besides the CPU."""
    device_nodes = ("nvidia[0-9]*", "nvidiactl", "dxg", "kfd", "accel[0-9]*")
    if Path("/proc/driver/nvidia").exists() or any(any(Path("/dev").glob(node)) for node in device_nodes):
        return True
    spec = importlib.machinery.PathFinder.find_spec("tensorflow")  # not through import hooks, ours included
    if spec is None or spec.origin is None:
        return False
    plugins = Path(spec.origin).parent.parent / "tensorflow-plugins"
    return plugins.is_dir() and any(plugins.iterdir())


@contextlib.contextmanager
def _native_stderr_filtered(min_level: int) -> Iterator[None]:
    """Send file descriptor 2 through the log-level filter for the duration of the block."""
    if min_level <= 0 or not sys.executable:
        yield
        return
    sys.stderr.flush()
    try:
        saved_stderr = os.dup(2)
    except OSError:  # no stderr at all (e.g. pythonw): nothing to filter
        yield
        return
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _FILTER_PROGRAM, str(min_level)],
            stdin=read_end,
            stdout=saved_stderr,
        )
    except OSError:
        os.close(read_end)
        os.close(write_end)
        os.close(saved_stderr)
        yield
        return
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved_stderr, 2)  # closes the pipe's last write end: the child reads EOF and exits
        os.close(saved_stderr)
        child.wait()
