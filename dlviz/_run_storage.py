"""Where runs are stored: local folders through the operating system, anything else through tf.io.gfile.

A run location is a `pathlib.Path` for a local path, or a `RemotePath` for a URL such as
``gs://bucket/runs/exp1`` or TensorFlow's in-memory ``ram://...`` (built into TensorFlow), or ``s3://...``,
``hdfs://...`` and the other file systems tensorflow-io registers (``import tensorflow_io``): any file
system TensorFlow has a plugin for, as TensorBoard reads them. `RemotePath` offers the part of
`pathlib.Path`'s interface the run store and the dashboard use, so the same code walks both.

What a write guarantees where:

* local folders: each file is written to a hidden temporary name, flushed, fsynced and renamed over its
  final name (atomic), and the folder is fsynced, so a killed process leaves only complete files;
* URLs: chunks and snapshots are written once, straight under their final (new) names. Object stores
  (GCS, S3) publish an object only when its upload completes; on a file system that shows a file while
  it is written, a reader finds a half-written chunk whose checksum fails and skips it. Either way the
  chunks flushed before a crash stay readable, because nothing is ever rewritten. meta.json, which does
  change, is written to a temporary name and renamed over the old one (atomic where the file system's
  rename is; an object store's rename is a copy, published whole, then a delete).

Each ``.npz`` a run holds is self-checking (`encode_arrays`): a ``__dlviz__`` member declares the format
version, the dtype and shape of every other member and a SHA-256 of their bytes.

TensorFlow is imported only when a URL is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import struct
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np

FORMAT_VERSION = 1
HEADER_KEY = "__dlviz__"

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$")


def is_url(path) -> bool:
    """Whether `path` names a location through a URL scheme (``gs://``, ``ram://``, ...)."""
    return isinstance(path, RemotePath) or (isinstance(path, str) and _URL.match(path) is not None)


def location(path) -> Path | RemotePath:
    """`path` as a `RemotePath` when it is a URL, else as a `pathlib.Path` (``~`` expanded)."""
    if isinstance(path, RemotePath):
        return path
    if isinstance(path, str) and _URL.match(path):
        return RemotePath(path)
    return Path(path).expanduser()


def reach_fix(path) -> str:
    """How to fix a location that cannot be read or written."""
    if isinstance(path, RemotePath):
        return (
            "Check the URL and its file system's credentials (e.g. gcloud auth application-default login "
            "for gs://); s3://, hdfs:// and other schemes need tensorflow-io (pip install tensorflow-io, "
            "then import tensorflow_io before recording or loading)."
        )
    return "Choose a folder you can write to."


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def _os_error(exc: Exception, url: str) -> OSError:
    """tf.errors.NotFoundError as FileNotFoundError, any other file system error as OSError."""
    import tensorflow as tf

    if isinstance(exc, tf.errors.NotFoundError):
        return FileNotFoundError(2, "No such file or directory", url)
    return OSError(f"{url}: {exc.message if hasattr(exc, 'message') else exc}")


class _Stat(NamedTuple):
    st_size: int
    st_mtime_ns: int


class RemotePath:
    """A file or folder on a file system reached through `tf.io.gfile`, used like a `pathlib.Path`.

    >>> run = RemotePath("gs://bucket/runs/") / "exp1" / "meta.json"
    >>> run, run.name, run.parent.name
    (RemotePath('gs://bucket/runs/exp1/meta.json'), 'meta.json', 'exp1')
    >>> str(run.relative_to(RemotePath("gs://bucket/runs")))
    'exp1/meta.json'
    """

    def __init__(self, url: str):
        match = _URL.match(str(url))
        if match is None:
            raise ValueError(f"{url!r} is not a URL (scheme://...)")
        scheme, rest = match.groups()
        rest = rest.rstrip("/")
        self._root = f"{scheme}://"
        self._rest = posixpath.normpath(rest) if rest else ""
        if self._rest == ".":
            self._rest = ""

    # ------------------------------------------------------------------ names

    def __str__(self) -> str:
        return self._root + self._rest

    def __repr__(self) -> str:
        return f"RemotePath({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RemotePath) and str(self) == str(other)

    def __lt__(self, other: RemotePath) -> bool:
        return str(self) < str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __truediv__(self, part) -> RemotePath:
        return RemotePath(f"{self}/{str(part).strip('/')}") if str(part).strip("/") else self

    def joinpath(self, *parts) -> RemotePath:
        path = self
        for part in parts:
            path = path / part
        return path

    @property
    def name(self) -> str:
        return self._rest.rsplit("/", 1)[-1]

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self._root + self._rest.rsplit("/", 1)[0]) if "/" in self._rest else self

    def relative_to(self, other: RemotePath) -> PurePosixPath:
        prefix = str(other).rstrip("/") + "/"
        if self == other:
            return PurePosixPath(".")
        if not str(self).startswith(prefix):
            raise ValueError(f"{self} is not under {other}")
        return PurePosixPath(str(self)[len(prefix) :])

    def expanduser(self) -> RemotePath:
        return self

    # ------------------------------------------------------------------ the file system

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(_gfile(), method)(str(self), *args, **kwargs)
        except Exception as exc:
            if type(exc).__module__.startswith("tensorflow"):
                raise _os_error(exc, str(self)) from exc
            raise

    def exists(self) -> bool:
        return bool(self._call("exists"))

    def is_dir(self) -> bool:
        return bool(self._call("isdir"))

    def is_file(self) -> bool:
        return self.exists() and not self.is_dir()

    def iterdir(self) -> Iterator[RemotePath]:
        return (self / name for name in self._call("listdir"))

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        if self.is_dir():
            if not exist_ok:
                raise FileExistsError(17, "File exists", str(self))
            return
        self._call("makedirs" if parents else "mkdir")

    def read_bytes(self) -> bytes:
        try:
            with _gfile().GFile(str(self), "rb") as handle:
                return handle.read()
        except Exception as exc:
            if type(exc).__module__.startswith("tensorflow"):
                raise _os_error(exc, str(self)) from exc
            raise

    def open(self):
        """A seekable binary file object reading this file (tf.io.gfile.GFile)."""
        return _gfile().GFile(str(self), "rb")

    def write_bytes(self, data: bytes) -> None:
        try:
            with _gfile().GFile(str(self), "wb") as handle:
                handle.write(data)
        except Exception as exc:
            if type(exc).__module__.startswith("tensorflow"):
                raise _os_error(exc, str(self)) from exc
            raise

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self._call("remove")
        except FileNotFoundError:
            if not missing_ok:
                raise

    def replace(self, target: RemotePath) -> None:
        self._call("rename", str(target), overwrite=True)

    def stat(self) -> _Stat:
        info = self._call("stat")
        return _Stat(int(info.length), int(info.mtime_nsec))

    def walk(self) -> Iterator[tuple[RemotePath, list[str], list[str]]]:
        """Like `os.walk` (top-down; prune by editing the folder list in place)."""
        try:
            names = sorted(self._call("listdir"))
        except FileNotFoundError:
            return
        folders = [name.rstrip("/") for name in names if (self / name).is_dir()]
        files = [name for name in names if name.rstrip("/") not in folders]
        yield self, folders, files
        for name in folders:
            yield from (self / name).walk()


