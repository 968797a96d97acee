"""Training from the dashboard: `model.fit` with a `dlviz.Recorder` in the server's training queue.

A click on Train hands a `Training` to the queue (`apps.training_queue`) and the script run ends: the
fit happens in a worker thread, so the session stays responsive. Its pages keep working and keep
showing the previous model and run, while a small fragment at the top of the page polls the
training (place in line and estimate, then a progress bar and the live curves, with a button to
leave the line or stop). When it finishes, the fragment reruns the whole page and `collect` makes
the trained model and its run the ones every page shows.

Each training is reproducible on its own, whatever else runs on the server: a fresh training builds
its model from the session's seeded recipe, and the batches are shuffled by a stateless shuffle
seeded with (seed, epoch) instead of TensorFlow's global random state (which any other session,
or a plugin calling ``keras.utils.set_random_seed``, may move), so the same settings give the same
weights alone or beside 20 other trainings. Keras' own global state (layer name counters, the dtype
policy) is per thread, and each worker builds its model in its own thread.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import streamlit as st

import dlviz
from apps import charts, training_queue
from apps import settings as teacher
from apps.state import Workspace
from apps.training_queue import Job
from dlviz.errors import DlvizError
from dlviz.i18n import t

POLL_S = 1.0
SEED = 0


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 5
    batch_size: int = 32
    every: int = 10
    fresh: bool = True


def seeded_batches(x: Any, y: Any, batch_size: int, seed: int, first_epoch: int, epochs: int) -> Any:
    """`epochs` epochs of shuffled (x, y) batches as a `tf.data.Dataset`, epoch ``e`` in the order of a
    stateless shuffle seeded with ``(seed, e)``: the same every time, whatever random state other
    threads set. Epochs are numbered from `first_epoch`, so a continued training gets new orders.

    >>> import numpy as np
    >>> x, y = np.arange(10.0)[:, None], np.arange(10)
    >>> epochs = [np.concatenate([b.numpy() for b, _ in seeded_batches(x, y, 4, 7, e, 1)]) for e in (0, 0, 1)]
    >>> sorted(epochs[0]) == list(y) and (epochs[0] == epochs[1]).all() and not (epochs[0] == epochs[2]).all()
    True
    """
    import tensorflow as tf

    count = int(len(tf.nest.flatten(x)[0]))
    steps = math.ceil(count / batch_size)

    def epoch_batches(epoch):
        seeds = tf.stack([tf.constant(seed, tf.int64), epoch])
        order = tf.random.experimental.stateless_shuffle(tf.range(count, dtype=tf.int64), seed=seeds)
        return tf.data.Dataset.range(steps).map(
            lambda step: order[step * batch_size : (step + 1) * batch_size]
        )

    def gather(indices, arrays):
        return tf.nest.map_structure(lambda array: tf.gather(array, indices), arrays)

    batches = tf.data.Dataset.range(first_epoch, first_epoch + epochs).flat_map(epoch_batches)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    return tf.data.Dataset.zip(batches, arrays).map(gather).prefetch(2)


class Progress(keras.callbacks.Callback):
    """Keeps how far the fit is for the page to poll, and stops the fit once `stop_requested()` says so.

    Written in the worker's thread, read in the page's: every attribute is replaced whole, never
    changed in place, so a reader never sees a half-made history.
    """

    async_safe = True  # it only stores what Keras hands it, so Keras may keep dispatching asynchronously

    def __init__(self, epochs: int, steps_per_epoch: int, stop_requested: Callable[[], bool] = lambda: False):
        super().__init__()
        self.epochs, self.steps_per_epoch = epochs, max(steps_per_epoch, 1)
        self.stop_requested = stop_requested
        self.epoch, self.batch = 0, -1
        self.logs: dict[str, Any] = {}
        self.history: dict[str, list[float]] = {}

    @property
    def fraction(self) -> float:
        done = self.epoch * self.steps_per_epoch + self.batch + 1
        return min(max(done / (self.epochs * self.steps_per_epoch), 0.0), 1.0)

    def text(self, language: str) -> str:
        loss = self.logs.get("loss")
        loss_text = "" if loss is None else " · " + t("train.loss", language, loss=f"{float(loss):.4f}")
        return t("train.progress", language, epoch=self.epoch + 1, epochs=self.epochs) + loss_text

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, -1

    def on_train_batch_end(self, batch, logs=None):
        self.batch, self.logs = batch, dict(logs or {})
        if self.stop_requested():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        values = {name: float(value) for name, value in (logs or {}).items()}
        history = {name: [*self.history.get(name, [])] for name in self.history}
        history.setdefault("epoch", []).append(epoch)
        for name, value in values.items():
            history.setdefault(name, []).append(value)
        self.history, self.logs, self.batch = history, values, self.steps_per_epoch - 1


@dataclasses.dataclass(eq=False)
class Training:
    """One training of a session: what it starts from, its progress, and once done its model and run."""

    settings: TrainingSettings
    dataset: Any
    dataset_spec: Any
    model_spec: Any
    model_label: str
    first_epoch: int
    start_from: Any  # the model whose weights it continues, or a function building a fresh one
    progress: Progress
    job: Job | None = None
    model: Any = None

    def fit(self, job: Job) -> Any:
        """The queue's work: build (or copy) the model, fit it with a Recorder; returns the Run."""
        model = self.start_from() if callable(self.start_from) else _copy_for_training(self.start_from)
        recorder = dlviz.Recorder.for_dataset(self.dataset, every=self.settings.every)
        self.progress.stop_requested = lambda: job.cancel_requested
        batches = seeded_batches(
            self.dataset.x_train,
            self.dataset.y_train,
            self.settings.batch_size,
            SEED,
            self.first_epoch,
            self.settings.epochs,
        )
        model.fit(
            batches,
            validation_data=(self.dataset.x_test, self.dataset.y_test),
            epochs=self.settings.epochs,
            steps_per_epoch=self.progress.steps_per_epoch,
            shuffle=False,  # the batches come shuffled, by their own seed
            verbose=0,
            callbacks=[recorder, self.progress],
        )
        self.model = model
        return recorder.run


