"""The `embeddings` plugin class (the projector), its controls and its help text."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins._shared.inputs import one_head_reason
from plugins.embeddings.compute import METHODS, embed
from plugins.embeddings.figures import embedding_figures
from plugins.embeddings.result import EmbeddingResult


@dataclasses.dataclass(frozen=True)
class Params:
    """Controls of the projector."""

    layer: str = dlviz.param(
        "",
        label="Layer",
        label_zh="层",
        help="Whose activations to project; empty = the last layer before the output.",
        help_zh="投影哪一层的激活值；留空表示输出层之前的最后一层。",
    )
    method: str = dlviz.param(
        "pca",
        label="Projection",
        label_zh="投影方法",
        help="PCA: linear, fast, distances meaningful. t-SNE: keeps neighbours together, slower. UMAP: like "
        "t-SNE, faster on many samples (only when umap-learn is installed: pip install 'dlviz[umap]').",
        help_zh="PCA：线性、快速，距离有意义。t-SNE：保持近邻关系，较慢。UMAP：与 t-SNE 类似，样本多时更快"
        "（需安装 umap-learn：pip install 'dlviz[umap]'）。",
        choices=METHODS,
        choice_labels={"pca": "PCA", "tsne": "t-SNE", **({"umap": "UMAP"} if "umap" in METHODS else {})},
        choice_labels_zh={
            "pca": "主成分分析 (PCA)",
            "tsne": "t-SNE",
            **({"umap": "UMAP"} if "umap" in METHODS else {}),
        },
    )
    dimensions: int = dlviz.param(
        2,
        label="Dimensions",
        label_zh="维数",
        help="Project to 2-D or 3-D.",
        help_zh="投影到二维或三维。",
        choices=(2, 3),
    )
    samples: int = dlviz.param(
        1000,
        label="Samples",
        label_zh="样本数",
        help="At most this many test samples (a random subset fixed by the seed).",
        help_zh="最多使用这么多个测试样本（由随机种子固定的随机子集）。",
        min=20,
        max=10_000,
        step=10,
    )
    colour_by: str = dlviz.param(
        "class",
        label="Colour by",
        label_zh="着色依据",
        help="What colours the points: the true class, the predicted class, right or wrong, the model's "
        "confidence, or an input feature (chosen below).",
        help_zh="点的颜色表示什么：真实类别、预测类别、预测是否正确、模型的置信度，或某个输入特征（在下方选择）。",
        choices=("class", "prediction", "correctness", "confidence", "feature"),
        choice_labels={
            "class": "true class",
            "prediction": "predicted class",
            "correctness": "right or wrong",
            "confidence": "confidence",
            "feature": "a feature",
        },
        choice_labels_zh={
            "class": "真实类别",
            "prediction": "预测类别",
            "correctness": "预测是否正确",
            "confidence": "置信度",
            "feature": "某个特征",
        },
    )
    feature: str = dlviz.param(
        "",
        label="Feature",
        label_zh="特征",
        help="The input feature that colours the points when colouring by a feature; empty = the first.",
        help_zh="按特征着色时所用的输入特征；留空表示第一个特征。",
    )
    perplexity: float = dlviz.param(
        30.0,
        label="t-SNE perplexity",
        label_zh="t-SNE 困惑度",
        help="About how many neighbours each point keeps close (5-50 works well).",
        help_zh="每个点大约保持多少个近邻（5-50 效果较好）。",
        min=2.0,
        max=100.0,
        step=1.0,
    )
    snapshots: bool = dlviz.param(
        True,
        label="Projection over the run",
        label_zh="训练过程中的投影",
        help="Also project the layer at each weight snapshot of the loaded run, with a step slider.",
        help_zh="同时投影所载训练记录中每个权重快照下的该层，并提供步数滑块。",
    )
    max_snapshots: int = dlviz.param(
        8,
        label="Snapshots projected",
        label_zh="投影的快照数",
        help="At most this many snapshots, spread evenly over the run (t-SNE runs once per snapshot).",
        help_zh="最多投影这么多个快照，均匀分布在整个训练过程中（t-SNE 对每个快照各运行一次）。",
        min=2,
        max=50,
        step=1,
    )


class Embeddings(dlviz.Plugin):
    """The projector: what a layer makes of the data. Its activations on the test samples are projected to
    2-D or 3-D by PCA or t-SNE (scikit-learn), or UMAP when umap-learn is installed, each point a sample
    coloured by its class, the predicted class, whether the prediction is right, the confidence or a chosen
    feature; hover a point to see the sample. With a recorded run, the projection at each weight snapshot
    under a step slider, aligned so points do not jump (one PCA fitted on the last snapshot, or each t-SNE
    rotated onto the last by Procrustes).

    简介：投影器 (projector)：某一层把数据变成了什么。把该层在测试样本上的激活值用 PCA 或 t-SNE（scikit-learn），
    或在安装了 umap-learn 时用 UMAP，投影到二维或三维；每个点是一个样本，按真实类别、预测类别、预测是否正确、
    置信度或所选特征着色；鼠标悬停可查看该样本。载入训练记录时，还给出每个权重快照下的投影，并提供步数滑块；
    各快照经过对齐，点不会乱跳（用最后一个快照拟合同一个 PCA，或用 Procrustes 把每个 t-SNE 结果旋转到最后一个上）。

    What to look for: in a layer near the output of a good classifier, classes form separate clusters;
    wrong predictions sit between clusters or inside another class's cluster (colour by right or wrong).
    Layers near the input mix classes more. Over the run, watch the clusters pull apart as training
    proceeds; classes that never separate are the ones the confusion matrix mixes up. t-SNE keeps
    neighbours, not distances: do not read cluster sizes or gaps from it; PCA's axes say how much of the
    variance they hold.

    观察要点：对于效果好的分类器，在靠近输出的层中各类别形成分开的簇；错误的预测位于簇与簇之间或其他类别的簇中
    （按预测是否正确着色即可看到）。靠近输入的层中各类别混杂得更多。在训练过程中，观察各簇随训练逐渐分开；
    始终分不开的类别，正是混淆矩阵中被混淆的类别。t-SNE 保留近邻而不保留距离：不要从中解读簇的大小或间隔；
    PCA 的坐标轴标明它们各占多少方差。

    >>> import dlviz
    >>> from dlviz.testing import tiny_context
    >>> ctx = tiny_context("points2d")
    >>> result = dlviz.compute("embeddings", model=ctx.model, dataset=ctx.dataset, snapshots=False)
    >>> result.layer, result.coordinates.shape == (len(ctx.dataset.x_test), 2)
    ('hidden_2', True)
    """

    name = "embeddings"
    title = "Embeddings"
    title_zh = "嵌入投影"
    section = "Explanations"
    requires = frozenset({"model", "dataset"})
    Params = Params

    def is_compatible(self, ctx: dlviz.Context) -> bool | str:
        verdict = super().is_compatible(ctx)
        if verdict is not True:
            return verdict
        return one_head_reason(ctx, "The projector", "嵌入投影 (embeddings)") or True

    def compute(self, ctx: dlviz.Context, params: Params) -> EmbeddingResult:
        return embed(ctx, params)

    def figures(self, result: EmbeddingResult, language: str = "en") -> list[go.Figure]:
        return embedding_figures(result, language)
