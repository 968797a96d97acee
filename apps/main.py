"""The dlviz dashboard: ``streamlit run apps/main.py`` (add ``-- --logdir runs/`` to browse recorded runs).

Add ``-- --plugins my_plugins.py`` (a file or a folder of them) for plugins of your own, unpackaged.
It opens on the bundled digits dataset and a small CNN, ready to train. The sidebar holds the
session's workspace (language, data, model, training, runs); the pages are an overview and one page
per registered plugin, built from the registry, so a plugin installed later appears by itself.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# Streamlit puts this script's folder on sys.path, not the repository root that holds `apps`.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from apps import startup  # noqa: E402

user_plugins = startup.plugin_paths(sys.argv[1:])
cold = "tensorflow" not in sys.modules
# A cold server needs seconds to import TensorFlow and the plugins: a thread starts on them now, while
# this run imports the rest and greets the newcomer with the data, which needs neither.
startup.begin(user_plugins)

from apps import logdir, pages, state, training_queue  # noqa: E402
from apps import settings as teacher  # noqa: E402
from dlviz.i18n import t  # noqa: E402

st.set_page_config(page_title="dlviz", page_icon=":material/insights:", layout="wide")
workspace = state.workspace()
workspace.last_active = time.monotonic()
top = st.container()
placeholder = st.empty()
if workspace.dataset is None and cold:
    pages.first_paint(placeholder, state.language())

startup.warm_up(user_plugins)  # waits for the thread

from apps import sidebar  # noqa: E402 - imports TensorFlow (through dlviz.models), imported by now

server = teacher.current()
state.release_idle(60 * server.session_idle_minutes, training_queue.shared(server.max_concurrent_trainings).holders())
if workspace.released_after_s is not None:
    minutes = f"{workspace.released_after_s / 60:.0f}"
    workspace.notify("info", t("server.released", state.language(), minutes=minutes))
    workspace.released_after_s = None
sidebar.draw(workspace, logdir.parse_logdir(sys.argv[1:]), top)
language = state.language()
pages.show_notices(workspace, top, language)
navigation = pages.navigation(language)
placeholder.empty()
navigation.run()
