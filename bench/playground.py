"""What does watching cost? The playground's training loop against a plain `model.fit`.

Both train a fresh copy of the same network (the playground's defaults: circles, features x1 and x2,
hidden layers 4 and 2, tanh, Adam) for the same epochs on the same seeded tf.data batches. The
playground adds its `BoundarySnapshots` callback, which evaluates the model on the boundary grid and on
the training and test points at every epoch's end in one compiled call; the plain fit has no callback.
Each timing includes building the callback and tracing (Keras traces its train step anew for each
fresh model too). The two are interleaved, each repeat in alternating order, and compared by medians.
The time spent inside the callback is also printed: on a busy machine it is the steadier measure.
Usage: python bench/playground.py [--repeats 5] [--epochs 40] [--resolution 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import dlviz  # noqa: E402
from dlviz.plugin import make_params  # noqa: E402
from plugins._shared.lessons import grid_axes, grid_points  # noqa: E402
from plugins.playground.data import feature_matrix, ordered_features, playground_data  # noqa: E402
from plugins.playground.plugin import Params  # noqa: E402
from plugins.playground.training import (  # noqa: E402
    BoundarySnapshots,
    build_model,
    fit_with_snapshots,
    label_array,
    training_data,
)


class TimedSnapshots(BoundarySnapshots):
    """The playground's callback, timing its own work (a noise-free view of the overhead on a busy machine)."""

    seconds = 0.0

    def on_epoch_end(self, epoch, logs=None):
        started = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.seconds += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=Params.epochs)
    parser.add_argument("--resolution", type=int, default=Params.resolution)
    args = parser.parse_args()
    params = make_params(Params, {"epochs": args.epochs, "resolution": args.resolution})
    seed = 0
    data, _ = playground_data(dlviz.registry.make_context(seed=seed), params)
    features = ordered_features(params.features)
    x_train, x_test = feature_matrix(data.x_train, features), feature_matrix(data.x_test, features)
    y_train = label_array(data.y_train, data.n_classes)
    grid = feature_matrix(
        grid_points(*grid_axes(np.concatenate([data.x_train, data.x_test]), params.resolution)), features
    )

    def plain() -> float:
        model = build_model(params, len(features), data.n_classes, seed)
        started = time.perf_counter()
        model.fit(
            training_data(x_train, y_train, params.batch_size, seed),
            epochs=params.epochs,
            verbose=0,
            shuffle=False,
        )
        return time.perf_counter() - started

    callback_times = []

    def playground() -> float:
        model = build_model(params, len(features), data.n_classes, seed)
        started = time.perf_counter()
        snapshots = TimedSnapshots(grid, (x_train, data.y_train), (x_test, data.y_test), data.n_classes)
        fit_with_snapshots(model, x_train, y_train, snapshots, params.epochs, params.batch_size, seed)
        elapsed = time.perf_counter() - started
        assert len(snapshots.grids) == params.epochs
        callback_times.append(snapshots.seconds)
        return elapsed

    plain()  # warm-up: TensorFlow's first graph and tf.data set-up, charged to neither side
    plain_times, playground_times = [], []
    for repeat in range(args.repeats):
        order = (plain, playground) if repeat % 2 == 0 else (playground, plain)
        for run in order:
            (plain_times if run is plain else playground_times).append(run())
        print(
            f"repeat {repeat + 1}: plain fit {plain_times[-1]:.3f} s, playground {playground_times[-1]:.3f} s"
        )
    steps = -(-len(x_train) // params.batch_size) * params.epochs
    print(
        f"{params.epochs} epochs, {steps} steps of batch {params.batch_size}, grid {params.resolution}x{params.resolution}, "
        f"{len(x_train)} training / {len(x_test)} test points"
    )
    plain_median, playground_median = statistics.median(plain_times), statistics.median(playground_times)
    print(f"median plain fit {plain_median:.3f} s, median playground {playground_median:.3f} s")
    callback = statistics.median(callback_times)
    print(
        f"time inside the snapshot callback (tracing included): median {callback:.3f} s per fit, "
        f"{callback / plain_median:.1%} of the plain fit"
    )
    print(
        f"playground overhead: {playground_median / plain_median:.2f}x "
        f"(playground/plain fit, median of {args.repeats})"
    )


if __name__ == "__main__":
    main()
