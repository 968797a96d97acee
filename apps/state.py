"""Per-session state: the workspace of one browser session (dataset, model, runs, plugin settings).

Everything a session changes lives in its `Workspace`, stored in ``st.session_state``, so two
browser sessions never see each other's training, data or language. Only read-only things are
shared between sessions (through ``st.cache_resource``, see `apps.logdir`).

Memory comes back. A closed tab's session ends: Streamlit keeps a disconnected session about two
minutes for a reconnect and then drops it without any hook, and it may never drop one if no other
session disconnects after it (its store expires entries lazily). So a janitor thread (`start_janitor`)
asks Streamlit's runtime every few seconds which sessions are still connected; a workspace whose tab
has been gone for DISCONNECT_GRACE_S (a dropped connection comes back within seconds) ends (`end`):
its queued or running training is cancelled and its models, runs, cached results and figures are
released, then the freed memory is handed back to the system. The same thread releases a tab left
open but idle for the teacher's ``session_idle_minutes`` (`release_idle`; its choices stay, and the
student's next click rebuilds the model from them); a session training or waiting to is not idle.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import gc
import hashlib
import itertools
import logging
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import streamlit as st

from dlviz.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

logger = logging.getLogger(__name__)

WORKSPACE_KEY = "dlviz.workspace"
DEFAULT_DATASET = "digits"
LANGUAGE_KEY = "language"

DISCONNECT_GRACE_S = 30.0
SWEEP_S = 5.0

_session_numbers = itertools.count(1)
_workspaces: weakref.WeakSet = weakref.WeakSet()
_workspaces_lock = threading.Lock()
_janitor: threading.Thread | None = None


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
    training: Any = None  # an apps.training.Training in line or running, until the page collects it
    session_id: str | None = None
    disconnected_since: float | None = None
    ended: bool = False

    def release(self, idle_s: float) -> None:
        """Give back the models, runs and cached results (the choices stay: see the module docstring)."""
        self._forget_cached_results()
        self.model = self.handle = self.make_model = None
        self.model_spec = self.dataset = self.dataset_spec = None
        self.trained_epochs = 0
        self.runs.clear()
        self.logdir_runs.clear()
        self.current_run, self.compare = None, ()
        self.findings.clear()
        self.figure_cache.clear()
        self.released_after_s = idle_s

    def _forget_cached_results(self) -> None:
        """Drop this session's plugin results from the server's result cache (``st.cache_data``).

        Their keys are those of the figures this session drew and of the findings it recorded (the
        overview diagnoses with default settings); results older than the figure cache age out of
        Streamlit's cache by themselves.
        """
        import dlviz
        from apps import compute

        # a figure's key is (context key, plugin name, params key, language): see apps.compute.figures
        keys = {key[:3] for key in self.figure_cache if isinstance(key, tuple) and len(key) == 4}
        keys = {(name, context, params) for context, name, params in keys}
        for name, (context, _) in self.findings.items():
            info = dlviz.plugins().get(name)
            if info is not None and info.plugin is not None:
                keys.add((name, context, repr(info.plugin.Params())))
        for name, context, params in keys:
            compute._cached_result.clear(None, None, None, name, context, params)

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
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        context = get_script_run_ctx()
        ws = Workspace(session_id=context.session_id if context is not None else None)
        with _workspaces_lock:
            _workspaces.add(ws)
        st.session_state[WORKSPACE_KEY] = ws
        start_janitor()
    ws = st.session_state[WORKSPACE_KEY]
    ws.ended = False  # a session that runs is connected, even one ended and then reconnected after all
    return ws


def end(ws: Workspace) -> None:
    """The session of `ws` ended: cancel its training and release its models, runs and cached results."""
    training, ws.training = ws.training, None
    if training is not None and training.job is not None:
        training.job.cancel()
    ws.release(time.monotonic() - ws.last_active)
    ws.ended = True


def connected_sessions() -> Callable[[str], bool] | None:
    """Whether a Streamlit session id is connected, from this server's runtime (None without one: tests)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    return Runtime.instance().is_active_session


def end_closed(
    connected: Callable[[str], bool] | None = None,
    now: float | None = None,
    grace_s: float = DISCONNECT_GRACE_S,
) -> list[int]:
    """End every workspace whose tab has been disconnected for more than `grace_s`; returns their session
    numbers. `connected` tells a connected session id (default: ask Streamlit's runtime)."""
    connected = connected or connected_sessions()
    if connected is None:
        return []
    now = time.monotonic() if now is None else now
    ended = []
    with _workspaces_lock:
        workspaces = list(_workspaces)
    for ws in workspaces:
        if ws.ended or ws.session_id is None:
            continue
        if connected(ws.session_id):
            ws.disconnected_since = None
            continue
        if ws.disconnected_since is None:
            ws.disconnected_since = now
        elif now - ws.disconnected_since > grace_s:
            end(ws)
            ended.append(ws.session_number)
    return ended


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
        idle = idle_s > max_idle_s and ws.session_number not in busy and ws.training is None
        if idle and ws.released_after_s is None and ws.model is not None:
            ws.release(idle_s)
            released.append(ws.session_number)
    return released


def return_memory() -> None:
    """Collect what was released and ask the C allocator to hand its free pages back to the system
    (glibc keeps them otherwise, so the server's memory would not come down after a class)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def start_janitor() -> None:
    """Start, once per server, the thread that ends closed sessions and releases idle ones (see above)."""
    global _janitor
    with _workspaces_lock:
        if _janitor is not None or connected_sessions() is None:
            return
        _janitor = threading.Thread(target=_sweep_forever, name="dlviz-janitor", daemon=True)
        _janitor.start()


def _sweep_forever() -> None:
    from apps import settings, training_queue

    while True:
        time.sleep(SWEEP_S)
        try:
            server = settings.current()
            holders = training_queue.shared(server.max_concurrent_trainings).holders()
            if end_closed() + release_idle(60 * server.session_idle_minutes, holders):
                return_memory()
        except Exception:  # a failed sweep must not stop the next one; it is logged for the teacher
            logger.exception("dlviz: releasing closed or idle sessions failed")


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
