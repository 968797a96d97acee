"""The convolution lesson's sliding windows, all numbers from Keras: a one-filter keras.layers.Conv2D over a
digit with each window's products (keras.ops on keras.ops.image.extract_patches), then MaxPooling2D and
AveragePooling2D over its feature map, and keras.layers.Flatten of the pooled map.

>>> output_size(8, 3, stride=2, dilation=1, padding="valid")
3
>>> output_size(8, 3, stride=2, dilation=1, padding="same"), same_padding(8, 3, stride=2, dilation=1)
(4, 1)
"""

from __future__ import annotations

import math

import keras
import numpy as np

import dlviz
from plugins.convolution.result import ConvolutionSteps, PoolingSteps, Windows

PRESET_KERNELS = {
    "vertical_edge": np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]),
    "horizontal_edge": np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]),
    "blur": np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0,
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    "outline": np.array([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]),
}
PADDINGS = ("valid", "same")


def output_size(n: int, kernel: int, *, stride: int, dilation: int, padding: str) -> int:
    """Output length along one axis of a Keras convolution or pooling of `n` inputs (shown as a formula;
    the tests hold it to Keras' own output shapes)."""
    if padding == "same":
        return math.ceil(n / stride)
    return (n - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(n: int, kernel: int, *, stride: int, dilation: int) -> int:
    """Zeros Keras adds along one axis for padding="same": enough for ceil(n / stride) windows."""
    out = math.ceil(n / stride)
    return max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)


def check_window(n: int, kernel: int, dilation: int, padding: str, what: str, what_zh: str) -> None:
    """Refuse a valid window wider than the input (Keras would return an empty map)."""
    span = dilation * (kernel - 1) + 1
    if padding == "valid" and span > n:
        raise dlviz.ParamsError(
            f"The {what} spans {span} pixels (size {kernel}, dilation {dilation}) but its input is only {n} wide, "
            f"so padding='valid' leaves no output ({what_zh}).",
            "choose padding 'same', a smaller dilation, or a smaller window.",
        )


def windows(
    n_rows: int, n_cols: int, kernel: tuple[int, int], stride: int, dilation: int, padding: str
) -> Windows:
    """The input rows and columns every window reads, Keras' padding rule included."""
    axes = []
    for n, k in ((n_rows, kernel[0]), (n_cols, kernel[1])):
        total = same_padding(n, k, stride=stride, dilation=dilation) if padding == "same" else 0
        out = output_size(n, k, stride=stride, dilation=dilation, padding=padding)
        # Keras (like TensorFlow) puts the smaller half of an odd padding before the first row.
        starts = np.arange(out) * stride - total // 2
        axes.append((starts[:, None] + dilation * np.arange(k)[None, :], total))
    (rows, pad_rows), (cols, pad_cols) = axes
    return Windows(rows, cols, pad_rows // 2, pad_cols // 2, (pad_rows, pad_cols))


def convolve(
    image: np.ndarray, kernel: np.ndarray, bias: float, name: str, stride: int, dilation: int, padding: str
) -> ConvolutionSteps:
    """Slide `kernel` over the grey `image` with a one-filter keras.layers.Conv2D; each window's products too."""
    kernel = np.asarray(kernel, np.float32)
    check_window(image.shape[0], kernel.shape[0], dilation, padding, "kernel", "卷积核超出输入")
    layer = keras.layers.Conv2D(
        1, kernel.shape, strides=stride, padding=padding, dilation_rate=dilation, name="lesson_conv"
    )
    batch = image[None, :, :, None].astype(np.float32)
    layer.build(batch.shape)
    layer.set_weights([kernel[:, :, None, None], np.array([bias], np.float32)])
    feature_map = keras.ops.convert_to_numpy(layer(batch))[0, :, :, 0]
    patches = keras.ops.image.extract_patches(
        batch, kernel.shape, strides=(stride, stride), dilation_rate=dilation, padding=padding
    )
    out_h, out_w = feature_map.shape
    windows_of_cells = keras.ops.reshape(patches, (out_h, out_w, *kernel.shape))
    products = keras.ops.multiply(windows_of_cells, keras.ops.convert_to_tensor(kernel))
    sums = keras.ops.add(keras.ops.sum(products, axis=(2, 3)), bias)
    return ConvolutionSteps(
        kernel_name=name,
        kernel=kernel,
        bias=float(bias),
        stride=stride,
        padding=padding,
        dilation=dilation,
        windows=windows(*image.shape, kernel.shape, stride, dilation, padding),
        products=keras.ops.convert_to_numpy(products),
        sums=keras.ops.convert_to_numpy(sums),
        feature_map=feature_map,
        keras_output_shape=tuple(int(size) for size in layer.compute_output_shape(batch.shape)[1:3]),
    )


def pool(feature_map: np.ndarray, pool_size: int, stride: int, padding: str) -> PoolingSteps:
    """MaxPooling2D and AveragePooling2D over `feature_map`, with each window's values and its maximum's place."""
    check_window(feature_map.shape[0], pool_size, 1, padding, "pooling window", "池化窗口超出特征图")
    batch = feature_map[None, :, :, None].astype(np.float32)
    options = {"pool_size": pool_size, "strides": stride, "padding": padding}
    max_layer = keras.layers.MaxPooling2D(**options)
    average_layer = keras.layers.AveragePooling2D(**options)
    max_pooled = keras.ops.convert_to_numpy(max_layer(batch))[0, :, :, 0]
    average_pooled = keras.ops.convert_to_numpy(average_layer(batch))[0, :, :, 0]
    places = windows(*feature_map.shape, (pool_size, pool_size), stride, 1, padding)
    rows = places.rows[:, None, :, None]
    cols = places.cols[None, :, None, :]
    inside = (rows >= 0) & (rows < feature_map.shape[0]) & (cols >= 0) & (cols < feature_map.shape[1])
    values = np.where(
        inside,
        feature_map[np.clip(rows, 0, feature_map.shape[0] - 1), np.clip(cols, 0, feature_map.shape[1] - 1)],
        np.nan,
    )
    out_h, out_w = max_pooled.shape
    # Padding never wins a max pooling: Keras pads with −∞.
    candidates = keras.ops.reshape(
        keras.ops.convert_to_tensor(np.where(inside, values, -np.inf)), (out_h, out_w, -1)
    )
    flat = keras.ops.convert_to_numpy(keras.ops.argmax(candidates, axis=-1))
    return PoolingSteps(
        pool_size=pool_size,
        stride=stride,
        padding=padding,
        windows=places,
        window_values=values.astype(np.float32),
        argmax=np.stack(np.divmod(flat, pool_size), axis=-1),
        max_pooled=max_pooled,
        average_pooled=average_pooled,
        keras_output_shape=tuple(int(size) for size in max_layer.compute_output_shape(batch.shape)[1:3]),
    )


def flatten(pooled: np.ndarray) -> np.ndarray:
    """keras.layers.Flatten of one pooled map (rows, then columns, then channels: row-major)."""
    return keras.ops.convert_to_numpy(keras.layers.Flatten()(pooled[None, :, :, None].astype(np.float32)))[0]
