"""How much does recording slow training down? Steady-state epoch times on the digits CNN.

Three copies of the same seeded model train in one process, round-robin one epoch at a time:
plain `fit`, `fit` with `Recorder(every=10)` (gradients, activations and weights), and `fit` with
Keras' `TensorBoard(histogram_freq=1)`. The first epoch of each (tracing) is skipped; the ratios
are of median epoch times. Usage: python bench/recorder_overhead.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from dlviz.recorder import Recorder  # noqa: E402


def digits_cnn():
    """The bundled digits data and CNN when those modules exist, else an equivalent built here."""
    try:
        from dlviz import datasets, models

        dataset = datasets.load("digits")
        return models.build("cnn", dataset, seed=0), dataset.x_train, dataset.y_train
    except ImportError:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = (digits.images[..., None] / 16.0).astype("float32")[:1437]
        y = digits.target.astype("int64")[:1437]
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model, x, y


class EpochClock(keras.callbacks.Callback):
    """Start (first in the list) and stop (last in the list) marks around each epoch."""

    def __init__(self, times: list[float], start: bool):
        super().__init__()
        self.times, self.start = times, start

    def on_epoch_begin(self, epoch, logs=None):
        if self.start:
            self.times.append(time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        if not self.start:
            self.times[-1] = time.perf_counter() - self.times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="steady-state epochs per variant")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="dlviz-bench-")
    variants = {}
    for name in ("plain", "recorder", "tensorboard"):
        model, x, y = digits_cnn()
        callbacks = {
            "plain": [],
            "recorder": [Recorder(every=10, probe=(x[:64], y[:64]))],
            "tensorboard": [keras.callbacks.TensorBoard(log_dir=os.path.join(tmp, "tb"), histogram_freq=1)],
        }[name]
        variants[name] = (model, x, y, callbacks, [])
    for _ in range(args.epochs + 1):
        for model, x, y, callbacks, times in variants.values():
            clocks = [EpochClock(times, start=True), *callbacks, EpochClock(times, start=False)]
            model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=clocks)
    median = {name: statistics.median(v[4][1:]) for name, v in variants.items()}
    for name, seconds in median.items():
        print(f"{name:12s} median epoch {seconds * 1000:7.1f} ms  (all: {np.round(variants[name][4], 3).tolist()})")
    print(
        f"recorder overhead: {median['recorder'] / median['plain']:.2f}x (recorder/plain fit, median of "
        f"{args.epochs} epochs); tensorboard(histogram_freq=1): {median['tensorboard'] / median['plain']:.2f}x"
    )


if __name__ == "__main__":
    main()
