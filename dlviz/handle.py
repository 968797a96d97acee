"""A handle on a Keras model: its leaf layers, activations, gradients and input gradients.

`wrap(model)` returns a `ModelHandle` that every plugin and the Recorder share. All numeric work runs
through `tf.function`s compiled once per handle (batch dimension left open, so calls with different
batch sizes never retrace), and the loss is always computed in the same graph as the forward pass:
Keras keeps a sigmoid's or softmax's logits on the output tensor there, and cross-entropy computed from
the logits stays finite and exact at saturated outputs where computing it from the probabilities does not.

Activations are captured by temporarily replacing each leaf layer's `call` with a wrapper that records
its output while the model is traced, which works the same for Sequential, Functional, nested and
subclassed models (the last have no `.inputs` to build a Functional model from). Recurrent layers
(SimpleRNN, LSTM, GRU, ConvLSTM, any `keras.layers.RNN`), Bidirectional and TimeDistributed are leaves
as a whole: their cells run inside a loop whose tensors cannot be captured from outside it.

A model may have several inputs and outputs: the handle takes what `model.fit` takes (one array, or a
list or dict of arrays) and computes the loss with the model's own compiled losses and loss weights.

What the handle reads off the model is in `dlviz._model_introspection`; the checks of x, y and target
against it, with their errors, in `dlviz._input_checks`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from dlviz._input_checks import check_inputs, check_target, check_targets, named_items
from dlviz._model_introspection import (
    activation_name,
    check_dataset_fits,
    compiled_loss_of,
    ensure_built,
    error_summary,
    input_signature,
    leaf_layers,
    loss_name,
    output_layer,
    output_names,
    unique_paths,
)
from dlviz.errors import DlvizError, ModelError

BATCH_SIZE = 256


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
    """What `ModelHandle.capture` returns: tensors of the graph it was called in.

    `masks`: the Keras mask (boolean, batch and time axes) of each activation that carries one, e.g.
    every layer after an `Embedding(mask_zero=True)`; padded time steps are False.
    """

    outputs: Any
    activations: dict[str, Any]
    loss: Any
    gradients: dict[str, Any] | None
    masks: dict[str, Any] | None = None


def wrap(model, dataset=None) -> ModelHandle:
    """Return a `ModelHandle` for a Keras model (a `ModelHandle` is returned as it is).

    `dataset` (a `dlviz.datasets.Dataset`) is only needed to build a model that has not been built yet.
    """
    if isinstance(model, ModelHandle):
        return model
    return ModelHandle(model, dataset=dataset)


class ModelHandle:
    """A Keras model with compiled functions to look inside it.

    Inputs and labels: what `model.fit` takes. For a model with one input, `x` is an array; with several,
    a list of arrays in `input_names` order or a dict keyed by `input_names`. Likewise `y`: an array for
    one output, a list (in `output_names` order) or a dict for several.

    Loss: the model's compiled loss (plus its regularisation losses) when it was compiled with one, with
    its losses and loss weights per output as `fit` computes it. An uncompiled model gets a loss inferred
    from each output layer: a sigmoid output -> binary cross-entropy, softmax -> sparse categorical
    cross-entropy (categorical when y is one-hot), linear -> mean squared error (summed over outputs);
    any other output raises `ModelError`.

    Inputs longer than `BATCH_SIZE` are processed in batches; the loss and its gradients are then the
    sample-weighted mean over batches, which equals the full-batch value for Keras' default
    "sum_over_batch_size" loss reduction. Everything but `capture(..., training=True)` runs the model in
    inference mode (dropout off, batch normalisation with its moving statistics).

    Under mixed precision (`mixed_float16`) the variables, gradients and labels stay float32; a layer's
    activations are returned in its compute dtype (the Recorder's statistics are computed in float32).

    Attributes: `model`, `input_names`, `input_shapes` (one per input, without the batch dimension),
    `input_shape` (the shape of the only input; None for a model with several inputs), `output_names`,
    `layers` (`LayerInfo` per leaf layer call, in call order; a recurrent layer is one leaf),
    `variable_paths` (trainable variables, in `model.trainable_variables` order), `layer_of_path`
    (variable path -> the layer name owning it; the model's name for variables no leaf layer owns),
    `output_activation` (name of the last activation, or None).
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
        ensure_built(model, dataset)
        self._inputs = input_signature(model)
        self.input_names: tuple[str, ...] = self._inputs.names
        self.input_shapes: tuple[tuple, ...] = self._inputs.shapes
        self.input_shape: tuple | None = self.input_shapes[0] if len(self.input_shapes) == 1 else None
        if self.input_shape is not None:
            check_dataset_fits(model, self.input_shape, dataset)
        self._leaves = leaf_layers(model)
        self._trainable_variables = list(model.trainable_variables)
        self.variable_paths = unique_paths(self._trainable_variables)
        self._calls: list[tuple[str, keras.layers.Layer, tuple]] = []
        self._outputs_structure: Any = None
        self._outputs_shapes: tuple[tuple, ...] = ()
        self._outputs_dtypes: tuple[np.dtype, ...] = ()

        x_spec = self._x_spec()
        self._predict_fn = tf.function(self._predict_graph, input_signature=[x_spec])
        self._activations_fn = tf.function(self._activations_graph, input_signature=[x_spec])
        self._input_gradients_fns: dict[int, Callable] = {}
        self._loss_fns: dict[tuple, Callable] = {}
        self._gradient_fns: dict[tuple, Callable] = {}
        try:
            self._activations_fn.get_concrete_function()
        except DlvizError:
            raise
        except Exception as exc:
            shapes = ", ".join(str((None, *shape)) for shape in self.input_shapes)
            raise ModelError(
                f"The model could not be run on inputs of shape {shapes}: {error_summary(exc)}",
                "Check that the model runs on one batch, e.g. model(x[:2]).",
            ) from exc
        self.output_names: tuple[str, ...] = output_names(model, self._outputs_structure)
        self.layers = self._describe_layers()
        self.layer_of_path = self._map_paths_to_layers()
        self.output_activation = _head_activation(self.layers)
        self._output_activations = self._activations_of_outputs()

    # ----------------------------------------------------------------- low level, inside a tf.function

    def capture(self, x, y=None, training=False) -> Capture:
        """Run the model on `x`, capturing every leaf layer's output; with `y`, also the loss and gradients.

        Call it inside a `tf.function` you own (it also works eagerly): the loss is computed in the same
        graph as the forward pass, and gradients are taken w.r.t. every trainable variable, keyed by
        `variable.path` in `variable_paths` order. Returns `Capture(outputs, activations, loss, gradients)`
        (loss and gradients are None without `y`); activations (and their masks) are keyed like `.layers`.
        `x` and `y` are used as given (tensors, or lists or dicts of them for several inputs or outputs);
        `prepare(x, y)` checks and converts numpy arrays first.
        `training=True` runs dropout and batch normalisation in training mode, which also updates the
        batch normalisation moving statistics.
        Inside `strategy.run` of a tf.distribute strategy, loss and gradients are per replica and scaled
        by 1 / num_replicas_in_sync, as in Keras' train_step: sum them over replicas for the batch's values.
        """
        x = self._pack_inputs(named_items(x, self.input_names, "x"))
        if y is None:
            outputs, activations, masks = self._forward_capturing(x, training)
            return Capture(outputs, activations, None, None, masks)
        with tf.GradientTape() as tape:
            outputs, activations, masks = self._forward_capturing(x, training)
            y = self._pack_targets(named_items(y, self.output_names, "y"))
            loss = self._loss_tensor(x, y, outputs)
        gradients = tape.gradient(
            loss, self._trainable_variables, unconnected_gradients=tf.UnconnectedGradients.ZERO
        )
        # An Embedding's gradient is an IndexedSlices (the rows looked up): made dense like every other.
        gradients = [tf.convert_to_tensor(gradient) for gradient in gradients]
        gradients_by_path = dict(zip(self.variable_paths, gradients, strict=True))
        return Capture(outputs, activations, loss, gradients_by_path, masks)

    def _forward_capturing(self, x, training):
        with self._recording_calls() as records:
            outputs = self.model(x, training=training)
        # Counted by name, not by layer: distinct layers of nested models may share a name too.
        counts: dict[str, int] = {}
        activations, masks = {}, {}
        calls = []
        for layer, output in records:
            counts[layer.name] = counts.get(layer.name, 0) + 1
            key = layer.name if counts[layer.name] == 1 else f"{layer.name}#{counts[layer.name]}"
            activations[key] = _first_tensor(output)
            # Keras attaches the mask to the output once the layer's call returns.
            mask = getattr(activations[key], "_keras_mask", None)
            if mask is not None:
                masks[key] = mask
            calls.append((key, layer, tuple(activations[key].shape)))
        self._calls = calls
        flat = keras.tree.flatten(outputs)
        self._outputs_structure = keras.tree.map_structure(lambda _: None, outputs)
        self._outputs_shapes = tuple(tuple(output.shape) for output in flat)
        self._outputs_dtypes = tuple(np.dtype(output.dtype.as_numpy_dtype) for output in flat)
        return outputs, activations, masks

    def _pack_inputs(self, items: tuple):
        """One item per input, in `input_names` order -> what the model is called with."""
        if self._inputs.structure is None:
            return items[0]
        if isinstance(self._inputs.structure, dict):
            return dict(zip(self.input_names, items, strict=True))
        return keras.tree.pack_sequence_as(self._inputs.structure, list(items))

    def _pack_targets(self, items: tuple):
        """One item per output, in `output_names` order -> the structure of the model's outputs."""
        if len(items) == 1 and not isinstance(self._outputs_structure, list | tuple | dict):
            return items[0]
        if isinstance(self._outputs_structure, dict):
            return dict(zip(self.output_names, items, strict=True))
        return keras.tree.pack_sequence_as(self._outputs_structure, list(items))

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
            pairs = zip(
                keras.tree.flatten(y), keras.tree.flatten(y_pred), self._output_activations, strict=True
            )
            loss = tf.add_n([self._inferred_loss(activation, t, p)(t, p) for t, p, activation in pairs])
        # Keras' own aggregation, which also divides by the number of replicas under tf.distribute.
        extra = [
            tf.cast(self.model._aggregate_additional_loss(term), loss.dtype) for term in self.model.losses
        ]
        return loss + tf.add_n(extra) if extra else loss

    def _has_compiled_loss(self) -> bool:
        return getattr(self.model, "_compile_loss", None) is not None

    def _activations_of_outputs(self) -> tuple[str | None, ...]:
        """The activation of the layer producing each output (the last activation for a single output)."""
        if len(self.output_names) == 1:
            return (self.output_activation,)
        return tuple(activation_name(output_layer(output)) for output in self.model.outputs)

    def _inferred_loss(self, activation, y, y_pred):
        # Under mixed precision the loss is computed in float32, as Keras' compiled losses do.
        dtype = "float32" if y_pred.dtype in (tf.float16, tf.bfloat16) else y_pred.dtype.name
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

    def _x_spec(self) -> tuple:
        return tuple(
            tf.TensorSpec((None, *shape), dtype)
            for shape, dtype in zip(self.input_shapes, self._inputs.dtypes, strict=True)
        )

    def _predict_graph(self, xs):
        return keras.tree.flatten(self.model(self._pack_inputs(xs), training=False))

    def _activations_graph(self, xs):
        outputs, activations, masks = self._forward_capturing(self._pack_inputs(xs), training=False)
        return keras.tree.flatten(outputs), activations, masks

    def _input_gradients_graph(self, xs, target, output_index: int):
        continuous = [x for x in xs if x.dtype.is_floating]
        with tf.GradientTape() as tape:
            tape.watch(continuous)
            outputs = keras.tree.flatten(self.model(self._pack_inputs(xs), training=False))[output_index]
            flat = tf.reshape(outputs, (tf.shape(outputs)[0], -1))
            predicted = tf.argmax(flat, axis=1, output_type=tf.int64)
            chosen = tf.where(target < 0, predicted, target)
            selected = tf.gather(flat, chosen, axis=1, batch_dims=1)
            half = selected.dtype in (tf.float16, tf.bfloat16)
            total = tf.reduce_sum(tf.cast(selected, tf.float32) if half else selected)
        # Integer inputs (token ids) have no gradient: zeros of their shape.
        gradients = iter(tape.gradient(total, continuous, unconnected_gradients=tf.UnconnectedGradients.ZERO))
        return tuple(next(gradients) if x.dtype.is_floating else tf.zeros_like(x, tf.float32) for x in xs)

    def _loss_graph(self, xs, ys):
        x = self._pack_inputs(xs)
        outputs = self.model(x, training=False)
        return self._loss_tensor(x, self._pack_targets(ys), outputs)

    def _gradients_graph(self, xs, ys):
        result = self.capture(self._pack_inputs(xs), self._pack_targets(ys), training=False)
        return [result.gradients[path] for path in self.variable_paths]

    def _compiled_for_labels(self, cache, graph, ys: tuple):
        # Keyed by the compiled loss too: a model compiled again after wrapping gets a new graph.
        labels = tuple((y.shape[1:], y.dtype.str) for y in ys)
        key = (id(getattr(self.model, "_compile_loss", None)), labels)
        if key not in cache:
            y_spec = tuple(tf.TensorSpec((None, *y.shape[1:]), tf.as_dtype(y.dtype)) for y in ys)
            cache[key] = tf.function(graph, input_signature=[self._x_spec(), y_spec])
        return cache[key]

    # ----------------------------------------------------------------- public, numpy in and out

    def prepare(self, x, y=None):
        """Check `x` (and `y`) against the model and return them as numpy arrays ready for `capture`.

        Raises `DataError` naming the problem: wrong shape, NaN or infinite values, a label count that
        differs from the sample count, class ids outside the output layer's range, one-hot labels of the
        wrong width. Returns `x` alone without `y`, else `(x, y)`; with several inputs (outputs) `x` (`y`)
        is a tuple of arrays in `input_names` (`output_names`) order.
        """
        if y is None:
            xs = self._check_x(x)
            return xs[0] if len(xs) == 1 else xs
        xs, ys = self._check_xy(x, y)
        return xs[0] if len(xs) == 1 else xs, ys[0] if len(ys) == 1 else ys

    def predict(self, x):
        """The model's output for `x` (batched, through a compiled function, in inference mode).

        An array; for a model with several outputs a list or a dict of arrays, as `model.predict` returns.
        """
        xs = self._check_x(x)
        parts = [self._run(self._predict_fn, batch) for (batch,) in _batches(xs)]
        outputs = [np.concatenate([part[i] for part in parts]) for i in range(len(self.output_names))]
        return outputs[0] if len(outputs) == 1 else self._pack_targets(tuple(outputs))

    def activations(self, x, layers=None) -> dict[str, np.ndarray]:
        """Outputs of the leaf layers for `x` (one forward pass), keyed by layer name in call order.

        `layers`: names to keep (all when None); see `.layers` for the names. A recurrent layer's output
        is its final state, or with `return_sequences=True` its output at every time step.
        """
        return self._forward_arrays(x, layers)[0]

    def activation_masks(self, x, layers=None) -> dict[str, np.ndarray]:
        """The Keras mask of each activation of `activations(x, layers)` that carries one (False: padding).

        E.g. after an `Embedding(mask_zero=True)`, shape (n_samples, time steps); layers without a mask
        are left out.
        """
        return self._forward_arrays(x, layers)[1]

    def _forward_arrays(self, x, layers) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        names = self._select_layers(layers)
        xs = self._check_x(x)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        mask_parts: dict[str, list[np.ndarray]] = {}
        for (batch,) in _batches(xs):
            _, activations, masks = self._run(self._activations_fn, batch)
            for name in names:
                parts[name].append(activations[name])
                if name in masks:
                    mask_parts.setdefault(name, []).append(masks[name])
        return (
            {name: np.concatenate(values) for name, values in parts.items()},
            {name: np.concatenate(values) for name, values in mask_parts.items()},
        )

    def loss(self, x, y) -> float:
        """The training loss (with regularisation losses and loss weights) on `x`, `y` in inference mode."""
        xs, ys = self._check_xy(x, y)
        fn = self._compiled_for_labels(self._loss_fns, self._loss_graph, ys)
        total = 0.0
        for batch_x, batch_y in _batches(xs, ys):
            total += float(self._run(fn, batch_x, batch_y)) * len(batch_x[0])
        return total / len(xs[0])

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """Gradients of the training loss w.r.t. every trainable variable, keyed by `variable.path`."""
        xs, ys = self._check_xy(x, y)
        fn = self._compiled_for_labels(self._gradient_fns, self._gradients_graph, ys)
        sums = None
        for batch_x, batch_y in _batches(xs, ys):
            gradients = self._run(fn, batch_x, batch_y)
            weighted = [np.asarray(g, dtype=np.float64) * len(batch_x[0]) for g in gradients]
            sums = weighted if sums is None else [a + b for a, b in zip(sums, weighted, strict=True)]
        return {
            path: (total / len(xs[0])).astype(variable.dtype)
            for path, total, variable in zip(
                self.variable_paths, sums, self._trainable_variables, strict=True
            )
        }

    def input_gradients(self, x, target=None, output=None):
        """d output[target] / d x for each sample, same shape as `x`.

        `target`: None (each sample's predicted class), a class index for all samples, or one index per
        sample. A model with a single output unit (a sigmoid or a regression head) uses that output.
        `output`: which output of a model with several (a name of `output_names` or an index; the first
        when None). With several inputs, one array per input: a dict when `x` is a dict, else a list in
        `input_names` order. Integer inputs (token ids) have no gradient: theirs are zeros.
        """
        xs = self._check_x(x)
        if not any(tf.as_dtype(a.dtype).is_floating for a in xs):
            raise ModelError(
                "Input gradients need continuous inputs; this model's inputs are integers (e.g. token ids).",
                "Look at the embedding layer's output with handle.activations(x) instead.",
            )
        index = self._output_index(output)
        targets = check_target(target, len(xs[0]), self._outputs_shapes[index])
        if index not in self._input_gradients_fns:
            self._input_gradients_fns[index] = tf.function(
                lambda xs, target: self._input_gradients_graph(xs, target, index),
                input_signature=[self._x_spec(), tf.TensorSpec((None,), tf.int64)],
            )
        fn = self._input_gradients_fns[index]
        parts = [
            self._run(fn, batch_x, batch_targets) for batch_x, (batch_targets,) in _batches(xs, (targets,))
        ]
        gradients = [np.concatenate([part[i] for part in parts]) for i in range(len(xs))]
        if len(gradients) == 1:
            return gradients[0]
        return dict(zip(self.input_names, gradients, strict=True)) if isinstance(x, dict) else gradients

    def _output_index(self, output) -> int:
        if output is None:
            return 0
        if isinstance(output, str) and output in self.output_names:
            return self.output_names.index(output)
        if isinstance(output, int | np.integer) and 0 <= output < len(self.output_names):
            return int(output)
        raise ModelError(
            f"Unknown output {output!r}.",
            f"Use one of the model's outputs {list(self.output_names)} or its index.",
        )

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

    def _label_kind(self, index: int = 0) -> str:
        """What output `index`'s labels must look like: "class_ids", "one_hot", "ids_or_one_hot", "binary"
        or "values"."""
        if not self._has_compiled_loss():
            activation = self._output_activations[index]
            return {"sigmoid": "binary", "softmax": "ids_or_one_hot"}.get(activation, "values")
        name = loss_name(compiled_loss_of(self.model, self.output_names, index))
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

    def _check_x(self, x) -> tuple[np.ndarray, ...]:
        return check_inputs(x, self.input_names, self.input_shapes, self._inputs.dtypes)

    def _check_xy(self, x, y) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        xs = self._check_x(x)
        kinds = tuple(self._label_kind(index) for index in range(len(self.output_names)))
        ys = check_targets(
            y, len(xs[0]), self.output_names, self._outputs_shapes, self._outputs_dtypes, kinds
        )
        return xs, ys

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
                f"The model failed on this input: {error_summary(exc)}",
                "Check the shapes and dtypes of x and y against the model's input and output.",
            ) from exc
        return tf.nest.map_structure(lambda t: t.numpy(), result)

    def __repr__(self) -> str:
        n_layers = len(getattr(self, "layers", []))
        shapes = getattr(self, "input_shapes", ())
        inputs = f"input {shapes[0]}" if len(shapes) == 1 else f"inputs {', '.join(map(str, shapes))}"
        return f"ModelHandle({self.model.name!r}, {n_layers} layers, {inputs})"


# --------------------------------------------------------------------- helpers


def _first_tensor(output):
    return tf.nest.flatten(output)[0]


def _head_activation(layers: list[LayerInfo]) -> str | None:
    for info in reversed(layers):
        if info.activation is not None:
            return info.activation
    return None


def _batches(*groups: tuple[np.ndarray, ...]):
    """Slices of `BATCH_SIZE` samples of every array: one tuple of arrays per group, per batch."""
    for start in range(0, len(groups[0][0]), BATCH_SIZE):
        yield tuple(tuple(array[start : start + BATCH_SIZE] for array in group) for group in groups)
