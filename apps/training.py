"""Training from the dashboard: `model.fit` with a `dlviz.Recorder`, a live progress bar and live curves.

The live view is a Keras callback that writes into Streamlit placeholders: the bar moves during each
epoch, and the loss/accuracy chart is redrawn at every epoch end, so the page shows the training as
it happens and the browser never waits for the whole fit.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from typing import Any

import keras

import dlviz
from apps import charts, training_queue
from apps import settings as teacher
from apps.state import RunEntry, Workspace
from dlviz.i18n import t

_BAR_INTERVAL_S = 0.25


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 5
    batch_size: int = 32
    every: int = 10
    fresh: bool = True


class LiveView(keras.callbacks.Callback):
    """Moves a progress bar during training and redraws the curves at each epoch end."""

    def __init__(self, bar: Any, chart: Any, epochs: int, steps_per_epoch: int, language: str):
        super().__init__()
        self.bar, self.chart, self.language = bar, chart, language
        self.epochs, self.steps_per_epoch = epochs, max(steps_per_epoch, 1)
        self.history: dict[str, list[float]] = defaultdict(list)
        self._epoch = 0
        self._last_draw = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        if now - self._last_draw < _BAR_INTERVAL_S:
            return
        self._last_draw = now
        done = (self._epoch * self.steps_per_epoch + batch + 1) / (self.epochs * self.steps_per_epoch)
        self.bar.progress(min(done, 1.0), text=self._text(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.history["epoch"].append(epoch)
        for name, value in (logs or {}).items():
            self.history[name].append(float(value))
        self.bar.progress((epoch + 1) / self.epochs, text=self._text(logs))
        self.chart.plotly_chart(
            charts.training_curves(self.history, self.language), width="stretch", key=f"live-curves-{epoch}"
        )

    def _text(self, logs) -> str:
        loss = (logs or {}).get("loss")
        loss_text = "" if loss is None else " · " + t("train.loss", self.language, loss=f"{float(loss):.4f}")
        return t("train.progress", self.language, epoch=self._epoch + 1, epochs=self.epochs) + loss_text


def train(ws: Workspace, settings: TrainingSettings, area: Any, language: str) -> RunEntry:
    """Train the session's model with a Recorder, showing progress in `area`; returns the new run.

    With ``settings.fresh`` the model starts again from its initial weights (the same for the same
    model settings), so runs trained one after another are comparable. The fit waits its turn in the
    server's training queue (`apps.training_queue`), showing its place in line meanwhile.
    """
    if settings.fresh and ws.make_model is not None:
        ws.model = ws.make_model()
        ws.trained_epochs = 0
    dataset, model = ws.dataset, ws.model
    recorder = dlviz.Recorder.for_dataset(dataset, every=settings.every)
    steps = math.ceil(len(dataset.x_train) / settings.batch_size)
    area.markdown(f"**{t('train.heading', language)}**")
    live = LiveView(area.empty(), area.empty(), settings.epochs, steps, language)

    leave = area.empty()
    leave_shown = False

    def waiting(place: int, estimate_s: float | None) -> None:
        nonlocal leave_shown
        text = t("train.queued", language, place=place)
        if estimate_s is not None:
            text += " · " + t("train.queued_estimate", language, minutes=f"{estimate_s / 60:.1f}")
        live.bar.progress(0.0, text=text)
        if not leave_shown:
            # a click reruns the script, which ends this wait: the rerun then trains nothing
            leave.button(t("train.leave_queue", language), key="train.leave_queue", icon=":material/close:")
            leave_shown = True

    queue = training_queue.shared(teacher.current().max_concurrent_trainings)
    try:
        with queue.turn(ws.session_number, waiting):
            leave.empty()
            live.bar.progress(0.0, text=t("train.starting", language))
            model.fit(
                dataset.x_train,
                dataset.y_train,
                validation_data=(dataset.x_test, dataset.y_test),
                epochs=settings.epochs,
                batch_size=settings.batch_size,
                verbose=0,
                callbacks=[recorder, live],
            )
    finally:
        ws.model_changed()
    ws.trained_epochs += settings.epochs
    entry = ws.add_run(recorder.run, "trained", model=ws.model_label, epochs=ws.trained_epochs)
    ws.current_run = entry.key
    return entry
