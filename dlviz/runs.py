"""Recorded training runs: the in-memory `Run` and the run-folder format.

A run folder (format version 1) holds::

    meta.json                      run metadata (JSON), replaced by a rename when it changes
    chunks/NNNNNN.npz              append-only data chunks, read in numeric order
    snapshots/SSSSSSSSSSSS.npz     one flattened weight vector per file, named by its global step

A run folder may be local or behind a URL (``gs://``, ``ram://``; ``s3://``, ``hdfs://`` with
tensorflow-io: any file system TensorFlow reaches through tf.io.gfile; see `dlviz._run_storage` for
what a write guarantees where). Chunks are only ever added, never rewritten, so a process killed at any moment leaves every chunk it
flushed readable, and a reader that lists the folder while it is being written sees a consistent prefix.
Each ``.npz`` carries a ``__dlviz__`` member (JSON: format version, the name, dtype and shape of
every other member and a SHA-256 of their bytes); a file that fails any check is reported in
``run.problems`` and skipped, never half-read. Weight snapshots are opened lazily: `Run.load` checks
each one's structure and length (cheap: its zip directory and header), and reads and checksums its
values when they are first used.

Inside a chunk, arrays are keyed ``steps/<column>`` (one row per training step), ``epochs/<column>``
(one row per epoch) and ``records/<quantity>`` (one row per probe record; per-layer quantities
have one column per layer of ``meta["record_layers"][group]``).
"""

from __future__ import annotations

import io
import json
import re
import threading
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dlviz._downsample import MAX_DRAWN_POINTS, downsample, downsample_indices
from dlviz._run_storage import (
    FORMAT_VERSION,
    HEADER_KEY,
    RemotePath,
    check_structure,
    decode_arrays,
    encode_arrays,
    location,
    names_in,
    reach_fix,
    write_atomic,
    write_once,
)
from dlviz.errors import RunError

__all__ = [
    "MAX_DRAWN_POINTS",
    "FORMAT_VERSION",
    "HEADER_KEY",
    "Run",
    "RunWriter",
    "SnapshotSchedule",
    "decode_arrays",
    "downsample",
    "downsample_indices",
    "encode_arrays",
]

META_FILE = "meta.json"
CHUNK_DIR = "chunks"
SNAPSHOT_DIR = "snapshots"

SERIES = {
    "grad_norm": "grad",
    "update_ratio": "grad",
    "act_mean": "act",
    "act_std": "act",
    "act_zero_frac": "act",
    "act_sat_frac": "act",
}
HISTOGRAMS = {"grad": "grad", "act": "act"}

_CHUNK_NAME = re.compile(r"^(\d{6})\.npz$")
_SNAPSHOT_NAME = re.compile(r"^(\d{12})\.npz$")
_RUN_LAYOUT = (
    "A run folder contains meta.json, chunks/NNNNNN.npz and snapshots/; it is what "
    "Recorder(logdir=...) or run.save(path) writes."
)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def meta_document(meta: dict) -> dict:
    """`meta` as meta.json holds it: JSON values (lists, not tuples), the format and its version.

    A run in memory keeps its metadata in this form from the start, so a run saved and loaded back
    has the same metadata as the one recorded. The version is this dlviz's: a run read from an older
    format is held (and saved again) in the current one.
    """
    document = {**meta, "format": "dlviz-run", "format_version": FORMAT_VERSION}
    return json.loads(json.dumps(document, default=_json_default, allow_nan=True))


# ----------------------------------------------------------------------------- reading sources


class _FolderSource:
    def __init__(self, root: Path | RemotePath):
        self.root = root
        self.label = str(root)

    def read(self, *parts: str) -> bytes | None:
        try:
            return self.root.joinpath(*parts).read_bytes()
        except FileNotFoundError:  # thinned or never written: absent, not damaged
            return None

    def open(self, *parts: str):
        """The file as a seekable binary file object, or None when it is absent."""
        path = self.root.joinpath(*parts)
        if isinstance(path, RemotePath):
            return path.open() if path.exists() else None
        try:
            return open(path, "rb")
        except FileNotFoundError:
            return None

    def names(self, folder: str) -> list[str]:
        return names_in(self.root / folder)