def _copy_for_training(model: Any) -> Any:
    """The model with its weights and optimizer state, as a new object, so the pages keep the old one
    while the copy trains; the model itself when Keras cannot save and load it (a custom layer)."""
    with tempfile.TemporaryDirectory(prefix="dlviz-continue-") as folder:
        path = Path(folder) / "model.keras"
        try:
            model.save(path)
            return keras.models.load_model(path)
        except Exception:  # noqa: BLE001 - training the model in place still trains it
            return model


def queue() -> training_queue.TrainingQueue:
    """The server's training queue, with the teacher's max_concurrent_trainings slots."""
    return training_queue.shared(teacher.current().max_concurrent_trainings)


def start(ws: Workspace, settings: TrainingSettings) -> Training:
    """Put a training of the session's model in line; the page polls it (`show`) until `collect` takes it.

    With ``settings.fresh`` the model starts again from its initial weights (the same for the same
    model settings), so runs trained one after another are comparable; otherwise it continues the
    current weights (on a copy: the pages keep the current model until the training is done).
    """
    dataset = ws.dataset
    steps = math.ceil(len(dataset.x_train) / settings.batch_size)
    fresh = settings.fresh and ws.make_model is not None
    training = Training(
        settings=settings,
        dataset=dataset,
        dataset_spec=ws.dataset_spec,
        model_spec=ws.model_spec,
        model_label=ws.model_label,
        first_epoch=0 if fresh else ws.trained_epochs,
        start_from=ws.make_model if fresh else ws.model,
        progress=Progress(settings.epochs, steps),
    )
    training.job = queue().submit(ws.session_number, training.fit)
    ws.training = training
    return training


def collect(ws: Workspace, language: str) -> None:
    """Take in the session's finished training: the trained model and its run become the ones every page
    shows (or, when the model or data changed meanwhile, the run joins the list of runs); a notice says so."""
    training = ws.training
    if training is None or not training.job.finished:
        return
    ws.training = None
    job = training.job
    if job.state == "cancelled":
        ws.notify("info", t("train.cancelled", language))
        return
    if job.state == "failed":
        error = job.error
        problem = str(error) if isinstance(error, DlvizError) else f"{type(error).__name__}: {error}"
        ws.notify("error", t("train.failed", language, problem=problem), error)
        return
    epochs = training.first_epoch + training.settings.epochs
    entry = ws.add_run(job.result, "trained", model=training.model_label, epochs=epochs)
    if (ws.model_spec, ws.dataset_spec) != (training.model_spec, training.dataset_spec):
        ws.notify("info", t("train.done_other_model", language, label=entry.label(language)))
        return
    ws.model = training.model
    ws.model_changed()
    ws.trained_epochs = epochs
    ws.current_run = entry.key
    ws.notify("success", t("train.done", language, label=entry.label(language)))


def show(ws: Workspace, area: Any, language: str) -> None:
    """The session's training, if any, at the top of the page (`area`), polled every POLL_S seconds."""
    if ws.training is not None:
        with area:
            _status(ws.training, language)


@st.fragment(run_every=POLL_S)
def _status(training: Training, language: str) -> None:
    job = training.job
    if job.finished:
        st.rerun()  # the whole page, so `collect` takes the run in and every page shows it
    place = job.queue.place(job)
    st.markdown(f"**{t('train.heading', language)}**")
    if place:
        text = t("train.queued", language, place=place)
        estimate_s = job.queue.estimate_s(place)
        if estimate_s is not None:
            text += " · " + _estimate_text(estimate_s, language)
        st.progress(0.0, text=text)
    elif training.progress.batch < 0 and not training.progress.history:
        st.progress(0.0, text=t("train.starting", language))
    else:
        st.progress(training.progress.fraction, text=training.progress.text(language))
    history = training.progress.history
    if history.get("epoch"):
        st.plotly_chart(charts.training_curves(history, language), width="stretch", key="train.live_curves")
    left, right = st.columns([1, 3], vertical_alignment="center")
    label = t("train.leave_queue", language) if place else t("train.stop", language)
    if left.button(label, key="train.cancel", icon=":material/close:"):
        job.cancel()  # leaves the line at once; a running fit stops after its current batch
        if job.finished:
            st.rerun()
    right.caption(t("train.meanwhile", language))


def _estimate_text(seconds: float, language: str) -> str:
    """The wait in words: "about 40 s" under two minutes, "about 3.5 min" above."""
    if seconds < 120:
        return t("train.queued_estimate_s", language, seconds=f"{max(seconds, 1):.0f}")
    return t("train.queued_estimate", language, minutes=f"{seconds / 60:.1f}")
