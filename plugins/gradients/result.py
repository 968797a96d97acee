"""The result of the `gradients` plugin: plain data the figures are drawn from."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from dlviz.plugin import tr
from plugins._shared.records import HistogramsOverTime


@dataclasses.dataclass(frozen=True)
class RunNorms:
    """Another run's per-layer gradient norms, drawn beside the main run's."""

    label: str
    layers: tuple[str, ...]
    steps: np.ndarray
    norms: np.ndarray  # [n_layers, n_steps]
    label_zh: str = ""  # `label` in Chinese ("" when it is the same)

    def text(self, language: str) -> str:
        """The run's legend label in `language`."""
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class Saliency:
    """d (score of the predicted class) / d input for a few test images."""

    indices: tuple[int, ...]
    images: np.ndarray  # [n, H, W, C] as given to the model
    gradients: np.ndarray  # [n, H, W], summed over channels (signed)
    labels: tuple[str, ...]
    predicted: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class GradientsResult:
    """What the gradients plugin draws: from a run ("run") or from one batch ("batch")."""

    source: str
    layers: tuple[str, ...]
    steps: np.ndarray  # record steps shown; [0] for one batch
    norms: np.ndarray  # [n_layers, n_steps]
    update_ratios: np.ndarray  # [n_layers, n_steps], or shape (0, 0) when not recorded
    histograms: HistogramsOverTime | None
    other_runs: tuple[RunNorms, ...]
    saliency: Saliency | None
    findings: tuple[dlviz.Finding, ...]
    batch_size: int = 0
    # A run's gradients: "step" (of the batches trained on) or "probe" (of the Recorder's fixed probe batch).
    gradient_source: str = ""
