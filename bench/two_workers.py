"""What does recording cost a two-worker custom training loop? The loop with the Recorder against itself
without it.

Two worker processes on localhost (``TF_CONFIG`` with two free ports, CPU only) run
tests/dlviz/multiworker_training.py, the README's recipe: a custom loop under MultiWorkerMirroredStrategy
whose callbacks run through ``keras.callbacks.CallbackList``. In the same two processes the same model
trains alternately without a Recorder and with one (step gradients handed over by
``recorder.record_gradients``, activations on a 32-sample probe and weight snapshots, every=10; the
chief writes the run to a temporary folder), ``repeats`` times each. The first epoch of every training
(tracing) is left out; the ratio is the median steady epoch time with the Recorder over the median
without it, on the chief's clock (medians of epochs: two workers that wait on each other at every step
make a single epoch on a loaded machine now and then several times slower than the rest).
Usage: python bench/two_workers.py [--repeats 3] [--epochs 4] [--steps 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "dlviz" / "multiworker_training.py"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.dlviz.multiworker_training import local_cluster  # noqa: E402

EVERY = 10



def two_worker_overhead(
    repeats: int = 3, epochs: int = 4, steps: int = 100, width: int = 128
) -> tuple[float, str]:
    """(recorded / plain steady-state time of the two-worker loop, a line saying what was measured)."""
    modes = ["plain", "step"] * repeats
    cluster = local_cluster(2)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    with tempfile.TemporaryDirectory(prefix="dlviz-two-workers-") as scratch:
        command = [
            sys.executable, str(SCRIPT), scratch, "--modes", *modes, "--epochs", str(epochs),
            "--steps", str(steps), "--width", str(width), "--global-batch", "64", "--every", str(EVERY),
        ]  # fmt: skip
        workers = []
        for index in range(2):
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            workers.append(
                subprocess.Popen(
                    command,
                    env={**env, "TF_CONFIG": json.dumps(config)},
                    cwd=REPO,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )  # fmt: skip
            )
        outputs = []
        try:
            for worker in workers:
                out, err = worker.communicate(timeout=1800)
                if worker.returncode != 0:
                    raise RuntimeError(f"a worker failed:\n{err[-3000:]}")
                outputs.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
    chief = next(output for output in outputs if output["chief"])
    steady = {"plain": [], "step": []}
    for training in chief["trainings"]:
        steady[training["mode"]].append(training["epoch_seconds"][1:])
    plain, recorded = (statistics.median(sum(steady[mode], [])) for mode in ("plain", "step"))
    ratio = recorded / plain
    ratios = [
        statistics.median(with_recorder) / statistics.median(without)
        for without, with_recorder in zip(steady["plain"], steady["step"], strict=True)
    ]
    detail = (
        f"two_worker custom loop (MultiWorkerMirroredStrategy, 2 local CPU workers, {steps} global batches "
        f"of 64 x {epochs - 1} steady epochs, width {width}): with the Recorder (step gradients, "
        f"every={EVERY}) against without it {ratio:.2f}x (median epoch {recorded:.3f} s against {plain:.3f} s; "
        f"per repeat {', '.join(f'{r:.2f}' for r in ratios)}; goal <= 1.10x)"
    )
    return ratio, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    ratio, detail = two_worker_overhead(args.repeats, args.epochs, args.steps)
    print(detail)
    print(
        f"two_worker recorder overhead: {ratio:.2f}x (recorded/plain two-worker custom loop; goal <= 1.10x)"
    )


if __name__ == "__main__":
    main()
