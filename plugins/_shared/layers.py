"""How many layers a figure shows: on a model of 100+ layers (MobileNetV2 has 156) one row, line or panel
per layer is unreadable and makes figures of many megabytes, so every plugin draws an evenly spaced
selection by default (the first and the last layer always among it) and lets the user pick others.

>>> evenly_spaced([f"layer{i}" for i in range(100)], 5)
['layer0', 'layer25', 'layer50', 'layer74', 'layer99']
>>> evenly_spaced(["a", "b"], 5)
['a', 'b']
"""

from __future__ import annotations

import numpy as np

import dlviz

# Layers drawn by default (rows of a heatmap, lines of a chart); a model with more shows an even selection.
DEFAULT_LAYERS = 12
# Layers drawn by default in views of one figure or one row of thumbnails per layer (feature maps).
DEFAULT_MAP_LAYERS = 6
# Layers a user may pick at once: beyond this a figure's rows are too thin to read.
MAX_CHOSEN_LAYERS = 32


def evenly_spaced(names: list[str], limit: int) -> list[str]:
    """At most `limit` of `names`, evenly spaced over the list, first and last included, order kept."""
    if len(names) <= limit:
        return list(names)
    keep = np.unique(np.round(np.linspace(0, len(names) - 1, limit)).astype(int))
    return [names[i] for i in keep]


def chosen_layers(available: list[str], requested: tuple[str, ...], limit: int = DEFAULT_LAYERS) -> list[str]:
    """`requested` layers in input-to-output order; by default (nothing requested) an even selection of at
    most `limit` of `available`. Refuses unknown names and more than MAX_CHOSEN_LAYERS at once."""
    if not requested:
        return evenly_spaced(list(available), limit)
    unknown = [name for name in requested if name not in available]
    if unknown:
        shown = ", ".join(available[:40]) + (", ..." if len(available) > 40 else "")
        raise dlviz.ParamsError(
            f"Unknown layer(s) {', '.join(unknown)}.",
            f"choose among the layers: {shown or 'none'}.",
        )
    if len(set(requested)) > MAX_CHOSEN_LAYERS:
        raise dlviz.ParamsError(
            f"{len(set(requested))} layers chosen; a figure shows at most {MAX_CHOSEN_LAYERS}.",
            f"pick at most {MAX_CHOSEN_LAYERS} layers (or none, for an even selection of {limit}).",
        )
    return [name for name in available if name in requested]
