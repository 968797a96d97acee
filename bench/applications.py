"""Does a 200-layer application go through dlviz in a few minutes? The whole walk against a 5-minute budget.

For each model (keras.applications EfficientNetB0 and ResNet50V2 at 32x32x3, weights=None, 3 classes,
CPU): build and compile it, `dlviz.wrap` it, record one epoch of `fit` on 48 random samples with
`Recorder.for_dataset` (every=10), then compute and draw every plugin that reads the model at its
defaults, as a user opening each page in turn. Each step's seconds are printed, the walk's total as a
ratio to the 5-minute budget (issue #13: "each within 5 minutes on this machine at the plugins'
defaults"), and beside it the ratio to a plain one-epoch `fit` of the same model and samples, run in
the same process after the walk, so a loaded machine shows in both.
Usage: python bench/applications.py [--models EfficientNetB0,ResNet50V2]
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
from dlviz.plugin import Context, make_params  # noqa: E402
from dlviz.registry import make_context, run_plugin  # noqa: E402

BUDGET_SECONDS = 300.0


def model_plugins() -> list[str]:
    """Plugins that read the loaded model: they require one, or refuse a context that holds nothing."""
    names = []
    for name, info in dlviz.registry.plugins().items():
        plugin = info.plugin() if info.plugin else None
        if plugin is not None and ("model" in plugin.requires or plugin.is_compatible(Context()) is not True):
            names.append(name)
    return names


def walk(name: str, plugins: list[str]) -> tuple[float, float]:
    """(seconds of the whole walk, seconds of a plain epoch) for keras.applications.`name`."""
    rng = np.random.default_rng(0)
    x = rng.random((64, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 3, 64)
    dataset = Dataset.from_arrays(x[:48], y[:48], x_test=x[48:], y_test=y[48:], kind="image", standardize=False)
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(input_shape=(32, 32, 3), weights=None, classes=3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    handle = dlviz.wrap(model)
    recorder = dlviz.Recorder.for_dataset(dataset, every=10)
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=16, verbose=0, callbacks=[recorder])
    print(f"{name}: {len(handle.layers)} layers; build, wrap and recorded epoch {time.perf_counter() - start:.1f} s")
    ctx = make_context(model=model, dataset=dataset, run=recorder.run, seed=0)
    for plugin_name in plugins:
        plugin = dlviz.get_plugin(plugin_name)
        began = time.perf_counter()
        verdict = plugin.is_compatible(ctx)
        if verdict is True:
            result = run_plugin(plugin, ctx, make_params(type(plugin).Params, {}))
            outcome = f"{len(plugin.figures(result, language='en'))} figures"
        else:
            outcome = f"refused: {verdict}"
        print(f"  {plugin_name}: {time.perf_counter() - began:.1f} s, {outcome}")
    total = time.perf_counter() - start
    began = time.perf_counter()
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=16, verbose=0)
    return total, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="EfficientNetB0,ResNet50V2")
    args = parser.parse_args()
    plugins = model_plugins()
    totals = {}
    for name in args.models.split(","):
        total, epoch = walk(name, plugins)
        totals[name] = total
        print(f"{name}: walk {total:.1f} s = {total / BUDGET_SECONDS:.2f}x the budget, {total / epoch:.0f}x a plain epoch")
    slowest = max(totals, key=totals.get)
    details = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in totals.items())
    print(
        f"applications walk: {totals[slowest] / BUDGET_SECONDS:.2f}x the 5-minute budget "
        f"(slowest {slowest}; {details}; {len(plugins)} model plugins at their defaults; goal <= 1x)"
    )


if __name__ == "__main__":
    main()
