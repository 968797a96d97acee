"""The optimizer race's result: the test function on a grid and every optimizer's path, loss and
gradients (`RaceResult`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from plugins.optimizers.functions import FUNCTIONS, TestFunction


@dataclasses.dataclass(frozen=True)
class RaceResult:
    """The race on one function: the function on a grid and every optimizer's path (picklable)."""

    function: str
    start: np.ndarray
    steps: int
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    optimizers: tuple[str, ...]
    learning_rates: tuple[float, ...]
    hyperparameters: tuple[tuple[str, float], ...]
    paths: np.ndarray
    losses: np.ndarray
    gradients: np.ndarray
    diverged_at: tuple[int, ...]
    page: dlviz.Page  # the function's formula and note, and the chosen optimizers' update rules

    @property
    def spec(self) -> TestFunction:
        return FUNCTIONS[self.function]

    @property
    def x_range(self) -> list[float]:
        return [float(self.x[0]), float(self.x[-1])]

    @property
    def y_range(self) -> list[float]:
        return [float(self.y[0]), float(self.y[-1])]
