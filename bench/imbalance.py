"""What does the imbalance workbench add beyond training? Time per strategy, harness against plain `fit`.

For each strategy, interleaved in one process on the bundled `imbalanced` dataset (1600 training
samples, 5% minority) and the default MLP:
- harness: `dlviz.compute("imbalance", strategies=(strategy,), ...)`: builds and clones the model,
  resamples the training split, trains, scores the test split (sklearn metrics, PR curve, threshold
  sweep) and projects the training points (PCA);
- plain: what a user types to train that model once: `dlviz.models.build` (same seed), `compile` with
  the same loss, `model.fit` on the same training data (resampled before the clock starts).
Both include building the model and Keras' tracing of it. Each timing is the fastest of `--repeats` runs (the
least disturbed by other processes). Goal: harness / plain under 1.10.
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
from plugins.imbalance import resample  # noqa: E402

STRATEGIES = (
    "none",
    "class_weight",
    "oversample",
    "undersample",
    "smote",
    "adasyn",
    "balanced_batches",
    "focal_loss",
)
BATCH_SIZE = 32
SEED = 0


def harness(dataset, strategy: str, epochs: int) -> float:
    started = time.perf_counter()
    dlviz.compute("imbalance", dataset=dataset, seed=SEED, strategies=(strategy,), epochs=epochs)
    return time.perf_counter() - started


def plain(dataset, strategy: str, epochs: int) -> float:
    data = resample(strategy, dataset.x_train, dataset.y_train, n_classes=2, seed=SEED, batch_size=BATCH_SIZE)
    started = time.perf_counter()
    keras.utils.set_random_seed(SEED)
    model = models.build("mlp", dataset, seed=SEED)
    loss = (
        keras.losses.BinaryFocalCrossentropy(gamma=2.0) if strategy == "focal_loss" else "binary_crossentropy"
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    if data.sequence is not None:
        model.fit(data.sequence, epochs=epochs, shuffle=False, verbose=0)
    else:
        model.fit(
            data.x, data.y, epochs=epochs, batch_size=BATCH_SIZE, class_weight=data.class_weight, verbose=0
        )
    return time.perf_counter() - started


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
    print(f"{'strategy':<18}{'plain fit (s)':>15}{'harness (s)':>13}{'ratio':>8}")
    total_plain = total_harness = 0.0
    for strategy in STRATEGIES:
        plain_runs, harness_runs = [], []
        for repeat in range(args.repeats):
            # alternate the order so that neither side always runs first
            if repeat % 2:
                harness_runs.append(harness(dataset, strategy, args.epochs))
                plain_runs.append(plain(dataset, strategy, args.epochs))
            else:
                plain_runs.append(plain(dataset, strategy, args.epochs))
                harness_runs.append(harness(dataset, strategy, args.epochs))
        plain_s, harness_s = min(plain_runs), min(harness_runs)
        total_plain += plain_s
        total_harness += harness_s
        print(f"{strategy:<18}{plain_s:>15.2f}{harness_s:>13.2f}{harness_s / plain_s:>7.2f}x")
    print(
        f"{'all strategies':<18}{total_plain:>15.2f}{total_harness:>13.2f}{total_harness / total_plain:>7.2f}x"
    )
    print(
        f"imbalance harness overhead: {total_harness / total_plain:.2f}x (harness / plain fit of the same model, "
        f"{len(STRATEGIES)} strategies x {args.epochs} epochs, imbalanced dataset; goal < 1.10)"
    )


if __name__ == "__main__":
    main()
