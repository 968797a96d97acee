"""The plugin registry: registration, discovery through entry points, and the quick methods.

dlviz owns the entry-point group `dlviz.plugins`; the built-in plugins register through it like
any third-party package. A plugin file of one's own (no packaging) comes in through `load_files`.
A plugin that fails to import or is invalid is recorded with its error and skipped: it never stops
the others. `DLVIZ_DISABLE_PLUGIN_AUTOLOAD=1` turns discovery off.

The simplest plugin writes ``figures(self, result)`` without a language: the host passes
``language`` only to a ``figures`` that accepts it (`plugin_figures`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import logging
import os
import sys
import threading
import traceback
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from dlviz.errors import DlvizError, ParamsError, PluginError
from dlviz.plugin import (
    LANGUAGES,
    NAME_PATTERN,
    REQUIREMENTS,
    SECTIONS,
    Context,
    Plugin,
    make_params,
    param_specs,
)

ENTRY_POINT_GROUP = "dlviz.plugins"
AUTOLOAD_ENV = "DLVIZ_DISABLE_PLUGIN_AUTOLOAD"

logger = logging.getLogger("dlviz")


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """What the registry knows of one plugin: the class when it loaded, or why it did not."""

    name: str
    source: str
    plugin: type[Plugin] | None = None
    error: str | None = None
    traceback: str | None = None

    @property
    def status(self) -> str:
        return "loaded" if self.plugin is not None else "failed"


_lock = threading.RLock()
_registry: dict[str, PluginInfo] = {}
_discovered = False
_loading_source: str | None = None  # the file being imported by load_files, for register()'s record

USER_MODULE_PREFIX = "dlviz_user_plugins"
# The arguments each method is called with (after self); figures may also take `language`.
SIGNATURES = {
    "compute": ("ctx", "params"),
    "figures": ("result",),
    "is_compatible": ("ctx",),
    "diagnose": ("result",),
    "page": ("result",),
    "render": ("st", "ctx", "result"),
}


def accepts_language(method: Any) -> bool:
    """Whether `method` (a plugin's figures) takes a `language` keyword."""
    parameters = inspect.signature(method).parameters.values()
    return any(p.name == "language" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def plugin_figures(plugin: Plugin, result: Any, language: str = "en") -> list:
    """`plugin.figures(result)`, with ``language=`` only when its figures accepts one."""
    if accepts_language(plugin.figures):
        return plugin.figures(result, language=language)
    return plugin.figures(result)


def _check_signatures(cls: type[Plugin], label: str) -> None:
    for method, arguments in SIGNATURES.items():
        function = inspect.getattr_static(cls, method)
        if function is inspect.getattr_static(Plugin, method):
            continue
        if isinstance(function, staticmethod | classmethod) or not callable(function):
            raise PluginError(
                f"{label} ({cls.name!r}): {method} must be a plain method, not {type(function).__name__}.",
                f"write `def {method}(self, {', '.join(arguments)})`.",
            )
        try:
            inspect.signature(function).bind(None, *arguments)
        except TypeError as exc:
            raise PluginError(
                f"{label} ({cls.name!r}): {method}{inspect.signature(function)} cannot be called as "
                f"{method}(self, {', '.join(arguments)}) ({exc}).",
                f"write `def {method}(self, {', '.join(arguments)})`"
                + (" (optionally with `language='en'`)." if method == "figures" else "."),
            ) from exc


def validate(cls: Any) -> None:
    """Refuse a plugin class that breaks the contract, with a PluginError saying what to change."""
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise PluginError(f"{cls!r} is not a plugin class.", "subclass dlviz.Plugin and register the class.")
    label = f"plugin class {cls.__qualname__}"
    if not isinstance(cls.name, str) or not NAME_PATTERN.match(cls.name):
        raise PluginError(
            f"{label} has an invalid name {cls.name!r}.",
            "set name to lower-case letters, digits and underscores, starting with a letter (e.g. 'my_view').",
        )
    for method in ("compute", "figures"):
        if getattr(cls, method) is getattr(Plugin, method):
            raise PluginError(f"{label} ({cls.name!r}) does not implement {method}().", f"define {method}().")
    _check_signatures(cls, label)
    unknown = set(cls.requires) - REQUIREMENTS
    if unknown:
        raise PluginError(
            f"{label} requires unknown context fields {sorted(unknown)}.",
            f"requires may only name {sorted(REQUIREMENTS)}.",
        )
    if cls.section not in SECTIONS:
        raise PluginError(f"{label} has an unknown section {cls.section!r}.", f"use one of {SECTIONS}.")
    if not dataclasses.is_dataclass(cls.Params) or not cls.Params.__dataclass_params__.frozen:
        raise PluginError(
            f"{label} has a Params that is not a frozen dataclass.",
            "declare `@dataclasses.dataclass(frozen=True) class Params:` with dlviz.param fields.",
        )
    try:
        for spec in param_specs(cls.Params):
            spec.check(spec.default)
    except ParamsError as exc:
        raise PluginError(f"{label} declares an invalid parameter default: {exc}") from exc


def register(cls: type[Plugin] | None = None, *, replace: bool = False, source: str | None = None):
    """Register a plugin class; usable as `@dlviz.register` or `dlviz.register(MyPlugin)`.

    A second plugin with the same name is refused unless `replace=True`, or unless it is the same
    class defined again (re-running a notebook cell).
    """

    def decorate(plugin_cls: type[Plugin]) -> type[Plugin]:
        validate(plugin_cls)
        with _lock:
            origin = source or _loading_source or "register"
            existing = _registry.get(plugin_cls.name)
            if existing is not None and existing.plugin is not None and not replace:
                same = (existing.plugin.__module__, existing.plugin.__qualname__) == (
                    plugin_cls.__module__,
                    plugin_cls.__qualname__,
                )
                if not same:
                    raise PluginError(
                        f"A plugin named {plugin_cls.name!r} is already registered "
                        f"({existing.plugin.__module__}.{existing.plugin.__qualname__}).",
                        "choose another name, or pass replace=True to dlviz.register.",
                    )
            _registry[plugin_cls.name] = PluginInfo(plugin_cls.name, origin, plugin_cls)
        return plugin_cls

    return decorate(cls) if cls is not None else decorate


def unregister(name: str) -> None:
    """Forget a plugin (tests and notebooks); unknown names are ignored."""
    with _lock:
        _registry.pop(name, None)


def _record_failure(name: str, source: str, exc: BaseException) -> None:
    logger.warning("dlviz: failed to load plugin %r from %s, ignoring it: %s", name, source, exc)
    _registry[name] = PluginInfo(
        name, source, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
    )


def discover(force: bool = False) -> None:
    """Load every plugin of the `dlviz.plugins` entry-point group once (again with `force`)."""
    global _discovered
    with _lock:
        if (_discovered and not force) or os.environ.get(AUTOLOAD_ENV, "") not in ("", "0"):
            return
        _discovered = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            if point.name in _registry and _registry[point.name].plugin is not None:
                continue
            source = f"entry point {point.value}"
            try:
                cls = point.load()
                if getattr(cls, "name", None) != point.name:
                    raise PluginError(
                        f"entry point {point.name!r} loads a plugin named {getattr(cls, 'name', None)!r}.",
                        "make the entry-point name equal the plugin's name.",
                    )
                register(cls, source=source)
            except Exception as exc:  # a broken plugin must never stop the others
                _record_failure(point.name, source, exc)


def load_files(path: str | os.PathLike) -> list[str]:
    """Import a plugin file of one's own, or every ``*.py`` of a folder; returns the names registered.

    Each file is imported as its own module (``dlviz_user_plugins.<stem>``), so its ``@dlviz.register``
    classes are validated and registered as entry points' are; a `Plugin` subclass it defines without
    registering is registered too. A file that fails to import, or holds an invalid plugin, is recorded
    as a failed plugin named after the file (see `plugins`) and never stops the others.
    """
    global _loading_source
    root = Path(path).expanduser()
    files = sorted(root.glob("*.py")) if root.is_dir() else [root]
    names: list[str] = []
    for file in files:
        if file.name.startswith("_"):
            continue
        source = f"file {file}"
        module_name = f"{USER_MODULE_PREFIX}.{file.stem}"
        with _lock:
            before = dict(_registry)
            _loading_source = source
            try:
                if not file.is_file():
                    raise PluginError(f"No plugin file at {file}.", "pass a .py file or a folder of them.")
                spec = importlib.util.spec_from_file_location(module_name, file)
                if spec is None or spec.loader is None:
                    raise PluginError(f"{file} is not a Python file.", "pass .py files.")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
                for value in list(vars(module).values()):
                    defined_here = getattr(value, "__module__", None) == module_name
                    # a class without a name is a base for the file's plugins, not one of them
                    if defined_here and isinstance(value, type) and issubclass(value, Plugin) and value.name:
                        register(value, source=source)
            except Exception as exc:  # a broken file must never stop the others
                sys.modules.pop(module_name, None)
                _registry.clear()
                _registry.update(before)
                _record_failure(file.stem, source, exc)
                names.append(file.stem)
            else:
                names.extend(name for name, info in _registry.items() if before.get(name) is not info)
            finally:
                _loading_source = None
    return names


def plugins() -> dict[str, PluginInfo]:
    """Every plugin known, loaded or failed, by name (discovers installed plugins first)."""
    discover()
    with _lock:
        return dict(sorted(_registry.items()))


def get_plugin(name: str) -> Plugin:
    """An instance of the registered plugin `name`; PluginError when unknown or failed to load."""
    info = plugins().get(name)
    if info is None:
        known = ", ".join(plugins()) or "none"
        raise PluginError(f"No plugin named {name!r}.", f"use one of: {known} (python -m dlviz plugins lists them).")
    if info.plugin is None:
        raise PluginError(f"Plugin {name!r} failed to load: {info.error}", "see `python -m dlviz plugins`.")
    return info.plugin()


def make_context(
    *,
    model: Any = None,
    dataset: Any = None,
    run: Any = None,
    runs: tuple = (),
    seed: int = 0,
    language: str = "en",
    progress: Any = None,
) -> Context:
    """A `Context` from loose script arguments: wraps a Keras model, loads a dataset given by name."""
    from dlviz import datasets, device
    from dlviz.handle import wrap

    if language not in LANGUAGES:
        raise PluginError(f"Unknown language {language!r}.", f"use one of {LANGUAGES}.")
    if isinstance(dataset, str):
        dataset = datasets.load(dataset, seed=seed)
    if model is not None:
        model = wrap(model, dataset=dataset)
    return Context(
        model=model,
        dataset=dataset,
        run=run,
        runs=tuple(runs),
        device=device.describe(),
        seed=seed,
        language=language,
        progress=progress,
    )


def run_plugin(plugin: Plugin, ctx: Context, params: Any = None) -> Any:
    """Check compatibility, then compute; an unexpected exception becomes a PluginError naming the plugin."""
    if params is None:
        params = plugin.Params()
    verdict = plugin.is_compatible(ctx)
    if verdict is not True:
        raise PluginError(f"Plugin {plugin.name!r} cannot run here: {verdict}")
    try:
        return plugin.compute(ctx, params)
    except DlvizError:
        raise
    except Exception as exc:
        raise PluginError(f"Plugin {plugin.name!r} failed while computing: {type(exc).__name__}: {exc}") from exc


def compute(name: str, **kwargs: Any) -> Any:
    """Compute plugin `name`'s result from script arguments (see `figures` for the arguments)."""
    context_keys = {"model", "dataset", "run", "runs", "seed", "language", "progress"}
    context_args = {key: kwargs.pop(key) for key in list(kwargs) if key in context_keys}
    plugin = get_plugin(name)
    params = make_params(plugin.Params, kwargs)
    return run_plugin(plugin, make_context(**context_args), params)


def figures(name: str, **kwargs: Any) -> list:
    """The quick method for scripts: `dlviz.figures("gradients", model=m, dataset=ds, run=run, bins=40)`.

    Context arguments are `model` (a Keras model or ModelHandle), `dataset` (a Dataset or a bundled
    dataset's name), `run`, `runs`, `seed`, `language` and `progress`; every other keyword is a
    parameter of the plugin. Returns a list of Plotly figures.
    """
    language = kwargs.get("language", "en")
    result = compute(name, **kwargs)
    return plugin_figures(get_plugin(name), result, language)
