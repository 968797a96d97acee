"""Which layer feeds which: traced from one symbolic call of the model, for any Keras model.

Every leaf layer's ``call`` is wrapped for one trace (as `dlviz.ModelHandle` does to capture
activations) to note the tensors it receives and returns. A call's inputs are then followed back
through the TensorFlow graph, across raw ops such as ``x + y`` in a subclassed model, to the leaf calls
(or the model's input) that produced them. So Sequential, Functional (branches, residual adds), nested
and subclassed models all give their real connections, and the calls line up with ``handle.layers``.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

import dlviz
from dlviz.handle import input_signature, leaf_layers  # as dlviz.wrap reads them (recurrent layers whole)


def input_source(index: int) -> int:
    """The source index of edges from the model's input `index` (negative: -1 is the first input)."""
    return -1 - index


@dataclasses.dataclass(frozen=True)
class Topology:
    """Edges between leaf calls (indices of ``handle.layers``; `input_source(k)` for the model's input k),
    the calls whose outputs make the model's output, each call's enclosing sub-models (outermost first),
    and the model's inputs as (name, shape)."""

    inputs: tuple[tuple[str, str], ...]
    edges: tuple[tuple[int, int], ...]
    outputs: tuple[int, ...]
    containers: tuple[tuple[tuple[str, str], ...], ...]  # per call: ((name, class name), ...)


def enclosing(model: keras.Model, leaves: list) -> dict[int, tuple[tuple[str, str], ...]]:
    """id(leaf layer) -> the sub-models (or composite layers) around it, outermost first."""
    leaf_ids = {id(layer) for layer in leaves}
    found: dict[int, tuple[tuple[str, str], ...]] = {}

    def walk(layer, path):
        for child in layer._flatten_layers(include_self=False, recursive=False):
            if id(child) in leaf_ids:
                found.setdefault(id(child), path)
            elif child._layers:
                walk(child, (*path, (child.name, type(child).__name__)))

    walk(model, ())
    return found


def trace(handle) -> Topology:
    """The connections of `handle.model` (a `dlviz.ModelHandle`), from one trace in a `tf.function`."""
    model = handle.model
    leaves = leaf_layers(model)
    calls: list[tuple[object, list, list]] = []
    analysis: dict[str, object] = {}

    def wrapped(layer, original):
        def call(*args, **kwargs):
            output = original(*args, **kwargs)
            calls.append((layer, _tensors((args, kwargs)), _tensors(output)))
            return output

        return call

    signature = input_signature(model)

    def forward(*inputs):
        if signature.structure is None:
            called = inputs[0]
        elif isinstance(signature.structure, dict):
            called = dict(zip(signature.names, inputs, strict=True))
        else:
            called = list(inputs)
        outputs = model(called, training=False)
        analysis["edges"], analysis["outputs"] = _connections(calls, inputs, _tensors(outputs))
        return outputs

    specs = [
        tf.TensorSpec((None, *shape), dtype)
        for shape, dtype in zip(signature.shapes, signature.dtypes, strict=True)
    ]
    originals = [(layer, layer.__dict__.get("call")) for layer in leaves]
    try:
        for layer in leaves:
            object.__setattr__(layer, "call", wrapped(layer, layer.call))
        tf.function(forward).get_concrete_function(*specs)
    finally:
        for layer, own_call in originals:
            if own_call is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own_call)
    if len(calls) != len(handle.layers):
        raise dlviz.ModelError(
            f"Tracing {model.name!r} called {len(calls)} layers where dlviz.wrap found {len(handle.layers)}.",
            "wrap the model again (dlviz.wrap) after changing its layers.",
        )
    around = enclosing(model, leaves)
    return Topology(
        inputs=tuple(
            (name, str((None, *shape))) for name, shape in zip(signature.names, signature.shapes, strict=True)
        ),
        edges=tuple(analysis["edges"]),
        outputs=tuple(analysis["outputs"]),
        containers=tuple(around.get(id(layer), ()) for layer, _, _ in calls),
    )


def _tensors(structure) -> list:
    return [value for value in tf.nest.flatten(structure) if isinstance(value, tf.Tensor)]


def _connections(calls, model_inputs, model_outputs):
    """(edges, output calls): for each call, the latest earlier calls (or the input) its inputs come from."""
    producers: dict = {}
    for index, (_, _, outputs) in enumerate(calls):
        for tensor in outputs:
            producers.setdefault(tensor.ref(), []).append(index)

    def sources(tensors, before: int) -> set[int]:
        found, seen, stack = set(), set(), list(tensors)
        while stack:
            tensor = stack.pop()
            if tensor.ref() in seen:
                continue
            seen.add(tensor.ref())
            inputs = [index for index, model_input in enumerate(model_inputs) if tensor is model_input]
            if inputs:
                found.add(input_source(inputs[0]))
                continue
            # A layer that returns its input (dropout at inference) is the latest producer of that tensor.
            earlier = [index for index in producers.get(tensor.ref(), []) if index < before]
            if earlier:
                found.add(earlier[-1])
            elif tensor.op.type != "Placeholder":  # other placeholders are captured weights
                stack.extend(tensor.op.inputs)
        return found

    edges = []
    for index, (_, inputs, _) in enumerate(calls):
        feeding = sources(inputs, index) or {index - 1 if index else input_source(0)}  # unknown: the previous
        edges.extend((source, index) for source in sorted(feeding))
    return edges, sorted(sources(model_outputs, len(calls)))
