"""The live training view, and the dashboard's safety settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from apps.training import LiveView

APPS = Path(__file__).resolve().parents[2] / "apps"


class Recording:
    """Stands in for a Streamlit placeholder and keeps what was drawn into it."""

    def __init__(self):
        self.calls = []

    def progress(self, value, text=None):
        self.calls.append(("progress", value, text))

    def plotly_chart(self, figure, **kwargs):
        self.calls.append(("chart", figure, kwargs))


def test_the_live_view_moves_the_bar_and_redraws_the_curves_every_epoch():
    bar, chart = Recording(), Recording()
    live = LiveView(bar, chart, epochs=2, steps_per_epoch=10, language="en")
    for epoch, (loss, val_loss) in enumerate([(2.0, 2.1), (1.0, 1.2)]):
        live.on_epoch_begin(epoch)
        live.on_train_batch_end(0, {"loss": loss})
        live.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss, "accuracy": 0.5, "val_accuracy": 0.4})
    drawn = [figure for kind, figure, _ in chart.calls if kind == "chart"]
    assert len(drawn) == 2, "one redraw per epoch"
    loss_curve = next(trace for trace in drawn[-1].data if trace.name == "training")
    assert list(loss_curve.y) == [2.0, 1.0] and list(loss_curve.x) == [1, 2]
    fractions = [value for kind, value, _ in bar.calls if kind == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "Epoch 2 of 2" in bar.calls[-1][2]


def test_the_live_view_speaks_chinese():
    bar, chart = Recording(), Recording()
    live = LiveView(bar, chart, epochs=1, steps_per_epoch=10, language="zh")
    live.on_epoch_begin(0)
    live.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.6})
    assert bar.calls[-1][2] == "第 1/1 轮 · 损失 (loss) 0.5000"


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
