"""apps/startup.py: Streamlit's per-run clean-up is replaced through a private hook, or a warning says why not;
plugin files named on the command line reach the dashboard; the warm-up runs in a background thread that the
script waits for, and the greeting needs no TensorFlow."""

import logging
import subprocess
import sys
import threading
import types
from importlib.metadata import version
from pathlib import Path

import pytest
from dashboard_helpers import assert_no_exception, chart_specs, new_app, open_page
from streamlit.runtime.scriptrunner import script_runner

from apps import startup
from dlviz import registry


def test_the_clean_up_hook_is_replaced_when_streamlit_has_it(monkeypatch, caplog):
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    with caplog.at_level(logging.WARNING, logger="apps.startup"):
        startup.keep_keras_state()
    assert script_runner._clean_problem_modules is startup.close_matplotlib_figures
    assert not caplog.records


def test_a_missing_clean_up_hook_is_reported_with_what_is_lost(monkeypatch, caplog):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    with caplog.at_level(logging.WARNING, logger="apps.startup"):
        startup.keep_keras_state()
    assert not hasattr(script_runner, "_clean_problem_modules")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.name == "apps.startup"
    message = record.getMessage()
    assert f"Streamlit {version('streamlit')}" in message
    assert "_clean_problem_modules" in message and "Keras' global state" in message


USER_PLUGIN = '''
import plotly.graph_objects as go

import dlviz


@dlviz.register
class FromAFile(dlviz.Plugin):
    """Bars from a plugin file.

    简介：来自插件文件的柱状图。

    What to look for: three bars.

    观察要点：三根柱子。
    """

    name = "zz_from_a_file"

    def compute(self, ctx, params):
        return [1, 2, 3]

    def figures(self, result):
        return [go.Figure(go.Bar(y=result), layout={"title": "from a file"})]
'''


def test_plugins_given_on_the_command_line_are_read_from_after_the_double_dash():
    argv = ["--logdir", "runs", "--plugins", "mine.py", "--plugins", "more/"]
    assert startup.plugin_paths(argv) == (Path("mine.py"), Path("more"))
    assert startup.plugin_paths([]) == ()


def test_a_plugin_file_reaches_the_dashboard_and_draws_without_a_language(tmp_path):
    path = tmp_path / "my_plugins.py"
    path.write_text(USER_PLUGIN, encoding="utf-8")
    try:
        assert registry.load_files(path) == ["zz_from_a_file"]
        at = new_app().run()
        open_page(at, "zz_from_a_file").run()
        assert_no_exception(at)
        assert [spec["layout"]["title"]["text"] for spec in chart_specs(at)] == ["from a file"]
        at.segmented_control(key="language").set_value("zh").run()
        assert_no_exception(at)
        assert chart_specs(at), "the same figure, drawn in Chinese pages too"
    finally:
        registry.unregister("zz_from_a_file")


def test_begin_warms_up_in_a_thread_that_the_script_waits_for(monkeypatch):
    monkeypatch.setattr(startup, "_done", False)
    monkeypatch.setattr(startup, "_thread", None)
    monkeypatch.setattr(startup, "gc", types.SimpleNamespace(collect=lambda: 0, freeze=lambda: None))
    monkeypatch.setattr(startup, "keep_keras_state", lambda: None)
    inside, finish, discoveries = threading.Event(), threading.Event(), []

    def slow_discovery():
        discoveries.append(threading.current_thread().name)
        inside.set()
        assert finish.wait(10)
        return {}

    monkeypatch.setattr(startup.dlviz, "plugins", slow_discovery)
    startup.begin(())
    assert inside.wait(10), "the warm-up started in the background"
    script = threading.Thread(target=startup.warm_up)
    script.start()
    script.join(0.2)
    assert script.is_alive(), "the script's warm_up waits while the thread is at it"
    finish.set()
    script.join(10)
    assert not script.is_alive() and startup._done
    assert discoveries == ["dlviz-warm-up"], "done once, by the thread"
    startup.begin(())
    startup.warm_up(())
    assert discoveries == ["dlviz-warm-up"]


@pytest.mark.slow
def test_the_greeting_loads_without_tensorflow():
    """The first paint (the digits and the welcome) must not wait for TensorFlow, which the thread imports."""
    code = (
        "import sys\n"
        "from apps import charts, pages, state, startup\n"
        "from dlviz import datasets\n"
        "charts.samples(datasets.load('digits', seed=0), 'en')\n"
        "print(sorted(name for name in ('tensorflow', 'keras', 'shap') if name in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
