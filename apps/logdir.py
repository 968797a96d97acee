"""The logdir workflow (like TensorBoard): runs that scripts record with ``Recorder(logdir=...)``.

``streamlit run apps/main.py -- --logdir runs/`` lists every run folder under ``runs/``, including
runs still being written: each rerun lists the folder again, and a run is re-read when its files
changed (its signature: the names and sizes of its chunks and snapshots and the time of its
metadata). Loaded runs are read-only, so they are shared between sessions in ``st.cache_resource``.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import streamlit as st

from dlviz.runs import CHUNK_DIR, META_FILE, SNAPSHOT_DIR, Run

DEFAULT_RUNS_ROOT = "runs"
LOGDIR_ENV = "DLVIZ_LOGDIR"
MAX_DEPTH = 3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def parse_logdir(argv: list[str]) -> Path | None:
    """The ``--logdir`` given after ``--`` on the streamlit command line (or $DLVIZ_LOGDIR)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--logdir", default=None)
    known, _ = parser.parse_known_args(argv)
    chosen = known.logdir or os.environ.get(LOGDIR_ENV)
    return Path(chosen).expanduser() if chosen else None


def runs_root(logdir: Path | None) -> Path:
    """Where the app saves runs and looks for them: the logdir, else ./runs."""
    return logdir if logdir is not None else Path(DEFAULT_RUNS_ROOT)


def find_runs(root: Path) -> list[Path]:
    """Run folders (holding meta.json) under `root`, at most MAX_DEPTH levels down, sorted by path."""
    if not root.is_dir():
        return []
    found = []
    for folder, subfolders, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        if META_FILE in files:
            found.append(Path(folder))
            subfolders.clear()
        elif depth >= MAX_DEPTH:
            subfolders.clear()
        else:
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
    return sorted(found)


def signature(path: Path) -> str:
    """Changes whenever the run folder gains or changes a file (new chunks, snapshots, metadata)."""
    parts = []
    for entry in (path / META_FILE, path / CHUNK_DIR, path / SNAPSHOT_DIR):
        try:
            parts.append(str(entry.stat().st_mtime_ns))
        except FileNotFoundError:
            parts.append("-")
    for folder in (CHUNK_DIR, SNAPSHOT_DIR):
        try:
            parts.append(str(len(os.listdir(path / folder))))
        except FileNotFoundError:
            parts.append("0")
    return ".".join(parts)


@st.cache_resource(max_entries=64, show_spinner=False)
def load_run(path: str, run_signature: str) -> Run:
    """Read the run at `path` as it was at `run_signature` (shared read-only between sessions)."""
    return Run.load(path)


def safe_folder_name(name: str) -> str:
    """A folder name built from `name` that cannot leave the runs root."""
    cleaned = _SAFE_NAME.sub("-", name).strip(".-")
    return cleaned[:80] or "run"
