"""The convolution lesson's view of a real CNN: the learner's model when it has a Conv2D, else dlviz's default
digits CNN (untrained, seeded). Its first Conv2D's filters and their responses to the sample, its Flatten
layer's vector, and the receptive field of a unit of a deeper layer: from the kernel sizes, strides,
dilations and padding of the layers on the way, and checked against the unit's gradient (tf.GradientTape).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz import models
from plugins.convolution.result import FieldLayer, FlattenedModel, NetworkView, ReceptiveField
from plugins.convolution.sliding import same_padding


def default_cnn_note(has_model: bool) -> dlviz.Note:
    """Why the untrained default CNN stands in, and how to get a trained one."""
    why = (
        ("The loaded model has no Conv2D layer", "已加载的模型没有 Conv2D 层")
        if has_model
        else ("No CNN is loaded", "尚未加载卷积神经网络 (CNN)")
    )
    return dlviz.Note(
        f"{why[0]}, so the filters below are the untrained (random) starting filters of dlviz's default digits "
        "CNN; the receptive field does not depend on training. To see filters a CNN has learned, choose an image "
        "dataset (e.g. Digits) and the CNN architecture in the sidebar, train it, and open this page again.",
        f"{why[1]}，所以下面的卷积核是 dlviz 默认 digits CNN 未经训练的（随机）初始卷积核；感受野 (receptive field) "
        "与训练无关。要看 CNN 学到的卷积核，请在侧边栏选择图像数据集（例如 Digits）和 CNN 网络结构，训练后再打开本页。",
    )


def first_conv(model: keras.Model) -> tuple[keras.Model, keras.layers.Conv2D] | None:
    """The (sub)model whose own layers hold the first channels-last Conv2D, and that layer; None if there is none."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and layer.data_format == "channels_last":
            return model, layer
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found = first_conv(layer)
            if found is not None:
                return found
    return None


def usable_cnn(handle) -> tuple[keras.Model, keras.layers.Conv2D] | None:
    """The learner's CNN and its first Conv2D, when it has one we can probe layer by layer (one image input)."""
    if handle is None:
        return None
    found = first_conv(handle.model)
    if found is None:
        return None
    cnn, _ = found
    try:
        inputs = cnn.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        return None
    return found


def default_cnn(digits, seed: int) -> tuple[keras.Model, keras.layers.Conv2D]:
    """dlviz's default CNN for the bundled digits (models.build's defaults, as the sidebar builds it), untrained."""
    return first_conv(models.build("cnn", digits, seed=seed))


def cnn_sample(cnn: keras.Model, own_model: bool, dataset, digit: int, image: np.ndarray) -> tuple:
    """The input the CNN is shown: a test image of class `digit` from the loaded dataset when it fits the
    model, else the lesson's digit resized by keras.ops.image.resize and repeated over the input channels."""
    rows, cols, channels = (int(size) if size else None for size in cnn.inputs[0].shape[1:])
    fits = (
        own_model
        and dataset is not None
        and getattr(dataset, "kind", "") == "image"
        and tuple(dataset.input_shape) == (rows, cols, channels)
    )
    if fits:
        labels = np.asarray(dataset.y_test).reshape(len(dataset.x_test), -1)[:, 0]
        classified = dataset.task == "classification"
        matches = np.flatnonzero(labels == digit) if classified else np.array([], int)
        index = int(matches[0]) if matches.size else 0
        named = f" ({dataset.class_label(int(labels[index]))})" if classified else ""
        named_zh = f"（{dataset.class_label(int(labels[index]), 'zh')}）" if classified else ""
        note = dlviz.Note(
            f"The CNN sees test image {index} of {dataset.name}{named}.",
            f"CNN 看到的是 {dataset.name} 的第 {index} 张测试图像{named_zh}。",
        )
        return np.asarray(dataset.x_test[index], np.float32), note
    rows, cols, channels = rows or image.shape[0], cols or image.shape[1], channels or 1
    resized = keras.ops.image.resize(image[:, :, None].astype(np.float32), (rows, cols))
    sample = keras.ops.convert_to_numpy(keras.ops.repeat(resized, channels, axis=-1))
    resized_to = (rows, cols) != image.shape
    note = dlviz.Note(
        "The CNN sees the lesson's digit"
        + (f", resized to {rows}×{cols}" if resized_to else "")
        + (f", repeated over its {channels} input channels." if channels > 1 else "."),
        "CNN 看到的是本课的数字图像"
        + (f"，缩放到 {rows}×{cols}" if resized_to else "")
        + (f"，并复制到 {channels} 个输入通道。" if channels > 1 else "。"),
    )
    return sample, note


