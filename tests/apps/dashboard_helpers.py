"""Helpers for the dashboard's AppTest tests (streamlit.testing.v1 runs apps/main.py in this process).

Because the script runs in-process, a plugin registered here with `dlviz.register` is visible to it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

MAIN = Path(__file__).resolve().parents[2] / "apps" / "main.py"
TIMEOUT_S = 300
WORKSPACE_KEY = "dlviz.workspace"


def new_app() -> AppTest:
    return AppTest.from_file(str(MAIN), default_timeout=TIMEOUT_S)


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Show the st.Page registered under `url_path` on the next run.

    AppTest.switch_page accepts page files only; our pages are callables, which Streamlit identifies
    by the hash of their url_path (st.Page._script_hash), so that is the page the session asks for.
    """
    at._page_hash = calc_hash(url_path)
    return at


def workspace(at: AppTest):
    return at.session_state[WORKSPACE_KEY]


def train(at: AppTest, epochs: int = 1) -> AppTest:
    at.number_input(key="train.epochs").set_value(epochs)
    at.select_slider(key="train.batch_size").set_value(64)
    return finish_training(at.button(key="train.go").click().run())


def finish_training(at: AppTest) -> AppTest:
    """Wait for the session's training (it runs in the server's training queue) and run the page again,
    as the page's polling fragment does in a browser, so the trained model and run are taken in."""
    training = workspace(at).training
    if training is not None:
        assert training.job.wait(TIMEOUT_S), "the training did not finish in time"
        at.run()
    return at


def chart_specs(at: AppTest) -> list[dict]:
    """The Plotly figures on the page, as JSON (AppTest keeps them in the element's proto `spec`)."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def texts(elements) -> list[str]:
    return [str(element.value) for element in elements]


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [exception.message for exception in at.exception]


@dataclasses.dataclass(frozen=True)
class EchoResult:
    text: str


def echo_figure(title: str) -> go.Figure:
    figure = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    figure.update_layout(title=title, xaxis_title="letter", yaxis_title="count")
    return figure
