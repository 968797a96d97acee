"""The result of the `lr_finder` plugin: loss per learning rate and the points read off the curve."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz


@dataclasses.dataclass(frozen=True)
class RangeTest:
    """One pass of the range test: the learning rate of each step and the loss of its batch.

    `steepest`, `minimum` and `diverged` index the steps (`diverged` is None when the loss never
    blew up). `suggested_settings` holds what the test suggests for the model's settings by their
    sidebar name (``{"learning_rate": ...}``), so a dashboard can offer to apply it.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: int
    minimum: int
    diverged: int | None
    start: str  # "initial" (the run's first weights) or "current"
    optimizer: str
    batch_size: int
    page: dlviz.Page = dlviz.Page()

    @property
    def suggested_learning_rate(self) -> float:
        """The learning rate where the smoothed loss falls fastest (before its minimum)."""
        return float(self.learning_rates[self.steepest])

    @property
    def minimum_learning_rate(self) -> float:
        """The learning rate at the smoothed loss' minimum; a tenth of it is a cautious choice."""
        return float(self.learning_rates[self.minimum])

    @property
    def suggested_settings(self) -> dict[str, float]:
        return {"learning_rate": self.suggested_learning_rate}
