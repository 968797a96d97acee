"""The logdir workflow (like TensorBoard): runs that scripts record with ``Recorder(logdir=...)``.

``streamlit run apps/main.py -- --logdir runs/`` lists every run folder under ``runs/``, including
runs still being written: each rerun lists the folder again, and a run is re-read when its files
changed (its signature: the names of its chunks and snapshots and the time and size of its
metadata). The logdir may be a URL (``--logdir gs://bucket/runs``, ``ram://...``; ``s3://...`` and
``hdfs://...`` with tensorflow-io: any file system TensorFlow reads through tf.io.gfile, as TensorBoard
does). Loaded runs are read-only, so they are shared between sessions in ``st.cache_resource``.
"""

from __future__ import annotations

import argparse
import os
import re
import zlib
from pathlib import Path

import streamlit as st

from dlviz._run_storage import RemotePath, location, names_in, walk
from dlviz.runs import CHUNK_DIR, META_FILE, SNAPSHOT_DIR, Run

DEFAULT_RUNS_ROOT = "runs"
LOGDIR_ENV = "DLVIZ_LOGDIR"
MAX_DEPTH = 3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def parse_logdir(argv: list[str]) -> Path | RemotePath | None:
    """The ``--logdir`` given after ``--`` on the streamlit command line (or $DLVIZ_LOGDIR): a local
    path or a URL such as ``gs://bucket/runs``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--logdir", default=None)
    known, _ = parser.parse_known_args(argv)
    chosen = known.logdir or os.environ.get(LOGDIR_ENV)
    return location(chosen) if chosen else None


def runs_root(logdir: Path | RemotePath | None) -> Path | RemotePath:
    """Where the app saves runs and looks for them: the logdir, else ./runs."""
    return logdir if logdir is not None else Path(DEFAULT_RUNS_ROOT)


def find_runs(root: Path | RemotePath) -> list[Path | RemotePath]:
    """Run folders (holding meta.json) under `root`, at most MAX_DEPTH levels down, sorted by path.
    A root that cannot be read (a URL without credentials, say) holds none."""
    try:
        if not root.is_dir():
            return []
    except OSError:
        return []
    found = []
    for folder, subfolders, files in walk(root):
        depth = len(folder.relative_to(root).parts)
        if META_FILE in files:
            found.append(folder)
            subfolders.clear()
        elif depth >= MAX_DEPTH:
            subfolders.clear()
        else:
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
    return sorted(found)


def signature(path: Path | RemotePath) -> str:
    """Changes whenever the run folder gains, loses or changes a file (new chunks, thinned snapshots,
    metadata): the time and size of meta.json and the names in chunks/ and snapshots/ (folder times are
    not used: object stores have none)."""
    try:
        stat = (path / META_FILE).stat()
        parts = [str(stat.st_mtime_ns), str(stat.st_size)]
    except OSError:
        parts = ["-"]
    for folder in (CHUNK_DIR, SNAPSHOT_DIR):
        names = sorted(names_in(path / folder))
        parts.append(f"{len(names)}:{zlib.crc32(chr(0).join(names).encode()):08x}")
    return ".".join(parts)


@st.cache_resource(max_entries=64, show_spinner=False)
def load_run(path: str, run_signature: str) -> Run:
    """Read the run at `path` as it was at `run_signature` (shared read-only between sessions)."""
    return Run.load(path)


def safe_folder_name(name: str) -> str:
    """A folder name built from `name` that cannot leave the runs root."""
    cleaned = _SAFE_NAME.sub("-", name).strip(".-")
    return cleaned[:80] or "run"
