"""apps/startup.py: Streamlit's per-run clean-up is replaced through a private hook, or a warning says why not."""

import logging
from importlib.metadata import version

from streamlit.runtime.scriptrunner import script_runner

from apps import startup


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
