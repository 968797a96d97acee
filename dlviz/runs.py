"""Recorded training runs: the in-memory `Run` and the run-folder format.

A run folder (format version 1) holds::

    meta.json                      run metadata (JSON), replaced atomically when it changes
    chunks/NNNNNN.npz              append-only data chunks, read in numeric order
    snapshots/SSSSSSSSSSSS.npz     one flattened weight vector per file, named by its global step

Every file is written to a hidden temporary name in its own folder, flushed, fsynced and then
renamed over its final name, so a process killed at any moment leaves only complete files behind,
and a reader that lists the folder while it is being written sees a consistent prefix.
Each ``.npz`` carries a ``__dlviz__`` member (JSON: format version, the name, dtype and shape of
every other member and a SHA-256 of their bytes); a file that fails any check is reported in
``run.problems`` and skipped, never half-read.

Inside a chunk, arrays are keyed ``steps/<column>`` (one row per training step), ``epochs/<column>``
(one row per epoch) and ``records/<quantity>`` (one row per probe record; per-layer quantities
have one column per layer of ``meta["record_layers"][group]``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import uuid
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dlviz.errors import RunError

FORMAT_VERSION = 1
META_FILE = "meta.json"
CHUNK_DIR = "chunks"
SNAPSHOT_DIR = "snapshots"
HEADER_KEY = "__dlviz__"

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


# ----------------------------------------------------------------------------- container format


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def encode_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise arrays into one self-checking ``.npz`` (see the module docstring)."""
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    header = {
        "format_version": FORMAT_VERSION,
        "arrays": {name: [a.dtype.str, list(a.shape)] for name, a in arrays.items()},
        "sha256": _checksum(arrays),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{HEADER_KEY: np.frombuffer(json.dumps(header).encode(), np.uint8)})
    return buffer.getvalue()


def decode_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Read what `encode_arrays` wrote; raise ValueError with the reason when any check fails."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if HEADER_KEY not in npz.files:
                raise ValueError("it has no dlviz header")
            header = json.loads(npz[HEADER_KEY].tobytes().decode())
            if header.get("format_version", 0) > FORMAT_VERSION:
                raise ValueError(
                    f"it was written in format {header['format_version']} by a newer dlviz "
                    f"(this one reads up to {FORMAT_VERSION})"
                )
            declared = header["arrays"]
            if set(declared) != set(npz.files) - {HEADER_KEY}:
                raise ValueError("its members do not match its header (truncated or modified)")
            arrays = {name: npz[name] for name in declared}
    except ValueError:
        raise
    except Exception as exc:  # zipfile, numpy and json all signal damage with their own types
        raise ValueError(f"it cannot be parsed ({type(exc).__name__}: {exc})") from exc
    for name, (dtype, shape) in declared.items():
        if arrays[name].dtype.str != dtype or list(arrays[name].shape) != shape:
            raise ValueError(f"member {name!r} does not have the dtype/shape its header declares")
    if _checksum(arrays) != header["sha256"]:
        raise ValueError("its checksum does not match (the data was altered or damaged)")
    return arrays


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file, the new one, or none."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


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
    def __init__(self, root: Path):
        self.root = root
        self.label = str(root)

    def read(self, *parts: str) -> bytes | None:
        try:
            return self.root.joinpath(*parts).read_bytes()
        except FileNotFoundError:  # thinned or never written: absent, not damaged
            return None

    def names(self, folder: str) -> list[str]:
        try:
            return os.listdir(self.root / folder)
        except (FileNotFoundError, NotADirectoryError):
            return []


class _ZipSource:
    def __init__(self, path: Path):
        self.label = str(path)
        try:
            self._zip = zipfile.ZipFile(path)
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

    def names(self, folder: str) -> list[str]:
        start = f"{self._prefix}{folder}/"
        return [m[len(start) :] for m in self._members if m.startswith(start) and "/" not in m[len(start) :]]


# ----------------------------------------------------------------------------- the run


