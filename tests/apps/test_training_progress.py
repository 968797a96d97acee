"""A dashboard training: its progress as the page polls it, and its seeded, reproducible fit."""

from __future__ import annotations

import doctest
from types import SimpleNamespace

import pytest

from apps import training as training_module
from apps.training import Progress


def test_the_examples_in_the_training_module_run():
    failures, tried = doctest.testmod(training_module)
    assert tried and not failures


def test_the_progress_moves_keeps_the_history_whole_and_stops_the_fit_when_asked():
    stop = []
    progress = Progress(epochs=2, steps_per_epoch=10, stop_requested=lambda: bool(stop))
    progress.set_model(SimpleNamespace(stop_training=False))
    fractions, histories = [progress.fraction], []
    for epoch, (loss, val_loss) in enumerate([(2.0, 2.1), (1.0, 1.2)]):
        progress.on_epoch_begin(epoch)
        for batch in range(10):
            progress.on_train_batch_end(batch, {"loss": loss})
            fractions.append(progress.fraction)
        histories.append(progress.history)
        progress.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss, "accuracy": 0.5})
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert progress.history == {
        "epoch": [0, 1],
        "loss": [2.0, 1.0],
        "val_loss": [2.1, 1.2],
        "accuracy": [0.5, 0.5],
    }
    assert histories == [{}, {"epoch": [0], "loss": [2.0], "val_loss": [2.1], "accuracy": [0.5]}], (
        "a history handed out before is never changed afterwards (the page reads it from another thread)"
    )
    assert progress.text("en") == "Epoch 2 of 2 · loss 1.0000"
    assert progress.text("zh") == "第 2/2 轮 · 损失 (loss) 1.0000"
    assert not progress.model.stop_training
    stop.append(True)
    progress.on_train_batch_end(0, {"loss": 0.5})
    assert progress.model.stop_training, "a cancelled job stops the fit after its current batch"


@pytest.mark.slow
def test_a_training_gives_the_same_weights_alone_and_beside_others_that_move_the_global_seeds():
    import math
    import threading

    import keras
    import numpy as np
    import tensorflow as tf

    from apps.training import Training, TrainingSettings
    from apps.training_queue import TrainingQueue
    from dlviz import datasets, models

    data = datasets.load("digits", seed=0)

    def training(kind: str) -> Training:
        settings = TrainingSettings(epochs=1, batch_size=64, every=50)
        steps = math.ceil(len(data.x_train) / settings.batch_size)

        def build():
            return models.build(kind, data, hidden=(8,), dropout=0.2, seed=0)

        return Training(settings, data, None, None, kind, 0, build, Progress(1, steps))

    queue = TrainingQueue(3)
    alone = training("mlp")
    assert queue.submit("alone", alone.fit).wait(120)
    stop = threading.Event()

    def meddle():  # a plugin page in another session reseeding everything, over and over
        while not stop.is_set():
            keras.utils.set_random_seed(123)
            tf.random.uniform((3,))
            np.random.rand()
            stop.wait(0.02)

    meddler = threading.Thread(target=meddle)
    meddler.start()
    together = [training("mlp"), training("logreg")]
    jobs = [queue.submit(number, each.fit) for number, each in enumerate(together)]
    try:
        assert all(job.wait(120) for job in jobs) and {job.state for job in jobs} == {"done"}
    finally:
        stop.set()
        meddler.join()
        queue.close(10)
    for expected, got in zip(alone.model.get_weights(), together[0].model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert jobs[0].result.epochs["loss"] == alone.progress.history["loss"], "the recorded run is the same too"
