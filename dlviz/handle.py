"""A handle on a Keras model: its leaf layers, activations, gradients and input gradients.

`wrap(model)` returns a `ModelHandle` that every plugin and the Recorder share. All numeric work runs
through `tf.function`s compiled once per handle (batch dimension left open, so calls with different
batch sizes never retrace), and the loss is always computed in the same graph as the forward pass:
Keras keeps a sigmoid's or softmax's logits on the output tensor there, and cross-entropy computed from
the logits stays finite and exact at saturated outputs where computing it from the probabilities does not.

Activations are captured by temporarily replacing each leaf layer's `call` with a wrapper that records
its output while the model is traced, which works the same for Sequential, Functional, nested and
subclassed models (the last have no `.inputs` to build a Functional model from).

What the handle reads off the model is in `dlviz._model_introspection`; the checks of x, y and target
against it, with their errors, in `dlviz._input_checks`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from dlviz._input_checks import check_target, check_x, check_y
from dlviz._model_introspection import (
    activation_name,
    check_single_input_output,
    leaf_layers,
    loss_name,
    model_input_dtype,
    model_input_shape,
    unique_paths,
)
from dlviz.errors import DlvizError, ModelError

BATCH_SIZE = 256

_TF_NODE_NOISE = re.compile(r"\{\{[^}]*\}\}|\[Op:[^\]]*\]")


@dataclass(frozen=True)
class LayerInfo:
    """One call of a leaf layer, in the order the model calls them.

    A layer called several times (a shared layer) appears once per call, as name, name#2, ... (the
    same suffix tells apart distinct layers of nested models that share a name); a shared layer's
    parameters and variable paths are listed under its first call only, so `params` add up to the
    parameter count of the model's leaf layers.
    """

    name: str
    kind: str
    output_shape: tuple
    params: int
    activation: str | None
    trainable_paths: tuple[str, ...]


class Capture(NamedTuple):
    """What `ModelHandle.capture` returns: tensors of the graph it was called in."""

    outputs: Any
    activations: dict[str, Any]
    loss: Any
    gradients: dict[str, Any] | None


def wrap(model, dataset=None) -> ModelHandle:
    """Return a `ModelHandle` for a Keras model (a `ModelHandle` is returned as it is).

    `dataset` (a `dlviz.datasets.Dataset`) is only needed to build a model that has not been built yet.
    """
    if isinstance(model, ModelHandle):
        return model
    return ModelHandle(model, dataset=dataset)


class ModelHandle:
    """A Keras model (single input, single output) with compiled functions to look inside it.

    Loss: the model's compiled loss (plus its regularisation losses) when it was compiled with one.
    An uncompiled model gets a loss inferred from its output layer: a sigmoid output -> binary
    cross-entropy, softmax -> sparse categorical cross-entropy (categorical when y is one-hot),
    linear -> mean squared error; any other output raises `ModelError`.

    Inputs longer than `BATCH_SIZE` are processed in batches; the loss and its gradients are then the
    sample-weighted mean over batches, which equals the full-batch value for Keras' default
    "sum_over_batch_size" loss reduction. Everything but `capture(..., training=True)` runs the model in
    inference mode (dropout off, batch normalisation with its moving statistics).

    Attributes: `model`, `input_shape` (without the batch dimension), `layers` (`LayerInfo` per leaf
    layer call, in call order), `variable_paths` (trainable variables, in `model.trainable_variables`
    order), `layer_of_path` (variable path -> the layer name owning it; the model's name for variables
    no leaf layer owns), `output_activation` (name of the last activation, or None).
    The layer list and variables are read once: wrap the model again after adding layers or changing
    which layers are trainable.
    """

    def __init__(self, model, dataset=None):
        if not isinstance(model, keras.Model):
            raise ModelError(
                f"Expected a Keras model, got {type(model).__module__}.{type(model).__name__}.",
                "Pass a keras.Model (Sequential, Functional or subclassed) built with Keras 3.",
            )
        self.model = model
        self._patch_lock = threading.Lock()
        self._patch_depth = 0
        self._thread_state = threading.local()
        self._originals: list = []
        _ensure_built(model, dataset)
        check_single_input_output(model)
        self.input_shape = model_input_shape(model)
        self._input_dtype = model_input_dtype(model)
        _check_dataset_fits(model, self.input_shape, dataset)
        self._leaves = leaf_layers(model)
        self._trainable_variables = list(model.trainable_variables)
        self.variable_paths = unique_paths(self._trainable_variables)
        self._calls: list[tuple[str, keras.layers.Layer, tuple]] = []
        self._outputs_shape: tuple = ()
        self._outputs_dtype = np.dtype(np.float32)

        x_spec = tf.TensorSpec((None, *self.input_shape), self._input_dtype)
        self._predict_fn = tf.function(self._predict_graph, input_signature=[x_spec])
        self._activations_fn = tf.function(self._activations_graph, input_signature=[x_spec])
        self._input_gradients_fn = tf.function(
            self._input_gradients_graph, input_signature=[x_spec, tf.TensorSpec((None,), tf.int64)]
        )
        self._loss_fns: dict[tuple, Callable] = {}
        self._gradient_fns: dict[tuple, Callable] = {}
        try:
            self._activations_fn.get_concrete_function()
        except DlvizError:
            raise
        except Exception as exc:
            raise ModelError(
                f"The model could not be run on inputs of shape {(None, *self.input_shape)}: "
                f"{_error_summary(exc)}",
                "Check that the model runs on one batch, e.g. model(x[:2]).",
            ) from exc
        self.layers = self._describe_layers()
        self.layer_of_path = self._map_paths_to_layers()
        self.output_activation = _head_activation(self.layers)

    # ----------------------------------------------------------------- low level, inside a tf.function

    def capture(self, x, y=None, training=False) -> Capture:
        """Run the model on `x`, capturing every leaf layer's output; with `y`, also the loss and gradients.

        Call it inside a `tf.function` you own (it also works eagerly): the loss is computed in the same
        graph as the forward pass, and gradients are taken w.r.t. every trainable variable, keyed by
        `variable.path` in `variable_paths` order. Returns `Capture(outputs, activations, loss, gradients)`
        (loss and gradients are None without `y`); activations are keyed like `.layers`.
        `x` and `y` are used as given (tensors); `prepare(x, y)` checks and converts numpy arrays first.
        `training=True` runs dropout and batch normalisation in training mode, which also updates the
        batch normalisation moving statistics.
        Inside `strategy.run` of a tf.distribute strategy, loss and gradients are per replica and scaled
        by 1 / num_replicas_in_sync, as in Keras' train_step: sum them over replicas for the batch's values.
        """
        if y is None:
            outputs, activations = self._forward_capturing(x, training)
            return Capture(outputs, activations, None, None)
        with tf.GradientTape() as tape:
            outputs, activations = self._forward_capturing(x, training)
            loss = self._loss_tensor(x, y, outputs)
        gradients = tape.gradient(
            loss, self._trainable_variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        return Capture(outputs, activations, loss, dict(zip(self.variable_paths, gradients, strict=True)))

    def _forward_capturing(self, x, training):
        with self._recording_calls() as records:
            outputs = self.model(x, training=training)
        if not tf.is_tensor(outputs):
            raise ModelError(
                f"dlviz handles models with one output; this model returns {type(outputs).__name__}.",
                "Build a model with the single output you want to inspect.",
            )
        # Counted by name, not by layer: distinct layers of nested models may share a name too.
        counts: dict[str, int] = {}
        activations = {}
        calls = []
        for layer, output in records:
            counts[layer.name] = counts.get(layer.name, 0) + 1
            key = layer.name if counts[layer.name] == 1 else f"{layer.name}#{counts[layer.name]}"
            activations[key] = _first_tensor(output)
            calls.append((key, layer, tuple(activations[key].shape)))
        self._calls = calls
        self._outputs_shape = tuple(outputs.shape)
        self._outputs_dtype = np.dtype(outputs.dtype.as_numpy_dtype)
        return outputs, activations

    @contextmanager
    def _recording_calls(self):
        """Record (layer, output) of every leaf call made by this thread inside the block.

        The wrappers are installed by the first thread to enter and removed by the last to leave, and
        each thread records into its own list: MirroredStrategy traces replicas in concurrent threads.
        """
        records: list[tuple[keras.layers.Layer, Any]] = []
        outer = getattr(self._thread_state, "records", None)
        self._thread_state.records = records
        with self._patch_lock:
            if self._patch_depth == 0:
                self._install_recorders()
            self._patch_depth += 1
        try:
            yield records
        finally:
            with self._patch_lock:
                self._patch_depth -= 1
                if self._patch_depth == 0:
                    self._remove_recorders()
            self._thread_state.records = outer

    def _install_recorders(self):
        self._originals = []
        for layer in self._leaves:
            own_call = layer.__dict__.get("call")
            object.__setattr__(layer, "call", self._recording_call(layer, layer.call))
            self._originals.append((layer, own_call))

    def _remove_recorders(self):
        for layer, own_call in self._originals:
            if own_call is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own_call)
        self._originals = []

    def _recording_call(self, layer, original_call):
        thread_state = self._thread_state

        def call(*args, **kwargs):
            output = original_call(*args, **kwargs)
            records = getattr(thread_state, "records", None)
            if records is not None:
                records.append((layer, output))
            return output

        return call

    def _loss_tensor(self, x, y, y_pred):
        if self._has_compiled_loss():
            if type(self.model).compute_loss is not keras.Model.compute_loss:
                return self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
            # Keras' own compute_loss, with the added losses cast to the compiled loss' dtype: Keras
            # sums a float32 compiled loss with float64 regularisation losses and fails on float64 models.
            loss = self.model._compile_loss(y, y_pred)
        else:
            loss = self._inferred_loss(y, y_pred)(y, y_pred)
        # Keras' own aggregation, which also divides by the number of replicas under tf.distribute.
        extra = [
            tf.cast(self.model._aggregate_additional_loss(term), loss.dtype) for term in self.model.losses
        ]
        return loss + tf.add_n(extra) if extra else loss

    def _has_compiled_loss(self) -> bool:
        return getattr(self.model, "_compile_loss", None) is not None

    def _inferred_loss(self, y, y_pred):
        activation = self.output_activation
        dtype = y_pred.dtype.name
        if activation == "sigmoid":
            return keras.losses.BinaryCrossentropy(dtype=dtype)
        if activation == "softmax":
            one_hot = len(y.shape) == len(y_pred.shape) and y.shape[-1] == y_pred.shape[-1] != 1
            if one_hot:
                return keras.losses.CategoricalCrossentropy(dtype=dtype)
            return keras.losses.SparseCategoricalCrossentropy(dtype=dtype)
        if activation == "linear":
            return keras.losses.MeanSquaredError(dtype=dtype)
        raise ModelError(
            f"The model has no compiled loss and its output activation ({activation}) does not say which "
            "loss to use.",
            "compile the model with a loss, e.g. model.compile(loss='sparse_categorical_crossentropy').",
        )

    # ----------------------------------------------------------------- compiled graphs

    def _predict_graph(self, x):
        return self.model(x, training=False)

    def _activations_graph(self, x):
        outputs, activations = self._forward_capturing(x, training=False)
        return outputs, activations

    def _input_gradients_graph(self, x, target):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = self.model(x, training=False)
            flat = tf.reshape(outputs, (tf.shape(outputs)[0], -1))
            predicted = tf.argmax(flat, axis=1, output_type=tf.int64)
            chosen = tf.where(target < 0, predicted, target)
            selected = tf.gather(flat, chosen, axis=1, batch_dims=1)
            total = tf.reduce_sum(selected)
        return tape.gradient(total, x)

    def _loss_graph(self, x, y):
        outputs = self.model(x, training=False)
        return self._loss_tensor(x, y, outputs)

    def _gradients_graph(self, x, y):
        result = self.capture(x, y, training=False)
        return [result.gradients[path] for path in self.variable_paths]

    def _compiled_for_labels(self, cache, graph, y):
        # Keyed by the compiled loss too: a model compiled again after wrapping gets a new graph.
        key = (id(getattr(self.model, "_compile_loss", None)), y.shape[1:], y.dtype.str)
        if key not in cache:
            x_spec = tf.TensorSpec((None, *self.input_shape), self._input_dtype)
            y_spec = tf.TensorSpec((None, *y.shape[1:]), tf.as_dtype(y.dtype))
            cache[key] = tf.function(graph, input_signature=[x_spec, y_spec])
        return cache[key]

    # ----------------------------------------------------------------- public, numpy in and out

    def prepare(self, x, y=None):
        """Check `x` (and `y`) against the model and return them as numpy arrays ready for `capture`.

        Raises `DataError` naming the problem: wrong shape, NaN or infinite values, a label count that
        differs from the sample count, class ids outside the output layer's range, one-hot labels of the
        wrong width. Returns `x` alone without `y`, else `(x, y)`.
        """
        return self._check_x(x) if y is None else self._check_xy(x, y)

    def predict(self, x) -> np.ndarray:
        """The model's output for `x` (batched, through a compiled function, in inference mode)."""
        x = self._check_x(x)
        return np.concatenate([self._run(self._predict_fn, batch) for batch in _batches(x)])

    def activations(self, x, layers=None) -> dict[str, np.ndarray]:
        """Outputs of the leaf layers for `x` (one forward pass), keyed by layer name in call order.

        `layers`: names to keep (all when None); see `.layers` for the names.
        """
        names = self._select_layers(layers)
        x = self._check_x(x)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for batch in _batches(x):
            _, activations = self._run(self._activations_fn, batch)
            for name in names:
                parts[name].append(activations[name])
        return {name: np.concatenate(values) for name, values in parts.items()}

    def loss(self, x, y) -> float:
        """The training loss (including regularisation losses) on `x`, `y` in inference mode."""
        x, y = self._check_xy(x, y)
        fn = self._compiled_for_labels(self._loss_fns, self._loss_graph, y)
        total = 0.0
        for batch_x, batch_y in _labelled_batches(x, y):
            total += float(self._run(fn, batch_x, batch_y)) * len(batch_x)
        return total / len(x)

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """Gradients of the training loss w.r.t. every trainable variable, keyed by `variable.path`."""
        x, y = self._check_xy(x, y)
        fn = self._compiled_for_labels(self._gradient_fns, self._gradients_graph, y)
        sums = None
        for batch_x, batch_y in _labelled_batches(x, y):
            gradients = self._run(fn, batch_x, batch_y)
            weighted = [np.asarray(g, dtype=np.float64) * len(batch_x) for g in gradients]
            sums = weighted if sums is None else [a + b for a, b in zip(sums, weighted, strict=True)]
        return {
            path: (total / len(x)).astype(variable.dtype)
            for path, total, variable in zip(
                self.variable_paths, sums, self._trainable_variables, strict=True
            )
        }

    def input_gradients(self, x, target=None) -> np.ndarray:
        """d output[target] / d x for each sample, same shape as `x`.

        `target`: None (each sample's predicted class), a class index for all samples, or one index per
        sample. A model with a single output unit (a sigmoid or a regression head) uses that output.
        """
        x = self._check_x(x)
        targets = check_target(target, len(x), self._outputs_shape)
        parts = [
            self._run(self._input_gradients_fn, batch_x, batch_targets)
            for batch_x, batch_targets in _labelled_batches(x, targets)
        ]
        return np.concatenate(parts)

    # ----------------------------------------------------------------- description

    def _describe_layers(self) -> list[LayerInfo]:
        described = []
        seen: set[int] = set()
        for key, layer, shape in self._calls:
            first_call = id(layer) not in seen
            seen.add(id(layer))
            described.append(
                LayerInfo(
                    name=key,
                    kind=type(layer).__name__,
                    output_shape=(None, *shape[1:]),
                    params=int(layer.count_params()) if first_call and layer.built else 0,
                    activation=activation_name(layer),
                    trainable_paths=tuple(v.path for v in layer.trainable_variables) if first_call else (),
                )
            )
        return described

    def _map_paths_to_layers(self) -> dict[str, str]:
        owner_by_variable = {}
        for info in self.layers:
            for path in info.trainable_paths:
                owner_by_variable.setdefault(path, info.name)
        return {
            unique: owner_by_variable.get(variable.path, self.model.name)
            for unique, variable in zip(self.variable_paths, self._trainable_variables, strict=True)
        }

    def _label_kind(self) -> str:
        """What the labels must look like: "class_ids", "one_hot", "ids_or_one_hot", "binary" or "values"."""
        if not self._has_compiled_loss():
            return {"sigmoid": "binary", "softmax": "ids_or_one_hot"}.get(self.output_activation, "values")
        name = loss_name(self.model.loss)
        if "sparse_categorical" in name:
            return "class_ids"
        if "categorical" in name or "kl_divergence" in name:
            return "one_hot"
        if "binary" in name:
            return "binary"
        return "values"

    def _select_layers(self, layers) -> list[str]:
        valid = [info.name for info in self.layers]
        if layers is None:
            return valid
        if isinstance(layers, str):
            layers = [layers]
        unknown = [name for name in layers if name not in valid]
        if unknown:
            raise ModelError(
                f"Unknown layer name(s) {unknown}.", f"Use one of the model's leaf layers: {valid}."
            )
        return list(layers)

    # ----------------------------------------------------------------- validation

    def _check_x(self, x) -> np.ndarray:
        return check_x(x, self.input_shape, self._input_dtype)

    def _check_xy(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        x = self._check_x(x)
        return x, check_y(y, len(x), self._outputs_shape, self._outputs_dtype, self._label_kind())

    def _run(self, fn, *args):
        try:
            if fn.experimental_get_tracing_count() == 0:
                # Tracing through get_concrete_function keeps TensorFlow's frequent-retracing detector,
                # which counts traces per Python function across all handles, from warning.
                fn.get_concrete_function()
            result = fn(*args)
        except DlvizError:
            raise
        except Exception as exc:
            raise ModelError(
                f"The model failed on this input: {_error_summary(exc)}",
                "Check the shapes and dtypes of x and y against the model's input and output.",
            ) from exc
        return tf.nest.map_structure(lambda t: t.numpy(), result)

    def __repr__(self) -> str:
        n_layers = len(getattr(self, "layers", []))
        return (
            f"ModelHandle({self.model.name!r}, {n_layers} layers, input {getattr(self, 'input_shape', '?')})"
        )


# --------------------------------------------------------------------- helpers


def _ensure_built(model: keras.Model, dataset) -> None:
    if model.built:
        return
    if dataset is None:
        raise ModelError(
            f"The model {model.name!r} is not built yet, so its layers have no shapes.",
            "call model.build(input_shape) or pass dataset= to wrap(model, dataset=...).",
        )
    shape = (None, *tuple(dataset.input_shape))
    try:
        if isinstance(model, keras.Sequential):
            model.build(shape)
        else:
            model(np.zeros((1, *shape[1:]), dtype=keras.backend.floatx()))
    except Exception as exc:
        raise ModelError(
            f"The model could not be built for the dataset's input shape {shape}: {_error_summary(exc)}",
            "Check that the model fits the dataset (input size, image vs tabular).",
        ) from exc


def _check_dataset_fits(model: keras.Model, input_shape: tuple, dataset) -> None:
    if dataset is None:
        return
    given = tuple(dataset.input_shape)
    fits = len(given) == len(input_shape) and all(
        want is None or want == got for want, got in zip(input_shape, given, strict=True)
    )
    if not fits:
        raise ModelError(
            f"The model {model.name!r} takes inputs of shape {(None, *input_shape)}, but the dataset's "
            f"samples have shape {given}.",
            "Build a model for this dataset (e.g. dlviz.models.build(kind, dataset)).",
        )


def _first_tensor(output):
    return tf.nest.flatten(output)[0]


def _head_activation(layers: list[LayerInfo]) -> str | None:
    for info in reversed(layers):
        if info.activation is not None:
            return info.activation
    return None


def _batches(x: np.ndarray):
    for start in range(0, len(x), BATCH_SIZE):
        yield x[start : start + BATCH_SIZE]


def _labelled_batches(x: np.ndarray, y: np.ndarray):
    for start in range(0, len(x), BATCH_SIZE):
        yield x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]


def _error_summary(exc: Exception) -> str:
    """The line of a TensorFlow error that says what went wrong, without graph-node decorations."""
    lines = [_TF_NODE_NOISE.sub("", line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line and line != "[[]]"]
    if not lines:
        return type(exc).__name__
    # Tracing and graph-execution errors put a traceback first and the message last.
    return lines[-1] if lines[0].startswith(("in user code", "Graph execution error")) else lines[0]
