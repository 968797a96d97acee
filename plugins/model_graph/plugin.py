"""The `model_graph` plugin class, its controls and its texts."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go

import dlviz
from plugins.model_graph.compute import model_graph
from plugins.model_graph.figures import graph_figure
from plugins.model_graph.result import STATISTICS, ModelGraphResult


@dataclasses.dataclass(frozen=True)
class Params:
    statistic: str = dlviz.param(
        "grad_norm",
        label="Colour nodes by",
        label_zh="节点颜色表示",
        choices=tuple(STATISTICS),
        choice_labels={key: english for key, (english, _, _) in STATISTICS.items()},
        choice_labels_zh={key: chinese for key, (_, chinese, _) in STATISTICS.items()},
        help="A statistic the current run recorded per layer (with a slider over its steps), or the "
        "parameter count.",
        help_zh="当前训练记录 (run) 按层记录的统计量（附按训练步数拖动的滑块），或参数数量。",
    )
    collapse_nested: bool = dlviz.param(
        False,
        label="Collapse nested models",
        label_zh="折叠嵌套模型",
        help="Draw each nested model (or composite layer) as one node.",
        help_zh="把每个嵌套模型（或复合层）画成一个节点。",
    )
    max_steps: int = dlviz.param(
        40,
        label="Slider steps",
        label_zh="滑块步数",
        min=2,
        max=200,
        step=1,
        help="At most this many recorded steps on the slider (evenly spread over the run).",
        help_zh="滑块上最多这么多个记录的步数（在训练记录中均匀选取）。",
    )


class ModelGraph(dlviz.Plugin):
    """The model as a graph: each layer a node (type, output shape and parameters on hover), an edge for
    every connection (branches, residual adds, nested models), laid out top to bottom in the order data
    flows. With a recorded run, nodes are coloured by a statistic of that layer (gradient norm, dead
    fraction, update ratio) and a slider steps through training.

    简介：把模型画成图：每层一个节点（悬停显示类型、输出形状和参数数量），每条连接一条边（分支、残差相加、嵌套模型），
    按数据流动的顺序自上而下排列。有训练记录 (run) 时，节点按该层的统计量（梯度范数、死亡比例、更新量与权重之比）着色，
    用滑块可逐步查看训练过程。

    What to look for: where in the architecture a problem sits. Gradient norms that fade towards the input
    (dark nodes at the top) show vanishing gradients, and a residual connection that skips those layers
    shows how the signal gets around them. A bright block of dead fractions marks ReLU layers that stopped
    learning; update ratios far from 1e-3 mark layers the learning rate does not suit.

    观察要点：问题出在结构的哪个位置。梯度范数越靠近输入越小（顶部节点颜色深）说明梯度消失 (vanishing gradients)，
    而跳过这些层的残差连接 (residual connection) 显示信号如何绕过它们。死亡比例高的亮色区域是已停止学习的 ReLU 层
    （死亡 ReLU）；更新量与权重之比远离 1e-3 的层，说明学习率 (learning rate) 不适合它。

    >>> import dlviz, keras
    >>> inputs = keras.Input((4,))
    >>> hidden = keras.layers.Dense(4, name="hidden")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Add(name="residual")([inputs, hidden]))
    >>> context = dlviz.registry.make_context(model=model)
    >>> result = ModelGraph().compute(context, ModelGraph.Params(statistic="params"))
    >>> [(result.nodes[a].name, result.nodes[b].name) for a, b in result.edges]
    [('input', 'hidden'), ('input', 'residual'), ('hidden', 'residual'), ('residual', 'output')]
    """

    name = "model_graph"
    title = "Model graph"
    title_zh = "模型结构图"
    section = "Overview"
    requires = frozenset({"model"})
    Params = Params

    def compute(self, ctx: dlviz.Context, params: Params) -> ModelGraphResult:
        return model_graph(ctx, params)

    def figures(self, result: ModelGraphResult, language: str = "en") -> list[go.Figure]:
        return [graph_figure(result, language)]
