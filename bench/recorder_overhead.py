"""How much does recording slow training down? Steady-state epoch times on the digits CNN.

Three copies of the same seeded model train in one process, round-robin one epoch at a time:
plain `fit`, `fit` with `Recorder(every=10)` (gradients, activations and weights), and `fit` with
Keras' `TensorBoard(histogram_freq=1)`. The first epoch of each (tracing) is skipped; the ratios
are of median epoch times (wall clock on the last line; CPU time of the process on the line above).
Usage: python bench/recorder_overhead.py [--epochs 5]
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
    """Start (first in the callback list) and stop (last in the list) marks around each epoch.

    Keeps wall-clock seconds and this process's CPU seconds (all threads): on a shared machine the
    CPU time shows the work added even when other processes make wall-clock times noisy.
    """

    def __init__(self, wall: list[float], cpu: list[float], start: bool):
        super().__init__()
        self.wall, self.cpu, self.start = wall, cpu, start

    def on_epoch_begin(self, epoch, logs=None):
        if self.start:
            self.wall.append(time.perf_counter())
            self.cpu.append(time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        if not self.start:
            self.wall[-1] = time.perf_counter() - self.wall[-1]
            self.cpu[-1] = time.process_time() - self.cpu[-1]


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
        variants[name] = {"model": model, "x": x, "y": y, "callbacks": callbacks, "wall": [], "cpu": []}
    names = list(variants)
    for round_index in range(args.epochs + 1):
        # Rotate who goes first, so no variant always follows the same neighbour.
        for name in names[round_index % 3 :] + names[: round_index % 3]:
            v = variants[name]
            clocks = [EpochClock(v["wall"], v["cpu"], start=True), *v["callbacks"]]
            clocks.append(EpochClock(v["wall"], v["cpu"], start=False))
            v["model"].fit(v["x"], v["y"], batch_size=32, epochs=1, verbose=0, callbacks=clocks)
    wall = {name: statistics.median(v["wall"][1:]) for name, v in variants.items()}
    cpu = {name: statistics.median(v["cpu"][1:]) for name, v in variants.items()}
    for name, v in variants.items():
        print(
            f"{name:12s} median epoch {wall[name] * 1000:7.1f} ms wall, {cpu[name] * 1000:7.1f} ms cpu "
            f"(wall per epoch: {np.round(v['wall'], 3).tolist()})"
        )
    paired = [
        r / p for r, p in zip(variants["recorder"]["wall"][1:], variants["plain"]["wall"][1:], strict=True)
    ]
    print(
        f"median of per-round wall ratios (robust to load changing between rounds): {statistics.median(paired):.2f}x"
    )
    print(
        f"cpu time: recorder/plain {cpu['recorder'] / cpu['plain']:.2f}x, "
        f"tensorboard/plain {cpu['tensorboard'] / cpu['plain']:.2f}x"
    )
    print(
        f"recorder overhead: {wall['recorder'] / wall['plain']:.2f}x (recorder/plain fit, median of "
        f"{args.epochs} epochs); tensorboard(histogram_freq=1): {wall['tensorboard'] / wall['plain']:.2f}x"
    )


if __name__ == "__main__":
    main()
