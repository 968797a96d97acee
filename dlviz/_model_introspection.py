"""What dlviz reads off a Keras model: its inputs (names, shapes, dtypes) and output names, its leaf
layers, unique variable paths, and the names of activations and losses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from dlviz.errors import ModelError

TF_NODE_NOISE = re.compile(r"\{\{[^}]*\}\}|\[Op:[^\]]*\]")

# Keras layers that are activations but keep no `activation` attribute.
_ACTIVATION_LAYER_NAMES = {
    "ReLU": "relu",
    "Softmax": "softmax",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "PReLU": "prelu",
}


# Layers dlviz treats as one leaf although they hold sublayers: a recurrent layer runs its cell inside a
# loop (tf.while_loop), whose tensors cannot be captured from outside it; Bidirectional runs two such
# layers and TimeDistributed (a Wrapper) its layer once per time step.
RECURRENT_LEAF_TYPES = (keras.layers.RNN, keras.layers.Bidirectional, keras.layers.Wrapper)


@dataclass(frozen=True)
class InputSignature:
    """The model's inputs in `keras.tree.flatten` order (the order of `model.inputs`).

    `structure` is what the model is called with (a list or a dict of the inputs, as it was built), or
    None for a model with one input, which is called with the tensor itself.
    """

    names: tuple[str, ...]
    shapes: tuple[tuple, ...]
    dtypes: tuple[tf.DType, ...]
    structure: Any


def _is_subclassed(model: keras.Model) -> bool:
    return not isinstance(model, keras.Sequential) and not hasattr(model, "_inputs_struct")


def input_signature(model: keras.Model) -> InputSignature:
    """Names, shapes (without the batch dimension) and dtypes of the model's inputs."""
    if _is_subclassed(model):
        return _subclassed_input_signature(model)
    inputs = model.inputs
    structure = getattr(model, "_inputs_struct", None)
    if isinstance(structure, dict):
        names = tuple(sorted(structure))  # keras.tree.flatten orders a dict's values by key
    else:
        names = tuple(tensor.name for tensor in inputs)
    return InputSignature(
        names=names,
        shapes=tuple(tuple(tensor.shape[1:]) for tensor in inputs),
        dtypes=tuple(tf.as_dtype(keras.backend.standardize_dtype(tensor.dtype)) for tensor in inputs),
        structure=structure if len(inputs) > 1 else None,
    )


def _subclassed_input_signature(model: keras.Model) -> InputSignature:
    """What a subclassed model was built with: one shape, or a list or dict of shapes (several inputs)."""
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    (built_with,) = shapes.values() if len(shapes) == 1 else (None,)
    dtype = _subclassed_input_dtype(model)
    if isinstance(built_with, dict) and all(_is_shape(shape) for shape in built_with.values()):
        names = tuple(sorted(built_with))
        shapes = tuple(tuple(built_with[name][1:]) for name in names)
        return InputSignature(names, shapes, (dtype,) * len(names), dict.fromkeys(names))
    if isinstance(built_with, list | tuple) and built_with and all(_is_shape(shape) for shape in built_with):
        names = tuple(f"input_{index}" for index in range(len(built_with)))
        shapes = tuple(tuple(shape[1:]) for shape in built_with)
        return InputSignature(names, shapes, (dtype,) * len(names), [None] * len(names))
    if _is_shape(built_with):
        return InputSignature((model.name + "_input",), (tuple(built_with[1:]),), (dtype,), None)
    raise ModelError(
        f"The input shape of the subclassed model {model.name!r} is unknown.",
        "call model.build(input_shape) or pass dataset= so dlviz knows its input shape.",
    )


def _is_shape(value) -> bool:
    return isinstance(value, list | tuple) and all(d is None or isinstance(d, int) for d in value)


def _subclassed_input_dtype(model: keras.Model) -> tf.DType:
    leaves = leaf_layers(model)
    # Variable dtype, not compute dtype: under mixed precision the inputs stay float32.
    dtype = tf.as_dtype(leaves[0].variable_dtype) if leaves else tf.float32
    return dtype if dtype.is_floating else tf.float32


def output_names(model: keras.Model, outputs) -> tuple[str, ...]:
    """Names of the model's outputs in `keras.tree.flatten` order, from one call's `outputs`."""
    flat = keras.tree.flatten(outputs)
    if isinstance(outputs, dict):
        return tuple(sorted(outputs))
    names = getattr(model, "output_names", None)
    if names and len(names) == len(flat):
        return tuple(names)
    if len(flat) == 1:
        return (model.name + "_output",)
    return tuple(f"output_{index}" for index in range(len(flat)))


def output_layer(output_tensor):
    """The layer that produced a symbolic output of a Functional model, or None."""
    history = getattr(output_tensor, "_keras_history", None)
    return getattr(history, "operation", None)


def leaf_layers(model: keras.Model) -> list:
    """The layers whose calls dlviz records: those without sublayers, and recurrent layers as a whole.

    Nested models and other layers holding sublayers (e.g. MultiHeadAttention) are looked into.
    """
    leaves: list = []
    seen: set[int] = set()

    def visit(layer):
        for child in layer._flatten_layers(include_self=False, recursive=False):
            if id(child) in seen or isinstance(child, keras.layers.InputLayer):
                continue
            seen.add(id(child))
            if isinstance(child, RECURRENT_LEAF_TYPES) or not child._layers:
                leaves.append(child)
            else:
                visit(child)

    visit(model)
    return leaves


def unique_paths(variables) -> list[str]:
    paths, seen = [], {}
    for variable in variables:
        seen[variable.path] = seen.get(variable.path, 0) + 1
        count = seen[variable.path]
        paths.append(variable.path if count == 1 else f"{variable.path}#{count}")
    return paths


def ensure_built(model: keras.Model, dataset) -> None:
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
            f"The model could not be built for the dataset's input shape {shape}: {error_summary(exc)}",
            "Check that the model fits the dataset (input size, image vs tabular).",
        ) from exc


def check_dataset_fits(model: keras.Model, input_shape: tuple, dataset) -> None:
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


def compiled_loss_of(model: keras.Model, output_names: tuple[str, ...], index: int):
    """The loss `compile` was given for output `index` (one loss, a list, or a dict by output name)."""
    loss = model.loss
    if isinstance(loss, dict):
        return loss.get(output_names[index])
    if isinstance(loss, list | tuple):
        return loss[index] if len(loss) == len(output_names) else loss[0]
    return loss


def activation_name(layer) -> str | None:
    if type(layer).__name__ in _ACTIVATION_LAYER_NAMES:
        return _ACTIVATION_LAYER_NAMES[type(layer).__name__]
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    return getattr(function, "__name__", None) or type(function).__name__


def loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return str(name).lower()


def error_summary(exc: Exception) -> str:
    """The line of a TensorFlow error that says what went wrong, without graph-node decorations."""
    lines = [TF_NODE_NOISE.sub("", line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line and line != "[[]]"]
    if not lines:
        return type(exc).__name__
    # Tracing and graph-execution errors put a traceback first and the message last.
    return lines[-1] if lines[0].startswith(("in user code", "Graph execution error")) else lines[0]
