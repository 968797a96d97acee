"""Class ids and names from a model's outputs, as every plugin that names a prediction reads them."""

from __future__ import annotations

import numpy as np


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class ids from model outputs (n, units): one sigmoid unit thresholds at 0.5, several take the argmax.

    >>> predicted_classes(np.array([[0.2], [0.7]])).tolist(), predicted_classes(np.array([[0.1, 0.9]])).tolist()
    ([0, 1], [1])
    """
    outputs = np.asarray(outputs).reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1).astype(np.int64)


def class_names_of(dataset, class_ids) -> tuple[str, ...]:
    """The dataset's names of `class_ids` (the ids themselves when it names no classes)."""
    names = dataset.class_names
    return tuple(str(names[int(i)]) if names else str(int(i)) for i in class_ids)