class _ZipSource:
    def __init__(self, path: Path | RemotePath):
        self.label = str(path)
        try:
            self._zip = zipfile.ZipFile(
                io.BytesIO(path.read_bytes()) if isinstance(path, RemotePath) else path
            )
            members = self._zip.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise RunError(f"{path} is not a readable zip archive ({exc}).", _RUN_LAYOUT) from exc
        metas = sorted((m for m in members if m == META_FILE or m.endswith("/" + META_FILE)), key=len)
        if not metas:
            raise RunError(f"The archive {path} holds no run: it has no meta.json.", _RUN_LAYOUT)
        self._prefix = metas[0][: -len(META_FILE)]
        self._members = set(members)

    def read(self, *parts: str) -> bytes | None:
        name = self._prefix + "/".join(parts)
        return self._zip.read(name) if name in self._members else None

    def open(self, *parts: str):
        data = self.read(*parts)
        return None if data is None else io.BytesIO(data)

    def names(self, folder: str) -> list[str]:
        start = f"{self._prefix}{folder}/"
        return [m[len(start) :] for m in self._members if m.startswith(start) and "/" not in m[len(start) :]]


class _StoredSnapshot:
    """A snapshot file whose structure was checked but whose values are read on first use."""

    __slots__ = ("source", "name")

    def __init__(self, source, name: str):
        self.source, self.name = source, name

    def vector(self) -> np.ndarray | None:
        """The checked values; None when the file is gone (thinned); ValueError when damaged."""
        data = self.source.read(SNAPSHOT_DIR, self.name)
        return None if data is None else decode_arrays(data)["vector"]


# ----------------------------------------------------------------------------- the run


