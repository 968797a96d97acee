"""Memory comes back: a tab idle past session_idle_minutes gives back its model, runs and figures, keeps its choices."""

from __future__ import annotations

from dashboard_helpers import assert_no_exception, new_app, texts, workspace

from apps import state
from dlviz.i18n import t

HOUR_S = 3600.0


def test_an_idle_session_is_released_and_rebuilt_from_its_choices_on_return():
    at = new_app().run()
    at.number_input(key="train.epochs").set_value(3).run()
    ws = workspace(at)
    assert ws.model is not None and ws.dataset is not None
    ws.figure_cache["something"] = ["figure"]
    ws.last_active -= 2 * HOUR_S

    assert ws.session_number not in state.release_idle(HOUR_S, busy=frozenset({ws.session_number}))
    assert ws.model is not None, "a session training (or waiting to) is not idle"
    assert ws.session_number in state.release_idle(HOUR_S)
    assert ws.model is None and ws.dataset is None and not ws.figure_cache and not ws.runs
    assert ws.session_number not in state.release_idle(HOUR_S), "released once"

    at.run()
    assert_no_exception(at)
    assert t("server.released", "en", minutes="120") in texts(at.info)
    assert ws.model is not None and ws.dataset is not None, "rebuilt from the sidebar's choices"
    assert at.number_input(key="train.epochs").value == 3, "the choices stay"
    assert ws.released_after_s is None


def test_a_recently_active_session_is_kept():
    at = new_app().run()
    ws = workspace(at)
    assert ws.session_number not in state.release_idle(HOUR_S)
    assert ws.model is not None
