"""Do the run-reading plugins keep up with a 156-layer model? Plugin time against one training epoch.

keras.applications.MobileNetV2 (alpha 0.35, 32x32x3, weights=None, 10 classes, CPU) trains a first epoch
on 512 random samples with `Recorder.for_dataset` (tracing, not timed), then the epoch that is the
baseline: a plain `fit` of one epoch on the same 512 samples. Then the `gradients`, `activations` and
`attributions` plugins each compute (at their defaults, on the recorded run) and draw their figures,
twice: the first call traces TensorFlow functions, the second is the steady state. Each plugin's time
is printed as a ratio to the epoch, with the JSON size of its largest figure and the subplots it draws.
Usage: python bench/large_model.py [--samples 512]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import dlviz  # noqa: E402
from dlviz.datasets import Dataset  # noqa: E402
from dlviz.registry import make_context, run_plugin  # noqa: E402

PLUGINS = ("gradients", "activations", "attributions")


def subplots(figure) -> int:
    layout = figure.layout.to_plotly_json()
    return max(sum(key.startswith(axis) for key in layout) or 1 for axis in ("xaxis", "yaxis"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=512, help="training samples of the baseline epoch")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.samples + 64, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, len(x))
    dataset = Dataset.from_arrays(
        x[: args.samples],
        y[: args.samples],
        x_test=x[args.samples :],
        y_test=y[args.samples :],
        kind="image",
        standardize=False,
        name="random 32x32x3",
    )
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=10)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = dlviz.Recorder.for_dataset(dataset, every=4)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=32, verbose=0, callbacks=[recorder])
    start = time.perf_counter()
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=32, verbose=0)
    epoch = time.perf_counter() - start
    print(f"MobileNetV2 alpha 0.35: {len(model.layers)} layers; one epoch on {args.samples} samples {epoch:.2f} s")
    ctx = make_context(model=model, dataset=dataset, run=recorder.run, seed=0)
    ratios = {}
    for name in PLUGINS:
        plugin = dlviz.get_plugin(name)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            figures = plugin.figures(run_plugin(plugin, ctx), language="en")
            times.append(time.perf_counter() - start)
        sizes = [len(figure.to_json()) for figure in figures]
        ratios[name] = times[1] / epoch
        print(
            f"{name:13s} {times[1]:6.2f} s steady ({times[0]:6.2f} s first call, tracing included) = "
            f"{ratios[name]:.2f}x an epoch; {len(figures)} figures, largest {max(sizes) / 1e6:.2f} MB, "
            f"at most {max(map(subplots, figures))} subplots"
        )
    worst = max(ratios, key=ratios.get)
    print(
        f"large model: {ratios[worst]:.2f}x an epoch at worst ({worst}; "
        + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
        + f" of one {args.samples}-sample epoch of {epoch:.2f} s; goal <= 1x each)"
    )


if __name__ == "__main__":
    main()