def spatial_chain(cnn: keras.Model) -> list[keras.layers.Layer]:
    """The CNN's layers from its input as long as each reads the previous one's 4-D output alone (a chain):
    the stem of a branched model, all of a Sequential CNN up to its Flatten."""
    chain, current = [], cnn.inputs[0]
    for layer in cnn.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            source, output = layer.input, layer.output
        except (AttributeError, ValueError):
            break
        if source is not current or len(getattr(output, "shape", ())) != 4:
            break
        chain.append(layer)
        current = output
    return chain


def window_of(layer: keras.layers.Layer) -> tuple | None:
    """(kernel, stride, dilation, padding) per axis of a convolution or pooling layer; None for other layers."""
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return None
    if hasattr(layer, "kernel_size") and len(layer.kernel_size) == 2:
        return tuple(layer.kernel_size), tuple(layer.strides), tuple(layer.dilation_rate), layer.padding
    if isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
        return tuple(layer.pool_size), tuple(layer.strides), (1, 1), layer.padding
    return None


def field_layers(chain: list[keras.layers.Layer]) -> list[keras.layers.Layer]:
    """The layers of the chain that widen the field (convolutions and poolings), up to the first layer whose
    effect on positions is unknown (it changes the map's size but is neither)."""
    widening = []
    for layer in chain:
        if window_of(layer) is not None:
            widening.append(layer)
        elif not isinstance(layer, keras.layers.ZeroPadding2D) and tuple(layer.input.shape[1:3]) != tuple(
            layer.output.shape[1:3]
        ):
            break
    return widening


def choose_field_layer(cnn: keras.Model, position: int) -> keras.layers.Layer:
    """The `position`-th convolution or pooling layer of the chain (1 = the first), 0 = the deepest."""
    candidates = field_layers(spatial_chain(cnn))
    if position > len(candidates):
        names = ", ".join(f"{index} = {layer.name}" for index, layer in enumerate(candidates, start=1))
        raise dlviz.ParamsError(
            f"Layer {position} is asked for, but {cnn.name} has {len(candidates)} convolution or pooling layers "
            "in a chain from its input.",
            f"choose 0 (the deepest) or one of: {names}.",
        )
    return candidates[position - 1]


def receptive_field(
    cnn: keras.Model,
    layer: keras.layers.Layer,
    unit: tuple[int, int],
    sample: np.ndarray,
    also: tuple = (),
) -> tuple[ReceptiveField, list[np.ndarray]]:
    """The input pixels unit `unit` (row, column; -1 = the middle) of `layer` sees, and its input gradient;
    with the sample's outputs of the layers in `also`, from the same forward pass."""
    chain = spatial_chain(cnn)
    chain = chain[: chain.index(layer) + 1]
    out_rows, out_cols, channels = (int(size) for size in layer.output.shape[1:])
    unit = tuple(
        (size - 1) // 2 if index < 0 else index
        for index, size in zip(unit, (out_rows, out_cols), strict=True)
    )
    if not (0 <= unit[0] < out_rows and 0 <= unit[1] < out_cols):
        raise dlviz.ParamsError(
            f"Unit ({unit[0]}, {unit[1]}) is outside {layer.name}'s {out_rows}×{out_cols} output.",
            f"choose a row below {out_rows} and a column below {out_cols} (-1: the middle).",
        )
    rows, cols = {unit[0]}, {unit[1]}
    for current in reversed(chain):
        n_rows, n_cols = (int(size) for size in current.input.shape[1:3])
        window = window_of(current)
        if isinstance(current, keras.layers.ZeroPadding2D):
            (top, _), (left, _) = current.padding
            rows = {a - top for a in rows if 0 <= a - top < n_rows}
            cols = {b - left for b in cols if 0 <= b - left < n_cols}
        elif window is not None:
            kernel, stride, dilation, padding = window
            rows = _taps(rows, n_rows, kernel[0], stride[0], dilation[0], padding)
            cols = _taps(cols, n_cols, kernel[1], stride[1], dilation[1], padding)
    x = tf.constant(sample[None].astype(np.float32))
    probe = keras.Model(cnn.inputs[0], [layer.output, *(other.output for other in also)])
    with tf.GradientTape() as tape:
        tape.watch(x)
        results = probe(x, training=False)
        # A model of one output returns it bare, not in a list.
        output, *others = results if isinstance(results, list | tuple) else [results]
        unit_value = tf.reduce_sum(output[0, unit[0], unit[1], :])
    gradient = np.abs(np.asarray(tape.gradient(unit_value, x)[0], np.float64)).sum(axis=-1)
    field = ReceptiveField(
        layer=layer.name,
        unit=unit,
        layer_shape=(out_rows, out_cols, channels),
        layer_output=np.asarray(output[0], np.float32).sum(axis=-1),
        rows=np.array(sorted(rows), int),
        cols=np.array(sorted(cols), int),
        gradient=gradient,
        chain=_field_growth(chain),
    )
    return field, [np.asarray(other[0], np.float32) for other in others]


