"""Gradient statistics of the batches the model trains on, from the gradients the training step computed.

While `fit` runs, the Recorder wraps the ``apply`` method of the model's optimizer instance (of the inner
optimizer of a LossScaleOptimizer, which receives unscaled gradients): every ``train_step``, Keras' own or
a user's override, hands its gradients to it, through ``apply_gradients`` or directly, and no second
backward pass is needed. Inside the compiled step the wrapper writes each layer's gradient L2 norm into a
ring of rows (one per step) and, at the step the Recorder asks for, the layers' gradient histograms, into
small variables the callback reads between steps. Under a tf.distribute strategy the wrapper runs once per
replica on that replica's part of the batch; it sums the parts first (one all-reduce, as the optimizer
does), so what is recorded is the gradient the optimizer applies, before any clipping.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from dlviz._record_statistics import step_histograms
from dlviz.errors import RunError

# Rows of per-step norms kept on the device between two reads by the callback.
RING_ROWS = 256


class StepGradients:
    """The device-side state and the capture of one Recorder's step gradients.

    ``layer_slots`` lists, per recorded layer, the indices of its variables in ``variables`` (the model's
    trainable variables); norms and histograms are per layer, over all of its variables.
    """

    def __init__(self, variables, layer_slots: list[list[int]], bins: int, strategy, steps_per_call: int = 1):
        self._slot_of_id = {id(variable): slot for slot, variable in enumerate(variables)}
        paths = [getattr(variable, "path", None) for variable in variables]
        # By path too: a train_step may hand over the same variables as other Python objects.
        self._slot_of_path = {
            path: slot for slot, path in enumerate(paths) if path and paths.count(path) == 1
        }
        self._shapes = [tuple(variable.shape) for variable in variables]
        self.layer_slots = [list(slots) for slots in layer_slots]
        self.bins = bins
        # Room for two training calls of steps_per_execution steps between reads.
        self.rows = max(RING_ROWS, 4 * int(steps_per_call))
        self.steps_per_call = int(steps_per_call)
        n_layers = len(self.layer_slots)
        with strategy.scope():
            self.next_step = _state(tf.constant(0, tf.int64), "dlviz_next_step")
            self.row_steps = _state(tf.fill([self.rows], tf.constant(-1, tf.int64)), "dlviz_row_steps")
            self.row_norms = _state(tf.zeros([self.rows, n_layers]), "dlviz_row_norms")
            self.histogram_step = _state(tf.constant(-1, tf.int64), "dlviz_histogram_step")
            self.histogram_taken_at = _state(tf.constant(-1, tf.int64), "dlviz_histogram_taken_at")
            self.histogram_counts = _state(tf.zeros([n_layers, bins], tf.int32), "dlviz_histogram_counts")
            self.histogram_edges = _state(tf.zeros([n_layers, bins + 1]), "dlviz_histogram_edges")
        # Set once record_gradients is used: the optimizer's wrapper then stays out of the way.
        self.explicit = False
        self._optimizer = None
        self._had_own_apply = False
        self._own_apply = None

    # ------------------------------------------------------------------ inside the training step

    def capture(self, gradients, variables, scale=None) -> None:
        """Record one step's gradients (graph or eager, replica or cross-replica context)."""
        gradients, variables = list(gradients), list(variables)
        if len(gradients) != len(variables):
            raise RunError(
                f"record_gradients got {len(gradients)} gradients for {len(variables)} variables.",
                "Pass the gradients and the variables they belong to, in the same order, e.g. "
                "recorder.record_gradients(tape.gradient(loss, model.trainable_variables), "
                "model.trainable_variables).",
            )
        dense: dict[int, tf.Tensor] = {}
        given: set[int] = set()
        for gradient, variable in zip(gradients, variables, strict=True):
            slot = self._slot(variable)
            if slot is None:
                continue
            given.add(slot)
            if gradient is not None:
                dense[slot] = self._dense(gradient, slot, scale)
        if not given:
            raise RunError(
                "None of the variables handed to the Recorder are trainable variables of the recorded model.",
                "Pass model.trainable_variables (the variables the gradients were taken of).",
            )
        slots = sorted(dense)
        dense = dict(zip(slots, _summed_over_replicas([dense[slot] for slot in slots]), strict=True))
        squares = {slot: tf.reduce_sum(tf.square(value)) for slot, value in dense.items()}
        norms, values = [], []
        for layer in self.layer_slots:
            present = [slot for slot in layer if slot in dense]
            if present:
                norms.append(tf.sqrt(tf.add_n([squares[slot] for slot in present])))
            else:
                # No gradient at all reaches a layer whose every variable was given: it is exactly 0.
                norms.append(tf.constant(0.0 if set(layer) <= given else math.nan))
            parts = [tf.reshape(dense[slot], [-1]) for slot in present]
            values.append(tf.concat(parts, 0) if parts else tf.zeros([0]))
        self._write(tf.stack(norms), values)

    def _slot(self, variable) -> int | None:
        slot = self._slot_of_id.get(id(variable))
        return slot if slot is not None else self._slot_of_path.get(getattr(variable, "path", None))

    def _dense(self, gradient, slot: int, scale):
        if isinstance(gradient, tf.IndexedSlices):
            # An embedding's gradient: rows may repeat, and untouched rows are zeros of the dense gradient.
            gradient = tf.math.unsorted_segment_sum(gradient.values, gradient.indices, self._shapes[slot][0])
        gradient = tf.cast(gradient, tf.float32)
        return gradient if scale is None else gradient / tf.cast(scale, tf.float32)

    def _write(self, norms, values) -> None:
        step = tf.identity(self.next_step)
        row = tf.reshape(tf.math.floormod(step, self.rows), [1, 1])
        self.row_steps.assign(tf.tensor_scatter_nd_update(self.row_steps, row, tf.reshape(step, [1])))
        self.row_norms.assign(tf.tensor_scatter_nd_update(self.row_norms, row, norms[None, :]))
        due = tf.equal(step, self.histogram_step)
        # Assignments stay outside the cond: a tf.distribute replica cannot merge inside a branch.
        counts, edges = tf.cond(
            due,
            lambda: step_histograms(values, self.bins),
            lambda: (tf.identity(self.histogram_counts), tf.identity(self.histogram_edges)),
        )
        self.histogram_counts.assign(counts)
        self.histogram_edges.assign(edges)
        self.histogram_taken_at.assign(tf.where(due, step, self.histogram_taken_at))
        self.next_step.assign(step + 1)

    # ------------------------------------------------------------------ the callback's side (eager)

    def begin_call(self, step: int) -> None:
        """The next gradients handed over belong to global step ``step``."""
        self.next_step.assign(step)

    def want_histogram(self, step: int) -> None:
        self.histogram_step.assign(step)

    def histogram(self):
        """(step it was taken at, counts [layers, bins], edges [layers, bins + 1]), still on the device."""
        return (
            self.histogram_taken_at.read_value(),
            self.histogram_counts.read_value(),
            self.histogram_edges.read_value(),
        )

    def ring(self):
        """(steps [rows], norms [rows, layers]) of the last ``rows`` steps, still on the device."""
        return self.row_steps.read_value(), self.row_norms.read_value()

    # ------------------------------------------------------------------ hooking into fit

    def attach(self, model) -> None:
        """Wrap ``apply`` of the model's optimizer instance, and make sure the training step is traced
        with the wrapper in it (a step traced earlier, e.g. by a fit without the Recorder, is not)."""
        optimizer = getattr(model, "optimizer", None)
        while isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = optimizer.inner_optimizer
        if optimizer is None or self._optimizer is not None:
            return
        own = vars(optimizer).get("apply")
        original = optimizer.apply

        def apply(gradients, trainable_variables=None):
            gradients = list(gradients)
            if not self.explicit and gradients:
                variables = (
                    optimizer._trainable_variables if trainable_variables is None else trainable_variables
                )
                self.capture(gradients, variables, scale=optimizer.loss_scale_factor)
            return original(gradients, trainable_variables)

        optimizer.apply = apply
        self._optimizer, self._had_own_apply, self._own_apply = optimizer, own is not None, own
        if getattr(model, "compiled", False):
            self._guard_train_function(model)

    def detach(self) -> None:
        """Give the optimizer its own ``apply`` back (idempotent)."""
        optimizer, self._optimizer = self._optimizer, None
        if optimizer is None:
            return
        if self._had_own_apply:
            optimizer.apply = self._own_apply
        else:
            del optimizer.apply

    @property
    def attached(self) -> bool:
        return self._optimizer is not None

    def _guard_train_function(self, model) -> None:
        if getattr(model.train_function, "_dlviz_step_gradients", None) is self:
            return
        model.make_train_function(force=True)
        traced_with_wrapper: Callable = model.train_function

        def train_function(iterator):
            if not self.attached:
                # Training without the Recorder (after it, or after a fit that failed): a fresh trace.
                model.make_train_function(force=True)
                return model.train_function(iterator)
            try:
                return traced_with_wrapper(iterator)
            except (StopIteration, tf.errors.OutOfRangeError):
                raise  # how an epoch over a dataset of unknown length ends
            except BaseException:
                # fit calls no callback when it fails: leave the optimizer as it was.
                self.detach()
                raise

        train_function._dlviz_step_gradients = self
        model.train_function = train_function


def rows_by_step(reads) -> dict[int, np.ndarray]:
    """The per-step norms in ring reads [(steps, norms), ...] (later reads win), keyed by global step."""
    rows: dict[int, np.ndarray] = {}
    for steps, norms in reads:
        steps, norms = steps.numpy(), norms.numpy()
        for row in np.flatnonzero(steps >= 0):
            rows[int(steps[row])] = norms[row]
    return rows


def _state(initial, name: str) -> tf.Variable:
    # ONLY_FIRST_REPLICA: every replica writes the same (all-reduced) values; one write is kept.
    return tf.Variable(
        initial,
        trainable=False,
        name=name,
        synchronization=tf.VariableSynchronization.ON_WRITE,
        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
    )


def _summed_over_replicas(values: list) -> list:
    if not values or not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return values
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)
