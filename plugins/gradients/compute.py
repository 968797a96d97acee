"""What the `gradients` plugin computes: per-layer gradient norms and histograms from a run's records
or from one batch, other runs' norms to compare, and saliency maps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz.plugin import tr
from plugins._shared.classes import class_names_of, predicted_classes
from plugins._shared.layers import chosen_layers
from plugins._shared.records import (
    HistogramsOverTime,
    histogram,
    histograms_over_time,
    record_window,
    run_label,
    test_samples,
)
from plugins.gradients.diagnosis import diagnose_norms, ratio_findings
from plugins.gradients.result import GradientsResult, RunNorms, Saliency

if TYPE_CHECKING:
    from plugins.gradients.plugin import Params


def run_gradients(run) -> dict[str, np.ndarray]:
    """The run's recorded gradient norm per layer (empty without a run or without gradient records)."""
    return run.series("grad_norm") if run is not None else {}


def gradient_source(run) -> str:
    """Where a run's gradients come from: "step" (the training batches) or "probe" (a fixed probe batch;
    runs recorded before step gradients existed say True)."""
    return "step" if run.meta.get("recorder", {}).get("gradients") == "step" else "probe"


def _ordered(run, names) -> list[str]:
    order = {name: i for i, name in enumerate(run.layers)}
    return sorted(names, key=lambda name: order.get(name, len(order)))


def _layer_sizes(run, layers: list[str]) -> np.ndarray:
    sizes = dict.fromkeys(layers, 0)
    for variable in run.meta.get("variables", []):
        if variable.get("layer") in sizes:
            sizes[variable["layer"]] += int(np.prod(variable["shape"], dtype=np.int64))
    return np.array([max(sizes[layer], 1) for layer in layers], np.float64)


def from_run(run, params: Params) -> GradientsResult:
    """The result from a run's records: the diagnosis reads every record, the figures the window shown."""
    series = run_gradients(run)
    all_layers = _ordered(run, series)
    steps = run.record_steps
    norms = np.stack([series[layer] for layer in all_layers]).astype(np.float64)
    findings = diagnose_norms(all_layers, steps, norms, _layer_sizes(run, all_layers), params)
    findings += ratio_findings(run, all_layers, steps)

    layers = chosen_layers(all_layers, params.layers)
    shown = record_window(steps, params.first_step, params.last_step, params.max_points)
    rows = [all_layers.index(layer) for layer in layers]
    ratios = run.series("update_ratio")
    ratio_rows = [ratios[layer][shown] for layer in layers if layer in ratios]
    histograms = run.histograms("grad")
    return GradientsResult(
        source="run",
        layers=tuple(layers),
        steps=steps[shown],
        norms=norms[rows][:, shown],
        update_ratios=np.stack(ratio_rows) if len(ratio_rows) == len(layers) else np.zeros((0, 0)),
        histograms=histograms_over_time(histograms, layers, steps, shown, params.bins)
        if histograms
        else None,
        other_runs=(),
        saliency=None,
        findings=tuple(findings),
        gradient_source=gradient_source(run),
    )


def other_run_norms(run, index: int, params: Params) -> RunNorms | None:
    """Another run's norms in the same step window; None when it has no gradient records there."""
    series = run_gradients(run)
    requested = tuple(layer for layer in params.layers if layer in series)
    if params.layers and not requested:
        return None
    layers = chosen_layers(_ordered(run, series), requested)
    if not layers:
        return None
    steps = run.record_steps
    try:
        shown = record_window(steps, params.first_step, params.last_step, params.max_points)
    except dlviz.ParamsError:  # a shorter run than the one shown: nothing to overlay
        return None
    norms = np.stack([series[layer][shown] for layer in layers])
    return RunNorms(run_label(run, index), tuple(layers), steps[shown], norms, run_label(run, index, "zh"))


def from_batch(ctx: dlviz.Context, params: Params) -> GradientsResult:
    """The result drawn from the gradients of one random batch of training samples (no run)."""
    dataset, handle = ctx.dataset, ctx.model
    n = len(dataset.x_train)
    rng = np.random.default_rng(ctx.seed)
    chosen = np.sort(rng.choice(n, size=min(params.batch_size, n), replace=False))
    ctx.report(0.1, tr(ctx.language, "gradients of one batch", "一批样本的梯度"))
    gradients = handle.gradients(dataset.x_train[chosen], dataset.y_train[chosen])

    by_layer: dict[str, list[np.ndarray]] = {}
    for path, values in gradients.items():
        by_layer.setdefault(handle.layer_of_path[path], []).append(np.ravel(values).astype(np.float64))
    order = [info.name for info in handle.layers]
    all_layers = sorted(by_layer, key=lambda name: order.index(name) if name in order else len(order))
    values = {layer: np.concatenate(by_layer[layer]) for layer in all_layers}
    norms = np.array([[np.sqrt(np.sum(values[layer] ** 2))] for layer in all_layers])
    sizes = np.array([values[layer].size for layer in all_layers], np.float64)
    findings = diagnose_norms(all_layers, None, norms, sizes, params)

    layers = chosen_layers(all_layers, params.layers)
    edges, fractions = [], []
    for layer in layers:
        shares, layer_edges = histogram(values[layer], params.bins)
        edges.append(layer_edges.astype(np.float32))
        fractions.append(shares[None].astype(np.float32))
    rows = [all_layers.index(layer) for layer in layers]
    return GradientsResult(
        source="batch",
        layers=tuple(layers),
        steps=np.zeros(1, np.int64),
        norms=norms[rows],
        update_ratios=np.zeros((0, 0)),
        histograms=HistogramsOverTime(tuple(layers), np.zeros(1, np.int64), tuple(edges), tuple(fractions)),
        other_runs=(),
        saliency=None,
        findings=tuple(findings),
        batch_size=len(chosen),
    )


def compute_saliency(ctx: dlviz.Context, params: Params) -> Saliency | None:
    """Input-gradient saliency of the chosen test images; None for a model that does not take images."""
    dataset, handle = ctx.dataset, ctx.model
    if handle is None or dataset is None or dataset.kind != "image":
        return None
    indices, images, labels = test_samples(dataset, params.sample_index, params.saliency_samples)
    gradients = handle.input_gradients(images)
    predicted = predicted_classes(handle.predict(images))
    return Saliency(
        indices=tuple(int(i) for i in indices),
        images=images.astype(np.float32),
        gradients=gradients.reshape(images.shape).sum(axis=-1).astype(np.float32),
        labels=class_names_of(dataset, labels),
        predicted=class_names_of(dataset, predicted),
    )
