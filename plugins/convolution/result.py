"""What the convolution lesson computes: a 2-D convolution and two poolings of one digit worked out window by
window, the flattened vector, and a CNN's first filters, their responses and a unit's receptive field."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz

# Preset kernels by name: (English, Chinese) labels; their values are in sliding.PRESET_KERNELS.
KERNEL_NAMES = {
    "vertical_edge": ("vertical edges (Sobel x)", "竖直边缘 (Sobel x)"),
    "horizontal_edge": ("horizontal edges (Sobel y)", "水平边缘 (Sobel y)"),
    "blur": ("blur (Gaussian 3×3)", "模糊（3×3 高斯）"),
    "sharpen": ("sharpen", "锐化"),
    "outline": ("outline (Laplacian)", "轮廓（拉普拉斯）"),
    "learned": ("a learned filter of the CNN's first layer", "CNN 第一层学到的卷积核"),
}


@dataclasses.dataclass(frozen=True)
class Windows:
    """Where a sliding window stands for each output cell, in input coordinates, row-major over the output.

    `rows[i]` / `cols[j]` are the input rows / columns the taps of output row i / column j read (the window's
    top-left plus multiples of the dilation); positions outside 0..n-1 are padding. `pad_top` / `pad_left` are
    the padding Keras adds before the first row / column.
    """

    rows: np.ndarray  # [out_h, k_h] int
    cols: np.ndarray  # [out_w, k_w] int
    pad_top: int
    pad_left: int
    pad_total: tuple[int, int]  # padding added along rows and columns in all (Keras puts the odd one after)


@dataclasses.dataclass(frozen=True)
class ConvolutionSteps:
    """One Conv2D with a single filter slid over the digit: `feature_map` is keras.layers.Conv2D's output;
    `products` are the window's input values times the kernel (keras.ops on keras.ops.image.extract_patches),
    whose sum plus `bias` is the output cell."""

    kernel_name: str
    kernel: np.ndarray  # [k_h, k_w]
    bias: float
    stride: int
    padding: str
    dilation: int
    windows: Windows
    products: np.ndarray  # [out_h, out_w, k_h, k_w]
    sums: np.ndarray  # [out_h, out_w] sum of products + bias
    feature_map: np.ndarray  # [out_h, out_w] keras.layers.Conv2D
    keras_output_shape: tuple[int, int]  # Conv2D.compute_output_shape, rows and columns


@dataclasses.dataclass(frozen=True)
class PoolingSteps:
    """MaxPooling2D and AveragePooling2D over the convolution's feature map, window by window. Padded positions
    take no part: max pooling pads with −∞, average pooling divides by the cells inside the map only."""

    pool_size: int
    stride: int
    padding: str
    windows: Windows
    window_values: np.ndarray  # [out_h, out_w, p, p], NaN at padded positions
    argmax: (
        np.ndarray
    )  # [out_h, out_w, 2] row and column (within the window) of the maximum, by keras.ops.argmax
    max_pooled: np.ndarray  # [out_h, out_w] keras.layers.MaxPooling2D
    average_pooled: np.ndarray  # [out_h, out_w] keras.layers.AveragePooling2D
    keras_output_shape: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class FlattenedModel:
    """The CNN's own Flatten layer on the sample: the feature maps it reads and the vector it passes on."""

    layer: str
    input_shape: tuple[int, int, int]  # rows, columns, channels
    vector: np.ndarray  # [rows * cols * channels], keras.layers.Flatten's output
    dense_layer: str  # the Dense layer the vector feeds ("" when none follows)
    dense_units: int


@dataclasses.dataclass(frozen=True)
class FieldLayer:
    """One layer on the way to the chosen unit, with the receptive field of its units so far."""

    name: str
    kind: str
    kernel: int  # window size along rows (1 for layers that act per pixel)
    stride: int
    dilation: int
    size: int  # receptive field of one unit of this layer, in input pixels along rows
    jump: int  # input pixels between neighbouring units of this layer


@dataclasses.dataclass(frozen=True)
class ReceptiveField:
    """The input pixels one unit of a deeper layer depends on, from the layers' kernel sizes, strides,
    dilations and padding, and the gradient of that unit (summed over its channels) with respect to the input,
    by tf.GradientTape on the CNN itself."""

    layer: str
    unit: tuple[int, int]  # row, column in the layer's output
    layer_shape: tuple[int, int, int]
    layer_output: np.ndarray  # [rows, cols] the layer's output on the sample, summed over channels
    rows: np.ndarray  # input rows in the field, sorted
    cols: np.ndarray  # input columns in the field, sorted
    gradient: np.ndarray  # [H, W] |∂ unit / ∂ input|, summed over input channels
    chain: tuple[FieldLayer, ...]  # the spatial layers from the input to `layer`

    @property
    def mask(self) -> np.ndarray:
        """[H, W] True on the field's pixels."""
        mask = np.zeros(self.gradient.shape, bool)
        mask[np.ix_(self.rows, self.cols)] = True
        return mask

    @property
    def gradient_outside(self) -> float:
        """The largest |gradient| outside the field: 0 when the field is right."""
        outside = self.gradient[~self.mask]
        return float(outside.max()) if outside.size else 0.0


@dataclasses.dataclass(frozen=True)
class NetworkView:
    """The CNN's first Conv2D: its filters and their responses to the sample; its Flatten; a receptive field."""

    model_name: str
    own_model: bool  # False: the untrained default CNN stands in for a missing one
    sample: np.ndarray  # [H, W, C] the input the CNN was run on
    sample_note: dlviz.Note
    conv_layer: str
    filters: np.ndarray  # [F, k_h, k_w] the kernels, summed over input channels when there are several
    input_channels: int
    biases: np.ndarray  # [F]
    responses: np.ndarray  # [F, H', W'] the layer's own output (after its activation)
    activation: str
    flatten: FlattenedModel | None
    field: ReceptiveField


@dataclasses.dataclass(frozen=True)
class ConvolutionResult:
    digit: int
    sample_index: int  # in the digits' test split
    learned_filter: int  # the CNN filter used as the kernel; -1 for a preset kernel
    image: np.ndarray  # [8, 8] grey levels in [0, 1]
    convolution: ConvolutionSteps
    pooling: PoolingSteps
    flattened: np.ndarray  # [n] keras.layers.Flatten of the max-pooled map
    network: NetworkView
    page: dlviz.Page
