"""How long do the gradients and activations plugins take on a recorded run, next to loading it?

Trains the digits CNN for 20 epochs with `Recorder.for_dataset(every=10, logdir=...)`, then times,
in this process: `Run.load` of that run folder, and compute + figures of each plugin on the loaded
run (first call, then the median of repeated calls), from the run alone and with the model and
dataset as the dashboard has them. Plotly's one-time schema load is paid before timing. The goal: each plugin under one second after the load.
Usage: python bench/plugin_figures.py [--epochs 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import plotly.graph_objects as go  # noqa: E402

from dlviz import datasets, models, registry  # noqa: E402
from dlviz.recorder import Recorder  # noqa: E402
from dlviz.runs import Run  # noqa: E402

PLUGINS = ("gradients", "activations")


def timed(function, repeats: int) -> tuple[float, float, object]:
    """(first call's seconds, median seconds of `repeats` further calls, last value)."""
    start = time.perf_counter()
    value = function()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times), value


def draw(name: str, ctx) -> list:
    plugin = registry.get_plugin(name)
    return plugin.figures(registry.run_plugin(plugin, ctx))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="training epochs of the recorded run")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats after the first call")
    args = parser.parse_args()

    dataset = datasets.load("digits", seed=0)
    model = models.build("cnn", dataset, seed=0)
    folder = Path(tempfile.mkdtemp(prefix="dlviz-bench-plugin-figures-")) / "run"
    recorder = Recorder.for_dataset(dataset, every=10, logdir=folder)
    start = time.perf_counter()
    model.fit(
        dataset.x_train, dataset.y_train, epochs=args.epochs, batch_size=32, verbose=0, callbacks=[recorder]
    )
    print(f"trained {args.epochs} epochs in {time.perf_counter() - start:.1f} s; run folder {folder}")

    load_first, load, run = timed(lambda: Run.load(folder), args.repeats)
    print(
        f"Run.load: first {load_first * 1000:.0f} ms, median {load * 1000:.0f} ms "
        f"({len(run.steps['step'])} steps, {len(run.record_steps)} records, {len(run.snapshot_steps)} snapshots)"
    )
    # Plotly reads its schema (about a second) at the first figure of a process; the dashboard has paid
    # that long before a plugin draws, so it is paid here before the clocks start.
    go.Figure(go.Scatter(x=[0], y=[0]))
    run_only = registry.make_context(run=run)
    with_model = registry.make_context(model=model, dataset=dataset, run=run)
    medians = {}
    for name in PLUGINS:
        first, median, figures = timed(lambda name=name: draw(name, run_only), args.repeats)
        medians[name] = median
        largest = max(len(json.dumps(figure.to_plotly_json(), default=str)) for figure in figures)
        print(
            f"{name:12s} run only:        first {first * 1000:6.0f} ms, median {median * 1000:6.0f} ms, "
            f"{len(figures)} figures, largest JSON {largest / 1e6:.2f} MB"
        )
        first, median, figures = timed(lambda name=name: draw(name, with_model), args.repeats)
        print(
            f"{name:12s} model+dataset:   first {first * 1000:6.0f} ms, median {median * 1000:6.0f} ms, "
            f"{len(figures)} figures (adds the probe, saliency / feature maps)"
        )
    ratios = ", ".join(
        f"{name} {medians[name] / load:.2f}x ({medians[name] * 1000:.0f} ms)" for name in PLUGINS
    )
    print(
        f"plugins/Run.load: {ratios} vs load {load * 1000:.0f} ms "
        f"(compute+figures on the loaded {args.epochs}-epoch digits-CNN run, median of {args.repeats})"
    )


if __name__ == "__main__":
    main()
