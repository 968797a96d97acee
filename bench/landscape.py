"""How fast is the loss landscape? A 41x41 grid on the breast-cancer MLP, naive loop vs batched.

Naive (what the reference implementation of Li et al. 2018 does per grid point): `model.set_weights`
then `model.evaluate` on the evaluation subset, one weight setting at a time. It is timed on a
random sample of the grid's points (after one warm-up call, so Keras' compiled test step is not
charged to it) and extrapolated to the whole grid. Batched: `plugins.landscape.evaluation.BatchedLoss`,
every weight setting through `model.stateless_call` in one compiled function (`tf.vectorized_map` for
dense models), timed from scratch: building and tracing the function included. The sampled points
must give the same losses both ways.
Usage: python bench/landscape.py [--resolution 41] [--samples 256] [--naive-points 40]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import dlviz  # noqa: E402
from dlviz import datasets, models  # noqa: E402
from plugins.landscape.directions import filter_normalized_direction, flat_weights  # noqa: E402
from plugins.landscape.evaluation import BatchedLoss  # noqa: E402


def trained_mlp():
    dataset = datasets.load("breast_cancer", seed=0)
    model = models.build("mlp", dataset, seed=0)
    model.fit(dataset.x_train, dataset.y_train, epochs=5, batch_size=32, verbose=0)
    return model, dataset


def naive_losses(model, x, y, settings: np.ndarray) -> np.ndarray:
    """set_weights + evaluate for each flattened trainable weight vector in `settings`."""
    trainable = {id(v) for v in model.trainable_variables}
    slots = [i for i, v in enumerate(model.weights) if id(v) in trainable]
    shapes = [tuple(v.shape) for v in model.trainable_variables]
    sizes = [int(np.prod(shape)) for shape in shapes]
    original = model.get_weights()
    losses = []
    for flat in settings:
        values = list(original)
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        for slot, part, shape in zip(slots, parts, shapes, strict=True):
            values[slot] = part.reshape(shape)
        model.set_weights(values)
        losses.append(model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)["loss"])
    model.set_weights(original)
    return np.array(losses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=41)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--naive-points", type=int, default=40)
    args = parser.parse_args()

    model, dataset = trained_mlp()
    keep = np.sort(np.random.default_rng(0).choice(len(dataset.x_train), args.samples, replace=False))
    x, y = dataset.x_train[keep], dataset.y_train[keep]
    rng = np.random.default_rng(0)
    centre = flat_weights(model)
    directions = np.stack([filter_normalized_direction(model, rng) for _ in range(2)])
    axis = np.linspace(-1.0, 1.0, args.resolution)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2).astype(np.float32)
    sample = np.sort(np.random.default_rng(1).choice(len(grid), args.naive_points, replace=False))
    settings = centre + grid[sample] @ directions

    naive_losses(model, x, y, settings[:1])  # warm-up: Keras compiles its test step once
    start = time.perf_counter()
    naive = naive_losses(model, x, y, settings)
    naive_per_point = (time.perf_counter() - start) / len(sample)
    naive_total = naive_per_point * len(grid)

    start = time.perf_counter()
    evaluator = BatchedLoss(dlviz.wrap(model), x, y)
    batched = evaluator.losses(centre, directions, grid)
    batched_cold = time.perf_counter() - start
    start = time.perf_counter()
    evaluator.losses(centre, directions, grid)
    batched_warm = time.perf_counter() - start
    difference = float(np.max(np.abs(batched[sample] - naive)))
    assert difference < 1e-5, f"batched and naive losses differ by {difference}"

    params = evaluator.n_params
    print(f"breast-cancer MLP: {params:,} parameters; {len(x)} evaluation samples; {len(grid)} grid points")
    print(
        f"naive set_weights + evaluate: {naive_per_point * 1e3:.1f} ms per point on {len(sample)} sampled points "
        f"-> {naive_total:.1f} s for the grid (extrapolated)"
    )
    print(
        f"batched stateless_call ({'vectorized_map' if evaluator.vectorised else 'map_fn'}): "
        f"{batched_cold:.3f} s from scratch (tracing included), {batched_warm:.3f} s when already traced"
    )
    print(f"largest difference on the sampled points: {difference:.2e}")
    print(
        f"landscape speed-up: {naive_total / batched_cold:.0f}x (naive set_weights+evaluate / batched "
        f"stateless_call, {args.resolution}x{args.resolution} grid; {naive_total / batched_warm:.0f}x once traced)"
    )


if __name__ == "__main__":
    main()
