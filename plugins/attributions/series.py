"""The `attributions` plugin's figure of one time series: the series itself above, each method's
attributions as a time × feature heatmap below it, on the same time axis."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.explain import SIGNED_COLOURS
from plugins.attributions.result import METHOD_NAMES, AttributionResult

SERIES_COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D")


def series_figure(
    result: AttributionResult, index: int, heading: str, units: str, language: str
) -> go.Figure:
    """Sample `index` of a time-series result: its features over the steps, then one heatmap per method
    (features × steps, each method scaled to its largest |attribution|). `heading` names the sample and
    what was explained, `units` what the attributions are measured in."""
    steps, n_features = result.series_shape
    names = result.series_features or tuple(f"x{f}" for f in range(n_features))
    series = result.inputs[index].reshape(steps, n_features)
    method_names = [tr(language, *METHOD_NAMES[method]) for method in result.methods]
    figure = make_subplots(
        rows=1 + len(result.methods),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        row_heights=[1.4] + [1.0] * len(result.methods),
        subplot_titles=[tr(language, "input series (standardised)", "输入序列（已标准化）"), *method_names],
    )
    for feature, name in enumerate(names):
        figure.add_trace(
            go.Scatter(
                x=np.arange(steps),
                y=series[:, feature],
                mode="lines+markers",
                marker={"size": 4},
                line={"color": SERIES_COLOURS[feature % len(SERIES_COLOURS)]},
                name=name,
                hovertemplate=f"{name}, t %{{x}}<br>%{{y:.3g}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for row, method in enumerate(result.methods, start=2):
        values = result.maps[method][index].reshape(steps, n_features).T  # features × steps
        peak = float(np.max(np.abs(values))) or 1.0
        figure.add_trace(
            go.Heatmap(
                x=np.arange(steps),
                y=list(names),
                z=np.round(values / peak, 4),
                customdata=values,
                zmin=-1.0,
                zmax=1.0,
                zmid=0.0,
                colorscale=SIGNED_COLOURS,
                showscale=row == 2,
                colorbar={
                    "title": {
                        "text": tr(language, "attribution / max |attribution|", "归因 / 最大 |归因|"),
                        "side": "right",
                    },
                    "len": 0.5,
                    "y": 0.0,
                    "yanchor": "bottom",
                },
                hovertemplate="%{y}, t %{x}<br>%{customdata:.3g} " + units + "<extra></extra>",
                name=method_names[row - 2],
            ),
            row=row,
            col=1,
        )
    figure.update_xaxes(title_text=tr(language, "time step", "时间步"), row=1 + len(result.methods), col=1)
    figure.update_yaxes(title_text=tr(language, "value", "取值"), row=1, col=1)
    figure.update_layout(
        title=tr(language, "Attributions over time: ", "随时间的归因：")
        + heading
        + tr(
            language,
            f"<br><sup>{units} explained; red = pushes the output up, blue = down</sup>",
            f"<br><sup>解释 {units}；红色 = 推高输出，蓝色 = 压低输出</sup>",
        ),
        height=180 * (1 + len(result.methods)) + 180,
        legend={"title": {"text": tr(language, "feature", "特征")}, "y": 1.0, "yanchor": "top"},
    )
    return figure
