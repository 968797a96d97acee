"""Reading runs for the comparison: settings from each run's metadata, curves and final metrics from its
epoch (or step) table."""

from __future__ import annotations

import math

import numpy as np

import dlviz
from dlviz.runs import downsample_indices
from plugins._shared.records import run_label
from plugins.compare_runs.result import SETTING_NAMES, Comparison, Curve, RunSummary

# Optimizer hyperparameters worth a column (Keras config keys); the rest (epsilon, EMA, ...) rarely differ.
OPTIMIZER_KEYS = (
    "momentum",
    "nesterov",
    "beta_1",
    "beta_2",
    "rho",
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
)
# Metrics where smaller is better; any other (accuracy, AUC, ...) ranks the larger first.
LOWER_IS_BETTER = ("loss", "error", "mae", "mse", "crossentropy", "hinge")
INDEX_COLUMNS = ("epoch", "step")


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of `metric` is better ("val_loss": yes, "val_accuracy": no)."""
    return any(part in metric.lower() for part in LOWER_IS_BETTER)


def settings_of(run) -> dict:
    """What a run's metadata says about how it was trained, keyed like `SETTING_NAMES`."""
    meta = run.meta
    layers = meta.get("layers") or []
    optimizer = meta.get("optimizer") or {}
    rate = optimizer.get("learning_rate")
    if isinstance(rate, dict):  # a schedule: its class name says more than its numbers
        rate = str(rate.get("class_name") or rate.get("module") or "schedule")
    activations = sorted({layer.get("activation") for layer in layers[:-1] if layer.get("activation")})
    regularization = meta.get("regularization") or {}
    epochs = run.epochs
    settings = {
        "model": meta.get("model_name"),
        "parameters": meta.get("param_count")
        or (sum(int(layer.get("params", 0)) for layer in layers) or None),
        "layers": len(layers) or None,
        "activation": ", ".join(a for a in activations if a != "linear") or None,
        "optimizer": optimizer.get("class") or optimizer.get("name"),
        "learning_rate": rate,
        **{key: optimizer.get(key) for key in OPTIMIZER_KEYS},
        "loss": meta.get("loss"),
        "dataset": meta.get("dataset"),
        **{key: regularization.get(key) for key in ("dropout", "l1", "l2", "batch_norm")},
        "epochs": len(epochs.get("epoch", [])) or None,
        "steps": int(epochs["step"][-1]) if len(epochs.get("step", [])) else None,
    }
    return {key: _plain(value) for key, value in settings.items()}


def _plain(value):
    """A JSON-like setting as a plain str, float, int or bool (None stays None)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return str(value)


def curves_of(run, x_axis: str) -> tuple[Curve, ...]:
    """Every metric of the run over epochs (1-based) or over global steps (Keras' running epoch means),
    each thinned for drawing to at most dlviz.runs.MAX_DRAWN_POINTS points by min/max decimation."""
    table = run.epochs if x_axis == "epoch" else run.steps
    if not len(table.get(x_axis, [])):
        return ()
    x = np.asarray(table[x_axis], np.float64) + (1 if x_axis == "epoch" else 0)
    curves = []
    for name, values in table.items():
        if name not in INDEX_COLUMNS and np.asarray(values).ndim == 1:
            kept = downsample_indices(values)
            curves.append(Curve(name, x[kept].astype(np.float32), np.asarray(values, np.float32)[kept]))
    return tuple(curves)


def final_metrics(run) -> dict:
    """Each metric's value at the last epoch (NaN when that epoch did not report it)."""
    epochs = run.epochs
    return {
        name: float(values[-1])
        for name, values in epochs.items()
        if name not in INDEX_COLUMNS and len(values) and np.asarray(values).ndim == 1
    }


def default_rank_metric(runs: tuple[RunSummary, ...]) -> str:
    """val_loss when every run has it, else loss, else the first metric the first run has."""
    shared = set.intersection(*(set(run.final) for run in runs)) if runs else set()
    for name in ("val_loss", "loss"):
        if name in shared:
            return name
    return sorted(shared)[0] if shared else "loss"


def differing_keys(runs: tuple[RunSummary, ...], keys: tuple[str, ...]) -> tuple[str, ...]:
    """The settings whose values are not the same in every run."""
    return tuple(key for key in keys if len({_comparable(run.settings.get(key)) for run in runs}) > 1)


def _comparable(value):
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.6g}")  # 0.1 from JSON and 0.1000000001 from a float32 are one setting
    return value


def compare(ctx: dlviz.Context, params) -> Comparison:
    """The runs of `ctx` (the current one first, then those to compare) summarised for the figures."""
    runs = [run for run in (ctx.run, *ctx.runs) if run is not None]
    unique = [run for index, run in enumerate(runs) if all(run is not other for other in runs[:index])]
    summaries = []
    for index, run in enumerate(unique):
        ctx.report(index / len(unique), dlviz.plugin.tr(ctx.language, "reading runs", "读取训练记录"))
        summaries.append(
            RunSummary(
                label=run_label(run, index),
                label_zh=run_label(run, index, "zh"),
                curves=curves_of(run, params.x_axis),
                settings=settings_of(run),
                final=final_metrics(run),
            )
        )
    summaries = tuple(summaries)
    rank_metric = params.rank_metric.strip() or default_rank_metric(summaries)
    if not any(rank_metric in run.final for run in summaries):
        known = sorted(set().union(*(run.final for run in summaries)))
        raise dlviz.ParamsError(
            f"No run reported the metric {rank_metric!r} at its last epoch.",
            f"rank by one of: {', '.join(known) or 'none (the runs have no finished epoch)'}; empty picks one.",
        )
    keys = tuple(key for key in SETTING_NAMES if any(run.settings.get(key) is not None for run in summaries))
    ctx.report(1.0, dlviz.plugin.tr(ctx.language, "done", "完成"))
    return Comparison(
        runs=summaries,
        x_axis=params.x_axis,
        rank_metric=rank_metric,
        lower_is_better=lower_is_better(rank_metric),
        setting_keys=keys,
        differing=differing_keys(summaries, keys),
        only_differing=params.only_differing,
    )
