"""Once per server process: load the plugins, keep Keras' global state, freeze the imported objects.

`begin` starts that work in a background thread at the top of the first script run, so TensorFlow
and the plugins load while the script imports the rest of the app and greets the newcomer with the
data (which needs neither) and while the browser draws it; `warm_up` then waits for it before the
sidebar and the navigation need it. The server cannot start it earlier: ``streamlit run`` runs no code
of ours before a browser connects. The thread shares the interpreter lock with the greeting, so the
greeting's chart shows somewhat later than it would alone, and the whole dashboard sooner (see the
README's row for ``bench/app.py``).

The plugins are the installed ones (entry points) and the files given after ``--plugins`` on the
command line (``streamlit run apps/main.py -- --plugins my_plugins.py``: a file or a folder of them),
validated and isolated alike: a broken one is listed as failed and the others load.

Streamlit "cleans" Keras after every script run: it calls ``keras.backend.clear_session()`` from the
thread whose run just ended. That resets Keras' global state (the counters that give layers unique
names, the scopes Keras keeps while it traces) while another session may be building or training a
model. Measured here: with one thread calling clear_session, 8 of 15 small Sequential models built
and fitted in another thread failed ("All layers added to a Sequential model should have unique
names"). It also throws away TensorFlow's kernel cache and runs a full garbage collection after
every click. Our models live in each session's state and are never rebuilt on a rerun, so there is
nothing to clean: the clean-up keeps only its matplotlib part.

TensorFlow, Keras, Plotly and the plugins leave about half a million long-lived objects that every
full garbage collection walks; freezing them once after the imports (``gc.freeze``) takes them out
of every later collection. What the sessions create afterwards (models, runs, figures) is collected
as usual.

The clean-up is replaced through a private Streamlit hook (``script_runner._clean_problem_modules``),
which is why pyproject.toml caps Streamlit below the first minor version not tested. Where the hook is
missing, a warning says so and Streamlit's clean-up stays as it is.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
from importlib.metadata import version
from pathlib import Path

import dlviz
from dlviz import registry

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_done = False
_thread: threading.Thread | None = None


def plugin_paths(argv: list[str]) -> tuple[Path, ...]:
    """The files or folders given with ``--plugins`` after ``--`` on the streamlit command line."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--plugins", action="append", default=[])
    known, _ = parser.parse_known_args(argv)
    return tuple(Path(path) for path in known.plugins)


def begin(user_plugins: tuple[Path, ...] = ()) -> None:
    """Start `warm_up` in a background thread (once per process); a later `warm_up` call waits for it.

    Should it fail, the script's own `warm_up` call does the work again and shows the error.
    """
    global _thread
    with _lock:
        if _done or _thread is not None:
            return
        _thread = threading.Thread(
            target=_warm_up_quietly, args=(user_plugins,), name="dlviz-warm-up", daemon=True
        )
        _thread.start()


def _warm_up_quietly(user_plugins: tuple[Path, ...]) -> None:
    try:
        warm_up(user_plugins)
    except Exception:  # the script's own warm_up call raises it again where the page can show it
        logger.debug("dlviz: background warm-up failed", exc_info=True)


def warm_up(user_plugins: tuple[Path, ...] = ()) -> None:
    """Discover the plugins (importing TensorFlow), load `user_plugins`, keep Keras' state, freeze; once.

    Returns at once when done; while another thread (see `begin`) is at it, waits for it to finish.
    """
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        dlviz.plugins()
        for path in user_plugins:
            for name in registry.load_files(path):
                info = dlviz.plugins()[name]
                if info.plugin is None:
                    logger.warning("dlviz: plugin %s from %s failed to load: %s", name, path, info.error)
        import keras  # noqa: F401 - imported for its long-lived objects, before the freeze

        keep_keras_state()
        gc.collect()
        gc.freeze()
        _done = True


def keep_keras_state() -> None:
    """Make Streamlit's per-run clean-up leave Keras alone (see the module docstring).

    Logs a warning, and changes nothing, when this Streamlit has no such clean-up hook to replace.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # another Streamlit layout: the hook is missing too
        script_runner = None
    if not hasattr(script_runner, "_clean_problem_modules"):
        logger.warning(
            "Streamlit %s has no script_runner._clean_problem_modules hook, so dlviz cannot keep its per-run "
            "clean-up from clearing Keras' global state: a model built or trained in one session may fail "
            "when another session's run ends, and every click pays a full garbage collection.",
            version("streamlit"),
        )
        return
    script_runner._clean_problem_modules = close_matplotlib_figures


def close_matplotlib_figures() -> None:
    """The part of Streamlit's clean-up worth keeping: pyplot figures left open by a run."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        try:
            pyplot.close("all")
        except Exception:  # noqa: S110 - a failed clean-up must never break the app
            pass
