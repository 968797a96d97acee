"""The model at each weight snapshot of a recorded run, without touching the user's model, and the step
slider that shows a figure per snapshot.

A `dlviz.Run` keeps flattened trainable weights at some steps (`run.snapshots`, `run.snapshot_steps`).
`SnapshotModel` clones the model once, wraps the clone in a `dlviz.ModelHandle` and loads one snapshot
after the other into the clone's variables: the handle's compiled functions read the variables when
they run, so every snapshot reuses one traced graph, and the model the learner trains is never changed.
"""

from __future__ import annotations

import math

import numpy as np

import dlviz
from dlviz.errors import ModelError, PluginError
from dlviz.plugin import tr

SNAPSHOTS_NOT_SHOWN = dlviz.Note(
    "The run's weight snapshots are not shown: it holds none, they belong to another architecture than this "
    "model, or Keras cannot copy this model to replay them (a subclassed model without get_config).",
    "未显示训练记录的权重快照：该记录没有快照、快照属于与当前模型结构不同的模型，或 Keras 无法复制此模型来重放快照"
    "（没有 get_config 的子类模型）。",
)


def snapshot_indices(n_snapshots: int, at_most: int) -> np.ndarray:
    """At most `at_most` snapshot indices spread evenly over `n_snapshots`, always the first and the last.

    >>> snapshot_indices(10, 4).tolist(), snapshot_indices(3, 8).tolist()
    ([0, 3, 6, 9], [0, 1, 2])
    """
    if n_snapshots <= at_most:
        return np.arange(n_snapshots)
    return np.unique(np.round(np.linspace(0, n_snapshots - 1, at_most)).astype(np.int64))


def check_run_fits(run, model) -> None:
    """Refuse a run whose snapshots hold weights of another architecture than `model`."""
    shapes = [list(v.shape) for v in model.trainable_variables]
    recorded = [list(v["shape"]) for v in run.meta.get("variables", [])]
    if recorded != shapes:
        raise PluginError(
            f"The run's weight snapshots ({sum(math.prod(s) for s in recorded):,} parameters) do not fit "
            f"this model ({sum(math.prod(s) for s in shapes):,} parameters).",
            "show a run recorded while training this model (same layers and sizes), or turn off the snapshot view.",
        )


class SnapshotModel:
    """A clone of `handle`'s model whose weights can be set to any snapshot of `run`.

    >>> from dlviz.testing import tiny_context
    >>> ctx = tiny_context("points2d")
    >>> replay = SnapshotModel(ctx.model, ctx.run)
    >>> replay.load(len(ctx.run.snapshot_steps) - 1).predict(ctx.dataset.x_test[:2]).shape
    (2, 1)
    """

    def __init__(self, handle, run):
        import keras

        from dlviz.handle import ModelHandle

        check_run_fits(run, handle.model)
        try:
            clone = keras.models.clone_model(handle.model)
        except Exception as exc:  # Keras raises many types for models it cannot rebuild from config
            raise ModelError(
                f"The model cannot be copied to replay its recorded weights ({type(exc).__name__}: {exc}).",
                "give a subclassed model get_config/from_config, or turn off the snapshot view.",
            ) from exc
        clone.build((None, *handle.input_shape))
        # The non-trainable weights (batch-norm statistics) stay the model's: snapshots hold trainable ones only.
        clone.set_weights(handle.model.get_weights())
        self.handle = ModelHandle(clone)
        self._run = run
        self._snapshots = run.snapshots
        self.steps = np.asarray(run.snapshot_steps, dtype=np.int64)

    def load(self, index: int):
        """Set the clone's trainable weights to snapshot `index`; return its `ModelHandle`."""
        arrays = self._run.unflatten(self._snapshots[index])
        for variable, value in zip(self.handle.model.trainable_variables, arrays, strict=True):
            variable.assign(value)
        return self.handle


def step_slider(steps, language: str, prefix_en: str = "step ", prefix_zh: str = "步数 ") -> dict:
    """A Plotly slider whose k-th position shows frame str(k), labelled by its training step."""
    return {
        "active": len(steps) - 1,
        "currentvalue": {"prefix": tr(language, prefix_en, prefix_zh)},
        "pad": {"t": 50},
        "steps": [
            {
                "label": str(int(step)),
                "method": "animate",
                "args": [
                    [str(index)],
                    {
                        "mode": "immediate",
                        "frame": {"duration": 0, "redraw": True},
                        "transition": {"duration": 0},
                    },
                ],
            }
            for index, step in enumerate(steps)
        ],
    }
