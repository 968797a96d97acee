"""A layered (Sugiyama-style) drawing of a directed acyclic graph, computed with numpy alone.

Each node sits on the rank of its longest path from a source; an edge that spans several ranks gets a
bend point on every rank between, so a residual connection runs in a lane of its own beside the chain
it skips instead of through the nodes of that chain. Nodes and bend points are ordered within their
rank by the mean position of their neighbours (barycentre sweeps, down then up), which untangles
branches and keeps chains straight.
"""

from __future__ import annotations

import dataclasses

import numpy as np

SWEEPS = 4


@dataclasses.dataclass(frozen=True)
class Layout:
    """Positions of the nodes (x across a rank, y = -rank) and each edge as a polyline."""

    x: np.ndarray
    y: np.ndarray
    edge_paths: tuple[np.ndarray, ...]  # per edge, [points, 2] from source to target
    width: int  # the most vertices (nodes and bend points) on one rank
    gaps: np.ndarray  # per node: free room to its right on its rank, in x units (inf when last)


def ranks_of(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    """Longest-path rank of each node; `edges` must go from a lower to a higher node index."""
    rank = np.zeros(n, np.int64)
    for source, target in sorted(edges, key=lambda edge: edge[1]):
        rank[target] = max(rank[target], rank[source] + 1)
    return rank


def layered_layout(n: int, edges: list[tuple[int, int]]) -> Layout:
    """Lay out nodes 0..n-1 connected by `edges` (source index < target index)."""
    rank = list(ranks_of(n, edges))
    chains = []  # per edge, the vertices it passes: source, bend points, target
    for source, target in edges:
        chain = [source]
        for step in range(rank[source] + 1, rank[target]):
            rank.append(step)
            chain.append(len(rank) - 1)
        chains.append([*chain, target])
    up: list[list[int]] = [[] for _ in rank]
    down: list[list[int]] = [[] for _ in rank]
    for chain in chains:
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            down[a].append(b)
            up[b].append(a)
    levels: list[list[int]] = [[] for _ in range(max(rank) + 1 if rank else 0)]
    for vertex, level in enumerate(rank):
        levels[level].append(vertex)
    position = np.zeros(len(rank))
    for level in levels:
        position[level] = np.arange(len(level)) - (len(level) - 1) / 2
    for _ in range(SWEEPS):
        for order, neighbours in ((range(1, len(levels)), up), (range(len(levels) - 2, -1, -1), down)):
            for index in order:
                level = levels[index]
                centre = {
                    v: np.mean(position[neighbours[v]]) if neighbours[v] else position[v] for v in level
                }
                level.sort(key=centre.__getitem__)
                position[level] = np.arange(len(level)) - (len(level) - 1) / 2
    gaps = np.full(len(rank), np.inf)
    for level in levels:
        for left, right in zip(level[:-1], level[1:], strict=True):
            gaps[left] = position[right] - position[left]
    y = -np.asarray(rank, np.float64)
    paths = tuple(np.stack([position[chain], y[chain]], axis=1) for chain in chains)
    return Layout(position[:n], y[:n], paths, max((len(level) for level in levels), default=0), gaps[:n])
