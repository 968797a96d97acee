"""What dlviz reads off a Keras model: whether it has one input and one output, its input shape and dtype,
its leaf layers, unique variable paths, and the names of activations and losses.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from dlviz.errors import ModelError

# Keras layers that are activations but keep no `activation` attribute.
_ACTIVATION_LAYER_NAMES = {
    "ReLU": "relu",
    "Softmax": "softmax",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "PReLU": "prelu",
}


def check_single_input_output(model: keras.Model) -> None:
    inputs = getattr(model, "_inputs_struct", None)
    outputs = getattr(model, "_outputs_struct", None)
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


def _is_subclassed(model: keras.Model) -> bool:
    return not isinstance(model, keras.Sequential) and not hasattr(model, "_inputs_struct")


def model_input_shape(model: keras.Model) -> tuple:
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


def model_input_dtype(model: keras.Model) -> tf.DType:
    if not _is_subclassed(model):
        return tf.as_dtype(keras.backend.standardize_dtype(model.inputs[0].dtype))
    leaves = leaf_layers(model)
    # Variable dtype, not compute dtype: under mixed precision the inputs stay float32.
    dtype = tf.as_dtype(leaves[0].variable_dtype) if leaves else tf.float32
    return dtype if dtype.is_floating else tf.float32


def leaf_layers(model: keras.Model) -> list:
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if not layer._layers and not isinstance(layer, keras.layers.InputLayer)
    ]


def unique_paths(variables) -> list[str]:
    paths, seen = [], {}
    for variable in variables:
        seen[variable.path] = seen.get(variable.path, 0) + 1
        count = seen[variable.path]
        paths.append(variable.path if count == 1 else f"{variable.path}#{count}")
    return paths


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
