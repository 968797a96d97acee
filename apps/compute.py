"""Running plugins for the dashboard: a session's `Context`, cached results and figures, findings.

Results are cached with ``st.cache_data`` per (context, plugin, params); the language is not part
of the key, so switching language or page never recomputes. The context (model, dataset, runs) is
passed as an unhashed ``_``-argument and named by `context_key`, which changes whenever the model's
weights, the dataset or a run change. A result that does not depend on the session (the plugin's
`shared_result_key` is not None: a lesson on its own data, the optimizer race) is cached once for
the whole server instead, so the next student gets it at once; ``st.cache_data`` hands each reader
its own unpickled copy, so no session can change another's.

While a result is computed, the plugin's progress and partial results (`Context.report_partial`)
reach the page through a `Listener`; only the complete result is cached.
"""

from __future__ import annotations

import collections
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

import dlviz
from apps.state import Workspace
from dlviz.errors import DlvizError
from dlviz.plugin import Context, Finding, Plugin
from dlviz.registry import plugin_figures, run_plugin

SEVERITY_ORDER = {"problem": 0, "warning": 1, "info": 2, "ok": 3}
FIGURE_CACHE_SIZE = 48
SHARED_RESULTS = 64  # results kept for every session: lessons and races at a few settings each
SESSION, SHARED = "session", "shared"  # whose result (and figures) a result key names

_shared_figures: collections.OrderedDict = collections.OrderedDict()  # (shared key, language) -> figures
_shared_figures_lock = threading.Lock()  # sessions run in threads of their own


@st.cache_resource(show_spinner=False)
def device_description() -> str:
    """What dlviz computes on (the same for every session of this server)."""
    return dlviz.device.describe()


def model_handle(ws: Workspace) -> Any:
    """The session's model wrapped for the plugins (wrapped once per model version)."""
    if ws.model is None:
        return None
    if ws.handle is None:
        ws.handle = dlviz.wrap(ws.model, dataset=ws.dataset)
    return ws.handle


def context(
    ws: Workspace,
    language: str,
    progress: Callable[[float, str], None] | None = None,
    partial: Callable[[Any], None] | None = None,
) -> Context:
    """The context a plugin computes in: this session's model, data, current run and runs to compare."""
    runs = ws.known_runs()
    current = runs.get(ws.current_run) if ws.current_run else None
    compared = tuple(runs[key].run for key in ws.compare if key in runs and key != ws.current_run)
    return Context(
        model=model_handle(ws),
        dataset=ws.dataset,
        run=current.run if current else None,
        runs=compared,
        device=device_description(),
        seed=0,
        language=language,
        progress=progress,
        partial=partial,
    )


def vocabulary(ws: Workspace) -> tuple[str, ...]:
    """Names a free multi-valued parameter probably wants: the layers of the model (or of the run)."""
    try:
        handle = model_handle(ws)
    except DlvizError:
        handle = None
    if handle is not None:
        return tuple(layer.name for layer in handle.layers)
    current = ws.known_runs().get(ws.current_run) if ws.current_run else None
    return tuple(current.run.layers) if current is not None else ()


def context_key(ws: Workspace) -> str:
    """Names everything a result depends on except the plugin and its params."""
    runs = ws.known_runs()
    current = runs[ws.current_run].cache_key if ws.current_run in runs else "-"
    compared = ",".join(runs[key].cache_key for key in ws.compare if key in runs and key != ws.current_run)
    dataset = repr(ws.dataset_spec)
    return f"s{ws.session_number}|m{ws.model_version}|d{dataset}|r{current}|c{compared}"


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_result(
    _plugin: Plugin, _ctx: Context, _params: Any, plugin_name: str, ctx_key: str, params_key: str
):
    return run_plugin(_plugin, _ctx, _params)


@st.cache_data(show_spinner=False, max_entries=SHARED_RESULTS)
def _shared_result(_plugin: Plugin, _ctx: Context, _params: Any, plugin_name: str, shared_key: str):
    return run_plugin(_plugin, _ctx, _params)


