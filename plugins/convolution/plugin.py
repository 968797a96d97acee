"""The `convolution` plugin: its controls and its compute."""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

import dlviz
from dlviz import datasets
from dlviz.plugin import tr
from plugins.convolution.figures import convolution_figure, flatten_figure, pooling_figure
from plugins.convolution.formulas import lesson_formulas
from plugins.convolution.network import default_cnn_note, network_view, usable_cnn
from plugins.convolution.network_figures import field_figure, field_growth_figure, filters_figure
from plugins.convolution.result import KERNEL_NAMES, ConvolutionResult
from plugins.convolution.sliding import PADDINGS, PRESET_KERNELS, convolve, flatten, pool

LESSON_DATASET = "digits"


@dataclasses.dataclass(frozen=True)
class Params:
    digit: int = dlviz.param(
        3,
        label="Digit",
        label_zh="数字",
        choices=tuple(range(10)),
        help=f"The first test image of this digit in the bundled {LESSON_DATASET} set (8×8 grey pixels).",
        help_zh=f"内置 {LESSON_DATASET} 数据集中这个数字的第一张测试图像（8×8 灰度像素）。",
    )
    kernel: str = dlviz.param(
        "vertical_edge",
        label="Kernel",
        label_zh="卷积核 (kernel)",
        choices=tuple(KERNEL_NAMES),
        choice_labels={name: english for name, (english, _) in KERNEL_NAMES.items()},
        choice_labels_zh={name: chinese for name, (_, chinese) in KERNEL_NAMES.items()},
        help="A classic 3×3 image filter, or one filter of the CNN's first Conv2D layer (with its bias).",
        help_zh="经典的 3×3 图像滤波器，或 CNN 第一个 Conv2D 层中的一个卷积核（连同其偏置）。",
    )
    learned_filter: int = dlviz.param(
        0,
        label="Learned filter",
        label_zh="学到的卷积核编号",
        min=0,
        max=511,
        step=1,
        help="Which filter of the CNN's first Conv2D layer the 'learned' kernel is (0 = the first).",
        help_zh="选择“学到的卷积核”时，用 CNN 第一个 Conv2D 层的第几个卷积核（0 = 第一个）。",
    )
    stride: int = dlviz.param(
        1,
        label="Stride",
        label_zh="步幅 (stride)",
        min=1,
        max=4,
        step=1,
        help="How many pixels the kernel moves between neighbouring output cells.",
        help_zh="相邻两个输出单元之间卷积核移动的像素数。",
    )
    padding: str = dlviz.param(
        "valid",
        label="Padding",
        label_zh="填充 (padding)",
        choices=PADDINGS,
        help="valid: the kernel stays inside the image, the map shrinks; same: zeros around the image keep "
        "ceil(n / stride) outputs.",
        help_zh="valid：卷积核只在图像内部滑动，特征图变小；same：在图像四周补零，输出保持 ceil(n / 步幅) 个。",
    )
    dilation: int = dlviz.param(
        1,
        label="Dilation",
        label_zh="扩张率 (dilation)",
        min=1,
        max=3,
        step=1,
        help="Spacing of the kernel's taps (dilated or atrous convolution); Keras allows it only with stride 1.",
        help_zh="卷积核各抽头之间的间隔（空洞卷积 / 扩张卷积）；Keras 只允许在步幅为 1 时使用。",
    )
    pool_size: int = dlviz.param(
        2,
        label="Pooling window",
        label_zh="池化窗口",
        min=1,
        max=4,
        step=1,
        help="Side of the square window that max and average pooling reduce to one value.",
        help_zh="最大池化和平均池化把多大的正方形窗口缩成一个值。",
    )
    pool_stride: int = dlviz.param(
        0,
        label="Pooling stride",
        label_zh="池化步幅",
        min=0,
        max=4,
        step=1,
        help="Pixels between neighbouring pooling windows; 0 = the window size (Keras' default).",
        help_zh="相邻池化窗口之间的像素数；0 = 等于窗口大小（Keras 的默认值）。",
    )
    pool_padding: str = dlviz.param(
        "valid",
        label="Pooling padding",
        label_zh="池化填充",
        choices=PADDINGS,
        help="valid: windows stay inside the feature map; same: windows may hang over its edge (padding is "
        "ignored, not counted as zeros).",
        help_zh="valid：窗口只在特征图内部；same：窗口可以越过边缘（填充部分被忽略，不当作零）。",
    )
    field_layer: int = dlviz.param(
        0,
        label="Receptive field of layer",
        label_zh="感受野所属的层",
        min=0,
        max=50,
        step=1,
        help="Which convolution or pooling layer of the CNN, counted from the input (1 = the first); 0 = the "
        "deepest one before Flatten.",
        help_zh="CNN 中从输入数起的第几个卷积层或池化层（1 = 第一个）；0 = Flatten 之前最深的那一层。",
    )
    unit_row: int = dlviz.param(
        -1,
        label="Unit row",
        label_zh="单元所在行",
        min=-1,
        max=255,
        step=1,
        help="Row of the unit whose receptive field is drawn, in that layer's output; -1 = the middle.",
        help_zh="要画出感受野的那个单元在该层输出中的行号；-1 = 中间。",
    )
    unit_col: int = dlviz.param(
        -1,
        label="Unit column",
        label_zh="单元所在列",
        min=-1,
        max=255,
        step=1,
        help="Column of that unit; -1 = the middle.",
        help_zh="该单元的列号；-1 = 中间。",
    )


