"""How much does recording slow training down? Steady-state epoch times on the digits CNN.

Four copies of the same seeded model train in one process, round-robin one epoch at a time: plain
`fit`; `fit` with `Recorder(every=10)`, the default: gradients from the training step (per-layer norms
every step, histograms every 10), the probe's activations and the weights every 10 steps; the same with
`gradients="probe"` (one probe forward and backward pass per record); and `fit` with Keras'
`TensorBoard(histogram_freq=1)`. The first epoch of each (tracing) is skipped; the final record each
fit takes of its weights comes after its epoch's clock stops (a script fits once). The headline ratios
are medians of per-round ratios (robust to the machine's load changing between rounds); CPU time of the
process is printed above them. From the same numbers it derives what one probe record costs in plain
training steps: the probe-gradient overhead is about 1 + that cost / every.
Usage: python bench/recorder_overhead.py [--epochs 15]
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

from dlviz import datasets, models  # noqa: E402
from dlviz.recorder import Recorder  # noqa: E402

EVERY = 10
PROBE = 64  # as Recorder.for_dataset


def digits_cnn():
    """The bundled digits data and the model zoo's CNN for it, built from the same seed every time."""
    dataset = datasets.load("digits")
    return models.build("cnn", dataset, seed=0), dataset.x_train, dataset.y_train


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
    parser.add_argument("--epochs", type=int, default=15, help="steady-state epochs per variant")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="dlviz-bench-")
    variants = {}
    for name in ("plain", "recorder", "recorder_probe", "tensorboard"):
        model, x, y = digits_cnn()
        callbacks = {
            "plain": [],
            "recorder": [Recorder(every=EVERY, probe=(x[:PROBE], y[:PROBE]))],
            "recorder_probe": [Recorder(every=EVERY, probe=(x[:PROBE], y[:PROBE]), gradients="probe")],
            "tensorboard": [keras.callbacks.TensorBoard(log_dir=os.path.join(tmp, "tb"), histogram_freq=1)],
        }[name]
        variants[name] = {"model": model, "x": x, "y": y, "callbacks": callbacks, "wall": [], "cpu": []}
    names = list(variants)
    for round_index in range(args.epochs + 1):
        # Rotate who goes first, so no variant always follows the same neighbour.
        for name in names[round_index % len(names) :] + names[: round_index % len(names)]:
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

    def per_round(name: str) -> float:
        rounds = zip(variants[name]["wall"][1:], variants["plain"]["wall"][1:], strict=True)
        return statistics.median(variant / plain for variant, plain in rounds)

    recorder, probe, tensorboard = (
        per_round("recorder"),
        per_round("recorder_probe"),
        per_round("tensorboard"),
    )
    print(
        f"cpu time: recorder/plain {cpu['recorder'] / cpu['plain']:.2f}x, "
        f"recorder_probe/plain {cpu['recorder_probe'] / cpu['plain']:.2f}x, "
        f"tensorboard/plain {cpu['tensorboard'] / cpu['plain']:.2f}x"
    )
    print(
        f"one probe record (forward + backward, statistics, weights) costs about {(probe - 1) * EVERY:.1f} "
        f"plain training steps, so the probe-gradient overhead is about 1 + that / every (every={EVERY} here)"
    )
    from two_workers import two_worker_overhead  # bench/two_workers.py: two worker processes on localhost

    print(two_worker_overhead()[1])
    print(
        f"recorder overhead: {recorder:.2f}x (recorder/plain fit: gradients from the training step, activations "
        f"and weights at every={EVERY}; median of {args.epochs} per-round epoch ratios); probe gradients: "
        f"{probe:.2f}x; tensorboard(histogram_freq=1): {tensorboard:.2f}x"
    )


if __name__ == "__main__":
    main()
