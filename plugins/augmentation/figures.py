"""The augmentation lesson's figures: image grids, curves with and without augmentation, minority images."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.explain import grey_image_trace
from plugins.augmentation.result import AugmentationResult

MINORITY_COLUMNS = 8


def image_grid(images: list[np.ndarray], titles: list[str], columns: int, language: str) -> go.Figure:
    rows = max(1, math.ceil(len(images) / columns))
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.1
    )
    for index, image in enumerate(images):
        figure.add_trace(grey_image_trace(image, language), row=index // columns + 1, col=index % columns + 1)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False, autorange="reversed", scaleanchor=None)
    figure.update_layout(height=150 * rows + 140, margin={"t": 110})
    return figure


def grid_figure(result: AugmentationResult, language: str) -> go.Figure:
    """Each sample image, then its augmented copies, one row per image."""
    copies = result.augmented.shape[1]
    images, titles = [], []
    for row, original in enumerate(result.originals):
        images.append(original)
        titles.append(tr(language, "original", "原图") if row == 0 else "")
        for copy in range(copies):
            images.append(result.augmented[row, copy])
            titles.append(tr(language, f"copy {copy + 1}", f"副本 {copy + 1}") if row == 0 else "")
    figure = image_grid(images, titles, copies + 1, language)
    layers = ", ".join(result.layers) or tr(language, "no layer", "无增强层")
    figure.update_layout(
        title=tr(
            language,
            f"Augmented copies of {result.dataset_name} training images (keras.layers: {layers})",
            f"{result.dataset_name} 训练图像的增强副本（keras.layers：{layers}）",
        )
    )
    return figure


def curves_figure(result: AugmentationResult, language: str) -> go.Figure:
    """Training and validation loss of the CNN without (left) and with (right) augmentation."""
    names = {
        "plain": tr(language, "without augmentation", "不做增强"),
        "augmented": tr(language, "with augmentation", "做增强"),
    }
    figure = make_subplots(
        rows=1, cols=2, shared_yaxes=True, subplot_titles=[names["plain"], names["augmented"]]
    )
    epochs = np.arange(1, result.epochs + 1)
    for col, variant in enumerate(("plain", "augmented"), start=1):
        history = result.history[variant]
        for key, colour, split in (
            ("loss", "#1f77b4", tr(language, "training", "训练")),
            ("val_loss", "#d62728", tr(language, "validation", "验证")),
        ):
            figure.add_trace(
                go.Scatter(
                    x=epochs,
                    y=history[key],
                    mode="lines",
                    name=split,
                    legendgroup=key,
                    showlegend=col == 1,
                    line={"color": colour},
                    hovertemplate=f"{split} %{{y:.4f}}<extra>{names[variant]}</extra>",
                ),
                row=1,
                col=col,
            )
        figure.update_xaxes(title_text=tr(language, "epoch", "轮次 (epoch)"), row=1, col=col)
    figure.update_yaxes(title_text=tr(language, "cross-entropy loss", "交叉熵损失"), row=1, col=1)
    figure.update_layout(
        title=tr(
            language,
            f"The same CNN on {result.n_train} training images: gap {result.final_gap('plain'):.2f} without, "
            f"{result.final_gap('augmented'):.2f} with augmentation",
            f"同一个 CNN，{result.n_train} 张训练图像：差距不增强 {result.final_gap('plain'):.2f}，"
            f"增强 {result.final_gap('augmented'):.2f}",
        ),
        legend_title=tr(language, "loss", "损失"),
    )
    return figure


def minority_figure(result: AugmentationResult, language: str) -> go.Figure:
    """The minority class's few originals, then the images the imbalance strategy generated from them."""
    originals = list(result.minority_originals)
    generated = list(result.minority_generated)
    titles = [tr(language, "original", "原图")] * len(originals) + [tr(language, "generated", "生成")] * len(
        generated
    )
    figure = image_grid(originals + generated, titles, MINORITY_COLUMNS, language)
    figure.update_layout(
        title=tr(
            language,
            f"The imbalance plugin's augmentation strategy: new images of the minority class {result.minority_class}",
            f"imbalance 插件的数据增强策略：为少数类 {result.minority_class} 生成的新图像",
        )
    )
    return figure
