"""Which views of the `activations` plugin a context can draw, and the layers each view shows."""

from __future__ import annotations

import dlviz
from plugins._shared.inputs import several_inputs_texts
from plugins._shared.layers import chosen_layers
from plugins._shared.records import PASS_THROUGH_KINDS

CONV_KINDS = frozenset({"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"})


def has_run_records(run) -> bool:
    """Whether `run` recorded activations (histograms or zero fractions)."""
    return run is not None and bool(run.histograms("act") or run.series("act_zero_frac"))


def has_model_data(ctx: dlviz.Context) -> bool:
    """Whether `ctx` holds a model and a dataset with training samples to probe it with."""
    return ctx.model is not None and ctx.dataset is not None and len(ctx.dataset.x_train) > 0


def conv_layers(handle) -> list:
    """The layers whose outputs are feature maps: 2-D convolutions with [batch, h, w, channels] outputs."""
    return [info for info in handle.layers if info.kind in CONV_KINDS and len(info.output_shape) == 4]


def dense_layers(handle) -> list:
    """The Dense layers, whose units the input-plane responses show."""
    return [info for info in handle.layers if info.kind == "Dense"]


def shown_layers(available: list[str], kinds: dict[str, str], requested: tuple[str, ...]) -> list[str]:
    """The requested layers, or by default an even selection of the layers that do more than reshape or mask
    their input (every one of them on a model of up to DEFAULT_LAYERS such layers)."""
    if requested:
        return chosen_layers(available, requested)
    return chosen_layers([name for name in available if kinds.get(name, "") not in PASS_THROUGH_KINDS], ())


_VIEW_ZH = {"feature_maps": "特征图 (feature maps) ", "unit_responses": "单元响应 (unit responses) "}


def view_reason(ctx: dlviz.Context, view: str) -> tuple[str, str] | None:
    """None when `view` can be drawn for `ctx`, else the reason it cannot, in English and Chinese."""
    if view in ("all", "distributions"):
        return None
    if view == "training":
        if has_run_records(ctx.run):
            return None
        return (
            "The training view needs a run recorded with activations.",
            "训练 (training) 视图需要一条记录了激活值的训练记录 (run)。",
        )
    if not has_model_data(ctx):
        return (
            f"The {view.replace('_', ' ')} view needs the model and its dataset.",
            f"{_VIEW_ZH.get(view, view)}视图需要模型及其数据集。",
        )
    several = several_inputs_texts(
        ctx.model,
        f"The {view.replace('_', ' ')} view",
        f"{_VIEW_ZH.get(view, view)}视图",
        "The distributions and training views show every layer of it.",
        "分布 (distributions) 和训练 (training) 视图仍可显示它的各层。",
    )
    if several is not None:
        return several
    if view == "feature_maps":
        if len(ctx.dataset.input_shape) != 3:
            return (
                "Feature maps need image data (height x width x channels); this dataset is not images.",
                "特征图 (feature maps) 需要图像数据（高 x 宽 x 通道）；这个数据集不是图像。",
            )
        if not conv_layers(ctx.model):
            return (
                "Feature maps need a convolutional layer; this model has none.",
                "特征图 (feature maps) 需要卷积层 (convolutional layer)；这个模型没有卷积层。",
            )
        return None
    if tuple(ctx.model.input_shape) != (2,):
        return (
            "Unit responses over the input plane need 2-D point data (2 input features); "
            f"this model takes inputs of shape {tuple(ctx.model.input_shape)}.",
            "单元在输入平面上的响应 (unit responses) 需要二维点数据（2 个输入特征）；"
            f"这个模型的输入形状为 {tuple(ctx.model.input_shape)}。",
        )
    if not dense_layers(ctx.model):
        return (
            "Unit responses need a Dense layer; this model has none.",
            "单元响应 (unit responses) 需要全连接层 (Dense layer)；这个模型没有全连接层。",
        )
    return None
