"""The documented example of a plugin: the layers of the model as a table and a parameter chart."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from dlviz.plugin import tr

ROW_HEIGHT = 24  # px per table row, header included
MAX_TABLE_ROWS = 25  # rows shown before the table scrolls


@dataclasses.dataclass(frozen=True)
class LayerSummary:
    """The layers of a model in call order, as plain lists (picklable, cacheable)."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    output_shapes: tuple[str, ...]
    params: tuple[int, ...]
    activations: tuple[str, ...]

    @property
    def total_params(self) -> int:
        return sum(self.params)


class ModelSummary(dlviz.Plugin):
    """The model's layers in the order data flows through them: type, output shape, parameters, activation.

    简介：模型的各层按数据流经的顺序列出：层类型、输出形状、参数数量和激活函数 (activation function)。

    What to look for: where the parameters are. A first Dense layer after Flatten often holds most of
    them; a model whose parameters dwarf its training samples can memorise them (overfitting). Check
    that every hidden layer has the activation you meant: a missing activation makes stacked Dense
    layers collapse into one linear map.

    观察要点：参数集中在哪里。Flatten 之后的第一个全连接层 (Dense) 往往占据大部分参数；参数远多于训练样本时，
    模型可能记住样本而过拟合 (overfitting)。检查每个隐藏层的激活函数是否如你所愿：缺少激活函数时，
    堆叠的 Dense 层等价于一个线性变换。

    >>> import dlviz, keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    >>> figures = dlviz.figures("model_summary", model=model)
    >>> [type(figure).__name__ for figure in figures]
    ['Figure', 'Figure']
    """

    name = "model_summary"
    title = "Model summary"
    title_zh = "模型结构"
    section = "Overview"
    requires = frozenset({"model"})

    def compute(self, ctx: dlviz.Context, params: object) -> LayerSummary:
        layers = ctx.model.layers
        return LayerSummary(
            names=tuple(layer.name for layer in layers),
            kinds=tuple(layer.kind for layer in layers),
            output_shapes=tuple(str(layer.output_shape) for layer in layers),
            params=tuple(int(layer.params) for layer in layers),
            activations=tuple(layer.activation or "" for layer in layers),
        )

    def figures(self, result: LayerSummary, language: str = "en") -> list[go.Figure]:
        header = [
            tr(language, "Layer", "层"),
            tr(language, "Type", "类型"),
            tr(language, "Output shape", "输出形状"),
            tr(language, "Parameters", "参数"),
            tr(language, "Activation", "激活函数"),
        ]
        table = go.Figure(
            go.Table(
                header={"values": header, "align": "left", "height": ROW_HEIGHT},
                cells={
                    "values": [
                        list(result.names),
                        list(result.kinds),
                        list(result.output_shapes),
                        [f"{count:,}" for count in result.params],
                        list(result.activations),
                    ],
                    "align": "left",
                    "height": ROW_HEIGHT,
                },
            )
        )
        table.update_layout(
            # As tall as its rows (a long model scrolls inside the table), not Plotly's default 450 px.
            height=70 + ROW_HEIGHT * min(len(result.names) + 1, MAX_TABLE_ROWS),
            title=tr(language, "Layers", "各层")
            + f" ({result.total_params:,} "
            + tr(language, "parameters)", "个参数)"),
            margin={"l": 10, "r": 10, "t": 50, "b": 10},
        )
        bars = go.Figure(
            go.Bar(
                x=list(result.names),
                y=list(result.params),
                hovertext=list(result.kinds),
                marker_color="#4C78A8",
            )
        )
        bars.update_layout(
            title=tr(language, "Parameters per layer", "每层参数数量"),
            xaxis_title=tr(language, "layer (input → output)", "层（输入 → 输出）"),
            yaxis_title=tr(language, "trainable + non-trainable parameters", "参数数量（可训练 + 不可训练）"),
        )
        return [table, bars]
