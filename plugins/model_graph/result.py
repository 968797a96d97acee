"""The result of the `model_graph` plugin: nodes, edges, their layout and a statistic per node and step."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from dlviz.plugin import tr

# What nodes can be coloured by: key -> (English, Chinese, drawn on a log scale).
STATISTICS = {
    "grad_norm": ("gradient norm", "梯度范数", True),
    "act_zero_frac": ("dead fraction (activations exactly 0)", "死亡比例（激活值恰为 0）", False),
    "update_ratio": ("update-to-weight ratio", "更新量与权重之比", True),
    "params": ("parameters", "参数数量", True),
}


def statistic_name(statistic: str, language: str) -> str:
    english, chinese, _ = STATISTICS[statistic]
    return tr(language, english, chinese)


@dataclasses.dataclass(frozen=True)
class GraphNode:
    """A layer call, a collapsed sub-model, or the model's input / output."""

    name: str
    kind: str
    output_shape: str
    params: int
    members: tuple[str, ...]  # the layers (as in handle.layers) it stands for; () for input and output


@dataclasses.dataclass(frozen=True)
class ModelGraphResult:
    """The graph as drawn: `values[node, step]` of `statistic` at `steps` (NaN where a node has none)."""

    model_name: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[int, int], ...]
    x: np.ndarray
    y: np.ndarray
    edge_paths: tuple[np.ndarray, ...]
    gaps: np.ndarray  # room to each node's right on its rank (for labels), in x units
    width: int
    statistic: str
    steps: np.ndarray  # [n_steps] training steps of the records shown; [0] for parameters
    values: np.ndarray  # [n_nodes, n_steps]
    page: dlviz.Page = dlviz.Page()

    @property
    def log_scale(self) -> bool:
        return STATISTICS[self.statistic][2]
