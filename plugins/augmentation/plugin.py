"""The `augmentation` plugin: its controls, its diagnosis."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins.augmentation.compute import compute_augmentation
from plugins.augmentation.figures import curves_figure, grid_figure, minority_figure
from plugins.augmentation.result import AugmentationResult

FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical")


@dataclasses.dataclass(frozen=True)
class Params:
    flip: str = dlviz.param(
        "none",
        label="RandomFlip",
        label_zh="随机翻转 RandomFlip",
        choices=FLIPS,
        help="Mirror images at random (a flipped digit is often another symbol: keep none for digits).",
        help_zh="随机镜像图像（翻转后的数字常常是另一个符号：数字数据请选 none）。",
    )
    rotation: float = dlviz.param(
        0.05,
        label="RandomRotation factor",
        label_zh="随机旋转 RandomRotation 系数",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Largest rotation as a fraction of a full turn (0.05 = ±18°).",
        help_zh="最大旋转角，占整圈的比例（0.05 = ±18°）。",
    )
    zoom: float = dlviz.param(
        0.1,
        label="RandomZoom factor",
        label_zh="随机缩放 RandomZoom 系数",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Largest zoom in or out, as a fraction of the size.",
        help_zh="最大放大或缩小比例。",
    )
    translation: float = dlviz.param(
        0.1,
        label="RandomTranslation factor",
        label_zh="随机平移 RandomTranslation 系数",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Largest shift, as a fraction of the height and width.",
        help_zh="最大平移，占高度和宽度的比例。",
    )
    contrast: float = dlviz.param(
        0.0,
        label="RandomContrast factor",
        label_zh="随机对比度 RandomContrast 系数",
        min=0.0,
        max=0.9,
        step=0.05,
        help="Contrast scaled by a random factor in [1 − f, 1 + f].",
        help_zh="对比度乘以 [1 − f, 1 + f] 中的随机系数。",
    )
    noise: float = dlviz.param(
        0.05,
        label="GaussianNoise σ",
        label_zh="高斯噪声 GaussianNoise σ",
        min=0.0,
        max=0.5,
        step=0.01,
        help="Standard deviation of the noise added to every pixel.",
        help_zh="加到每个像素上的噪声的标准差。",
    )
    samples: int = dlviz.param(
        4,
        label="Images shown",
        label_zh="展示的图像数",
        min=1,
        max=10,
        step=1,
        help="Training images in the grid.",
        help_zh="网格中的训练图像数。",
    )
    copies: int = dlviz.param(
        5,
        label="Augmented copies",
        label_zh="增强副本数",
        min=1,
        max=10,
        step=1,
        help="Calls of the layers per image: each draws new random parameters.",
        help_zh="每张图像调用这些层的次数：每次抽取新的随机参数。",
    )
    n_train: int = dlviz.param(
        100,
        label="Training images",
        label_zh="训练图像数",
        min=20,
        max=2000,
        step=10,
        help="A small subset makes the CNN overfit without augmentation.",
        help_zh="训练子集越小，不做增强的 CNN 越容易过拟合。",
    )
    epochs: int = dlviz.param(
        20,
        label="Epochs",
        label_zh="训练轮数 (epochs)",
        min=1,
        max=300,
        step=1,
        help="Passes over the training subset, for both CNNs.",
        help_zh="两个 CNN 遍历训练子集的次数。",
    )
    batch_size: int = dlviz.param(
        32,
        label="Batch size",
        label_zh="批大小",
        min=1,
        max=512,
        step=1,
        help="Images per Adam update; both CNNs see the same batches.",
        help_zh="每次 Adam 更新的图像数；两个 CNN 的批次相同。",
    )
    learning_rate: float = dlviz.param(
        3e-3,
        label="Learning rate",
        label_zh="学习率",
        min=1e-4,
        max=0.1,
        log=True,
        help="Adam's learning rate for both CNNs.",
        help_zh="两个 CNN 的 Adam 学习率。",
    )


class Augmentation(dlviz.Plugin):
    """Data augmentation lesson: Keras' preprocessing layers (RandomFlip, RandomRotation, RandomZoom,
    RandomTranslation, RandomContrast, GaussianNoise) applied to images of the current image set (digits
    otherwise), shown as image grids with their factors as controls; then the same CNN trained from the
    same initial weights on a small subset with and without those layers in front, training and validation
    curves side by side; and the minority-class images the imbalance plugin's augmentation strategy
    generates, as images.

    简介：数据增强 (data augmentation) 课程：Keras 的预处理层（RandomFlip、RandomRotation、RandomZoom、
    RandomTranslation、RandomContrast、GaussianNoise）作用于当前图像数据集（否则用 digits）的图像，以图像网格展示，
    各层系数可调；然后同一个 CNN 从相同的初始权重出发，在一个小子集上分别加上和不加这些层训练，并排给出训练与验证曲线；
    最后以图像展示 imbalance 插件的数据增强策略为少数类生成的图像。

    What to look for: every copy of an image is a different random draw, yet still the same digit: the label
    is kept, which is what makes augmentation valid (a factor so large that the digit becomes unreadable, or
    a flip that turns it into another symbol, breaks that). Without augmentation the CNN's training loss
    falls towards zero while its validation loss stalls and turns up: overfitting on the small subset. With
    augmentation the training loss stays higher (each epoch shows new variants) and the gap between
    validation and training loss is smaller. The imbalance strategy's minority images are the few originals
    shifted, turned and zoomed: more samples, but little new information.

    观察要点：每个副本都是一次新的随机抽取，但仍是同一个数字：标签不变，这正是数据增强成立的前提（系数太大让数字无法辨认，
    或翻转把它变成另一个符号，就破坏了这一点）。不做增强时，CNN 的训练损失趋于零，而验证损失停滞并回升：在小子集上过拟合
    (overfitting)。做增强时，训练损失保持较高（每一轮都看到新的变体），验证损失与训练损失之间的差距更小。imbalance 策略生成的
    少数类图像只是少数原图的平移、旋转和缩放：样本变多了，新信息却不多。

    >>> import dlviz
    >>> result = dlviz.compute("augmentation", samples=2, copies=3, n_train=40, epochs=1)
    >>> result.augmented.shape, result.layers
    ((2, 3, 8, 8, 1), ('RandomRotation', 'RandomZoom', 'RandomTranslation', 'GaussianNoise'))
    """

    name = "augmentation"
    title = "Data augmentation"
    title_zh = "数据增强"
    section = "Lessons"
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> AugmentationResult:
        return compute_augmentation(ctx, params)

    def diagnose(self, result: AugmentationResult) -> list[dlviz.Finding]:
        plain, augmented = result.final_gap("plain"), result.final_gap("augmented")
        if plain <= augmented:
            return []
        return [
            dlviz.Finding(
                "info",
                f"Augmentation lesson: the validation − training loss gap is {plain:.2f} without augmentation "
                f"and {augmented:.2f} with it",
                "Augment the training images when a model overfits a small image set.",
                headline_zh=f"数据增强课程：验证损失 − 训练损失的差距，不增强时为 {plain:.2f}，增强后为 {augmented:.2f}",
                advice_zh="模型在小图像集上过拟合时，对训练图像做数据增强。",
            )
        ]

    def figures(self, result: AugmentationResult, language: str = "en") -> list[go.Figure]:
        return [
            grid_figure(result, language),
            curves_figure(result, language),
            minority_figure(result, language),
        ]