class Run:
    """A recorded training run: metadata, metrics per step and epoch, probe records, weight snapshots.

    Build one with `dlviz.Recorder` (``recorder.run``) or read one with `Run.load`. Everything is
    plain numpy and dicts, so a Run pickles (the dashboard caches it). A loaded run reads its weight
    snapshots' values when `snapshots` or `snapshot_steps` is first asked for, not when it opens.
    """

    def __init__(self, meta: dict | None = None):
        self.meta: dict = meta_document(meta or {})
        self.problems: list[str] = []
        self.path: Path | RemotePath | None = None
        self._chunks: list[dict[str, np.ndarray]] = []
        self._snapshots: dict[int, np.ndarray | _StoredSnapshot] = {}
        self._tables: dict[str, tuple[int, dict[str, np.ndarray]]] = {}
        self._snapshot_lock = threading.Lock()
        self._stacked: tuple[tuple[int, ...], np.ndarray] | None = None

    # ------------------------------------------------------------------ what a run holds

    @property
    def layers(self) -> list[str]:
        """Capture layers in call order."""
        return [layer["name"] for layer in self.meta.get("layers", [])]

    @property
    def layer_kinds(self) -> dict[str, str]:
        return {layer["name"]: layer["kind"] for layer in self.meta.get("layers", [])}

    @property
    def layer_activations(self) -> dict[str, str | None]:
        return {layer["name"]: layer.get("activation") for layer in self.meta.get("layers", [])}

    @property
    def variable_paths(self) -> list[str]:
        return [variable["path"] for variable in self.meta.get("variables", [])]

    @property
    def steps(self) -> dict[str, np.ndarray]:
        """Per training step: "step" (global, 0-based), "epoch" and each metric Keras reported."""
        return self._table("steps/", "step")

    @property
    def epochs(self) -> dict[str, np.ndarray]:
        """Per epoch: "epoch" (0-based), "step" (global steps done) and each metric incl. val_*."""
        return self._table("epochs/", "epoch")

    @property
    def record_steps(self) -> np.ndarray:
        """Global step of each probe record (the state after that many optimizer updates)."""
        return self._table("records/", "step").get("step", np.zeros(0, np.int64))

    def series(self, quantity: str) -> dict[str, np.ndarray]:
        """Per-layer 1-D arrays over records: one of ``SERIES`` ({} when the run did not record it)."""
        if quantity not in SERIES:
            raise RunError(f"Unknown series {quantity!r}.", f"Use one of: {', '.join(SERIES)}.")
        values = self._table("records/", "step").get(quantity)
        if values is None:
            return {}
        layers = self.meta.get("record_layers", {}).get(SERIES[quantity], [])
        return {layer: values[:, i] for i, layer in enumerate(layers)}

    def histograms(self, quantity: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per-layer (counts [n_records, bins], edges [n_records, bins+1]) for "grad" or "act"."""
        if quantity not in HISTOGRAMS:
            raise RunError(f"Unknown histogram {quantity!r}.", f"Use one of: {', '.join(HISTOGRAMS)}.")
        records = self._table("records/", "step")
        counts, edges = records.get(f"{quantity}_hist_counts"), records.get(f"{quantity}_hist_edges")
        if counts is None or edges is None:
            return {}
        layers = self.meta.get("record_layers", {}).get(HISTOGRAMS[quantity], [])
        return {layer: (counts[:, i], edges[:, i]) for i, layer in enumerate(layers)}

    @property
    def snapshot_steps(self) -> np.ndarray:
        return np.array(self._stack_snapshots()[0], dtype=np.int64)

    @property
    def snapshots(self) -> np.ndarray:
        """Flattened trainable weights [n_snapshots, n_params] float32, in meta["variables"] order
        (read-only: copy it to change it)."""
        return self._stack_snapshots()[1]

    def _stack_snapshots(self) -> tuple[tuple[int, ...], np.ndarray]:
        """(steps, weights [n_snapshots, n_params]) of the snapshots kept now, stacked once per set.

        A page may ask several times, and 200 snapshots of 1M weights are 800 MB: the stacked array is
        shared read-only, its rows replace the separate vectors, and a snapshot not read yet is read,
        checksummed and copied into its row one at a time (a damaged one is dropped and listed in
        ``problems``).
        """
        stacked = self._stacked
        # A copy first: a Recorder may add or thin snapshots from the training thread meanwhile.
        if stacked is not None and stacked[0] == tuple(sorted(dict(self._snapshots))):
            return stacked
        damaged = []
        with self._snapshot_lock:  # a loaded run is shared by the dashboard's sessions
            entries = dict(self._snapshots)
            array = np.empty((len(entries), self.n_params), np.float32)
            steps = []
            for step in sorted(entries):
                entry = entries[step]
                if isinstance(entry, _StoredSnapshot):
                    try:
                        entry = entry.vector()
                    except (ValueError, KeyError) as exc:
                        damaged.append(f"snapshot {SNAPSHOT_DIR}/{entries[step].name} skipped: {exc}")
                        entry = None
                    if entry is None:  # damaged, or deleted by thinning since the run was opened
                        self._snapshots.pop(step, None)
                        continue
                array[len(steps)] = entry
                steps.append(step)
            array = array[: len(steps)]
            array.flags.writeable = False
            for row, step in enumerate(steps):
                if step in self._snapshots:
                    self._snapshots[step] = array[row]
            self.problems.extend(damaged)
            self._stacked = stacked = (tuple(steps), array)
        if damaged:
            warnings.warn(f"Run {self.path}: " + "; ".join(damaged), stacklevel=3)
        return stacked
        damaged = []
        with self._snapshot_lock:  # a loaded run is shared by the dashboard's sessions
            for step, entry in sorted(self._snapshots.items()):
                if not isinstance(entry, _StoredSnapshot):
                    continue
                try:
                    vector = entry.vector()
                except (ValueError, KeyError) as exc:
                    vector = None
                    damaged.append(f"snapshot {SNAPSHOT_DIR}/{entry.name} skipped: {exc}")
                if vector is None:
                    del self._snapshots[step]
                else:
                    self._snapshots[step] = vector
            self.problems.extend(damaged)
            kept = dict(self._snapshots)
        if damaged:
            warnings.warn(f"Run {self.path}: " + "; ".join(damaged), stacklevel=3)
        return kept

    @property
    def n_params(self) -> int:
        return int(sum(int(np.prod(v["shape"], dtype=np.int64)) for v in self.meta.get("variables", [])))

    def unflatten(self, vector) -> list[np.ndarray]:
        """Split a flattened weight vector into arrays shaped like meta["variables"]."""
        vector = np.asarray(vector)
        if vector.ndim != 1 or vector.size != self.n_params:
            raise RunError(
                f"Cannot unflatten an array of shape {vector.shape}: this run's weights have "
                f"{self.n_params} parameters.",
                "Pass one row of run.snapshots.",
            )
        shapes = [tuple(v["shape"]) for v in self.meta.get("variables", [])]
        bounds = np.cumsum([0] + [int(np.prod(s, dtype=np.int64)) for s in shapes])
        return [vector[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes, strict=True)]

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        return (
            f"Run({len(self.epochs.get('epoch', []))} epochs, {len(self.steps.get('step', []))} steps, "
            f"{len(self.record_steps)} records, {len(self._snapshots)} snapshots{where})"
        )

    def __getstate__(self):
        state = dict(self.__dict__)
        steps, weights = self._stack_snapshots()
        state["_snapshots"] = dict(zip(steps, weights, strict=True))
        state["_tables"] = {}
        state["_stacked"] = None
        del state["_snapshot_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._snapshot_lock = threading.Lock()

    # ------------------------------------------------------------------ building (the Recorder's side)

    def _append_chunk(self, chunk: dict[str, np.ndarray]) -> None:
        self._chunks.append(chunk)

    def _put_snapshot(self, step: int, vector: np.ndarray) -> None:
        self._snapshots[int(step)] = np.asarray(vector, np.float32)

    def _drop_snapshot(self, step: int) -> None:
        self._snapshots.pop(int(step), None)

    def _table(self, prefix: str, index: str) -> dict[str, np.ndarray]:
        # Keyed by the chunk count, so a reader racing a Recorder's append never keeps a stale table.
        chunks = list(self._chunks)
        cached = self._tables.get(prefix)
        if cached is None or cached[0] != len(chunks):
            cached = (len(chunks), _concatenate(chunks, prefix, index))
            self._tables[prefix] = cached
        return cached[1]

    # ------------------------------------------------------------------ disk

    def save(self, path, *, overwrite: bool = False) -> Path | RemotePath:
        """Write this run as a run folder at ``path`` (a local path or a URL such as ``gs://b/runs/x``;
        see the module docstring); returns the path."""
        steps, weights = self._stack_snapshots()
        writer = RunWriter(path, overwrite=overwrite)
        writer.write_meta(self.meta)
        for chunk in self._chunks:
            writer.append_chunk(chunk)
        for step, vector in zip(steps, weights, strict=True):
            writer.write_snapshot(step, vector)
        return writer.path

    @classmethod
    def load(cls, path) -> Run:
        """Read a run folder (or a zip of one), local or at a URL (``gs://...``, ``ram://...``); damaged
        chunks and snapshots are skipped and listed in ``problems``."""
        path = location(path)
        source = _open_source(path)
        raw_meta = source.read(META_FILE)
        if raw_meta is None:
            raise RunError(f"{source.label} is not a dlviz run: it has no {META_FILE}.", _RUN_LAYOUT)
        try:
            meta = json.loads(raw_meta.decode())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(
                f"{source.label}/{META_FILE} is not valid JSON ({exc}).",
                "Restore it from a backup; the chunks alone cannot describe the run.",
            ) from exc
        if not isinstance(meta, dict) or meta.get("format") != "dlviz-run":
            raise RunError(f"{source.label}/{META_FILE} does not describe a dlviz run.", _RUN_LAYOUT)
        version = meta.get("format_version", 0)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise RunError(
                f"{source.label} was written in run format {version} by a newer dlviz; this one reads "
                f"up to format {FORMAT_VERSION}.",
                "Upgrade dlviz (pip install -U dlviz).",
            )
        run = cls(meta)
        run.path = path
        for name in _numbered(source.names(CHUNK_DIR), _CHUNK_NAME):
            data = source.read(CHUNK_DIR, name)
            if data is None:
                continue
            try:
                run._append_chunk(decode_arrays(data))
            except ValueError as exc:
                run.problems.append(f"chunk {CHUNK_DIR}/{name} skipped: {exc}")
        last_record = run.record_steps.max() if len(run.record_steps) else -1
        expected = {"vector": (np.dtype(np.float32).str, [run.n_params])}
        for name in _numbered(source.names(SNAPSHOT_DIR), _SNAPSHOT_NAME):
            step = int(_SNAPSHOT_NAME.match(name).group(1))
            # A snapshot past the last loaded record belongs to data this reader has not seen yet.
            if step > last_record:
                continue
            handle = source.open(SNAPSHOT_DIR, name)
            if handle is None:
                continue
            try:
                with handle:
                    check_structure(handle, expected)
            except ValueError as exc:
                run.problems.append(f"snapshot {SNAPSHOT_DIR}/{name} skipped: {exc}")
                continue
            run._snapshots[step] = _StoredSnapshot(source, name)
        if run.problems:
            warnings.warn(
                f"Run {source.label}: {len(run.problems)} damaged file(s) skipped: "
                + "; ".join(run.problems),
                stacklevel=2,
            )
        return run

    open = load


def _open_source(path: Path | RemotePath):
    try:
        exists, is_file = path.exists(), path.is_file()
    except OSError as exc:  # a URL whose file system refuses (no credentials, unknown scheme, ...)
        raise RunError(f"Cannot read {path}: {exc}", reach_fix(path)) from exc
    if not exists:
        raise RunError(f"No run at {path}: the path does not exist.", _RUN_LAYOUT)
    if is_file:
        with path.open() if isinstance(path, RemotePath) else open(path, "rb") as handle:
            is_zip = zipfile.is_zipfile(handle)
        if is_zip:
            return _ZipSource(path)
        raise RunError(f"{path} is a file, not a run folder.", _RUN_LAYOUT)
    return _FolderSource(path)


def _numbered(names: Iterable[str], pattern: re.Pattern) -> list[str]:
    return sorted((n for n in names if pattern.match(n)), key=lambda n: int(pattern.match(n).group(1)))


def _concatenate(chunks: list[dict[str, np.ndarray]], prefix: str, index: str) -> dict[str, np.ndarray]:
    """Join the ``prefix`` columns of every chunk; a column absent from a chunk is filled with NaN."""
    index_key = prefix + index
    parts = [chunk for chunk in chunks if index_key in chunk]
    names: dict[str, np.ndarray] = {}
    for chunk in parts:
        for key, value in chunk.items():
            if key.startswith(prefix):
                names.setdefault(key, value)
    table = {}
    for key, example in names.items():
        pieces = []
        for chunk in parts:
            if key in chunk:
                pieces.append(chunk[key])
            else:
                missing = (len(chunk[index_key]),) + example.shape[1:]
                pieces.append(np.full(missing, np.nan))
        table[key[len(prefix) :]] = np.concatenate(pieces) if pieces else example[:0]
    return table


# ----------------------------------------------------------------------------- snapshots


class SnapshotSchedule:
    """Which steps keep a weight snapshot, bounded by ``max_snapshots``.

    Snapshots sit on a regular grid of ``interval`` steps starting at the first one; when there
    would be more than ``max_snapshots``, every other one (counted from the first) is dropped and
    the interval doubles, so the kept steps stay evenly spaced and always include the first.
    """

    def __init__(self, interval: int, max_snapshots: int):
        if max_snapshots < 2:
            raise RunError(f"max_snapshots must be at least 2, got {max_snapshots}.", "Use e.g. 200.")
        self.interval = int(interval)
        self.max_snapshots = int(max_snapshots)
        self.kept: list[int] = []
        self._next = 0

    def wants(self, step: int) -> bool:
        return step >= self._next

    def add(self, step: int) -> list[int]:
        """Keep ``step``; return the steps dropped by thinning (empty when none)."""
        self.kept.append(int(step))
        dropped: list[int] = []
        if len(self.kept) > self.max_snapshots:
            dropped = self.kept[1::2]
            self.kept = self.kept[::2]
            self.interval *= 2
        self._next = (step // self.interval + 1) * self.interval
        return dropped


# ----------------------------------------------------------------------------- writing


class RunWriter:
    """Writes one run folder: atomic meta.json, append-only chunks, one file per snapshot."""

    def __init__(self, path, *, overwrite: bool = False):
        self.path = location(path)
        try:
            self._prepare(overwrite)
        except OSError as exc:  # unwritable, or a URL whose file system refuses (credentials, scheme)
            raise RunError(
                f"Cannot create the run folder {self.path} ({exc}).", reach_fix(self.path)
            ) from exc
        self._next_chunk = 0

    def _prepare(self, overwrite: bool) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise RunError(
                f"Cannot write a run to {self.path}: it is an existing file.",
                "Choose a folder path that does not exist yet (it will be created).",
            )
        if self.path.is_dir() and any(self.path.iterdir()):
            is_run = (self.path / META_FILE).exists()
            if not (overwrite and is_run):
                what = "already holds a run" if is_run else "is a folder that is not empty"
                fix = "Pass overwrite=True to replace it, or choose" if is_run else "Choose"
                raise RunError(
                    f"Cannot write a run to {self.path}: it {what}.",
                    f"{fix} a new folder, e.g. runs/exp2.",
                )
            self._clear_run()
        (self.path / CHUNK_DIR).mkdir(parents=True, exist_ok=True)
        (self.path / SNAPSHOT_DIR).mkdir(exist_ok=True)

    def _clear_run(self) -> None:
        for folder, pattern in ((CHUNK_DIR, _CHUNK_NAME), (SNAPSHOT_DIR, _SNAPSHOT_NAME)):
            for name in names_in(self.path / folder):
                if pattern.match(name):
                    (self.path / folder / name).unlink()

    def write_meta(self, meta: dict) -> None:
        text = json.dumps(meta_document(meta), indent=1, allow_nan=True)
        write_atomic(self.path / META_FILE, text.encode())

    def append_chunk(self, arrays: dict[str, np.ndarray]) -> Path | RemotePath:
        target = self.path / CHUNK_DIR / f"{self._next_chunk:06d}.npz"
        write_once(target, encode_arrays(arrays))
        self._next_chunk += 1
        return target

    def write_snapshot(self, step: int, vector: np.ndarray) -> None:
        arrays = {"step": np.int64(step), "vector": np.asarray(vector, np.float32)}
        write_once(self.path / SNAPSHOT_DIR / f"{int(step):012d}.npz", encode_arrays(arrays))

    def delete_snapshot(self, step: int) -> None:
        (self.path / SNAPSHOT_DIR / f"{int(step):012d}.npz").unlink(missing_ok=True)
