"""What does the imbalance workbench add beyond training? Time per strategy, harness against plain `fit`.

For each of the plugin's strategies that applies to the bundled `imbalanced` dataset (1600 training
samples, 5% minority; image augmentation does not apply to its tabular data and is reported as skipped),
interleaved in one process, with the default MLP:
- harness: `dlviz.compute("imbalance", strategies=(strategy,), ...)`: builds the model,
  resamples the training split, trains, scores the test split (sklearn metrics, PR curve, threshold
  sweep) and projects the training points (PCA);
- plain: what a user types to train that model once: `dlviz.models.build` (same seed), `compile` with
  the same loss, `model.fit` on the same training data (resampled before the clock starts).
Both include building the model and Keras' tracing of it. Each timing is the fastest of `--repeats` runs (the
least disturbed by other processes). Wall time between separate runs swings on a busy machine, so the
script also prints, from the same harness runs, their total time over the time spent inside `model.fit`
(what the harness adds around training) and the CPU-time ratio. Goal: under 1.10.
Usage: python bench/imbalance.py [--epochs 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

import dlviz  # noqa: E402
from dlviz import datasets, models  # noqa: E402
from plugins.imbalance.resampling import STRATEGIES, StrategyNotApplicable, resample  # noqa: E402

BATCH_SIZE = 32
SEED = 0


def clocked(function) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds (all threads of this process) and the result of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def harness(dataset, strategy: str, epochs: int) -> tuple[float, float, float]:
    """Wall and CPU seconds of the whole harness, and the wall seconds it spent inside `model.fit`."""
    wall, cpu, result = clocked(
        lambda: dlviz.compute("imbalance", dataset=dataset, seed=SEED, strategies=(strategy,), epochs=epochs)
    )
    return wall, cpu, result.outcomes[0].fit_seconds


def training_data(dataset, strategy: str):
    """The training split as `strategy` resamples it (raises `StrategyNotApplicable` where it cannot apply)."""
    return resample(
        strategy,
        dataset.x_train,
        dataset.y_train,
        n_classes=2,
        kind=dataset.kind,
        seed=SEED,
        batch_size=BATCH_SIZE,
    )


def skip_reason(dataset, strategy: str) -> str:
    """Why `strategy` cannot run on `dataset`; "" when it can."""
    try:
        training_data(dataset, strategy)
    except StrategyNotApplicable as exc:
        return exc.skipped.reason
    return ""


def plain(dataset, strategy: str, epochs: int) -> tuple[float, float]:
    data = training_data(dataset, strategy)

    def train() -> None:
        keras.utils.set_random_seed(SEED)
        model = models.build("mlp", dataset, seed=SEED)
        focal = strategy == "focal_loss"
        loss = keras.losses.BinaryFocalCrossentropy(gamma=2.0) if focal else "binary_crossentropy"
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        if data.sequence is not None:
            model.fit(data.sequence, epochs=epochs, shuffle=False, verbose=0)
        else:
            model.fit(
                data.x,
                data.y,
                epochs=epochs,
                batch_size=BATCH_SIZE,
                class_weight=data.class_weight,
                verbose=0,
            )

    wall, cpu, _ = clocked(train)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dataset = datasets.load("imbalanced", seed=SEED)
    harness(dataset, "none", 1)  # warm-up: TensorFlow start, sklearn and imblearn imports
    plain(dataset, "none", 1)
    print(
        f"imbalanced: {len(dataset.y_train)} training samples, {args.epochs} epochs, batch {BATCH_SIZE}, {dlviz.device.describe()}"
    )
    print(
        f"{'strategy':<18}{'plain wall (s)':>15}{'harness wall (s)':>17}{'ratio':>7}{'CPU ratio':>10}"
        f"{'harness in fit (s)':>20}{'harness / its fit':>19}"
    )
    reasons = {strategy: skip_reason(dataset, strategy) for strategy in STRATEGIES}
    strategies = [strategy for strategy, reason in reasons.items() if not reason]
    totals = dict.fromkeys(("plain wall", "plain cpu", "harness wall", "harness cpu", "in fit"), 0.0)
    for strategy in strategies:
        plain_runs, harness_runs = [], []
        for repeat in range(args.repeats):
            # alternate the order so that neither side always runs first
            if repeat % 2:
                harness_runs.append(harness(dataset, strategy, args.epochs))
                plain_runs.append(plain(dataset, strategy, args.epochs))
            else:
                plain_runs.append(plain(dataset, strategy, args.epochs))
                harness_runs.append(harness(dataset, strategy, args.epochs))
        # the fastest run of each side: the one least disturbed by other processes
        plain_wall, plain_cpu = min(wall for wall, _ in plain_runs), min(cpu for _, cpu in plain_runs)
        harness_wall, _, in_fit = min(harness_runs)
        harness_cpu = min(cpu for _, cpu, _ in harness_runs)
        totals["plain wall"] += plain_wall
        totals["plain cpu"] += plain_cpu
        totals["harness wall"] += harness_wall
        totals["harness cpu"] += harness_cpu
        totals["in fit"] += in_fit
        print(
            f"{strategy:<18}{plain_wall:>15.2f}{harness_wall:>17.2f}{harness_wall / plain_wall:>6.2f}x"
            f"{harness_cpu / plain_cpu:>9.2f}x{in_fit:>20.2f}{harness_wall / in_fit:>18.2f}x"
        )
    for strategy, reason in reasons.items():
        if reason:
            print(f"{strategy:<18}skipped: {reason}")
    wall = totals["harness wall"] / totals["plain wall"]
    cpu = totals["harness cpu"] / totals["plain cpu"]
    own = totals["harness wall"] / totals["in fit"]
    print(
        f"{'all strategies':<18}{totals['plain wall']:>15.2f}{totals['harness wall']:>17.2f}{wall:>6.2f}x"
        f"{cpu:>9.2f}x{totals['in fit']:>20.2f}{own:>18.2f}x"
    )
    print(
        f"imbalance harness overhead: {own:.2f}x (harness / its own model.fit time, same runs); against a separate "
        f"plain build+fit {wall:.2f}x wall, {cpu:.2f}x CPU ({len(strategies)} strategies x {args.epochs} epochs, "
        "imbalanced dataset; goal < 1.10)"
    )


if __name__ == "__main__":
    main()
