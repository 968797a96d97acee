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
GRADIENT_SOURCES = ("step", "probe")
GRADIENT_COLUMNS = ("grad_norm", "grad_hist_counts", "grad_hist_edges")


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
            # The step the next gradients handed over belong to: set by the callback at each epoch's
            # start, counted on in the training step (no per-step work on the callback's side).
            self.next_step = _state(tf.constant(0, tf.int64), "dlviz_next_step")
            self.claimed_step = _state(tf.constant(0, tf.int64), "dlviz_claimed_step")
            self.row_steps = _state(tf.fill([self.rows], tf.constant(-1, tf.int64)), "dlviz_row_steps")
            self.row_norms = _state(tf.zeros([self.rows, n_layers]), "dlviz_row_norms")
            self.histogram_step = _state(tf.constant(-1, tf.int64), "dlviz_histogram_step")
            self.histogram_taken_at = _state(tf.constant(-1, tf.int64), "dlviz_histogram_taken_at")
            self.histogram_counts = _state(tf.zeros([n_layers, bins], tf.int32), "dlviz_histogram_counts")
            self.histogram_edges = _state(tf.zeros([n_layers, bins + 1]), "dlviz_histogram_edges")
        # Set once record_gradients is used: the optimizer's wrapper then stays out of the way.
        self.explicit = False
        self._wrapped: list[tuple] = []  # (optimizer, its own `apply` attribute or None)
        # The callback's side: ring reads not yet consumed, and the histograms of records.
        self._reads: list = []
        self._read_upto = 0
        self._histograms: dict[int, tuple] = {}
        self._awaiting: int | None = None

    # ------------------------------------------------------------------ inside the training step

    def capture(self, gradients, variables, scale=None, claimed: bool = False) -> None:
        """Record one step's gradients (graph or eager, replica or cross-replica context).

        ``claimed``: the step was counted already (by the LossScaleOptimizer around the optimizer that
        is handed the gradients, as it may skip a step)."""
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
        # Few ops per step (each op's fixed cost is what a small model pays): one sum of squares per
        # variable, and one product that adds them up per layer.
        member = np.array([[slot in layer for layer in self.layer_slots] for slot in slots], np.float32)
        reached = member.any(axis=0) if slots else np.zeros(len(self.layer_slots), bool)
        # A layer no gradient reaches has exactly 0 when all of its variables were given, else unknown.
        unreached = np.array(
            [0.0 if set(layer) <= given else math.nan for layer in self.layer_slots], np.float32
        )
        if slots:
            halves = tf.stack([tf.nn.l2_loss(dense[slot]) for slot in slots])
            norms = tf.where(
                reached, tf.sqrt(2.0 * tf.linalg.matvec(member, halves, transpose_a=True)), unreached
            )
        else:
            norms = tf.constant(unreached)

        def layer_values():
            parts = [
                [tf.reshape(dense[slot], [-1]) for slot in layer if slot in dense]
                for layer in self.layer_slots
            ]
            return [tf.concat(part, 0) if part else tf.zeros([0]) for part in parts]

        step = tf.identity(self.claimed_step) if claimed else self.claim_step()
        self._write(step, norms, layer_values)

    def claim_step(self):
        """The step the gradients handed over now belong to (and count one step on)."""
        return self.next_step.assign_add(1) - 1

    def _slot(self, variable) -> int | None:
        slot = self._slot_of_id.get(id(variable))
        return slot if slot is not None else self._slot_of_path.get(getattr(variable, "path", None))

    def _dense(self, gradient, slot: int, scale):
        if isinstance(gradient, tf.IndexedSlices):
            # An embedding's gradient: rows may repeat, and untouched rows are zeros of the dense gradient.
            gradient = tf.math.unsorted_segment_sum(gradient.values, gradient.indices, self._shapes[slot][0])
        if gradient.dtype != tf.float32:
            gradient = tf.cast(gradient, tf.float32)
        return gradient if scale is None else gradient / tf.cast(scale, tf.float32)

    def _write(self, step, norms, layer_values: Callable) -> None:
        row = tf.reshape(tf.math.floormod(step, self.rows), [1, 1])
        # Whole-ring assignments: a MirroredVariable has no scatter_nd_update.
        self.row_steps.assign(tf.tensor_scatter_nd_update(self.row_steps, row, tf.reshape(step, [1])))
        self.row_norms.assign(tf.tensor_scatter_nd_update(self.row_norms, row, norms[None, :]))
        due = tf.equal(step, self.histogram_step)
        # Assignments stay outside the cond: a tf.distribute replica cannot merge inside a branch.
        counts, edges = tf.cond(
            due,
            lambda: step_histograms(layer_values(), self.bins),
            lambda: (tf.identity(self.histogram_counts), tf.identity(self.histogram_edges)),
        )
        self.histogram_counts.assign(counts)
        self.histogram_edges.assign(edges)
        self.histogram_taken_at.assign(tf.where(due, step, self.histogram_taken_at))

    # ------------------------------------------------------------------ the callback's side (eager)

    def begin_epoch(self, step: int) -> None:
        """The epoch about to run starts at global step ``step``."""
        self.next_step.assign(step)

    def begin_call(self, step: int) -> None:
        """The training call about to run starts at global step ``step``."""
        # Read the ring before this call could overwrite rows not read yet (they stay on the device).
        if step + self.steps_per_call > self._read_upto + self.rows:
            self._reads.append(self._ring())
            self._read_upto = step

    def want_histogram(self, step: int) -> None:
        """A record is taken at ``step``: its histograms are computed in the training step of ``step``."""
        self._collect_histogram(steps_done=step)
        self.histogram_step.assign(step)
        self._awaiting = step

    def arrived_since(self, step: int) -> bool:
        """Whether gradients of any step from ``step`` on have been handed over."""
        return bool(np.any(self.row_steps.numpy() >= step))

    def take(self, steps_done: int) -> dict[int, np.ndarray]:
        """The per-layer norms of the steps before ``steps_done`` not taken yet, keyed by global step."""
        self._collect_histogram(steps_done)
        reads, self._reads = [*self._reads, self._ring()], []
        self._read_upto = steps_done
        rows: dict[int, np.ndarray] = {}
        for steps, norms in reads:  # later reads win
            steps, norms = steps.numpy(), norms.numpy()
            for row in np.flatnonzero(steps >= 0):
                rows[int(steps[row])] = norms[row]
        return rows

    def record_columns(self, step: int, rows: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
        """The gradient columns of the record at ``step`` (NaN norms where that step handed none over)."""
        columns = empty_gradient_columns(len(self.layer_slots), self.bins)
        if step in rows:
            columns["grad_norm"] = rows[step]
        taken = self._histograms.pop(step, None)
        if taken is not None and int(taken[0].numpy()) == step:
            columns["grad_hist_counts"], columns["grad_hist_edges"] = taken[1].numpy(), taken[2].numpy()
        return columns

    def _collect_histogram(self, steps_done: int) -> None:
        # The histograms of the awaited record stay in their variables until the next record is asked for.
        if self._awaiting is not None and self._awaiting < steps_done:
            self._histograms[self._awaiting] = (
                self.histogram_taken_at.read_value(),
                self.histogram_counts.read_value(),
                self.histogram_edges.read_value(),
            )
            self._awaiting = None

    def _ring(self):
        return self.row_steps.read_value(), self.row_norms.read_value()

    # ------------------------------------------------------------------ hooking into fit

    def attach(self, model) -> None:
        """Wrap ``apply`` of the model's optimizer instance, and make sure the training step is traced
        with the wrapper in it (a step traced earlier, e.g. by a fit without the Recorder, is not)."""
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None or self._wrapped:
            return
        scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        if scaled:
            # Its inner optimizer receives the unscaled gradients, but not at the steps it skips.
            self._wrap(optimizer, lambda gradients, variables: self.claimed_step.assign(self.claim_step()))
            while isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                optimizer = optimizer.inner_optimizer
        inner = optimizer

        def capture(gradients, variables):
            if variables is None:
                variables = inner._trainable_variables
            self.capture(gradients, variables, scale=inner.loss_scale_factor, claimed=scaled)

        self._wrap(inner, capture)
        if getattr(model, "compiled", False):
            self._guard_train_function(model)

    def _wrap(self, optimizer, take: Callable) -> None:
        original = optimizer.apply

        def apply(gradients, trainable_variables=None):
            gradients = list(gradients)
            if not self.explicit and gradients:
                take(gradients, trainable_variables)
            return original(gradients, trainable_variables)

        self._wrapped.append((optimizer, vars(optimizer).get("apply")))
        optimizer.apply = apply

    def detach(self) -> None:
        """Give the optimizers their own ``apply`` back (idempotent)."""
        wrapped, self._wrapped = self._wrapped, []
        for optimizer, own in reversed(wrapped):
            if own is not None:
                optimizer.apply = own
            else:
                del optimizer.apply

    @property
    def attached(self) -> bool:
        return bool(self._wrapped)

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


def gradient_source(argument) -> str | None:
    """The gradient source ("step", "probe" or None) the Recorder's ``gradients`` argument asks for."""
    if argument is True:
        return "step"
    if argument is False or argument is None:
        return None
    if isinstance(argument, str) and argument in GRADIENT_SOURCES:
        return argument
    raise RunError(
        f"gradients must be 'step', 'probe', True or False; got {argument!r}.",
        "Use gradients='step' (those of the training batches, the default), 'probe' (those of the fixed "
        "probe batch) or False (none).",
    )


def empty_gradient_columns(layers: int, bins: int) -> dict[str, np.ndarray]:
    """A record's gradient columns holding nothing: NaN norms, empty histograms over [0, 1]."""
    return {
        "grad_norm": np.full(layers, np.nan, np.float32),
        "grad_hist_counts": np.zeros((layers, bins), np.int32),
        "grad_hist_edges": np.tile(np.linspace(0.0, 1.0, bins + 1, dtype=np.float32), (layers, 1)),
    }


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
