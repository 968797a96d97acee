"""Why a plugin that reads one image or one feature vector per sample cannot run on a model of several
inputs or several outputs, on token ids or on multilabel data, in one sentence that names them and says
what would work.

A `dlviz.ModelHandle` names its inputs (`input_names`) and outputs (`output_names`); a handle that does
not (one built before several inputs were supported) has one of each.
"""

from __future__ import annotations

import numpy as np

from dlviz.plugin import tr
from plugins._shared.explain import one_output_vector_reason


def input_names(handle) -> tuple[str, ...]:
    """The model's input names; empty for a handle that does not name them (it has one input)."""
    return tuple(getattr(handle, "input_names", None) or ())


def output_names(handle) -> tuple[str, ...]:
    """The model's output names; empty for a handle that does not name them (it has one output)."""
    return tuple(getattr(handle, "output_names", None) or ())


def several_inputs_texts(handle, what: str, what_zh: str, instead: str = "", instead_zh: str = "") -> tuple[str, str] | None:
    """Why `what` cannot run on `handle` when it takes several inputs, in English and Chinese, else None.

    `instead` / `instead_zh` say what would work (e.g. another view, or a model of one input).
    """
    names = input_names(handle)
    if len(names) <= 1:
        return None
    listed = ", ".join(names)
    return (
        f"{what} reads one input per sample (an image or a feature vector); this model takes "
        f"{len(names)} inputs ({listed}). " + (instead or "Build a model of one of its inputs to look at it on its own."),
        f"{what_zh} 每个样本只读取一个输入（一张图像或一个特征向量）；这个模型有 {len(names)} 个输入"
        f"（{listed}）。" + (instead_zh or "可以为其中一个输入单独构建模型来查看。"),
    )


def several_inputs_reason(ctx, what: str, what_zh: str, instead: str = "", instead_zh: str = "") -> str | None:
    """`several_inputs_texts` for ctx.model, in ctx.language."""
    texts = several_inputs_texts(ctx.model, what, what_zh, instead, instead_zh)
    return None if texts is None else tr(ctx.language, *texts)


def several_outputs_reason(ctx, what: str, what_zh: str) -> str | None:
    """Why `what` cannot run on ctx.model (in ctx.language) when it has several outputs, else None."""
    names = output_names(ctx.model)
    if len(names) <= 1:
        return None
    listed = ", ".join(names)
    return tr(
        ctx.language,
        f"{what} works with one output; this model has {len(names)} outputs ({listed}). Build a model of "
        "one head, keras.Model(model.inputs, model.get_layer(name).output), and use that.",
        f"{what_zh} 只适用于一个输出；这个模型有 {len(names)} 个输出（{listed}）。可以用 "
        "keras.Model(model.inputs, model.get_layer(name).output) 构建只含一个输出头的模型，再使用它。",
    )


def token_inputs_reason(ctx, what: str, what_zh: str) -> str | None:
    """Why `what`, which follows the gradient of the output with respect to each input value, cannot run
    on a dataset of token ids (integers an Embedding looks up: they have no gradient), else None."""
    dataset = ctx.dataset
    if dataset is None or not np.issubdtype(np.asarray(dataset.x_train).dtype, np.integer):
        return None
    return tr(
        ctx.language,
        f"{what} perturbs or differentiates each input value; this dataset's inputs are token ids "
        "(integers that an Embedding looks up), which have neither a gradient nor a meaningful in-between "
        "value. The activations, gradients and embeddings pages work on this model.",
        f"{what_zh} 需要对每个输入值求梯度或加扰动；这个数据集的输入是词元编号 (token ids，由 Embedding 层查表的整数)，"
        "既没有梯度，也没有有意义的中间值。激活值、梯度流和嵌入 (embeddings) 页面可以用于这个模型。",
    )


def one_input_one_output_reason(ctx, what: str, what_zh: str) -> str | None:
    """Why `what`, an explanation of one input value by one output, cannot run on ctx, else None."""
    return (
        several_inputs_reason(ctx, what, what_zh)
        or several_outputs_reason(ctx, what, what_zh)
        or token_inputs_reason(ctx, what, what_zh)
    )


def multilabel_reason(ctx, what: str, what_zh: str) -> str | None:
    """Why `what` cannot show ctx.dataset (in ctx.language), or None: multilabel targets are not handled yet."""
    if getattr(ctx.dataset, "task", "classification") == "multilabel":
        return tr(
            ctx.language,
            f"{what} handle classification and regression; this dataset is multilabel (a 0/1 per label).",
            f"{what_zh} 支持分类和回归；此数据集为多标签 (multilabel，每个标签一个 0/1)。",
        )
    return None


def one_head_reason(ctx, what: str, what_zh: str) -> str | None:
    """Why `what`, which reads one output vector per sample of a single-input model on classification or
    regression data, cannot run on ctx (in ctx.language), else None."""
    return (
        multilabel_reason(ctx, what, what_zh)
        or several_inputs_reason(ctx, what, what_zh)
        or several_outputs_reason(ctx, what, what_zh)
        or one_output_vector_reason(ctx, what, what_zh)
    )
