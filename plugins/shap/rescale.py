"""shap's DeepExplainer rules on a chain of common Keras layers, without its batch of sample copies.

DeepExplainer (see `plugins.shap.explainers.DeepGraph`) runs the model forward and backward on a batch
holding every (sample, background row) pair twice: a copy of the sample and a copy of the reference.
The forward values of a pair are those of its sample and of its reference, so here the forward pass
runs once on the distinct rows (samples and background), and only the backward pass runs per pair, on
the reference's half alone (the half DeepExplainer reads), with the same rules:

- through the affine layers (Dense, Conv2D, average pooling, Flatten and Reshape, batch normalisation
  and dropout in inference mode) the ordinary gradient;
- through an element-wise activation (relu, sigmoid, tanh, softplus, elu, selu) the rescale rule
  ``(f(x) - f(r)) / (x - r)``, or the reference's own derivative where ``|x - r| < 1e-6``;
- through a max-pooling layer and a softmax, shap's own rules for them (`maxpool`, `softmax` in
  ``shap.explainers._deep.deep_tf``), written out for one pair.

About a quarter of DeepExplainer's arithmetic, with the same values: the plugin's tests compare them
with shap's DeepExplainer. Any other layer (or a model that is not a chain) gets `plan` None and the
plugin runs shap's own graph instead; so does a model whose chain does not reproduce its outputs.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

# Layers that pass their input on unchanged in inference mode.
IDENTITY_LAYERS = (
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.ActivityRegularization,
)
# Activations computed by one element-wise TensorFlow operation, which DeepExplainer rescales.
# Each as (function, its derivative from input and output), the derivative as TensorFlow's gradient
# computes it (ReluGrad: 0 at 0; EluGrad and SeluGrad read the output's sign).
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
ELEMENTWISE = {
    "relu": (tf.nn.relu, lambda x, y: tf.cast(x > 0, x.dtype)),
    "sigmoid": (tf.math.sigmoid, lambda x, y: y * (1 - y)),
    "tanh": (tf.math.tanh, lambda x, y: 1 - y * y),
    "softplus": (tf.math.softplus, lambda x, y: tf.math.sigmoid(x)),
    "elu": (tf.nn.elu, lambda x, y: tf.where(y < 0, y + 1, tf.ones_like(y))),
    "selu": (tf.nn.selu, lambda x, y: tf.where(y < 0, y + SELU_SCALE * SELU_ALPHA, SELU_SCALE * tf.ones_like(y))),
}
# DeepExplainer's thresholds below which a difference counts as none.
TINY_INPUT_STEP = 1e-6
TINY_POOL_STEP = 1e-7
# The chain must reproduce the model's outputs to this fraction of their mean size.
CHAIN_TOLERANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Step:
    """One operation of the chain: its kind (a key of `RescaleGraph`'s rules) and its layer."""

    kind: str
    layer: keras.layers.Layer | None = None
    activation: str = ""


def plan(model: keras.Model) -> tuple[Step, ...] | None:
    """The model as a chain of steps this module handles, or None (any other layer, several inputs...)."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return None
    steps: list[Step] = []
    for layer in model.layers:
        try:
            step = _layer_steps(layer)
        except (AttributeError, ValueError):  # e.g. `layer.input` of a layer called on several inputs
            return None
        if step is None:
            return None
        steps.extend(step)
    return tuple(steps)


def _layer_steps(layer) -> list[Step] | None:
    kind = type(layer)  # exact types: a subclass may compute something else
    channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
    if kind is keras.layers.InputLayer or kind in IDENTITY_LAYERS:
        return []
    if kind in (keras.layers.Flatten, keras.layers.Reshape):
        return [Step("reshape", layer)]
    if kind is keras.layers.BatchNormalization and layer.axis in (-1, len(layer.input.shape) - 1):
        return [Step("batch_norm", layer)]
    if kind in (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D) and channels_last:
        return [Step("max_pool" if kind is keras.layers.MaxPooling2D else "average_pool", layer)]
    if kind is keras.layers.Softmax and layer.axis == -1:
        return [Step("softmax")]
    if kind is keras.layers.Activation:
        return _activation_steps(layer.activation)
    plain = not getattr(layer, "lora_enabled", False) and not getattr(layer, "quantization_mode", None)
    if kind is keras.layers.Dense and plain and len(layer.input.shape) == 2:
        weighted = Step("dense", layer)
    elif kind is keras.layers.Conv2D and plain and channels_last and layer.groups == 1:
        weighted = Step("conv", layer)
    else:
        return None
    activation = _activation_steps(layer.activation)
    return None if activation is None else [weighted, *activation]


def _activation_steps(activation) -> list[Step] | None:
    name = getattr(activation, "__name__", "")
    if not getattr(activation, "__module__", "").startswith("keras.src.activations"):
        return None
    if name == "linear":
        return []
    if name == "softmax":
        return [Step("softmax")]
    return [Step("elementwise", activation=name)] if name in ELEMENTWISE else None


class RescaleGraph:
    """The chain's forward pass on distinct rows and its backward pass per pair, as plain TensorFlow
    operations reading the model's variables when they run: op by op (eager), or as one traced graph.

    Tracing the graph and optimising it on its first run cost more than the arithmetic of a whole
    explanation, and the graph runs about twice as fast afterwards: a model's first explanation runs
    eagerly, so it shows sooner; the second pays the tracing; later ones reuse the graph.
    `bench/explain.py` prints all three.
    """

    def __init__(self, steps: tuple[Step, ...], input_shape: tuple[int, ...], units: int):
        self._steps = steps
        rows = tf.TensorSpec((None, *input_shape), tf.float32)
        signature = [rows, rows, tf.TensorSpec((None, units), tf.float32)]
        self._values = tf.function(self._graph, input_signature=signature, autograph=False)

    def values(self, samples: np.ndarray, references: tf.Tensor, weights: np.ndarray, traced: bool = True):
        """(SHAP values of each sample, the chain's outputs on the samples and on the references);
        through the traced graph, or eagerly when `traced` is False."""
        run = self._values if traced else self._graph
        values, outputs, reference_outputs = run(tf.constant(samples), references, tf.constant(weights))
        return values.numpy(), outputs.numpy(), reference_outputs.numpy()

    def _graph(self, samples, references, weights):
        # Python ints when run eagerly (shape lists of constants cost one operation each), tensors when traced
        pairs = _Pairs(*(rows.shape[0] or tf.shape(rows)[0] for rows in (samples, references)))
        saved, outputs = self._forward(tf.concat([samples, references], 0))
        gradient = pairs.flat(tf.broadcast_to(weights[:, None], [pairs.n, pairs.b, weights.shape[1]]))
        for step, kept in zip(reversed(self._steps), reversed(saved), strict=True):
            gradient = self._backward(step, kept, gradient, pairs)
        steps = pairs.grid(gradient) * (samples[:, None] - references[None])
        return tf.reduce_mean(steps, axis=1), outputs[: pairs.n], outputs[pairs.n :]

    def _forward(self, rows):
        saved = []
        for step in self._steps:
            inputs, layer = rows, step.layer
            if step.kind == "elementwise":
                function, derivative = ELEMENTWISE[step.activation]
                rows = function(inputs)
                saved.append((inputs, rows, derivative(inputs, rows)))
                continue
            if step.kind == "dense":
                rows = tf.matmul(rows, layer.kernel) + (layer.bias if layer.use_bias else 0.0)
            elif step.kind == "conv":
                rows = tf.nn.convolution(
                    rows, layer.kernel, layer.strides, layer.padding.upper(), dilations=layer.dilation_rate
                )
                rows = rows + (layer.bias if layer.use_bias else 0.0)
            elif step.kind == "reshape":
                rows = tf.reshape(rows, [-1, *layer.output.shape[1:]])
            elif step.kind == "batch_norm":
                scale = tf.math.rsqrt(layer.moving_variance + layer.epsilon) * (layer.gamma if layer.scale else 1.0)
                shift = (layer.beta if layer.center else 0.0) - layer.moving_mean * scale
                rows = rows * scale + shift
            elif step.kind == "softmax":
                rows = tf.nn.softmax(rows, axis=-1)
            elif step.kind == "max_pool":
                rows = tf.nn.max_pool2d(rows, **_window(layer))
                saved.append((inputs, rows, _first_maxima(layer, inputs) if _tiles(layer, inputs) else None))
                continue
            else:
                rows = tf.nn.avg_pool2d(rows, **_window(layer))
            saved.append((inputs, rows))
        return saved, rows

    def _backward(self, step, kept, gradient, pairs: _Pairs):
        """The gradient at the step's input for each pair, from the gradient at its output."""
        inputs, layer = kept[0], step.layer
        pairs_shape = [pairs.n * pairs.b, *inputs.shape[1:]]  # the feature dimensions are static
        if step.kind == "dense":
            return tf.matmul(gradient, layer.kernel, transpose_b=True)
        if step.kind == "conv":
            return tf.nn.conv2d_transpose(
                gradient,
                layer.kernel,
                pairs_shape,
                strides=layer.strides,
                padding=layer.padding.upper(),
                dilations=layer.dilation_rate,
            )
        if step.kind == "reshape":
            return tf.reshape(gradient, pairs_shape)
        if step.kind == "batch_norm":
            scale = tf.math.rsqrt(layer.moving_variance + layer.epsilon)
            return gradient * (scale * layer.gamma if layer.scale else scale)
        if step.kind == "average_pool":
            window = _window(layer)
            return tf.raw_ops.AvgPoolGrad(
                orig_input_shape=pairs_shape,
                grad=gradient,
                ksize=[1, *window["ksize"], 1],
                strides=[1, *window["strides"], 1],
                padding=window["padding"],
            )
        grid = pairs.grid(gradient)
        if step.kind == "elementwise":
            (x_in, r_in), (x_out, r_out) = pairs.sides(inputs), pairs.sides(kept[1])
            step_in = x_in - r_in
            own = grid * pairs.sides(kept[2])[1]
            return pairs.flat(tf.where(tf.abs(step_in) < TINY_INPUT_STEP, own, grid * (x_out - r_out) / step_in))
        if step.kind == "softmax":
            return pairs.flat(_softmax_rule(*pairs.sides(inputs), grid))
        return pairs.flat(_max_pool_rule(layer, kept, grid, pairs))


@dataclasses.dataclass(frozen=True)
class _Pairs:
    """Every (sample, reference) pair of a call: the `n` samples (the first rows of the forward batch)
    by the `b` references. Per-pair tensors are (n * b, ...), sample-major; the rules see them as a
    grid (n, b, ...) and the two sides of a forward tensor as (n, 1, ...) and (1, b, ...), so that
    broadcasting pairs them up without copying rows."""

    n: int | tf.Tensor
    b: int | tf.Tensor

    def sides(self, rows):
        return rows[: self.n][:, None], rows[self.n :][None]

    def grid(self, flat):
        return tf.reshape(flat, [self.n, self.b, *flat.shape[1:]])

    def flat(self, grid):
        return tf.reshape(tf.broadcast_to(grid, [self.n, self.b, *grid.shape[2:]]), [-1, *grid.shape[2:]])


def _window(layer) -> dict:
    return {"ksize": layer.pool_size, "strides": layer.strides, "padding": layer.padding.upper()}


def _softmax_rule(x_logits, r_logits, gradient):
    """shap's softmax rule for the reference's half of each pair: the softmax written as exp, sum and
    division, each with DeepExplainer's rule (the division's two-input Shapley rule), then rescaled for
    the shift by the row's maximum."""
    x_centred = x_logits - tf.reduce_max(x_logits, axis=-1, keepdims=True)
    r_centred = r_logits - tf.reduce_max(r_logits, axis=-1, keepdims=True)
    x_exp, r_exp = tf.exp(x_centred), tf.exp(r_centred)
    x_sum = tf.reduce_sum(x_exp, axis=-1, keepdims=True)
    r_sum = tf.reduce_sum(r_exp, axis=-1, keepdims=True)
    both, neither = x_exp / x_sum, r_exp / r_sum
    x_over_r_sum, r_over_x_sum = x_exp / r_sum, r_exp / x_sum
    step_exp, step_sum = x_exp - r_exp, x_sum - r_sum
    to_exp = gradient * 0.5 * (both - r_over_x_sum + x_over_r_sum - neither) / step_exp
    to_exp = tf.where(tf.abs(step_exp) < TINY_POOL_STEP, tf.zeros_like(to_exp), to_exp)
    to_sum = gradient * 0.5 * (both - x_over_r_sum + r_over_x_sum - neither) / step_sum
    to_sum = tf.where(tf.abs(step_sum) < TINY_POOL_STEP, tf.zeros_like(to_sum), to_sum)
    at_exp = to_exp + tf.reduce_sum(to_sum, axis=-1, keepdims=True)
    step_centred = x_centred - r_centred
    at_centred = tf.where(
        tf.abs(step_centred) < TINY_INPUT_STEP, at_exp * r_exp, at_exp * (x_exp - r_exp) / step_centred
    )
    step_logits = x_logits - r_logits
    return tf.where(
        tf.abs(step_logits) < TINY_INPUT_STEP, at_centred, at_centred * step_centred / step_logits
    )


def _max_pool_rule(layer, kept, grid, pairs: _Pairs):
    """shap's max-pooling rule: each side's gradient goes to its own maxima, weighted by how far the
    pair's larger maximum lies from the other side's, then divided by the input step.

    Where the windows tile the input, the maxima come from one-hot masks of the distinct rows, else
    from TensorFlow's MaxPoolGrad on each pair's rows (which sends a window's gradient to its first
    maximum in row-major order, as the masks do).
    """
    inputs, outputs, maxima = kept
    (x_in, r_in), (x_out, r_out) = pairs.sides(inputs), pairs.sides(outputs)
    cross = tf.maximum(x_out, r_out)
    to_x, to_r = grid * (cross - r_out), grid * (x_out - cross)
    (rows, columns, channels), (height, width) = inputs.shape[1:], layer.pool_size
    if maxima is not None:

        def spread(pooled):  # (n, b, y', x', c) -> (n, b, y, x, c), each value over its window
            cells = tf.reshape(pooled, [-1, rows // height, 1, columns // width, 1, channels])
            cells = tf.broadcast_to(cells, [pairs.n * pairs.b, rows // height, height, columns // width, width, channels])
            return tf.reshape(cells, [pairs.n, pairs.b, rows, columns, channels])

        x_max, r_max = pairs.sides(maxima)
        routed = spread(to_x) * x_max + spread(to_r) * r_max
    else:
        window = {
            "ksize": [1, *layer.pool_size, 1],
            "strides": [1, *layer.strides, 1],
            "padding": layer.padding.upper(),
        }
        routed = tf.raw_ops.MaxPoolGrad(
            orig_input=pairs.flat(x_in), orig_output=pairs.flat(x_out), grad=pairs.flat(to_x), **window
        ) + tf.raw_ops.MaxPoolGrad(
            orig_input=pairs.flat(r_in), orig_output=pairs.flat(r_out), grad=pairs.flat(to_r), **window
        )
        routed = pairs.grid(routed)
    step_in = x_in - r_in
    return tf.where(tf.abs(step_in) < TINY_POOL_STEP, tf.zeros_like(routed), routed / step_in)


def _tiles(layer, inputs) -> bool:
    """Whether the pooling windows cover the input exactly once (strides = pool size, no remainder)."""
    height, width = inputs.shape[1:3]
    pool = tuple(layer.pool_size)
    return tuple(layer.strides) == pool and height % pool[0] == 0 and width % pool[1] == 0


def _first_maxima(layer, inputs):
    """1 at each window's first maximum in row-major order, else 0, for windows that tile `inputs`."""
    (height, width, channels), (pool_h, pool_w) = inputs.shape[1:], layer.pool_size
    grid = [-1, height // pool_h, pool_h, width // pool_w, pool_w, channels]
    windows = tf.transpose(tf.reshape(inputs, grid), [0, 1, 3, 5, 2, 4])  # rows, y, x, channel, dy, dx
    flat = tf.reshape(windows, [-1, *windows.shape[1:4], pool_h * pool_w])
    is_max = tf.cast(flat == tf.reduce_max(flat, axis=-1, keepdims=True), flat.dtype)
    first = is_max * tf.cast(tf.cumsum(is_max, axis=-1) == 1, flat.dtype)
    first = tf.reshape(first, [-1, *windows.shape[1:]])
    return tf.reshape(tf.transpose(first, [0, 1, 4, 2, 5, 3]), [-1, height, width, channels])


def chain_matches(chain_outputs: np.ndarray, model_outputs: np.ndarray) -> bool:
    """Whether the chain's outputs are the model's (else the model is not the chain `plan` read)."""
    scale = max(float(np.mean(np.abs(model_outputs))), 1e-12)
    return float(np.max(np.abs(chain_outputs - model_outputs), initial=0.0)) <= CHAIN_TOLERANCE * scale
