"""The training recorder: a Keras callback that fills a `dlviz.Run` while `model.fit` trains.

Gradients come from the training step itself: the Recorder takes them where the optimizer receives them
(see dlviz/_step_gradients.py), so they are the gradients of the batches the model trains on, at no
second backward pass. Activations, which a callback cannot see, are measured on a fixed probe batch given
up front (``probe=x`` or `Recorder.for_dataset`), as are the gradients with ``gradients="probe"``. Every
``every`` steps one compiled function computes, on that probe and the current weights, what a record
holds; the tensors it returns stay on the device until the epoch ends, so a training step is never made
to wait for the recorder. Metrics Keras reports are kept for every step and epoch.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import keras
import numpy as np
import tensorflow as tf

from dlviz._record_statistics import (
    activation_stats,
    all_finite,
    histograms,
    layer_ranges,
    range_sums,
    unmasked_values,
)
from dlviz._recorder_inputs import check_logdir, check_probe, positive_int, probe_for_model, sample_count
from dlviz._run_meta import run_meta
from dlviz._step_gradients import GRADIENT_COLUMNS, StepGradients, empty_gradient_columns, gradient_source
from dlviz.errors import DataError, DlvizError, ModelError, RunError
from dlviz.handle import wrap
from dlviz.runs import Run, RunWriter, SnapshotSchedule


class Recorder(keras.callbacks.Callback):
    """Record what happens inside a Keras model during `model.fit`; the result is ``recorder.run``.

    Args:
        every: take a record every this many training steps (the first step included): the weights,
            gradient histograms and the probe's activation statistics.
        probe: ``(x, y)`` a fixed batch of inputs and labels, or ``x`` alone (activations only); ``x`` and
            ``y`` as ``model.fit`` takes them: arrays, or lists or dicts of arrays for a model with several
            inputs or outputs (a two-item list or tuple is always read as ``(x, y)``).
        gradients: where gradient statistics come from. ``"step"`` (or True, the default): the gradients
            the training step computed for its own batch: per-layer norms at every step
            (``run.steps["grad_norm"]``) and, at each record, norms and histograms. ``"probe"``: the
            gradients of the training loss on the fixed probe batch (one extra forward and backward pass
            per record); a fixed batch makes records of different runs comparable. False: none.
            ``run.meta["recorder"]["gradients"]`` says which one a run holds.
        activations: per-layer activation statistics and histograms on the probe.
        weights: weight snapshots (flattened, for optimizer trajectories) and update-to-weight ratios.
        logdir: a new folder to write the run to while training (flushed at every epoch end).
        max_snapshots: at most this many weight snapshots are kept; past it they are thinned evenly.
        bins: histogram bins (each histogram spans its own tensor's min..max).
        tensorboard: also write the gradient and activation histograms to ``logdir/tensorboard``.

    Per-step metrics are the running epoch means Keras reports to callbacks. A record at step ``s``
    describes the weights after ``s`` optimizer updates: its step gradients are those of batch ``s``,
    computed at exactly these weights; its update ratio is that of update ``s + 1``
    (``||w_after - w_before|| / ||w_before||`` per layer). Probes are run in inference mode
    (``training=False``: dropout off, batch-norm moving statistics untouched). At the end of every
    ``fit`` the final weights are recorded too (a snapshot beyond ``max_snapshots``, replaced by the next
    fit's), so a trajectory ends where training ended. No training batch is ever computed at those
    weights, so with step gradients that final record takes its gradients from the probe (and is left out
    when the probe has no labels: then only the snapshot is kept, in memory).

    Step gradients are what the optimizer is handed, read where every ``train_step`` hands them over:
    the model's optimizer's ``apply`` (which ``apply_gradients`` calls), wrapped for the duration of each
    ``fit`` and restored after it, also when it fails. This works with a ``train_step`` override, with
    XLA (``jit_compile``), under a tf.distribute strategy (the replicas' gradients summed, as the optimizer
    sums them) and with a LossScaleOptimizer (unscaled gradients; a step it skips because its gradients
    overflowed has none). They are taken before clipping; with gradient accumulation, per batch. When
    Keras' ``fit`` supports multi-worker training the same Recorder works there unchanged: it is a plain
    callback and the gradients come from the optimizer. A custom training loop hands each step's
    gradients over itself with `record_gradients`. When no gradients arrive during the first steps (a
    ``train_step`` that updates the weights without the model's optimizer), the Recorder warns and falls
    back to the probe's gradients.

    Cost: per step, a few ops inside the training step (a sum of squares per variable; the histograms
    only at records, behind a branch). Each record runs the probe forward (and, with
    ``gradients="probe"``, backward): with a 64-sample probe on a small model about half a training
    step (a whole one with the backward pass), so training slows by about ``1 + 1 / every`` either way
    (bench/recorder_overhead.py measures both on the digits CNN; without a probe, step gradients cost
    only the ops in the step). On a model whose steps are compute-bound the probe's share scales with
    probe size / batch size. Raise ``every`` or pass a smaller probe to record more cheaply.
    """

    # Our on_train_batch_end only appends to a list, so Keras may dispatch it off the training thread.
    async_safe = True

    def __init__(
        self,
        every: int = 10,
        probe=None,
        gradients: bool | str = True,
        activations: bool = True,
        weights: bool = True,
        logdir=None,
        max_snapshots: int = 200,
        bins: int = 30,
        tensorboard: bool = False,
    ):
        super().__init__()
        # tf.keras hands such callbacks the step's tensors instead of converting them every step; Keras 3
        # converts logs itself, off the training thread for callbacks that are async_safe (see above).
        self._supports_tf_logs = True
        self.every = positive_int(every, "every", minimum=1, example=10)
        self.max_snapshots = positive_int(max_snapshots, "max_snapshots", minimum=2, example=200)
        self.bins = positive_int(bins, "bins", minimum=2, example=30)
        self.probe_x, self.probe_y = check_probe(probe)
        self.gradients: str | None = gradient_source(gradients)
        if self.gradients == "probe" and self.probe_y is None:
            if self.probe_x is None:
                raise RunError(
                    "gradients='probe' needs a probe batch with labels to take the gradients of.",
                    "Pass probe=(x, y) (or use Recorder.for_dataset), or gradients='step' for the gradients "
                    "of the training batches.",
                )
            warnings.warn(
                "Recorder: the probe has no labels, so only activations are recorded (no gradients). "
                "Pass probe=(x, y) to record probe gradients, or gradients='step' for those of the "
                "training batches.",
                stacklevel=2,
            )
            self.gradients = None
        self.activations = bool(activations) and self.probe_x is not None
        self.weights = bool(weights)
        self.logdir = check_logdir(logdir)
        if tensorboard and self.logdir is None:
            raise RunError(
                "tensorboard=True needs a logdir to write the TensorBoard summaries to.",
                "Pass logdir='runs/my_run' as well (summaries go to logdir/tensorboard).",
            )
        if tensorboard and not hasattr(tf.summary, "histogram"):
            raise RunError(
                "tensorboard=True needs the tensorboard package, which is not installed.",
                "pip install tensorboard (or pip install 'dlviz[tensorboard]').",
            )
        self.tensorboard = bool(tensorboard)
        self.dataset_name: str | None = None
        self._run: Run | None = None
        self._recorded_model = None

    @classmethod
    def for_dataset(cls, dataset, n: int = 64, **kwargs) -> Recorder:
        """A Recorder whose probe is the first ``n`` training samples (with labels) of a dlviz Dataset."""
        if "probe" in kwargs:
            raise RunError("for_dataset takes its probe from the dataset.", "Drop the probe= argument.")
        if not hasattr(dataset, "x_train") or not hasattr(dataset, "y_train"):
            raise DataError(
                f"for_dataset needs a dlviz Dataset, got {type(dataset).__name__}.",
                "Pass dlviz.datasets.load(name), or use Recorder(probe=(x, y)).",
            )
        n = positive_int(n, "n", minimum=1, example=64)
        recorder = cls(probe=(dataset.x_train[:n], dataset.y_train[:n]), **kwargs)
        recorder.dataset_name = getattr(dataset, "name", None)
        return recorder

    @property
    def run(self) -> Run:
        """The recorded run (in memory; it grows at every epoch end while training)."""
        if self._run is None:
            raise RunError(
                "Nothing has been recorded yet.", "Pass the Recorder to model.fit(..., callbacks=[recorder])."
            )
        return self._run

    def record_gradients(self, gradients, variables) -> None:
        """Hand the gradients of one training step to the Recorder: the call a custom training loop makes.

        ``gradients`` and ``variables`` as an optimizer's ``apply`` takes them (``variables`` being the
        recorded model's trainable variables, or some of them). Call it once per step, inside your
        (compiled, distributed) train step, on the gradients you apply; under a tf.distribute strategy
        call it in the replica function, as you would ``apply_gradients``: the replicas' gradients are
        summed. Drive the Recorder as `fit` does::

            callbacks = keras.callbacks.CallbackList([recorder], model=model)
            callbacks.on_train_begin()
            for epoch in range(epochs):
                callbacks.on_epoch_begin(epoch)
                for batch, (x, y) in enumerate(dataset):
                    callbacks.on_train_batch_begin(batch)
                    logs = train_step(x, y)  # ... recorder.record_gradients(grads, model.trainable_variables)
                    callbacks.on_train_batch_end(batch, logs)
                callbacks.on_epoch_end(epoch, logs)
            callbacks.on_train_end()

        Once it has been called, gradients reaching the model's optimizer are no longer taken as well.
        """
        if self._run is None:
            raise RunError(
                "record_gradients was called before the Recorder started recording.",
                "Start it first: keras.callbacks.CallbackList([recorder], model=model).on_train_begin().",
            )
        if self._step is None:
            raise RunError(
                f"This Recorder does not take the training step's gradients (gradients={self.gradients!r}).",
                "Create it with gradients='step' (the default) to hand it the gradients of your steps.",
            )
        self._step.explicit = True
        self._step.capture(gradients, variables)

    # ------------------------------------------------------------------ Keras hooks

    def on_train_begin(self, logs=None):
        if self._run is None:
            self._start(self.model)
        elif self.model is not self._recorded_model:
            raise RunError(
                f"This Recorder already records model {self._recorded_model.name!r}; it cannot also "
                f"record {self.model.name!r}.",
                "Create one Recorder per model.",
            )
        self._fit_first_step = self._steps_done
        if self._step is not None:
            self._step.attach(self.model)
        if self._writer is not None:
            self._write_meta(status="recording")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_first_step = self._steps_done
        if self._step is not None:
            self._step.begin_epoch(self._steps_done)

    def on_train_batch_begin(self, batch, logs=None):
        step = self._epoch_first_step + batch
        if self._ratio_pending:
            self._pending_ratios.append(self._ratio_fn())
            self._ratio_pending = False
        if self._step is not None:
            self._step.begin_call(step)
            if not self._arrival_confirmed and step > self._fit_first_step:
                self._check_arrival()
        if step >= self._next_record:
            self._record(step)
            self._next_record = (step // self.every + 1) * self.every

    def on_train_batch_end(self, batch, logs=None):
        # May run on a Keras worker thread: only append (atomic), never touch shared state otherwise.
        self._step_logs.append((self._epoch_first_step + batch, logs))

    def on_epoch_end(self, epoch, logs=None):
        steps_done = max((step for step, _ in self._step_logs), default=self._steps_done - 1) + 1
        self._steps_done = max(self._steps_done, steps_done)
        self._flush({"epoch": self._epochs_done, "step": self._steps_done, **dict(logs or {})})
        self._epochs_done += 1

    def on_train_end(self, logs=None):
        try:
            self._finish_fit()
            self._flush(None)
        finally:
            if self._step is not None:
                self._step.detach()
        if self._writer is not None:
            self._write_meta(status="finished")

    # ------------------------------------------------------------------ setup

    def _start(self, model) -> None:
        handle = wrap(model)
        self._handle = handle
        self._recorded_model = model
        self._probe_x = self._probe_y = None
        if self.probe_x is not None:
            self._probe_x, self._probe_y = probe_for_model(handle, self.probe_x, self.probe_y)
        self._act_layers = [info.name for info in handle.layers] if self.activations else []
        self._act_kinds = {info.name: info.activation for info in handle.layers}
        self._variables = list(model.trainable_variables)
        if len(self._variables) != len(handle.variable_paths):
            raise ModelError(
                f"The model {model.name!r} created its weights only when first called, after it was "
                "marked as built, so its layers and weights cannot be listed reliably.",
                "Call the model once on a batch before fit, e.g. model(x_train[:1]).",
            )
        owners = [handle.layer_of_path[path] for path in handle.variable_paths]
        # Once each: a model may be named like one of its layers.
        layer_order = list(dict.fromkeys([info.name for info in handle.layers] + [model.name]))
        self._grad_layers = [name for name in layer_order if name in owners]
        self._layer_variable_index = {
            name: [i for i, owner in enumerate(owners) if owner == name] for name in self._grad_layers
        }
        self._step_logs: list[tuple[int, dict]] = []
        self._pending_records: list[tuple[int, dict]] = []
        self._pending_ratios: list[tf.Tensor] = []
        self._pending_snapshots: dict[int, tf.Tensor] = {}
        self._dropped_snapshots: list[int] = []
        self._ratio_pending = False
        self._steps_done = 0
        self._epochs_done = 0
        self._epoch_first_step = 0
        self._fit_first_step = 0
        self._next_record = 0
        self._records_taken = 0
        self._fit_end_snapshot: int | None = None
        self._step = None
        if self.gradients == "step" and self._grad_layers:
            self._step = StepGradients(
                self._variables,
                list(self._layer_variable_index.values()),
                self.bins,
                model.distribute_strategy,
                steps_per_call=int(getattr(model, "steps_per_execution", 1) or 1),
            )
        self._arrival_confirmed = False
        self._probe_gradient_records: set[int] = set()
        self._schedule = SnapshotSchedule(self.every, self.max_snapshots)
        self._keeps_weights = bool(self.weights and self._variables)
        if self._keeps_weights:
            self.layer_ranges = layer_ranges(self._variables, list(self._layer_variable_index.values()))
            with tf.init_scope():
                # The flattened weights before the step of a record, to measure that step's update.
                self._before = tf.Variable(
                    tf.zeros([sum(int(np.prod(v.shape)) for v in self._variables)], tf.float32),
                    trainable=False,
                    name="dlviz_weights_before",
                )
        self._writer = RunWriter(self.logdir) if self.logdir is not None and _is_chief(model) else None
        self._summary_writer = None
        if self.tensorboard and self._writer is not None:
            self._summary_writer = tf.summary.create_file_writer(str(self.logdir / "tensorboard"))
        # Concrete functions (calling them skips tf.function's signature matching), traced when first
        # needed: one with the probe's gradients and one without.
        self._record_fns: dict[bool, object] = {}
        with _recording_errors("preparing the recorder"):
            if self._keeps_weights:
                self._ratio_fn = tf.function(self._ratio_graph).get_concrete_function()
        self._run = Run(self._meta(model, handle))
        self._run.path = self.logdir if self._writer is not None else None

    def _meta(self, model, handle) -> dict:
        return run_meta(
            model,
            handle,
            self._variables,
            dataset=self.dataset_name,
            record_layers={
                "grad": self._grad_layers if (self.gradients or self.weights) else [],
                "act": self._act_layers,
            },
            settings={
                "every": self.every,
                "gradients": self.gradients,
                "activations": self.activations,
                "weights": self.weights,
                "max_snapshots": self.max_snapshots,
                "bins": self.bins,
                "tensorboard": self.tensorboard,
                "probe_size": 0 if self.probe_x is None else sample_count(self.probe_x),
                "probe_has_labels": self.probe_y is not None,
            },
        )

    def _write_meta(self, status: str) -> None:
        self._run.meta["status"] = status
        self._writer.write_meta(self._run.meta)

    # ------------------------------------------------------------------ compiled work

    def _record_fn(self, probe_gradients: bool):
        function = self._record_fns.get(probe_gradients)
        if function is None:

            def record(step=None):
                return self._record_graph(step, probe_gradients)

            if self._summary_writer is not None:
                function = tf.function(record).get_concrete_function(tf.TensorSpec([], tf.int64))
            else:
                function = tf.function(record).get_concrete_function()
            self._record_fns[probe_gradients] = function
        return function

    def _record_graph(self, step, probe_gradients: bool):
        """What one record computes, in one graph: probe gradients (when asked), activations, the weights.

        ``step`` is only needed (and only passed) for TensorBoard summaries.
        """
        x, y = self._probe_x, self._probe_y if probe_gradients else None
        result = {}
        if self._keeps_weights:
            result["weights"] = self._flat_weights()
            self._before.assign(result["weights"])
        if not (probe_gradients or self.activations):
            return result
        activations, masks, gradients = self._capture(x, y)
        if self.activations and self._act_layers:
            acts = [unmasked_values(activations[name], masks.get(name)) for name in self._act_layers]
            kinds = [self._act_kinds.get(name) for name in self._act_layers]
            result["act_stats"] = stats = activation_stats(acts, kinds)
            counts, edges = histograms(acts, self.bins, all_finite=all_finite(stats[:, :2]))
            result["act_hist_counts"], result["act_hist_edges"] = counts, edges
            if self._summary_writer is not None:
                self._write_summaries("activations", self._act_layers, acts, step)
        if probe_gradients and self._grad_layers:
            # Inside a fit called under strategy.scope(), Keras divides the loss by the replica count.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            gradients = [
                tf.reshape(tf.cast(gradients[p], tf.float32), [-1]) for p in self._handle.variable_paths
            ]
            grads = [tf.concat([gradients[i] for i in idx], 0) for idx in self._layer_variable_index.values()]
            if replicas > 1:
                grads = [g * float(replicas) for g in grads]
            squares = tf.stack([tf.reduce_sum(tf.square(g)) for g in grads])
            result["grad_norm"] = tf.sqrt(squares)
            counts, edges = histograms(grads, self.bins, all_finite=all_finite(squares))
            result["grad_hist_counts"], result["grad_hist_edges"] = counts, edges
            if self._summary_writer is not None:
                self._write_summaries("gradients", self._grad_layers, grads, step)
        return result

    def _capture(self, x, y):
        """The probe's activations and gradients (None without labels), from inside the record graph.

        Under a tf.distribute strategy's scope, gradients of distributed variables can only be taken
        in a replica context: each replica then runs the whole probe and the first one's result is used.
        """

        def probe(x, y):
            capture = self._handle.capture(x, y, training=False)
            return capture.activations, capture.masks, capture.gradients

        if not (tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()):
            return probe(x, y)
        strategy = tf.distribute.get_strategy()
        per_replica = strategy.run(probe, args=(x, y))
        return tf.nest.map_structure(lambda value: strategy.experimental_local_results(value)[0], per_replica)

    def _write_summaries(self, group, layers, values, step):
        with self._summary_writer.as_default(step=step):
            for layer, value in zip(layers, values, strict=True):
                tf.summary.histogram(f"{group}/{layer}", value, buckets=self.bins)

    def _ratio_graph(self):
        """||w_now - w_before|| / ||w_before|| per layer (NaN where w_before is all zeros)."""
        before = self._before.read_value()
        change = range_sums(tf.square(self._flat_weights() - before), self.layer_ranges)
        size = range_sums(tf.square(before), self.layer_ranges)
        return tf.where(size > 0, tf.sqrt(change / tf.where(size > 0, size, 1.0)), math.nan)

    def _flat_weights(self):
        return tf.concat([tf.reshape(tf.cast(v, tf.float32), [-1]) for v in self._variables], 0)

    # ------------------------------------------------------------------ bookkeeping

    def _record(self, step: int, final: bool = False) -> None:
        """Take the record of step ``step`` (``final``: the weights a fit ended with)."""
        # With step gradients the probe's are taken at the very first record (in case the step's never
        # arrive) and at the end of a fit (no training batch exists for the final weights).
        probe_gradients = self.gradients == "probe" or (
            self._step is not None and self._probe_y is not None and (final or self._records_taken == 0)
        )
        if self._step is not None and final:
            self._probe_gradient_records.add(step)
        elif self._step is not None:
            self._step.want_histogram(step)
        if not (probe_gradients or self.activations or self._keeps_weights or self._step is not None):
            return
        with _recording_errors(f"recording step {step}"):
            outputs = {}
            if probe_gradients or self.activations or self._keeps_weights:
                function = self._record_fn(probe_gradients)
                if self._summary_writer is not None:
                    outputs = dict(function(tf.constant(step, tf.int64)))
                else:
                    outputs = dict(function())
            weights = outputs.pop("weights", None)
            self._pending_records.append((step, outputs))
            self._records_taken += 1
            self._ratio_pending = self._keeps_weights and not final
            if self._keeps_weights and final:
                # No update follows the last one of a fit, and the final snapshot stays off the grid.
                self._pending_ratios.append(tf.fill([len(self.layer_ranges)], math.nan))
                self._keep_final_snapshot(step, weights)
            elif self._keeps_weights and self._schedule.wants(step):
                self._pending_snapshots[step] = weights
                for dropped in self._schedule.add(step):
                    if self._pending_snapshots.pop(dropped, None) is None:
                        self._dropped_snapshots.append(dropped)

    def _finish_fit(self) -> None:
        """The state a fit ended with: the final weights and the probe's record of them.

        With step gradients that record needs the probe's labels (no training batch exists for these
        weights); without them only the snapshot is kept (in memory: Run.load reads snapshots up to
        the last record)."""
        step = self._steps_done
        if step <= self._fit_first_step:
            return
        if self._ratio_pending:
            self._pending_ratios.append(self._ratio_fn())
            self._ratio_pending = False
        if self._step is None or self._probe_y is not None:
            self._record(step, final=True)
            self._next_record = (step // self.every + 1) * self.every
        elif self._keeps_weights:
            self._keep_final_snapshot(step, self._flat_weights())

    def _keep_final_snapshot(self, step: int, weights) -> None:
        """Keep the weights a fit ended with until the next fit ends (its own final weights replace them)."""
        previous, self._fit_end_snapshot = self._fit_end_snapshot, step
        self._pending_snapshots[step] = weights
        if previous is not None and previous != step and previous not in self._schedule.kept:
            if self._pending_snapshots.pop(previous, None) is None:
                self._dropped_snapshots.append(previous)

    def _check_arrival(self) -> None:
        """Whether the step's gradients reach the Recorder; if they do not, fall back to the probe."""
        if self._step.arrived_since(self._fit_first_step):
            self._arrival_confirmed = True
            return
        self._step.detach()
        self._step = None
        self.gradients = "probe" if self._probe_y is not None else None
        warnings.warn(
            "Recorder: no gradients reached the model's optimizer in the first training step (its train_step "
            "updates the weights some other way, or a custom loop does not call recorder.record_gradients). "
            + (
                "Recording the gradients of the probe batch instead."
                if self.gradients
                else "No gradients are recorded; pass probe=(x, y) to record those of a probe batch."
            ),
            stacklevel=2,
        )
        self._run.meta["recorder"]["gradients"] = self.gradients
        if self._writer is not None:
            self._writer.write_meta(self._run.meta)

    def _step_rows(self) -> dict[int, np.ndarray]:
        """Per-layer step-gradient norms of the steps since the last flush, keyed by global step."""
        if self._step is None:
            return {}
        if not self._arrival_confirmed and self._steps_done > self._fit_first_step:
            self._check_arrival()
            if self._step is None:
                return {}
        return self._step.take(self._steps_done)

    def _flush(self, epoch_row: dict | None) -> None:
        """Move everything gathered since the last flush into the Run (and to disk as one chunk)."""
        if self._ratio_pending:
            self._pending_ratios.append(self._ratio_fn())
            self._ratio_pending = False
        chunk: dict[str, np.ndarray] = {}
        rows = self._step_rows()
        chunk.update(self._step_columns(rows))
        if epoch_row is not None:
            for name, value in epoch_row.items():
                chunk[f"epochs/{name}"] = np.array(
                    [_as_float(value) if name not in ("epoch", "step") else value]
                )
        chunk.update(self._record_columns(rows))
        snapshots = {step: tensor.numpy() for step, tensor in self._pending_snapshots.items()}
        self._pending_snapshots = {}
        dropped, self._dropped_snapshots = self._dropped_snapshots, []
        if chunk:
            self._run._append_chunk(chunk)
        for step in dropped:
            self._run._drop_snapshot(step)
        for step, vector in snapshots.items():
            self._run._put_snapshot(step, vector)
        if self._writer is not None:
            if chunk:
                self._writer.append_chunk(chunk)
            for step in dropped:
                self._writer.delete_snapshot(step)
            for step, vector in snapshots.items():
                self._writer.write_snapshot(step, vector)
        if self._summary_writer is not None:
            self._summary_writer.flush()

    def _step_columns(self, gradient_rows: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
        rows, self._step_logs = sorted(self._step_logs, key=lambda row: row[0]), []
        if not rows:
            return {}
        names: dict[str, None] = {}
        for _, logs in rows:
            names.update(dict.fromkeys(logs or {}))
        columns = {
            "steps/step": np.array([step for step, _ in rows], np.int64),
            "steps/epoch": np.full(len(rows), self._epochs_done, np.int64),
        }
        for name in names:
            columns[f"steps/{name}"] = np.array([_as_float((logs or {}).get(name)) for _, logs in rows])
        if self.gradients == "step":
            missing = np.full(len(self._grad_layers), np.nan, np.float32)
            columns["steps/grad_norm"] = np.stack([gradient_rows.get(step, missing) for step, _ in rows])
        return columns

    def _record_columns(self, gradient_rows: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
        records, self._pending_records = self._pending_records, []
        ratios, self._pending_ratios = self._pending_ratios, []
        if not records:
            return {}
        columns = {"records/step": np.array([step for step, _ in records], np.int64)}
        outputs = [
            self._with_gradients(step, {name: tensor.numpy() for name, tensor in out.items()}, gradient_rows)
            for step, out in records
        ]
        for name in outputs[0]:
            stacked = np.stack([out[name] for out in outputs])
            if name == "act_stats":
                for i, quantity in enumerate(("act_mean", "act_std", "act_zero_frac", "act_sat_frac")):
                    columns[f"records/{quantity}"] = stacked[:, :, i]
            else:
                columns[f"records/{name}"] = stacked
        if ratios:
            columns["records/update_ratio"] = np.stack([r.numpy() for r in ratios]).astype(np.float32)
        return columns

    def _with_gradients(self, step: int, outputs: dict, gradient_rows: dict[int, np.ndarray]) -> dict:
        """A record's outputs with the gradient columns every record of the run has: the training step's,
        the probe's (``gradients="probe"``, a fit's final record) or, for a record taken before a
        fallback to the probe without its gradients, NaN."""
        if self.gradients is None:
            return {name: value for name, value in outputs.items() if name not in GRADIENT_COLUMNS}
        if self.gradients == "probe" or step in self._probe_gradient_records:
            self._probe_gradient_records.discard(step)
            return {**empty_gradient_columns(len(self._grad_layers), self.bins), **outputs}
        columns = self._step.record_columns(step, gradient_rows)
        if self._summary_writer is not None:
            self._write_step_histograms(step, columns["grad_hist_counts"], columns["grad_hist_edges"])
        return {**outputs, **columns}

    def _write_step_histograms(self, step: int, counts: np.ndarray, edges: np.ndarray) -> None:
        """The step gradients' histograms as TensorBoard histogram summaries (left, right, count per bin)."""
        from tensorboard.plugins.histogram.metadata import create_summary_metadata

        with self._summary_writer.as_default(step=step):
            for layer, layer_counts, layer_edges in zip(self._grad_layers, counts, edges, strict=True):
                buckets = np.stack([layer_edges[:-1], layer_edges[1:], layer_counts], axis=1).astype(
                    np.float64
                )
                metadata = create_summary_metadata(display_name=None, description=None)
                tf.summary.write(f"gradients/{layer}", buckets, metadata=metadata)


# ------------------------------------------------------------------ helpers


@contextlib.contextmanager
def _recording_errors(doing: str):
    """Re-raise a TensorFlow failure as a RunError that says what the Recorder was doing."""
    try:
        yield
    except DlvizError:
        raise
    except Exception as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise RunError(
            f"The Recorder failed while {doing}: {lines[-1] if lines else repr(exc)}",
            "Check that the probe fits the model; report a bug if it does.",
        ) from exc


def _is_chief(model) -> bool:
    strategy = getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    return bool(getattr(strategy.extended, "should_checkpoint", True))


def _as_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
