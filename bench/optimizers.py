"""How fast is the optimizer race? 8 Keras optimizers x 500 steps on one test function.

The plugin runs every optimizer's `apply_gradients` inside one compiled loop; the baseline is what
one would write by hand: for each optimizer, a plain Python loop of `GradientTape` +
`apply_gradients` on a `keras.Variable`, the same steps. Both use the same Keras optimizer classes
and learning rates and must end at the same points. The race is timed from scratch (new
optimizers, tracing included), as the dashboard pays it on every change of a control.
Usage: python bench/optimizers.py [--function rosenbrock] [--steps 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from plugins.optimizers import Optimizers  # noqa: E402
from plugins.optimizers.functions import FUNCTIONS  # noqa: E402
from plugins.optimizers.race import OPTIMIZERS, build_optimizer, race  # noqa: E402


def contestants(spec):
    params = Optimizers.Params()
    return [build_optimizer(key, spec.tuned_rates[key], params) for key in OPTIMIZERS]


def plain_loops(spec, steps: int) -> np.ndarray:
    """One eager Python loop per optimizer: the baseline."""
    ends = []
    for optimizer in contestants(spec):
        position = keras.Variable(np.float32(spec.start))
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = spec.formula(position.value[0], position.value[1], tf.math)
            optimizer.apply_gradients([(tape.gradient(loss, position.value), position)])
        ends.append(position.numpy())
    return np.array(ends)


def timed(function, repeats: int):
    """Median wall-clock and CPU seconds (CPU time is what the work costs on a busy machine)."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", default="rosenbrock", choices=sorted(FUNCTIONS))
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spec = FUNCTIONS[args.function]
    n = len(OPTIMIZERS)

    race(spec, contestants(spec), spec.start, 2)  # warm up TensorFlow itself, not this race
    race_wall, race_cpu, (paths, _) = timed(
        lambda: race(spec, contestants(spec), spec.start, args.steps), args.repeats
    )
    loop_wall, loop_cpu, ends = timed(lambda: plain_loops(spec, args.steps), 1)
    np.testing.assert_allclose(paths[:, -1], ends, rtol=1e-4, atol=1e-5)

    print(f"function: {spec.title}, {n} optimizers x {args.steps} steps, {os.cpu_count()} CPUs")
    print(
        f"compiled race (new optimizers + tracing + run, median of {args.repeats}): "
        f"{race_wall:.3f} s wall, {race_cpu:.3f} s CPU"
    )
    print(
        f"plain Keras optimizer loops (eager GradientTape + apply_gradients): "
        f"{loop_wall:.3f} s wall, {loop_cpu:.3f} s CPU"
    )
    print(
        f"optimizer race speed-up: {loop_wall / race_wall:.0f}x ({n} optimizers x {args.steps} steps in "
        f"{race_wall:.2f} s wall / {race_cpu:.2f} s CPU, goal < 1 s; plain Keras loops {loop_wall:.1f} s)"
    )


if __name__ == "__main__":
    main()
