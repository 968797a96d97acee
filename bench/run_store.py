"""How fast does a big recorded run open? Opening it as the dashboard does against reading its bytes raw.

A run of 100,000 training steps (100 epochs of 1,000), a probe record every 10 steps, per-step gradient
norms, and 200 weight snapshots of a 1M-parameter, 8-layer model is written through the real
`RunWriter` (one chunk per epoch, as the Recorder flushes) into a temporary folder. Then, interleaved and
repeated, with the files in the page cache for both:

* raw: every file of the run read into memory (the bytes, nothing decoded);
* open: what the dashboard does when it lists a logdir and opens a run: find the run folders, take the
  run's signature, `Run.load` it, and build its epoch and step tables (the sidebar's epoch and step
  counts), then read one record series. Snapshots are only checked (zip directory, header, length);
  their values are read when a page first uses them, which is timed on its own ("first snapshot use").

Also printed: the open time against reading only the bytes opening needs (meta.json and the chunks),
and what drawing costs: the points a step curve keeps after `dlviz.runs.downsample_indices`.
Usage: python bench/run_store.py [--repeats 5] [--steps 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the dashboard's `apps` package

import numpy as np  # noqa: E402

from apps import logdir  # noqa: E402
from dlviz.runs import MAX_DRAWN_POINTS, Run, RunWriter, downsample_indices  # noqa: E402

STEPS_PER_EPOCH = 1000
EVERY = 10
SNAPSHOTS = 200
BINS = 30
# An MLP of about 1M parameters: (inputs, units) per Dense layer.
DENSE = [(784, 1024), (1024, 128), (128, 128), (128, 128), (128, 128), (128, 64), (64, 64), (64, 10)]


def run_meta() -> dict:
    layers, variables = [], []
    for index, (inputs, units) in enumerate(DENSE):
        name = f"dense_{index}"
        layers.append(
            {
                "name": name,
                "kind": "Dense",
                "output_shape": [None, units],
                "params": (inputs + 1) * units,
                "activation": "relu" if index < len(DENSE) - 1 else "softmax",
            }
        )
        variables += [
            {"path": f"{name}/kernel", "shape": [inputs, units], "layer": name},
            {"path": f"{name}/bias", "shape": [units], "layer": name},
        ]
    names = [layer["name"] for layer in layers]
    return {
        "layers": layers,
        "variables": variables,
        "record_layers": {"grad": names, "act": names},
        "recorder": {"every": EVERY, "gradients": "step"},
        "status": "finished",
    }


def epoch_chunk(epoch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One epoch's chunk with the columns and dtypes the Recorder writes."""
    steps = np.arange(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH, dtype=np.int64)
    records = steps[steps % EVERY == 0]
    n, layers = len(records), len(DENSE)

    def floats(*shape):
        return rng.random(shape, dtype=np.float32)

    return {
        "steps/step": steps,
        "steps/epoch": np.full(len(steps), epoch, np.int64),
        "steps/loss": rng.random(len(steps)),
        "steps/accuracy": rng.random(len(steps)),
        "steps/grad_norm": floats(len(steps), layers),
        "epochs/epoch": np.array([epoch]),
        "epochs/step": np.array([steps[-1] + 1]),
        "epochs/loss": rng.random(1),
        "epochs/accuracy": rng.random(1),
        "epochs/val_loss": rng.random(1),
        "epochs/val_accuracy": rng.random(1),
        "records/step": records,
        **{
            f"records/{name}": floats(n, layers)
            for name in ("grad_norm", "update_ratio", "act_mean", "act_std", "act_zero_frac", "act_sat_frac")
        },
        "records/grad_hist_counts": rng.integers(0, 1000, (n, layers, BINS), dtype=np.int32),
        "records/grad_hist_edges": np.sort(floats(n, layers, BINS + 1), axis=-1),
        "records/act_hist_counts": rng.integers(0, 1000, (n, layers, BINS), dtype=np.int32),
        "records/act_hist_edges": np.sort(floats(n, layers, BINS + 1), axis=-1),
    }


def write_run(folder: Path, total_steps: int) -> int:
    rng = np.random.default_rng(0)
    writer = RunWriter(folder)
    meta = run_meta()
    writer.write_meta(meta)
    for epoch in range(total_steps // STEPS_PER_EPOCH):
        writer.append_chunk(epoch_chunk(epoch, rng))
    n_params = Run(meta).n_params
    weights = rng.normal(size=n_params).astype(np.float32)
    for step in np.linspace(0, total_steps - EVERY, SNAPSHOTS).round(-1).astype(int):
        weights += rng.normal(scale=1e-3, size=n_params).astype(np.float32)
        writer.write_snapshot(int(step), weights)
    return n_params


def read_raw(folder: Path, only_chunks: bool = False) -> int:
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not (only_chunks and path.parent.name == "snapshots"):
            total += len(path.read_bytes())
    return total


def open_like_the_dashboard(root: Path) -> Run:
    (path,) = logdir.find_runs(root)
    logdir.signature(path)
    run = Run.load(path)
    len(run.epochs.get("epoch", ())), len(run.steps.get("step", ()))
    run.series("grad_norm")
    return run


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        seconds, n_params = timed(write_run, root / "big", args.steps)
        size = read_raw(root / "big")
        chunk_bytes = read_raw(root / "big", only_chunks=True)
        print(
            f"wrote {args.steps} steps, {SNAPSHOTS} snapshots of {n_params:,} parameters: "
            f"{size / 1e6:.0f} MB ({chunk_bytes / 1e6:.0f} MB meta + chunks) in {seconds:.1f} s"
        )
        raw, raw_chunks, opened, first_use = [], [], [], []
        for _ in range(args.repeats):
            raw.append(timed(read_raw, root / "big")[0])
            raw_chunks.append(timed(read_raw, root / "big", True)[0])
            seconds, run = timed(open_like_the_dashboard, root)
            opened.append(seconds)
            first_use.append(timed(lambda run=run: run.snapshots.shape)[0])
        raw_s, chunks_s = statistics.median(raw), statistics.median(raw_chunks)
        open_s, snap_s = statistics.median(opened), statistics.median(first_use)
        assert run.problems == [] and len(run.steps["step"]) == args.steps
        loss = run.steps["loss"]
        drawn = len(downsample_indices(loss))
        assert np.isin(np.argmax(loss), downsample_indices(loss)), "the highest loss must be drawn"
        print(
            f"raw read: {raw_s:.3f} s all files, {chunks_s:.3f} s meta + chunks; "
            f"first snapshot use (read + checksum {SNAPSHOTS} snapshots): {snap_s:.2f} s "
            f"({snap_s / raw_s:.2f}x the raw read)"
        )
        print(
            f"drawing: a step curve of {len(loss):,} points is drawn with {drawn} "
            f"(min/max decimation, at most {MAX_DRAWN_POINTS}); the Run keeps all {len(loss):,}"
        )
        print(
            f"run store open: {open_s / raw_s:.2f}x (open {open_s:.3f} s vs raw read {raw_s:.3f} s of "
            f"{size / 1e6:.0f} MB; {open_s / chunks_s:.2f}x the raw read of the bytes opening needs; "
            f"medians of {args.repeats} interleaved repeats; goal <= 3x)"
        )


if __name__ == "__main__":
    main()