class Listener:
    """`ctx.progress` and `ctx.partial` for Streamlit: a progress bar drawn on the first report and
    `on_partial(result)` for each partial result; `done` clears the bar.

    A cached function records the elements it draws in order to replay them on a cache hit; the bar
    and the partial figures belong to the page, not to the result, so they are drawn in the context
    of the caller.
    """

    def __init__(self, area: Any, on_partial: Callable[[Any], None] | None = None):
        self._area = area
        self._bar = None
        self._on_partial = on_partial
        self._outer = contextvars.copy_context()

    def __call__(self, fraction: float, message: str = "") -> None:
        self._outer.run(self._update, fraction, message)

    def _update(self, fraction: float, message: str) -> None:
        if self._bar is None:
            self._bar = self._area.progress(fraction, text=message or None)
        else:
            self._bar.progress(fraction, text=message or None)

    def partial(self, value: Any) -> None:
        if self._on_partial is not None:
            self._outer.run(self._on_partial, value)

    def done(self) -> None:
        self._outer.run(self._area.empty)


def shared_key(plugin: Plugin, ctx: Context, params: Any) -> str | None:
    """The server-wide cache key of `plugin`'s result, or None when the result belongs to the session."""
    session_part = plugin.shared_result_key(ctx, params)
    if session_part is None:
        return None
    return f"{plugin.name}|{type(plugin).__module__}.{type(plugin).__qualname__}|{params!r}|seed{ctx.seed}|{session_part}"


def result(
    plugin: Plugin,
    ws: Workspace,
    language: str,
    params: Any,
    area: Any,
    on_partial: Callable[[Any], None] | None = None,
) -> tuple[Any, str]:
    """Compute (or fetch) `plugin`'s result with progress in `area`; returns (result, its key for `figures`).

    `on_partial(result)` hears each partial result the plugin reports while it computes (never on a
    cache hit): a page draws them so that the first figures show before the last model is trained.
    """
    listener = Listener(area, on_partial)
    ctx = context(ws, language, progress=listener, partial=listener.partial if on_partial else None)
    params_key = repr(params)
    try:
        shared = shared_key(plugin, ctx, params)
        if shared is not None:
            value = _shared_result(plugin, ctx, params, plugin.name, shared)
        else:
            value = _cached_result(plugin, ctx, params, plugin.name, context_key(ws), params_key)
    finally:
        listener.done()
    return value, (SHARED, shared) if shared is not None else (SESSION, params_key)


def figures(plugin: Plugin, ws: Workspace, value: Any, result_key: tuple[str, str], language: str) -> list:
    """`plugin.figures(value, language)`, kept with the result's key (from `result`) and the language.

    Figures stay as objects: through ``st.cache_data`` every page switch would pay for unpickling
    them, which re-validates every Plotly property (slower than drawing them anew). Those of a shared
    result are kept for every session: pages only read them (``st.plotly_chart`` and the exports
    work on copies), so the next student does not draw them again.
    """
    kind, key_of_result = result_key
    if kind == SHARED:
        with _shared_figures_lock:
            cached = _shared_figures.get((key_of_result, language))
            if cached is not None:
                _shared_figures.move_to_end((key_of_result, language))
                return list(cached)
        drawn = tuple(plugin_figures(plugin, value, language))
        with _shared_figures_lock:
            _shared_figures[(key_of_result, language)] = drawn
            while len(_shared_figures) > SHARED_RESULTS:
                _shared_figures.popitem(last=False)
        return list(drawn)
    key = (context_key(ws), plugin.name, key_of_result, language)
    cached = ws.figure_cache.get(key)
    if cached is None:
        cached = list(plugin_figures(plugin, value, language))
        ws.figure_cache[key] = cached
        while len(ws.figure_cache) > FIGURE_CACHE_SIZE:
            ws.figure_cache.popitem(last=False)
    else:
        ws.figure_cache.move_to_end(key)
    return cached


def has_diagnosis(plugin_cls: type[Plugin]) -> bool:
    return plugin_cls.diagnose is not Plugin.diagnose


def record_findings(ws: Workspace, plugin: Plugin, value: Any) -> list[Finding]:
    """The plugin's findings on `value`, remembered for the overview page."""
    found = list(plugin.diagnose(value)) if has_diagnosis(type(plugin)) else []
    ws.findings[plugin.name] = (context_key(ws), found)
    return found


def sort_findings(findings: list[tuple[str, Finding]]) -> list[tuple[str, Finding]]:
    return sorted(findings, key=lambda item: SEVERITY_ORDER.get(item[1].severity, 9))
