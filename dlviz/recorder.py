"""The training recorder: a Keras callback that fills a `dlviz.Run` while `model.fit` trains.

Keras callbacks never see the training batches, so gradients and activations are measured on a fixed
probe batch given up front (``probe=(x, y)`` or `Recorder.for_dataset`). Every ``every`` steps one
compiled function computes, on that probe and the current weights, everything a record holds; the
tensors it returns stay on the device until the epoch ends, so a training step is never made to wait
for the recorder. Metrics Keras reports are kept for every step and epoch.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import math
import warnings

import keras
import numpy as np
import tensorflow as tf

from dlviz._model_introspection import leaf_layers
from dlviz._record_statistics import (
    activation_stats,
    all_finite,
    histograms,
    layer_ranges,
    range_sums,
    unmasked_values,
)
from dlviz._recorder_inputs import check_logdir, check_probe, positive_int, probe_for_model, sample_count
from dlviz.errors import DataError, DlvizError, ModelError, RunError
from dlviz.handle import wrap
from dlviz.runs import Run, RunWriter, SnapshotSchedule


class Recorder(keras.callbacks.Callback):
    """Record what happens inside a Keras model during `model.fit`; the result is ``recorder.run``.

    Args:
        every: record the probe quantities every this many training steps (the first step included).
        probe: ``(x, y)`` a fixed batch of inputs and labels, or ``x`` alone (activations only); ``x`` and
            ``y`` as ``model.fit`` takes them: arrays, or lists or dicts of arrays for a model with several
            inputs or outputs (a two-item list or tuple is always read as ``(x, y)``).
        gradients: per-layer gradient norms and histograms of the training loss on the probe.
        activations: per-layer activation statistics and histograms on the probe.
        weights: weight snapshots (flattened, for optimizer trajectories) and update-to-weight ratios.
        logdir: a new folder to write the run to while training (flushed at every epoch end).
        max_snapshots: at most this many weight snapshots are kept; past it they are thinned evenly.
        bins: histogram bins (each histogram spans its own tensor's min..max).
        tensorboard: also write gradient and activation histograms to ``logdir/tensorboard``.

    Per-step metrics are the running epoch means Keras reports to callbacks. A record at step ``s``
    describes the weights after ``s`` optimizer updates; its update ratio is that of update ``s + 1``
    (``||w_after - w_before|| / ||w_before||`` per layer). Probes are run in inference mode
    (``training=False``: dropout off, batch-norm moving statistics untouched).

    Cost: each record is one forward and backward pass of the probe. On a small model that takes
    about as long as one training step, so training slows by about ``1 + 1 / every`` (1.07x to 1.14x
    at every=10 on the digits CNN; bench/recorder_overhead.py measures it). On a model whose steps
    are compute-bound it scales with probe size / batch size. Raise ``every`` or pass a smaller
    probe to record more cheaply.
    """

    # Our on_train_batch_end only appends to a list, so Keras may dispatch it off the training thread.
    async_safe = True

    def __init__(
        self,
        every: int = 10,
        probe=None,
        gradients: bool = True,
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
        self.gradients = bool(gradients) and self.probe_y is not None
        self.activations = bool(activations) and self.probe_x is not None
        self.weights = bool(weights)
        if gradients and self.probe_x is not None and self.probe_y is None:
            warnings.warn(
                "Recorder: the probe has no labels, so only activations are recorded (no gradients). "
                "Pass probe=(x, y) to record gradients too.",
                stacklevel=2,
            )
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
        if self._writer is not None:
            self._write_meta(status="recording")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_first_step = self._steps_done

    def on_train_batch_begin(self, batch, logs=None):
        step = self._epoch_first_step + batch
        if self._ratio_pending:
            self._pending_ratios.append(self._ratio_fn())
            self._ratio_pending = False
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
        self._flush(None)
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
        self._next_record = 0
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
        with _recording_errors("preparing the recorder"):
            # Concrete functions, traced once here: calling them skips tf.function's signature matching.
            if self._summary_writer is not None:
                self._record_fn = tf.function(self._record_graph).get_concrete_function(
                    tf.TensorSpec([], tf.int64)
                )
            else:
                self._record_fn = tf.function(self._record_graph).get_concrete_function()
            if self._keeps_weights:
                self._ratio_fn = tf.function(self._ratio_graph).get_concrete_function()
        self._run = Run(self._meta(model, handle))
        self._run.path = self.logdir if self._writer is not None else None

    def _meta(self, model, handle) -> dict:
        optimizer = getattr(model, "optimizer", None)
        meta = {
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "dlviz_version": _version("dlviz"),
            "tensorflow_version": tf.__version__,
            "keras_version": keras.__version__,
            "model_name": model.name,
            "model_class": type(model).__name__,
            "param_count": int(model.count_params()),
            "regularization": _regularization(model),
            "dataset": self.dataset_name,
            "loss": _describe_loss(getattr(model, "loss", None)),
            "optimizer": _optimizer_config(optimizer),
            "layers": [
                {
                    "name": info.name,
                    "kind": info.kind,
                    "output_shape": list(info.output_shape),
                    "params": info.params,
                    "activation": info.activation,
                    "trainable_paths": list(info.trainable_paths),
                }
                for info in handle.layers
            ],
            "variables": [
                {"path": path, "shape": list(variable.shape), "layer": handle.layer_of_path[path]}
                for path, variable in zip(handle.variable_paths, self._variables, strict=True)
            ],
            "record_layers": {
                "grad": self._grad_layers if (self.gradients or self.weights) else [],
                "act": self._act_layers,
            },
            "recorder": {
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
            "status": "recording",
        }
        return json.loads(json.dumps(meta, default=str))

    def _write_meta(self, status: str) -> None:
        self._run.meta["status"] = status
        self._writer.write_meta(self._run.meta)

    # ------------------------------------------------------------------ compiled work

    def _record_graph(self, step=None):
        """Everything one record holds, in one graph: probe gradients, activations, the weights.

        ``step`` is only needed (and only passed) for TensorBoard summaries.
        """
        x, y = self._probe_x, self._probe_y if self.gradients else None
        result = {}
        if self._keeps_weights:
            result["weights"] = self._flat_weights()
            self._before.assign(result["weights"])
        if not (self.gradients or self.activations):
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
        if self.gradients and self._grad_layers:
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

    def _record(self, step: int) -> None:
        if not (self.gradients or self.activations or self._keeps_weights):
            return
        with _recording_errors(f"recording step {step}"):
            if self._summary_writer is not None:
                outputs = self._record_fn(tf.constant(step, tf.int64))
            else:
                outputs = self._record_fn()
            weights = outputs.pop("weights", None)
            self._pending_records.append((step, outputs))
            self._ratio_pending = self._keeps_weights
            if self._keeps_weights and self._schedule.wants(step):
                self._pending_snapshots[step] = weights
                for dropped in self._schedule.add(step):
                    if self._pending_snapshots.pop(dropped, None) is None:
                        self._dropped_snapshots.append(dropped)

    def _flush(self, epoch_row: dict | None) -> None:
        """Move everything gathered since the last flush into the Run (and to disk as one chunk)."""
        if self._ratio_pending:
            self._pending_ratios.append(self._ratio_fn())
            self._ratio_pending = False
        chunk: dict[str, np.ndarray] = {}
        chunk.update(self._step_columns())
        if epoch_row is not None:
            for name, value in epoch_row.items():
                chunk[f"epochs/{name}"] = np.array(
                    [_as_float(value) if name not in ("epoch", "step") else value]
                )
        chunk.update(self._record_columns())
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

    def _step_columns(self) -> dict[str, np.ndarray]:
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
        return columns

    def _record_columns(self) -> dict[str, np.ndarray]:
        records, self._pending_records = self._pending_records, []
        ratios, self._pending_ratios = self._pending_ratios, []
        if not records:
            return {}
        columns = {"records/step": np.array([step for step, _ in records], np.int64)}
        outputs = [{name: tensor.numpy() for name, tensor in out.items()} for _, out in records]
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


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _describe_loss(loss):
    """The compiled loss' name; a list or dict of names for a model with one loss per output."""
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, dict):
        return {name: _describe_loss(value) for name, value in loss.items()}
    if isinstance(loss, list | tuple):
        return [_describe_loss(value) for value in loss]
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def _regularization(model) -> dict:
    """What regularises the model, read off its leaf layers: the largest dropout rate and L1 / L2 factor
    of any layer (0 when none) and how many batch-normalisation layers it has (for run comparisons)."""
    summary = {"dropout": 0.0, "l1": 0.0, "l2": 0.0, "batch_norm": 0}
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            summary["batch_norm"] += 1
        if "Dropout" in type(layer).__name__ and isinstance(getattr(layer, "rate", None), int | float):
            summary["dropout"] = max(summary["dropout"], float(layer.rate))
        for name in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            regularizer = getattr(layer, name, None)
            for factor in ("l1", "l2"):
                value = getattr(regularizer, factor, None)
                if isinstance(value, int | float | np.floating):
                    summary[factor] = max(summary[factor], float(value))
    return summary


def _optimizer_config(optimizer) -> dict | None:
    if optimizer is None:
        return None
    try:
        config = optimizer.get_config()
    except Exception:  # a custom optimizer without get_config still gets a name
        config = {}
    return {"class": type(optimizer).__name__, **json.loads(json.dumps(config, default=str))}
