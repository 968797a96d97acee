"""The result of the `activations` plugin: plain data the figures are drawn from."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from plugins._shared.records import HistogramsOverTime


@dataclasses.dataclass(frozen=True)
class Distributions:
    """Per-layer histograms of the outputs on the probe batch (or at the run's last record)."""

    source: str  # "probe" or "run"
    step: int | None  # the record's step when taken from the run
    n_samples: int
    layers: tuple[str, ...]
    activations: tuple[str, ...]
    edges: tuple[np.ndarray, ...]  # per layer [bins+1]
    fractions: tuple[np.ndarray, ...]  # per layer [bins], sums to 1
    zero_fractions: np.ndarray  # per layer, share of outputs exactly zero


@dataclasses.dataclass(frozen=True)
class ProbeHealth:
    """Dead units and saturation of the current model on the probe batch."""

    dead_layers: tuple[str, ...]
    dead_units: tuple[int, ...]
    units: tuple[int, ...]
    saturating_layers: tuple[str, ...]
    saturating_activations: tuple[str, ...]
    saturated: tuple[float, ...]
    layers: tuple[str, ...]  # every layer of the probe, input to output


@dataclasses.dataclass(frozen=True)
class FeatureMaps:
    """The outputs of every convolutional layer for one sample, beside the sample itself."""

    sample_index: int
    label: str
    predicted: str
    image: np.ndarray  # [H, W, C]
    layers: tuple[str, ...]
    maps: tuple[np.ndarray, ...]  # per layer [shown, h, w]
    channels: tuple[int, ...]  # channels each layer has in all


@dataclasses.dataclass(frozen=True)
class UnitResponses:
    """Each dense unit's output over a grid on the 2-D input plane."""

    xs: np.ndarray  # [g]
    ys: np.ndarray  # [g]
    feature_names: tuple[str, str]
    layers: tuple[str, ...]
    activations: tuple[str, ...]
    responses: tuple[np.ndarray, ...]  # per layer [shown units, g (y), g (x)]
    units: tuple[int, ...]  # units each layer has in all


def _no_records() -> np.ndarray:
    return np.zeros((0, 0), np.float32)


@dataclasses.dataclass(frozen=True)
class ActivationsResult:
    """What the activations plugin draws; the training fields stay empty without a run."""

    distributions: Distributions | None
    probe_health: ProbeHealth | None
    feature_maps: FeatureMaps | None
    unit_responses: UnitResponses | None
    findings: tuple[dlviz.Finding, ...]
    page: dlviz.Page  # its notes: views left out of view="all", and why
    thresholds: tuple[float, float]  # zero_fraction, saturation: drawn as dashed lines
    over_time: HistogramsOverTime | None = None
    steps: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))  # record steps shown
    relu_layers: tuple[str, ...] = ()
    zero_fractions: np.ndarray = dataclasses.field(default_factory=_no_records)  # [relu layers, steps]
    saturating_layers: tuple[str, ...] = ()
    saturated_fractions: np.ndarray = dataclasses.field(default_factory=_no_records)  # [saturating, steps]
