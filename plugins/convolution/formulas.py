"""The convolution lesson's page: its formulas with the current numbers put in, and its notes."""

from __future__ import annotations

import dlviz
from plugins.convolution.result import ConvolutionSteps, NetworkView, PoolingSteps


def size_formula(n: int, kernel: int, stride: int, dilation: int, pad_total: int, out: int) -> str:
    """Output length along one axis, general form = the current numbers = the size Keras returned."""
    return (
        r"o = \left\lfloor \frac{n + p - d\,(k-1) - 1}{s} \right\rfloor + 1"
        rf" = \left\lfloor \frac{{{n} + {pad_total} - {dilation}\cdot({kernel}-1) - 1}}{{{stride}}} \right\rfloor + 1"
        rf" = {out}"
    )


def padding_formula(padding: str, n: int, kernel: int, stride: int, dilation: int, pad_total: int) -> str:
    if padding == "valid":
        return r"\texttt{padding='valid'}:\quad p = 0"
    return (
        r"\texttt{padding='same'}:\quad p = \max\!\left((\lceil n/s \rceil - 1)\,s + d\,(k-1) + 1 - n,\ 0\right)"
        rf" = {pad_total},\quad \text{{before}} = \lfloor p/2 \rfloor = {pad_total // 2}"
    )


def lesson_formulas(conv: ConvolutionSteps, pooling: PoolingSteps, n: int, network: NetworkView) -> tuple:
    k = conv.kernel.shape[0]
    conv_out = conv.keras_output_shape[0]
    pool_out = pooling.keras_output_shape[0]
    pooled_h, pooled_w = pooling.max_pooled.shape
    field = network.field
    formulas = [
        dlviz.Formula(
            "One output cell: the window's inputs times the kernel, summed, plus the bias (Keras' Conv2D, "
            "a cross-correlation: the kernel is not flipped)",
            "一个输出单元：窗口内的输入乘以卷积核 (kernel)，求和，再加偏置（Keras 的 Conv2D 是互相关：卷积核不翻转）",
            rf"y_{{i,j}} = b + \sum_{{u=0}}^{{{k - 1}}} \sum_{{v=0}}^{{{k - 1}}} w_{{u,v}}\;"
            rf"x_{{{conv.stride}i + {conv.dilation}u - {conv.windows.pad_top},\ "
            rf"{conv.stride}j + {conv.dilation}v - {conv.windows.pad_left}}}",
        ),
        dlviz.Formula(
            f"Output size of the convolution (n = {n} input pixels, kernel k = {k}, stride s = {conv.stride}, "
            f"dilation d = {conv.dilation}, padding p)",
            f"卷积的输出尺寸（输入 n = {n} 像素，卷积核 k = {k}，步幅 (stride) s = {conv.stride}，"
            f"扩张率 (dilation) d = {conv.dilation}，填充 (padding) p）",
            size_formula(n, k, conv.stride, conv.dilation, conv.windows.pad_total[0], conv_out),
        ),
        dlviz.Formula(
            "Padding Keras adds",
            "Keras 添加的填充 (padding)",
            padding_formula(conv.padding, n, k, conv.stride, conv.dilation, conv.windows.pad_total[0]),
        ),
        dlviz.Formula(
            f"Max and average pooling over a {pooling.pool_size}×{pooling.pool_size} window R(i, j)",
            f"在 {pooling.pool_size}×{pooling.pool_size} 窗口 R(i, j) 上的最大池化和平均池化 (pooling)",
            r"y^{\max}_{i,j} = \max_{(u,v) \in R(i,j)} x_{u,v},\qquad "
            r"y^{\text{avg}}_{i,j} = \frac{1}{|R(i,j)|} \sum_{(u,v) \in R(i,j)} x_{u,v}",
        ),
        dlviz.Formula(
            f"Output size of the pooling (n = {conv_out}, window k = {pooling.pool_size}, stride s = {pooling.stride})",
            f"池化的输出尺寸（n = {conv_out}，窗口 k = {pooling.pool_size}，步幅 s = {pooling.stride}）",
            size_formula(
                conv_out, pooling.pool_size, pooling.stride, 1, pooling.windows.pad_total[0], pool_out
            ),
        ),
        dlviz.Formula(
            "Flatten: the pooled map becomes one vector (row by row, channels innermost) for the Dense layer",
            "展平 (Flatten)：池化后的特征图按行排成一个向量（通道在最内层），送入全连接层 (Dense)",
            rf"\text{{length}} = H \cdot W \cdot C = {pooled_h} \cdot {pooled_w} \cdot 1 = {pooled_h * pooled_w}"
            + _model_flatten(network),
        ),
    ]
    if field.chain:
        terms = " + ".join(
            rf"({layer.kernel}-1)\cdot{layer.dilation}\cdot{jump}"
            for layer, jump in zip(field.chain, _jumps_before(field.chain), strict=True)
        )
        formulas.append(
            dlviz.Formula(
                f"Receptive field of a unit of {field.layer} (along rows): each layer adds (k − 1)·d times the "
                "product of the strides before it",
                f"{field.layer} 中一个单元的感受野 (receptive field)（沿行方向）：每一层增加 (k − 1)·d 乘以它之前所有步幅之积",
                r"r = 1 + \sum_{l} (k_l - 1)\, d_l \prod_{m<l} s_m"
                + rf" = 1 + {terms} = {field.chain[-1].size}",
            )
        )
    return tuple(formulas)


def _model_flatten(network: NetworkView) -> str:
    if network.flatten is None:
        return ""
    sizes = r" \cdot ".join(str(size) for size in network.flatten.input_shape)
    return rf",\qquad \texttt{{{_tex(network.flatten.layer)}}}: {sizes} = {network.flatten.vector.size}"


def _jumps_before(chain) -> list[int]:
    jumps, jump = [], 1
    for layer in chain:
        jumps.append(jump)
        jump = layer.jump
    return jumps


def _tex(name: str) -> str:
    return name.replace("_", r"\_")
