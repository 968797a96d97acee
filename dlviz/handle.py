"""A handle on a Keras model: its leaf layers, activations, gradients and input gradients.

`wrap(model)` returns a `ModelHandle` that every plugin and the Recorder share. All numeric work runs
through `tf.function`s compiled once per handle (batch dimension left open, so calls with different
batch sizes never retrace), and the loss is always computed in the same graph as the forward pass:
Keras keeps a sigmoid's or softmax's logits on the output tensor there, and cross-entropy computed from
the logits stays finite and exact at saturated outputs where computing it from the probabilities does not.

Activations are captured by temporarily replacing each leaf layer's `call` with a wrapper that records
its output while the model is traced, which works the same for Sequential, Functional, nested and
subclassed models (the last have no `.inputs` to build a Functional model from).
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

from dlviz.errors import DataError, DlvizError, ModelError

BATCH_SIZE = 256

_TF_NODE_NOISE = re.compile(r"\{\{[^}]*\}\}|\[Op:[^\]]*\]")

# Keras layers that are activations but keep no `activation` attribute.
_ACTIVATION_LAYER_NAMES = {
    "ReLU": "relu",
    "Softmax": "softmax",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "PReLU": "prelu",
}


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
        self._check_single_input_output()
        self.input_shape = _input_shape(model)
        self._input_dtype = _input_dtype(model)
        _check_dataset_fits(model, self.input_shape, dataset)
        self._leaves = _leaf_layers(model)
        self._trainable_variables = list(model.trainable_variables)
        self.variable_paths = _unique_paths(self._trainable_variables)
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
        targets = self._check_target(target, len(x))
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
                    activation=_activation_name(layer),
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
        name = _loss_name(self.model.loss)
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

    def _check_single_input_output(self):
        inputs = getattr(self.model, "_inputs_struct", None)
        outputs = getattr(self.model, "_outputs_struct", None)
        if inputs is not None and len(tf.nest.flatten(inputs)) != 1:
            raise ModelError(
                "dlviz handles models with one input; this model has several.",
                "Wrap the part you want to inspect in a model with a single input.",
            )
        if outputs is not None and len(tf.nest.flatten(outputs)) != 1:
            raise ModelError(
                "dlviz handles models with one output; this model has several.",
                "Build a model with the single output you want to inspect.",
            )

    def _check_x(self, x) -> np.ndarray:
        x = _numeric_array(x, "x")
        if x.ndim == 0 or len(x) == 0:
            raise DataError(f"x is empty (shape {x.shape}).", "Pass at least one sample.")
        expected = (None, *self.input_shape)
        matches = x.ndim == len(expected) and all(
            want is None or want == got for want, got in zip(expected[1:], x.shape[1:], strict=True)
        )
        if not matches:
            fix = "Pass x with shape (n_samples, " + ", ".join(str(d) for d in self.input_shape) + ")"
            if x.shape == tuple(self.input_shape):
                fix += "; for one sample use x[None]"
            features = ""
            if x.ndim == 2 and len(expected) == 2:
                features = f" ({x.shape[1]} features per sample where the model takes {expected[1]})"
            raise DataError(
                f"x has shape {x.shape}, but the model expects {expected}{features}; None is any size.",
                fix + ".",
            )
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            bad = int(np.sum(~np.isfinite(x)))
            raise DataError(
                f"x contains {bad} NaN or infinite value(s).",
                "Remove or impute them (e.g. sklearn.impute.SimpleImputer) before calling the model.",
            )
        return x.astype(self._input_dtype.as_numpy_dtype, copy=False)

    def _check_xy(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        x = self._check_x(x)
        y = _numeric_array(y, "y")
        if y.ndim == 0 or len(y) != len(x):
            raise DataError(
                f"y has {len(y) if y.ndim else 'no'} labels for {len(x)} samples in x.",
                "Pass one label per sample (y[i] belongs to x[i]).",
            )
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise DataError("y contains NaN or infinite values.", "Remove those samples or fix the labels.")
        return x, self._check_labels(y)

    def _check_labels(self, y: np.ndarray) -> np.ndarray:
        width = self._outputs_shape[-1]
        kind = self._label_kind()
        if kind in ("class_ids", "one_hot", "ids_or_one_hot"):
            return self._check_classes(y, width, kind)
        if y.ndim == 1 and width == 1:
            y = y.reshape(-1, 1)
        if y.shape[1:] != self._outputs_shape[1:]:
            raise DataError(
                f"y has shape {y.shape}, but the model's output has shape {(None, *self._outputs_shape[1:])}.",
                "Pass one target per output unit and sample.",
            )
        if kind == "binary" and np.any((y < 0) | (y > 1)):
            bad = np.unique(y[(y < 0) | (y > 1)])[:5].tolist()
            raise DataError(
                f"y contains {bad}, but a sigmoid output with binary cross-entropy needs labels 0 or 1.",
                "Map the two classes to 0 and 1 (e.g. y = (y == positive_class).astype(int)), or use a "
                "softmax output with one unit per class.",
            )
        return y.astype(self._outputs_dtype)

    def _check_classes(self, y: np.ndarray, width: int, kind: str) -> np.ndarray:
        if kind != "class_ids" and y.ndim == 2 and y.shape[1] == width != 1:
            return y.astype(self._outputs_dtype)
        if kind != "one_hot" and (y.ndim == 1 or y.shape == (len(y), 1)):
            ids = y.reshape(len(y))
            _check_class_ids(ids, width)
            return ids.astype(np.int64)
        expected, fix = {
            "class_ids": (
                "class ids of shape (n,)",
                f"Pass class ids 0..{width - 1} (y.argmax(axis=1) turns one-hot rows into ids).",
            ),
            "one_hot": (
                f"one-hot labels of shape (n, {width}) (its loss is categorical cross-entropy)",
                f"Pass keras.utils.to_categorical(y, {width}), or compile with "
                "sparse_categorical_crossentropy to use class ids.",
            ),
            "ids_or_one_hot": (
                f"class ids of shape (n,) or one-hot labels of shape (n, {width})",
                f"Pass class ids 0..{width - 1} or one-hot rows of width {width}.",
            ),
        }[kind]
        raise DataError(
            f"y has shape {y.shape}, but the model's {width}-unit output expects {expected}.", fix
        )

    def _check_target(self, target, n: int) -> np.ndarray:
        width = self._outputs_shape[-1] if len(self._outputs_shape) == 2 else None
        if width is None:
            raise ModelError(
                f"input_gradients needs an output of shape (n, units); this model's is {self._outputs_shape}.",
                "Use a model whose output is one vector per sample.",
            )
        if target is None or width == 1:
            if target not in (None, 0):
                raise DataError(
                    f"target {target!r} is out of range for a single-unit output.", "Use target=None or 0."
                )
            return np.full(n, -1, dtype=np.int64)
        targets = np.asarray(target)
        if targets.ndim == 0:
            targets = np.full(n, targets)
        if targets.shape != (n,) or not np.issubdtype(targets.dtype, np.integer):
            raise DataError(
                f"target must be a class index or {n} integer class indices; got shape {targets.shape}, "
                f"dtype {targets.dtype}.",
                "Pass an int, one int per sample, or None for the predicted class.",
            )
        _check_class_ids(targets, width, what="target")
        return targets.astype(np.int64)

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


def _is_subclassed(model: keras.Model) -> bool:
    return not isinstance(model, keras.Sequential) and not hasattr(model, "_inputs_struct")


def _input_shape(model: keras.Model) -> tuple:
    if not _is_subclassed(model):
        return tuple(model.inputs[0].shape[1:])
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    if len(shapes) == 1:
        (shape,) = shapes.values()
        if shape is not None and not isinstance(shape[0], list | tuple):
            return tuple(shape[1:])
    raise ModelError(
        f"The input shape of the subclassed model {model.name!r} is unknown.",
        "call model.build(input_shape) or pass dataset= so dlviz knows its input shape.",
    )


def _input_dtype(model: keras.Model) -> tf.DType:
    if not _is_subclassed(model):
        return tf.as_dtype(keras.backend.standardize_dtype(model.inputs[0].dtype))
    leaves = _leaf_layers(model)
    # Variable dtype, not compute dtype: under mixed precision the inputs stay float32.
    dtype = tf.as_dtype(leaves[0].variable_dtype) if leaves else tf.float32
    return dtype if dtype.is_floating else tf.float32


def _leaf_layers(model: keras.Model) -> list:
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if not layer._layers and not isinstance(layer, keras.layers.InputLayer)
    ]


def _unique_paths(variables) -> list[str]:
    paths, seen = [], {}
    for variable in variables:
        seen[variable.path] = seen.get(variable.path, 0) + 1
        count = seen[variable.path]
        paths.append(variable.path if count == 1 else f"{variable.path}#{count}")
    return paths


def _first_tensor(output):
    return tf.nest.flatten(output)[0]


def _activation_name(layer) -> str | None:
    if type(layer).__name__ in _ACTIVATION_LAYER_NAMES:
        return _ACTIVATION_LAYER_NAMES[type(layer).__name__]
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    return getattr(function, "__name__", None) or type(function).__name__


def _head_activation(layers: list[LayerInfo]) -> str | None:
    for info in reversed(layers):
        if info.activation is not None:
            return info.activation
    return None


def _loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return str(name).lower()


def _numeric_array(values, what: str) -> np.ndarray:
    if isinstance(values, tf.Tensor):
        values = values.numpy()
    try:
        array = np.asarray(values)
    except Exception as exc:
        raise DataError(
            f"{what} cannot be read as an array: {exc}", f"Pass {what} as a numpy array."
        ) from exc
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{what} has dtype {array.dtype}; dlviz needs numbers.",
            f"Encode non-numeric columns of {what} as numbers first.",
        )
    return array


def _check_class_ids(ids: np.ndarray, n_classes: int, what: str = "y") -> None:
    if np.issubdtype(ids.dtype, np.floating) and np.any(ids != np.round(ids)):
        raise DataError(
            f"{what} contains non-integer class ids.", f"Pass integer class ids 0..{n_classes - 1}."
        )
    bad = ids[(ids < 0) | (ids >= n_classes)]
    if bad.size:
        raise DataError(
            f"{what} contains class id(s) {np.unique(bad)[:5].tolist()}, but the output layer has "
            f"{n_classes} unit(s) (classes 0..{n_classes - 1}).",
            f"Use class ids 0..{n_classes - 1}, or give the output layer one unit per class.",
        )


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
