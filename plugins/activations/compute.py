"""What the `activations` plugin computes: the probe batch's outputs and health, distributions,
their course over the run, feature maps and unit responses."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

import dlviz
from plugins._shared.classes import class_names_of, predicted_classes
from plugins._shared.layers import DEFAULT_MAP_LAYERS, chosen_layers
from plugins._shared.records import histogram, histograms_over_time, record_window, test_samples
from plugins.activations.result import Distributions, FeatureMaps, ProbeHealth, UnitResponses
from plugins.activations.views import conv_layers, dense_layers, shown_layers

if TYPE_CHECKING:
    from plugins.activations.plugin import Params

PROBE_SIZE = 64  # the probe Recorder.for_dataset uses: the first 64 training samples
RELU_LIKE = frozenset({"relu", "relu6"})
SATURATING = frozenset({"sigmoid", "tanh"})
# Outputs in the flat tails, as the Recorder counts them: sigmoid below 0.01 or above 0.99, |tanh| above 0.99.
SIGMOID_TAIL, TANH_TAIL = 0.01, 0.99
MAX_MAP_PIXELS = 48  # feature maps larger than this (per side) are average-pooled for display
MAX_RESPONSE_VALUES = 120_000  # unit-response thumbnails share this many grid values (figure < 1 MB)


@dataclasses.dataclass(frozen=True)
class Probe:
    """The current model's layer outputs on the probe batch (not part of the result: too big)."""

    outputs: dict[str, np.ndarray]
    kinds: dict[str, str]
    activations: dict[str, str]
    n_samples: int


def probe_activations(ctx: dlviz.Context) -> Probe:
    """The current model's layer outputs on the probe batch, the first PROBE_SIZE training samples."""
    x = ctx.dataset.x_train[:PROBE_SIZE]
    layers = ctx.model.layers
    return Probe(
        outputs=ctx.model.activations(x),
        kinds={info.name: info.kind for info in layers},
        activations={info.name: info.activation or "" for info in layers},
        n_samples=len(x),
    )


def watched_layers(activations: dict[str, str], order: list[str]) -> tuple[set[str], set[str]]:
    """ReLU layers (they may die) and hidden sigmoid/tanh layers (they may saturate). A confident output
    layer is saturated by design, so the last layer is never watched for saturation."""
    relu = {layer for layer in order if activations.get(layer) in RELU_LIKE}
    saturating = {layer for layer in order[:-1] if activations.get(layer) in SATURATING}
    return relu, saturating


def probe_health(probe: Probe) -> ProbeHealth:
    """Dead units of each ReLU layer and the saturated share of each watched sigmoid/tanh layer."""
    dead_layers, dead, units = [], [], []
    saturating, saturating_activations, saturated = [], [], []
    relu, watched = watched_layers(probe.activations, list(probe.outputs))
    for layer, values in probe.outputs.items():
        activation = probe.activations[layer]
        if layer in relu:
            per_unit = values.reshape(-1, values.shape[-1])
            dead_layers.append(layer)
            dead.append(int(np.sum(np.all(per_unit <= 0, axis=0))))
            units.append(per_unit.shape[1])
        elif layer in watched:
            saturating.append(layer)
            saturating_activations.append(activation)
            saturated.append(_saturated_share(values, activation))
    return ProbeHealth(
        tuple(dead_layers),
        tuple(dead),
        tuple(units),
        tuple(saturating),
        tuple(saturating_activations),
        tuple(saturated),
        tuple(probe.outputs),
    )


def _saturated_share(values: np.ndarray, activation: str) -> float:
    if activation == "sigmoid":
        return float(np.mean((values < SIGMOID_TAIL) | (values > 1 - SIGMOID_TAIL)))
    return float(np.mean(np.abs(values) > TANH_TAIL))


def compute_distributions(ctx: dlviz.Context, probe: Probe | None, params: Params) -> Distributions | None:
    """Per-layer output histograms on the probe batch, else at the run's last record (None without either)."""
    if probe is not None:
        layers = shown_layers(list(probe.outputs), probe.kinds, params.layers)
        edges, fractions = [], []
        for layer in layers:
            shares, layer_edges = histogram(probe.outputs[layer], params.bins)
            edges.append(layer_edges.astype(np.float32))
            fractions.append(shares.astype(np.float32))
        zeros = np.array([float(np.mean(probe.outputs[layer] == 0)) for layer in layers], np.float32)
        return Distributions(
            "probe",
            None,
            probe.n_samples,
            tuple(layers),
            tuple(probe.activations[layer] for layer in layers),
            tuple(edges),
            tuple(fractions),
            zeros,
        )
    run = ctx.run
    histograms = run.histograms("act")
    if not histograms:
        return None
    available = [layer for layer in run.layers if layer in histograms]
    layers = shown_layers(available, run.layer_kinds, params.layers)
    zero_series = run.series("act_zero_frac")
    edges, fractions = [], []
    for layer in layers:
        counts, layer_edges = histograms[layer]
        total = max(float(counts[-1].sum()), 1.0)
        edges.append(layer_edges[-1].astype(np.float32))
        fractions.append((counts[-1] / total).astype(np.float32))
    activations = run.layer_activations
    return Distributions(
        "run",
        int(run.record_steps[-1]),
        int(run.meta.get("recorder", {}).get("probe_size", 0)),
        tuple(layers),
        tuple(activations.get(layer) or "" for layer in layers),
        tuple(edges),
        tuple(fractions),
        np.array(
            [zero_series[layer][-1] if layer in zero_series else np.nan for layer in layers], np.float32
        ),
    )


