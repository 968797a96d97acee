"""Once per server process: load the plugins, then take the imported objects out of garbage collection.

Streamlit calls ``keras.backend.clear_session()`` after every script run, and that runs a full
garbage collection. TensorFlow, Keras, Plotly and the plugins leave about half a million long-lived
objects which every such collection walks: about a second after each click on two cores. Freezing
them once, after the imports, takes them out of every later collection (``gc.freeze``); what the
sessions create afterwards (models, runs, figures) is collected as usual.
"""

from __future__ import annotations

import gc
import threading

import dlviz

_lock = threading.Lock()
_done = False


def warm_up() -> None:
    """Discover the plugins (importing TensorFlow) and freeze what the imports left; once per process."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        dlviz.plugins()
        import keras  # noqa: F401 - imported for its long-lived objects, before the freeze

        gc.collect()
        gc.freeze()
        _done = True