class Run:
    """A recorded training run: metadata, metrics per step and epoch, probe records, weight snapshots.

    Build one with `dlviz.Recorder` (``recorder.run``) or read one with `Run.load`. Everything is
    plain numpy and dicts, so a Run pickles (the dashboard caches it).
    """

    def __init__(self, meta: dict | None = None):
        self.meta: dict = meta_document(meta or {})
        self.problems: list[str] = []
        self.path: Path | None = None
        self._chunks: list[dict[str, np.ndarray]] = []
        self._snapshots: dict[int, np.ndarray] = {}
        self._tables: dict[str, tuple[int, dict[str, np.ndarray]]] = {}

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
        return np.array(sorted(dict(self._snapshots)), dtype=np.int64)

    @property
    def snapshots(self) -> np.ndarray:
        """Flattened trainable weights [n_snapshots, n_params] float32, in meta["variables"] order."""
        # A copy first: a Recorder may add or thin snapshots from the training thread meanwhile.
        kept = dict(self._snapshots)
        if not kept:
            return np.zeros((0, self.n_params), np.float32)
        return np.stack([kept[step] for step in sorted(kept)])

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
        state["_tables"] = {}
        return state

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

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write this run as a run folder at ``path`` (see the module docstring); returns the path."""
        writer = RunWriter(path, overwrite=overwrite)
        writer.write_meta(self.meta)
        for chunk in self._chunks:
            writer.append_chunk(chunk)
        for step, vector in self._snapshots.items():
            writer.write_snapshot(step, vector)
        return writer.path

    @classmethod
    def load(cls, path) -> Run:
        """Read a run folder (or a zip of one); damaged chunks are skipped and listed in ``problems``."""
        source = _open_source(Path(path))
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
        run.path = Path(path)
        for name in _numbered(source.names(CHUNK_DIR), _CHUNK_NAME):
            data = source.read(CHUNK_DIR, name)
            if data is None:
                continue
            try:
                run._append_chunk(decode_arrays(data))
            except ValueError as exc:
                run.problems.append(f"chunk {CHUNK_DIR}/{name} skipped: {exc}")
        last_record = run.record_steps.max() if len(run.record_steps) else -1
        for name in _numbered(source.names(SNAPSHOT_DIR), _SNAPSHOT_NAME):
            step = int(_SNAPSHOT_NAME.match(name).group(1))
            # A snapshot past the last loaded record belongs to data this reader has not seen yet.
            if step > last_record:
                continue
            data = source.read(SNAPSHOT_DIR, name)
            if data is None:
                continue
            try:
                vector = decode_arrays(data)["vector"]
            except (ValueError, KeyError) as exc:
                run.problems.append(f"snapshot {SNAPSHOT_DIR}/{name} skipped: {exc}")
                continue
            if vector.shape != (run.n_params,):
                run.problems.append(f"snapshot {SNAPSHOT_DIR}/{name} skipped: it has the wrong length")
                continue
            run._snapshots[step] = vector
        if run.problems:
            warnings.warn(
                f"Run {source.label}: {len(run.problems)} damaged file(s) skipped: "
                + "; ".join(run.problems),
                stacklevel=2,
            )
        return run

    open = load


def _open_source(path: Path):
    if not path.exists():
        raise RunError(f"No run at {path}: the path does not exist.", _RUN_LAYOUT)
    if path.is_file():
        if zipfile.is_zipfile(path):
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
        self.path = Path(path)
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
        try:
            (self.path / CHUNK_DIR).mkdir(parents=True, exist_ok=True)
            (self.path / SNAPSHOT_DIR).mkdir(exist_ok=True)
        except OSError as exc:
            raise RunError(
                f"Cannot create the run folder {self.path} ({exc}).", "Choose a writable path."
            ) from exc
        self._next_chunk = 0

    def _clear_run(self) -> None:
        for folder, pattern in ((CHUNK_DIR, _CHUNK_NAME), (SNAPSHOT_DIR, _SNAPSHOT_NAME)):
            for name in os.listdir(self.path / folder) if (self.path / folder).is_dir() else []:
                if pattern.match(name):
                    (self.path / folder / name).unlink()

    def write_meta(self, meta: dict) -> None:
        text = json.dumps(meta_document(meta), indent=1, allow_nan=True)
        write_atomic(self.path / META_FILE, text.encode())

    def append_chunk(self, arrays: dict[str, np.ndarray]) -> Path:
        target = self.path / CHUNK_DIR / f"{self._next_chunk:06d}.npz"
        write_atomic(target, encode_arrays(arrays))
        self._next_chunk += 1
        return target

    def write_snapshot(self, step: int, vector: np.ndarray) -> None:
        arrays = {"step": np.int64(step), "vector": np.asarray(vector, np.float32)}
        write_atomic(self.path / SNAPSHOT_DIR / f"{int(step):012d}.npz", encode_arrays(arrays))

    def delete_snapshot(self, step: int) -> None:
        try:
            (self.path / SNAPSHOT_DIR / f"{int(step):012d}.npz").unlink()
        except FileNotFoundError:
            pass
