"""The dashboard's safety settings, and Keras' state kept from Streamlit's clean-up."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "apps"


def test_no_user_data_reaches_raw_html_and_xsrf_protection_stays_on():
    for path in APPS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"unsafe_allow_html\s*=\s*True|st\.html\(|\.html\(", source), path.name
    config = tomllib.loads((APPS / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] == 50


def test_streamlit_no_longer_clears_keras_state_after_a_run(monkeypatch):
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    from apps import startup

    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: cleared.append(True))
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    startup.keep_keras_state()
    script_runner._clean_problem_modules()
    assert not cleared, "another session's fit would lose its Keras scopes"