# ----------------------------------------------------------------------------- the container format


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(memoryview(array.reshape(-1)).cast("B"))  # the bytes themselves, not a copy
    return digest.hexdigest()


def encode_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise arrays into one self-checking ``.npz`` (see the module docstring)."""
    # C order, so every member's values can be read in place (see `_member`); 0-d arrays stay 0-d.
    arrays = {
        name: np.asarray(value).copy(order="C")
        if not np.asarray(value).flags.c_contiguous
        else np.asarray(value)
        for name, value in arrays.items()
    }
    header = {
        "format_version": FORMAT_VERSION,
        "arrays": {name: [a.dtype.str, list(a.shape)] for name, a in arrays.items()},
        "sha256": _checksum(arrays),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{HEADER_KEY: np.frombuffer(json.dumps(header).encode(), np.uint8)})
    return buffer.getvalue()


def _read_header(archive: zipfile.ZipFile) -> dict:
    names = {name.removesuffix(".npy") for name in archive.namelist()}
    if HEADER_KEY not in names:
        raise ValueError("it has no dlviz header")
    header = json.loads(np.lib.format.read_array(archive.open(HEADER_KEY + ".npy")).tobytes().decode())
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"it was written in format {header['format_version']} by a newer dlviz "
            f"(this one reads up to {FORMAT_VERSION})"
        )
    if set(header["arrays"]) != names - {HEADER_KEY}:
        raise ValueError("its members do not match its header (truncated or modified)")
    return header


def _member(data, archive: zipfile.ZipFile, name: str, dtype: str, shape: list[int]) -> np.ndarray:
    """Member `name` as an array over `data` itself (no copy): np.savez stores each .npy uncompressed,
    its values last, so they are the member's final bytes (dtype and shape from the dlviz header)."""
    info = archive.getinfo(name + ".npy")
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    start = info.header_offset
    name_length, extra_length = struct.unpack("<HH", bytes(data[start + 26 : start + 30]))
    begin = start + 30 + name_length + extra_length
    end = begin + info.compress_size
    npy_header = bytes(data[begin : end - count * dtype.itemsize])
    readable_in_place = (
        info.compress_type == zipfile.ZIP_STORED
        and not dtype.hasobject
        and bytes(data[start : start + 4]) == b"PK\x03\x04"
        and end <= len(data)
        and npy_header.startswith(b"\x93NUMPY")
        and b"True" not in npy_header  # Fortran order: let numpy reorder it
    )
    if not readable_in_place:
        return np.lib.format.read_array(archive.open(info), allow_pickle=False)
    return np.frombuffer(data, dtype, count, offset=end - count * dtype.itemsize).reshape(shape)


