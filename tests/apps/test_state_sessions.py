"""Memory comes back when a session ends: its training is cancelled, its model, runs and cached results go."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from dashboard_helpers import assert_no_exception, new_app, open_page, workspace

import dlviz
from apps import compute, state, training
from dlviz.errors import PluginError
from dlviz.i18n import t


@pytest.mark.slow
def test_a_closed_session_ends_after_the_grace_and_lets_go_of_its_model_training_and_results(monkeypatch):
    at = new_app().run()
    open_page(at, "model_summary").run()
    assert_no_exception(at)
    ws = workspace(at)
    assert ws.session_id and ws.figure_cache, "the page computed a result and drew its figures"
    model = weakref.ref(ws.model)
    context, name, params, _ = next(iter(ws.figure_cache))
    computed = []
    original = compute.run_plugin

    def counting(plugin, ctx, params_value):
        computed.append(plugin.name)
        return original(plugin, ctx, params_value)

    monkeypatch.setattr(compute, "run_plugin", counting)

    queue = training.queue()
    release = threading.Event()
    holders = [queue.submit(f"holder {slot}", lambda job: release.wait(60)) for slot in range(queue.slots)]
    try:
        at.number_input(key="train.epochs").set_value(1)
        at.button(key="train.go").click().run()
        job = ws.training.job
        assert queue.place(job) == 1

        ws.session_id = "closed tab"  # AppTest gives every session the same id
        gone = {ws.session_id}
        assert state.end_closed(lambda session: session not in gone, now=100.0) == [], "a tab just lost"
        assert state.end_closed(lambda session: True, now=120.0) == [] and ws.disconnected_since is None
        assert state.end_closed(lambda session: session not in gone, now=200.0) == []
        assert (
            state.end_closed(lambda session: session not in gone, now=200.0 + state.DISCONNECT_GRACE_S) == []
        )
        assert state.end_closed(
            lambda session: session not in gone, now=201.0 + state.DISCONNECT_GRACE_S
        ) == [ws.session_number]
        assert ws.ended and state.end_closed(lambda session: False, now=1e6) == [], "ended once"
    finally:
        release.set()
        for holder in holders:
            holder.wait(10)
    assert job.finished and job.state == "cancelled", "its place in line was given up"
    assert ws.training is None and ws.model is None and not ws.runs and not ws.figure_cache
    gc.collect()
    assert model() is None, "nothing holds the closed session's model any more"

    plugin = dlviz.plugins()[name].plugin()
    computed.clear()
    with pytest.raises(PluginError, match="needs model"):  # reached only when the cache has no result
        compute._cached_result(plugin, compute.context(ws, "en"), plugin.Params(), name, context, params)
    assert computed == [name], "its cached result was dropped from the server's cache"


def test_without_a_streamlit_server_nothing_ends_and_an_ended_session_that_returns_is_rebuilt():
    at = new_app().run()
    ws = workspace(at)
    assert state.connected_sessions() is None and state.end_closed() == [], "AppTest has no runtime"
    state.end(ws)
    at.run()
    assert_no_exception(at)
    assert ws.model is not None, "a session that comes back after all is built again from its choices"
    assert t("server.released", "en", minutes="0") in [str(info.value) for info in at.info]
