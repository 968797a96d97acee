"""The `attributions` plugin's figure of one token sequence: each method's attribution per token, drawn
over the token text."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins._shared.explain import SIGNED_COLOURS
from plugins.attributions.result import METHOD_NAMES, AttributionResult


def token_figure(result: AttributionResult, index: int, heading: str, units: str, language: str) -> go.Figure:
    """Sample `index` of a token result: a row per method, a cell per token showing the word, coloured by
    the token's attribution (each method scaled to its largest |attribution|)."""
    words = result.tokens[index]
    names = [tr(language, *METHOD_NAMES[method]).replace(" (", "<br>(") for method in result.methods]
    values = np.stack([result.maps[method][index] for method in result.methods])  # methods × tokens
    peaks = np.max(np.abs(values), axis=1, keepdims=True)
    scaled = values / np.where(peaks > 0, peaks, 1.0)
    figure = go.Figure(
        go.Heatmap(
            x=list(range(len(words))),
            y=names,
            z=np.round(scaled, 4),
            customdata=values,
            text=[list(words)] * len(names),
            texttemplate="%{text}",
            textfont={"size": 12},
            zmin=-1.0,
            zmax=1.0,
            zmid=0.0,
            colorscale=SIGNED_COLOURS,
            colorbar={
                "title": {
                    "text": tr(language, "attribution / max |attribution|", "归因 / 最大 |归因|"),
                    "side": "right",
                }
            },
            xgap=2,
            ygap=4,
            hovertemplate=tr(language, "token %{x}: %{text}", "第 %{x} 个词元：%{text}")
            + "<br>%{customdata:.3g} "
            + units
            + "<extra>%{y}</extra>",
        )
    )
    figure.update_layout(
        title=tr(language, "Attributions per token: ", "每个词元的归因：")
        + heading
        + tr(
            language,
            f"<br><sup>{units} explained, through the Embedding (summed over its dimensions); "
            "red = pushes the output up, blue = down</sup>",
            f"<br><sup>解释 {units}，经由嵌入层 (Embedding) 计算（对嵌入维度求和）；红色 = 推高输出，蓝色 = 压低输出</sup>",
        ),
        # Positions on top: the computation's notes go under the plot.
        xaxis={"title": tr(language, "position in the sequence", "序列中的位置"), "dtick": 1, "side": "top"},
        yaxis={"autorange": "reversed"},
        height=230 + 90 * len(names),
        width=max(700, 48 * len(words) + 260),
        margin={"l": 190, "t": 150},
    )
    return figure
