"""The recurrent lesson's task, generated from the seed: remember the sign of the first step across
`length` steps of noise. Nothing but the first step tells the label, so a network that forgets it can
only guess (accuracy 0.5)."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class MemoryTask:
    """Sequences (n, length + 1, 1) float32 and labels (n,) int64 (1: the first step is +1, 0: it is -1)."""

    length: int
    noise: float
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def steps(self) -> int:
        return self.length + 1


def memory_sequences(
    rng: np.random.Generator, n: int, length: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """`n` sequences: the first step ±1 (the label's sign), then `length` steps drawn from N(0, noise²).

    >>> x, y = memory_sequences(np.random.default_rng(0), 4, 3, 1.0)
    >>> x.shape, bool(np.all(np.sign(x[:, 0, 0]) == 2 * y - 1))
    ((4, 4, 1), True)
    """
    labels = rng.integers(0, 2, n)
    x = rng.normal(0.0, noise, (n, length + 1, 1)).astype(np.float32)
    x[:, 0, 0] = 2.0 * labels - 1.0
    return x, labels.astype(np.int64)


def memory_task(seed: int, length: int, noise: float, n_train: int, n_test: int) -> MemoryTask:
    """Training and test sequences for one dependency length, the same for every cell type; each length
    draws its own sequences from (seed, length), so changing one length leaves the others' data alone."""
    rng = np.random.default_rng([seed, length])
    x_train, y_train = memory_sequences(rng, n_train, length, noise)
    x_test, y_test = memory_sequences(rng, n_test, length, noise)
    return MemoryTask(length, noise, x_train, y_train, x_test, y_test)
