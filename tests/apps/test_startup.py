"""apps/startup.py: Streamlit's per-run clean-up is replaced through a private hook, or a warning says why not;
plugin files named on the command line reach the dashboard."""

import logging
from importlib.metadata import version
from pathlib import Path

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