class Convolution(dlviz.Plugin):
    r"""Convolution step by step on a real digit (8×8, from the bundled digits set): a 3×3 kernel (edges,
    blur, sharpen, outline, or a filter your CNN learned) slides over the image with the stride, padding and
    dilation you choose; for each output cell the window is highlighted, its inputs are multiplied by the
    kernel element by element and summed, $y_{i,j} = b + \sum_{u,v} w_{u,v}\, x_{is+ud-p,\, js+vd-p}$, and the
    feature map grows cell by cell (play or drag the slider). Every number comes from
    `keras.layers.Conv2D` with the same weights. The output size follows
    $o = \lfloor (n + p - d(k-1) - 1)/s \rfloor + 1$, shown with the current numbers. Then max and average
    pooling of that feature map the same way (`MaxPooling2D`, `AveragePooling2D`), and Flatten, which turns
    the pooled map into the vector a Dense layer reads. Last, a real CNN (yours when it has a Conv2D, else
    dlviz's default digits CNN, untrained): every filter of its first Conv2D layer and its response to the
    image, and the receptive field of a unit of a deeper layer drawn on the input, computed from the layers'
    kernel sizes, strides and dilations and compared with the pixels where that unit's gradient is not zero.

    简介：在一张真实的数字图像（8×8，来自内置 digits 数据集）上一步一步地演示卷积 (convolution)：3×3 卷积核
    (kernel)（边缘、模糊、锐化、轮廓，或你的 CNN 学到的卷积核）按你选择的步幅 (stride)、填充 (padding) 和扩张率
    (dilation) 在图像上滑动；对每个输出单元，高亮当前窗口，把窗口内的输入与卷积核逐元素相乘再求和，
    $y_{i,j} = b + \sum_{u,v} w_{u,v}\, x_{is+ud-p,\, js+vd-p}$，特征图 (feature map) 一格一格地长出来（可播放或拖动滑块）。
    所有数值都来自使用相同权重的 `keras.layers.Conv2D`。输出尺寸满足 $o = \lfloor (n + p - d(k-1) - 1)/s \rfloor + 1$，
    并代入当前的数值。然后用同样的方式演示对该特征图的最大池化和平均池化 (pooling)（`MaxPooling2D`、`AveragePooling2D`），
    以及展平 (Flatten)：把池化后的特征图变成全连接层 (Dense) 读取的向量。最后是一个真实的卷积神经网络 (CNN)
    （有 Conv2D 时用你的模型，否则用 dlviz 默认的 digits CNN，未训练）：第一个 Conv2D 层的每个卷积核及其对这张图像的
    响应，以及更深一层中某个单元在输入上的感受野 (receptive field)：由各层的卷积核大小、步幅和扩张率算出，并与该单元
    梯度不为零的像素对照。

    What to look for: the output cell is large where the image under the window looks like the kernel: the
    vertical-edge kernel answers positively on a dark-to-bright step from right to left and negatively on the
    opposite one, and nearly zero on flat areas. With padding 'valid' an 8×8 image gives a 6×6 map (a 3×3
    kernel fits 6 times); 'same' adds a ring of zeros and keeps 8×8. Stride 2 skips every other position and
    halves the map; dilation 2 spreads the same 9 weights over a 5×5 area, so the map shrinks more without
    more weights. Max pooling keeps the strongest answer in each window (the highlighted cell), average
    pooling smooths; both shrink the map and make it less sensitive to small shifts. Flatten keeps every
    value and only changes the shape. In a trained CNN the first filters look like edge and stroke detectors
    and their responses light up along the digit's strokes; random filters give noisy responses. The receptive
    field grows with every layer, by (k − 1)·d times the product of the strides so far: pooling and strides
    make the following layers' fields grow fast. The gradient is zero everywhere outside the drawn field;
    inside, it is largest near the centre (the effective receptive field), and ReLU and max pooling zero some
    of it.

    观察要点：窗口下的图像越像卷积核，输出单元的值越大：竖直边缘卷积核在从右到左由暗变亮的地方输出正值，在相反方向
    输出负值，在平坦区域接近零。padding 为 'valid' 时 8×8 的图像得到 6×6 的特征图（3×3 卷积核能放下 6 次）；'same'
    在四周补一圈零，保持 8×8。步幅 2 每隔一个位置取一次，特征图减半；扩张率 2 把同样的 9 个权重分散到 5×5 的范围，
    不增加权重就让特征图缩得更多。最大池化保留每个窗口中最强的响应（高亮的格子），平均池化则起平滑作用；两者都缩小
    特征图，并让它对小的平移不那么敏感。展平 (Flatten) 保留每个值，只改变形状。训练好的 CNN 第一层卷积核像边缘和笔画
    检测器，它们的响应沿数字的笔画亮起；随机卷积核的响应则杂乱无章。感受野 (receptive field) 每经过一层都会变大，
    增加 (k − 1)·d 乘以此前各层步幅之积：池化和步幅让后面各层的感受野迅速变大。在画出的感受野之外梯度处处为零；
    感受野内部靠近中心的梯度最大（有效感受野），ReLU 和最大池化会让其中一部分变为零。

    >>> import dlviz
    >>> result = dlviz.compute("convolution", kernel="blur", padding="same", stride=2)
    >>> result.convolution.feature_map.shape, result.pooling.max_pooled.shape, result.flattened.shape
    ((4, 4), (2, 2), (4,))
    """

    name = "convolution"
    title = "Convolution"
    title_zh = "卷积"
    section = "Lessons"
    requires = frozenset()
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> ConvolutionResult:
        if params.stride > 1 and params.dilation > 1:
            raise dlviz.ParamsError(
                f"Stride {params.stride} with dilation {params.dilation}: Keras' Conv2D takes a stride above 1 or "
                "a dilation above 1, not both.",
                "set the stride or the dilation back to 1.",
            )
        data = datasets.load(LESSON_DATASET, seed=ctx.seed)
        index = int(np.flatnonzero(np.asarray(data.y_test) == params.digit)[0])
        image = np.asarray(data.x_test[index, :, :, 0], np.float32)
        ctx.report(0.1, tr(ctx.language, "the CNN's filters and a receptive field", "CNN 的卷积核与感受野"))
        network = network_view(
            ctx, data, params.digit, image, params.field_layer, (params.unit_row, params.unit_col)
        )
        ctx.report(0.7, tr(ctx.language, "sliding the kernel over the digit", "卷积核在数字图像上滑动"))
        notes = [network.sample_note]
        if params.kernel == "learned":
            count = len(network.filters)
            if params.learned_filter >= count:
                raise dlviz.ParamsError(
                    f"Learned filter {params.learned_filter} is asked for, but {network.conv_layer} has {count} filters.",
                    f"choose a filter between 0 and {count - 1}.",
                )
            kernel = network.filters[params.learned_filter]
            bias = float(network.biases[params.learned_filter])
            if network.input_channels > 1:
                notes.append(
                    dlviz.Note(
                        f"The learned kernel reads {network.input_channels} channels; on the grey digit it acts as "
                        "the sum of its channels, which is what the grid shows.",
                        f"学到的卷积核读取 {network.input_channels} 个通道；作用在灰度数字图像上时，相当于各通道之和，"
                        "图中显示的就是这个和。",
                    )
                )
        else:
            kernel, bias = PRESET_KERNELS[params.kernel], 0.0
        convolution = convolve(
            image, kernel, bias, params.kernel, params.stride, params.dilation, params.padding
        )
        pooling = pool(
            convolution.feature_map,
            params.pool_size,
            params.pool_stride or params.pool_size,
            params.pool_padding,
        )
        if not network.own_model:
            notes.insert(0, default_cnn_note(ctx.model is not None))
        ctx.report(1.0, tr(ctx.language, "done", "完成"))
        return ConvolutionResult(
            digit=params.digit,
            sample_index=index,
            learned_filter=params.learned_filter if params.kernel == "learned" else -1,
            image=image,
            convolution=convolution,
            pooling=pooling,
            flattened=flatten(pooling.max_pooled),
            network=network,
            page=dlviz.Page(
                notes=tuple(notes),
                formulas=lesson_formulas(convolution, pooling, image.shape[0], network),
            ),
        )

    def diagnose(self, result: ConvolutionResult) -> list[dlviz.Finding]:
        network = result.network
        silent = [index for index, response in enumerate(network.responses) if not np.any(response)]
        if not network.own_model or not silent:
            return []
        named = ", ".join(map(str, silent))
        return [
            dlviz.Finding(
                "info",
                f"{len(silent)} of {len(network.responses)} filters of {network.conv_layer} give no response at "
                f"all to this image (filters {named}).",
                "A filter that stays at zero on every image is a dead ReLU unit: compare other images here, and "
                "the activations page's dead-unit share over the training.",
                layer=network.conv_layer,
                headline_zh=f"{network.conv_layer} 的 {len(network.responses)} 个卷积核中有 {len(silent)} 个对这张图像"
                f"完全没有响应（卷积核 {named}）。",
                advice_zh="如果一个卷积核对所有图像都输出零，它就是死亡 ReLU (dying ReLU) 单元：在这里换几张图像比较，"
                "并查看激活值 (activations) 页面中训练过程里的死亡单元比例。",
            )
        ]

    def shared_result_key(self, ctx: dlviz.Context, params: Params) -> str | None:
        """Shared by every session unless the loaded model has a CNN to show; without one the lesson reads
        only whether a model is loaded at all, for its note."""
        if usable_cnn(ctx.model) is not None:
            return None
        return "no model" if ctx.model is None else "a model without Conv2D"

    def figures(self, result: ConvolutionResult, language: str = "en") -> list[go.Figure]:
        return [
            convolution_figure(result, language),
            pooling_figure(result, language),
            flatten_figure(result, language),
            filters_figure(result.network, language),
            field_figure(result.network, language),
            field_growth_figure(result.network, language),
        ]
