"""From a model (and a recorded run) to the graph the figure draws: nodes, edges, layout, statistics."""

from __future__ import annotations

import numpy as np

import dlviz
from plugins.model_graph.layout import layered_layout
from plugins.model_graph.result import GraphNode, ModelGraphResult
from plugins.model_graph.topology import trace


def graph_nodes(handle, topology, collapse: bool) -> tuple[list[GraphNode], list[tuple[int, int]]]:
    """Input, layer calls (a collapsed sub-model as one node), output; edges between distinct nodes.

    Node indices follow call order; an edge that would point back (a collapsed sub-model called twice,
    as in a siamese network) is left out, so the drawing stays a layered graph.
    """
    layers = handle.layers
    # The inputs first: input k is the source -1 - k of the topology's edges, node k here.
    several = len(topology.inputs) > 1
    nodes = [
        GraphNode(name if several else "input", "Input", shape, 0, ()) for name, shape in topology.inputs
    ]
    node_of_call, group_node = [], {}
    for index, layer in enumerate(layers):
        around = topology.containers[index]
        if collapse and around:
            name, kind = around[0]
            if name not in group_node:
                group_node[name] = len(nodes)
                nodes.append(GraphNode(name, kind, "", 0, ()))
            node = group_node[name]
            group = nodes[node]
            nodes[node] = GraphNode(
                name, kind, str(layer.output_shape), group.params + layer.params, (*group.members, layer.name)
            )
        else:
            node = len(nodes)
            nodes.append(
                GraphNode(layer.name, layer.kind, str(layer.output_shape), layer.params, (layer.name,))
            )
        node_of_call.append(node)
    output = len(nodes)
    nodes.append(GraphNode("output", "Output", str(layers[-1].output_shape) if layers else "", 0, ()))
    edges = {
        (-1 - source if source < 0 else node_of_call[source], node_of_call[target])
        for source, target in topology.edges
    }
    edges |= {(node_of_call[source], output) for source in topology.outputs}
    return nodes, sorted((a, b) for a, b in edges if a < b)


def node_values(run, statistic: str, nodes: list[GraphNode], max_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values [n_nodes, n_steps]) of a recorded statistic; a collapsed node combines its layers:
    the norm of their gradients (exact: the norm over all its weights), the mean of the other statistics."""
    series = run.series(statistic)
    steps = np.asarray(run.record_steps)
    shown = np.unique(np.round(np.linspace(0, len(steps) - 1, min(max_steps, len(steps)))).astype(int))
    values = np.full((len(nodes), len(shown)), np.nan)
    for index, node in enumerate(nodes):
        rows = np.array([series[name][shown] for name in node.members if name in series], np.float64)
        if not len(rows):
            continue
        with np.errstate(invalid="ignore"):
            if statistic == "grad_norm":
                values[index] = np.sqrt(np.sum(rows**2, axis=0))
            else:
                values[index] = np.nanmean(rows, axis=0) if np.isfinite(rows).any() else np.nan
    return steps[shown], values


def model_graph(ctx: dlviz.Context, params) -> ModelGraphResult:
    handle = ctx.model
    tr = dlviz.plugin.tr
    ctx.report(0.1, tr(ctx.language, "tracing the model's connections", "追踪模型各层的连接"))
    nodes, edges = graph_nodes(handle, trace(handle), params.collapse_nested)
    ctx.report(0.6, tr(ctx.language, "laying out the graph", "计算图的布局"))
    layout = layered_layout(len(nodes), edges)
    notes = []
    statistic = params.statistic
    run = ctx.run
    matches = run is not None and run.layers == [layer.name for layer in handle.layers]
    if statistic != "params" and matches and run.series(statistic):
        steps, values = node_values(run, statistic, nodes, params.max_steps)
    else:
        if statistic != "params":
            notes.append(_no_statistic_note(run, matches, statistic))
        statistic = "params"
        steps = np.zeros(1, np.int64)
        values = np.array([[node.params] if node.params else [np.nan] for node in nodes], np.float64)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return ModelGraphResult(
        model_name=handle.model.name,
        nodes=tuple(nodes),
        edges=tuple(edges),
        x=layout.x.astype(np.float32),
        y=layout.y.astype(np.float32),
        edge_paths=tuple(path.astype(np.float32) for path in layout.edge_paths),
        gaps=layout.gaps,
        width=layout.width,
        statistic=statistic,
        steps=steps,
        values=values.astype(np.float32),
        page=dlviz.Page(notes=tuple(notes)),
    )


def _no_statistic_note(run, matches: bool, statistic: str) -> dlviz.Note:
    if run is None:
        return dlviz.Note(
            "No recorded run: nodes are coloured by their parameter count. Train the model to colour them "
            "by gradient norm, dead fraction or update ratio.",
            "没有训练记录 (run)：节点按参数数量着色。训练模型后可按梯度范数、死亡比例或更新量与权重之比着色。",
        )
    if not matches:
        return dlviz.Note(
            "The current run was recorded on another model (its layers differ): nodes are coloured by their "
            "parameter count.",
            "当前训练记录 (run) 来自另一个模型（各层不同）：节点按参数数量着色。",
        )
    return dlviz.Note(
        f"The run did not record {statistic}: nodes are coloured by their parameter count.",
        f"这条训练记录没有记录 {statistic}：节点按参数数量着色。",
    )
