"""What the loss landscape computes: the loss on a grid, trajectories and lines drawn on it."""

from __future__ import annotations

import dataclasses

import numpy as np

from dlviz.plugin import tr


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """One run's weight snapshots on the landscape plane."""

    label: str
    steps: np.ndarray
    coordinates: np.ndarray
    plane_losses: np.ndarray
    losses: np.ndarray
    label_zh: str = ""  # `label` in Chinese ("" when it is the same)

    def text(self, language: str) -> str:
        """The run's legend label in `language`."""
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class Line:
    """Loss along a straight line in weight space: `base + t · direction`.

    For an interpolation, `steps` are the training steps at t = 0 and t = 1.
    """

    label: str
    t: np.ndarray
    losses: np.ndarray
    steps: tuple[int, int] = (0, 0)
    label_zh: str = ""  # `label` in Chinese ("" when it is the same)

    def text(self, language: str) -> str:
        """The line's legend label in `language`."""
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class LandscapeResult:
    """The loss on a grid of weight settings around the trained weights, trajectories, 1-D lines."""

    directions: str
    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    centre_loss: float
    explained_variance: tuple[float, ...]
    trajectories: tuple[Trajectory, ...]
    line_kind: str
    lines: tuple[Line, ...]
    eval_samples: int
    split: str
    n_params: int
    loss_name: str
    log_scale: bool
    seed: int