def compute_training(run, params: Params):
    """The run's activation histograms, zero and saturated shares over the steps shown, as result fields."""
    steps = run.record_steps
    shown = record_window(steps, params.first_step, params.last_step, params.max_points)
    activations = run.layer_activations
    histograms = run.histograms("act")
    available = [layer for layer in run.layers if layer in histograms]
    layers = shown_layers(available, run.layer_kinds, params.layers)
    zeros, saturated = run.series("act_zero_frac"), run.series("act_sat_frac")
    relu_layers, watched = watched_layers(activations, run.layers)
    relu = tuple(layer for layer in layers if layer in relu_layers and layer in zeros)
    saturating = tuple(layer for layer in layers if layer in watched and layer in saturated)
    return {
        "over_time": histograms_over_time(histograms, layers, steps, shown, params.bins),
        "steps": steps[shown],
        "relu_layers": relu,
        "zero_fractions": _rows(zeros, relu, shown),
        "saturating_layers": saturating,
        "saturated_fractions": _rows(saturated, saturating, shown),
    }


def _rows(series: dict[str, np.ndarray], layers: tuple[str, ...], shown: np.ndarray) -> np.ndarray:
    if not layers:
        return np.zeros((0, len(shown)), np.float32)
    return np.stack([series[layer][shown] for layer in layers]).astype(np.float32)


def compute_feature_maps(ctx: dlviz.Context, params: Params) -> FeatureMaps:
    """The chosen test sample's feature maps (the first `max_maps` channels) in the chosen convolutional
    layers, by default an even selection of at most DEFAULT_MAP_LAYERS of them (one figure each)."""
    dataset, handle = ctx.dataset, ctx.model
    _, sample, label = test_samples(dataset, params.sample_index, 1)
    conv = layers_of_view([info.name for info in conv_layers(handle)], params.layers, DEFAULT_MAP_LAYERS)
    output_layer = handle.layers[-1].name
    outputs = handle.activations(sample, layers=[*conv, output_layer])
    predicted = predicted_classes(outputs[output_layer])
    maps, channels = [], []
    for layer in conv:
        values = np.moveaxis(outputs[layer][0], -1, 0)  # [channels, h, w]
        channels.append(values.shape[0])
        maps.append(_shrink(values[: params.max_maps]).astype(np.float32))
    return FeatureMaps(
        sample_index=params.sample_index,
        label=class_names_of(dataset, label)[0],
        predicted=class_names_of(dataset, predicted)[0],
        image=sample[0].astype(np.float32),
        layers=tuple(conv),
        maps=tuple(maps),
        channels=tuple(channels),
    )


def layers_of_view(candidates: list[str], requested: tuple[str, ...], limit: int) -> list[str]:
    """The requested layers among `candidates` (the layers a view can draw); when none of them is requested,
    an even selection of at most `limit` candidates."""
    return chosen_layers(candidates, tuple(name for name in requested if name in candidates), limit)


def _shrink(maps: np.ndarray) -> np.ndarray:
    """Average-pool [k, h, w] maps so that no side exceeds MAX_MAP_PIXELS (keeps figures small)."""
    factor = int(np.ceil(max(maps.shape[1:]) / MAX_MAP_PIXELS))
    if factor <= 1:
        return maps
    k, h, w = maps.shape
    padded = np.pad(maps, ((0, 0), (0, -h % factor), (0, -w % factor)), mode="edge")
    return padded.reshape(k, padded.shape[1] // factor, factor, padded.shape[2] // factor, factor).mean(
        axis=(2, 4)
    )


def compute_unit_responses(ctx: dlviz.Context, params: Params) -> UnitResponses:
    """Each Dense unit's output over a grid spanning the 2-D data; the first `max_units` per layer, in the
    chosen Dense layers (by default an even selection of at most DEFAULT_MAP_LAYERS of them)."""
    dataset, handle = ctx.dataset, ctx.model
    names = layers_of_view([info.name for info in dense_layers(handle)], params.layers, DEFAULT_MAP_LAYERS)
    dense = [info for info in dense_layers(handle) if info.name in names]
    thumbnails = sum(min(int(info.output_shape[-1]), params.max_units) for info in dense)
    size = max(8, min(params.grid_size, int(np.sqrt(MAX_RESPONSE_VALUES / thumbnails))))
    points = np.concatenate([dataset.x_train, dataset.x_test]) if len(dataset.x_test) else dataset.x_train
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-6)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], size)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
    outputs = handle.activations(grid, layers=[info.name for info in dense])
    responses, units = [], []
    for info in dense:
        values = outputs[info.name].reshape(len(grid), -1)
        units.append(values.shape[1])
        shown = values[:, : params.max_units].T.reshape(-1, size, size)
        responses.append(shown.astype(np.float32))
    names = tuple(dataset.feature_names[:2]) if len(dataset.feature_names) >= 2 else ("x1", "x2")
    return UnitResponses(
        xs=xs.astype(np.float32),
        ys=ys.astype(np.float32),
        feature_names=names,
        layers=tuple(info.name for info in dense),
        activations=tuple(info.activation or "linear" for info in dense),
        responses=tuple(responses),
        units=tuple(units),
    )