def decode_arrays(data) -> dict[str, np.ndarray]:
    """Read what `encode_arrays` wrote; raise ValueError with the reason when any check fails.
    The arrays are read-only views of `data` (no copy)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            header = _read_header(archive)
            declared = header["arrays"]
            arrays = {
                name: _member(data, archive, name, dtype, shape) for name, (dtype, shape) in declared.items()
            }
    except ValueError:
        raise
    except Exception as exc:  # zipfile, numpy, struct and json all signal damage with their own types
        raise ValueError(f"it cannot be parsed ({type(exc).__name__}: {exc})") from exc
    for name, (dtype, shape) in declared.items():
        if arrays[name].dtype.str != dtype or list(arrays[name].shape) != shape:
            raise ValueError(f"member {name!r} does not have the dtype/shape its header declares")
    if _checksum(arrays) != header["sha256"]:
        raise ValueError("its checksum does not match (the data was altered or damaged)")
    return arrays


def check_structure(handle, expected: dict[str, tuple[str, list[int]]]) -> None:
    """Check a file `encode_arrays` wrote without reading its arrays: its zip directory, its header and
    that the header declares the `expected` members ({name: (dtype, shape)}); ValueError if not.
    The checksum is left to `decode_arrays`, when the values are read."""
    try:
        with zipfile.ZipFile(handle) as archive:
            header = _read_header(archive)
    except ValueError:
        raise
    except Exception as exc:  # zipfile, numpy and json all signal damage with their own types
        raise ValueError(f"it cannot be parsed ({type(exc).__name__}: {exc})") from exc
    declared = {name: (dtype, list(shape)) for name, (dtype, shape) in header["arrays"].items()}
    for name, (dtype, shape) in expected.items():
        if declared.get(name) != (dtype, shape):
            raise ValueError(f"its {name!r} is {declared.get(name)}, not {(dtype, shape)} as this run needs")


# ----------------------------------------------------------------------------- what the run store calls


def names_in(folder: Path | RemotePath) -> list[str]:
    """The entry names of `folder` ([] when it does not exist)."""
    if isinstance(folder, RemotePath):
        try:
            return [path.name for path in folder.iterdir()]
        except FileNotFoundError:
            return []
    try:
        return os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []


def walk(root: Path | RemotePath) -> Iterator[tuple[Path | RemotePath, list[str], list[str]]]:
    """`os.walk` over a local folder or a URL, yielding the folder as a location."""
    if isinstance(root, RemotePath):
        yield from root.walk()
        return
    for folder, subfolders, files in os.walk(root):
        yield Path(folder), subfolders, files


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


def write_atomic(path: Path | RemotePath, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file, the new one, or none.

    On a URL the rename is only as atomic as the file system's (see the module docstring).
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    if isinstance(path, RemotePath):
        tmp.write_bytes(data)
        try:
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        return
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


def write_once(path: Path | RemotePath, data: bytes) -> None:
    """Write a file that is never rewritten (a chunk, a snapshot): atomically on a local disk, straight
    under its name on a URL, where a half-written file fails its checksum (see the module docstring)."""
    if isinstance(path, RemotePath):
        path.write_bytes(data)
    else:
        write_atomic(path, data)
