"""Per-session state: the workspace of one browser session (dataset, model, runs, plugin settings).

Everything a session changes lives in its `Workspace`, stored in ``st.session_state``, so two
browser sessions never see each other's training, data or language. Only read-only things are
shared between sessions (through ``st.cache_resource``, see `apps.logdir`).

A closed tab's session, and its workspace with it, goes when Streamlit drops the session. A tab left
open but idle for the teacher's ``session_idle_minutes`` gives back its models, runs and cached
figures (`release_idle`, run at every script run of any session); its choices stay, and the
student's next click rebuilds the model from them.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import streamlit as st

from dlviz.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

WORKSPACE_KEY = "dlviz.workspace"
DEFAULT_DATASET = "digits"
LANGUAGE_KEY = "language"

_session_numbers = itertools.count(1)
_workspaces: weakref.WeakSet = weakref.WeakSet()
_workspaces_lock = threading.Lock()


@dataclasses.dataclass
class RunEntry:
    """A run the session can show: trained here, opened from a file, or found in the logdir.

    `key` names the run for the whole session; `version` changes whenever the run's content does
    (a logdir run still being written), so cached results are keyed by both.
    """

    key: str
    run: Any
    origin: str
    version: str = ""
    label_args: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def cache_key(self) -> str:
        return f"{self.key}@{self.version}"

    def label(self, language: str) -> str:
        """How the sidebar names the run, in `language` (origin "trained", "opened" or "logdir")."""
        return t(f"runs.label.{self.origin}", language, **self.label_args)


@dataclasses.dataclass
class Notice:
    """A message for the top of the page: "error", "warning", "success" or "info"."""

    kind: str
    text: str
    details: str = ""


@dataclasses.dataclass(eq=False)  # compared (and kept in a WeakSet) by identity: one per session
class Workspace:
    """The dataset, model and runs of one browser session."""

    dataset: Any = None
    dataset_spec: tuple | None = None
    model: Any = None
    handle: Any = None
    model_spec: tuple | None = None
    first_model_spec: tuple | None = None
    model_version: str = ""
    model_label: str = ""
    make_model: Callable[[], Any] | None = None
    trained_epochs: int = 0
    runs: dict[str, RunEntry] = dataclasses.field(default_factory=dict)
    logdir_runs: dict[str, RunEntry] = dataclasses.field(default_factory=dict)
    current_run: str | None = None
    compare: tuple[str, ...] = ()
    params: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    findings: dict[str, tuple[str, list]] = dataclasses.field(default_factory=dict)
    figure_cache: collections.OrderedDict = dataclasses.field(default_factory=collections.OrderedDict)
    notices: list[Notice] = dataclasses.field(default_factory=list)
    session_number: int = dataclasses.field(default_factory=lambda: next(_session_numbers))
    run_counter: int = 0
    last_active: float = dataclasses.field(default_factory=time.monotonic)
    released_after_s: float | None = None

    def release(self, idle_s: float) -> None:
        """Give back the models, runs and cached results (the choices stay: see the module docstring)."""
        self.model = self.handle = self.make_model = None
        self.model_spec = self.dataset = self.dataset_spec = None
        self.trained_epochs = 0
        self.runs.clear()
        self.logdir_runs.clear()
        self.current_run, self.compare = None, ()
        self.findings.clear()
        self.figure_cache.clear()
        self.released_after_s = idle_s

    def notify(self, kind: str, text: str, exc: BaseException | None = None) -> None:
        details = "".join(traceback.format_exception(exc)) if exc is not None else ""
        self.notices.append(Notice(kind, text, details))

    def set_model(self, model: Any, spec: tuple, label: str, make_model: Callable[[], Any] | None) -> None:
        """Show `model` from now on; it is untrained, so the current run no longer describes it."""
        self.model = model
        self.handle = None
        self.model_spec = spec
        self.first_model_spec = self.first_model_spec or spec
        self.model_label = label
        self.make_model = make_model
        self.model_version = uuid.uuid4().hex
        self.trained_epochs = 0
        self.current_run = None

    def model_changed(self) -> None:
        """The weights changed (training): cached results of the old weights no longer apply."""
        self.handle = None
        self.model_version = uuid.uuid4().hex

    def known_runs(self) -> dict[str, RunEntry]:
        """Runs of this session, then the runs found in the logdir (re-read on every rerun)."""
        return {**self.runs, **self.logdir_runs}

    def add_run(self, run: Any, origin: str, **label_args: Any) -> RunEntry:
        """Keep `run` for this session under a new key (labelled with `label_args`)."""
        self.run_counter += 1
        label_args.setdefault("number", self.run_counter)
        entry = RunEntry(f"{origin}:{self.run_counter}", run, origin, uuid.uuid4().hex[:8], label_args)
        self.runs[entry.key] = entry
        return entry


def workspace() -> Workspace:
    """This session's workspace, created on first use."""
    if WORKSPACE_KEY not in st.session_state:
        ws = Workspace()
        with _workspaces_lock:
            _workspaces.add(ws)
        st.session_state[WORKSPACE_KEY] = ws
    return st.session_state[WORKSPACE_KEY]


def release_idle(max_idle_s: float, busy: frozenset = frozenset(), now: float | None = None) -> list[int]:
    """Release every workspace idle (no script run) for more than `max_idle_s`; returns their session numbers.

    `busy` names the sessions (by number) training or waiting to: a long training is not idleness.
    """
    now = time.monotonic() if now is None else now
    released = []
    with _workspaces_lock:
        workspaces = list(_workspaces)
    for ws in workspaces:
        idle_s = now - ws.last_active
        idle = idle_s > max_idle_s and ws.session_number not in busy
        if idle and ws.released_after_s is None and ws.model is not None:
            ws.release(idle_s)
            released.append(ws.session_number)
    return released


def language() -> str:
    """The language this session chose in the sidebar."""
    chosen = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@st.cache_resource(max_entries=32, show_spinner=False)
def bundled_dataset(name: str, params: tuple[tuple[str, Any], ...] = ()) -> Any:
    """A bundled dataset (frozen, read-only arrays: safe to share between sessions)."""
    from dlviz import datasets

    return datasets.load(name, seed=0, **dict(params))


def digest(data: bytes) -> str:
    """A short content hash, to tell uploads apart."""
    return hashlib.sha256(data).hexdigest()[:16]