def _taps(positions: set, n: int, kernel: int, stride: int, dilation: int, padding: str) -> set:
    """Input positions the windows at `positions` read along one axis (padding left out)."""
    before = same_padding(n, kernel, stride=stride, dilation=dilation) // 2 if padding == "same" else 0
    taps = {a * stride - before + t * dilation for a in positions for t in range(kernel)}
    return {position for position in taps if 0 <= position < n}


def _field_growth(chain: list[keras.layers.Layer]) -> tuple[FieldLayer, ...]:
    """Field size r and jump j after each convolution or pooling: r ← r + (k − 1)·d·j, j ← j·s (along rows)."""
    size, jump, growth = 1, 1, []
    for layer in chain:
        window = window_of(layer)
        if window is None:
            continue
        kernel, stride, dilation = window[0][0], window[1][0], window[2][0]
        size += (kernel - 1) * dilation * jump
        jump *= stride
        growth.append(FieldLayer(layer.name, type(layer).__name__, kernel, stride, dilation, size, jump))
    return tuple(growth)


def flatten_layers(cnn: keras.Model) -> tuple[keras.layers.Layer | None, keras.layers.Layer | None]:
    """The CNN's first Flatten layer and the Dense layer after it (None for what it lacks)."""
    layers = list(cnn.layers)
    flat = next((layer for layer in layers if isinstance(layer, keras.layers.Flatten)), None)
    if flat is None:
        return None, None
    after = layers[layers.index(flat) :]
    return flat, next((layer for layer in after if isinstance(layer, keras.layers.Dense)), None)


def network_view(
    ctx: dlviz.Context, digits, digit: int, image: np.ndarray, field_position: int, unit: tuple
) -> NetworkView:
    """The CNN part of the lesson; `digits` is the bundled set the default CNN is built for."""
    found = usable_cnn(ctx.model)
    own_model = found is not None
    cnn, conv = found if own_model else default_cnn(digits, ctx.seed)
    sample, sample_note = cnn_sample(cnn, own_model, ctx.dataset, digit, image)
    kernel = keras.ops.convert_to_numpy(conv.kernel)
    filters = keras.ops.convert_to_numpy(keras.ops.sum(kernel, axis=2))  # [k_h, k_w, filters]
    flat, dense = flatten_layers(cnn)
    field, (responses, *vector) = receptive_field(
        cnn, choose_field_layer(cnn, field_position), unit, sample, also=(conv, flat) if flat else (conv,)
    )
    flattened = (
        FlattenedModel(
            layer=flat.name,
            input_shape=tuple(int(size) for size in flat.input.shape[1:4]),
            vector=vector[0],
            dense_layer=dense.name if dense is not None else "",
            dense_units=int(dense.units) if dense is not None else 0,
        )
        if flat is not None
        else None
    )
    return NetworkView(
        model_name=cnn.name,
        own_model=own_model,
        sample=sample,
        sample_note=sample_note,
        conv_layer=conv.name,
        filters=np.moveaxis(filters, -1, 0),
        input_channels=int(kernel.shape[2]),
        biases=keras.ops.convert_to_numpy(conv.bias)
        if conv.use_bias
        else np.zeros(kernel.shape[-1], np.float32),
        responses=np.moveaxis(responses, -1, 0),
        activation=getattr(conv.activation, "__name__", str(conv.activation)),
        flatten=flattened,
        field=field,
    )
