"""The comparison's figures: curves overlaid, the settings table, settings against the final metric."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins.compare_runs.result import Comparison, setting_name

MAX_PANELS = 4  # metric panels side by side (loss, accuracy, ...); further metrics are left out
DIFFERING_FILL = "#FFF2CC"  # cells of settings that differ between runs
SAME_FILL = "#F4F4F4"
ROW_HEIGHT = 26


def run_colour(index: int) -> str:
    return qualitative.Plotly[index % len(qualitative.Plotly)]


def metric_panels(comparison: Comparison) -> list[str]:
    """Base metrics with a panel each (val_x drawn dashed in x's panel), loss first."""
    names = []
    for run in comparison.runs:
        for curve in run.curves:
            base = curve.metric.removeprefix("val_")
            if base not in names:
                names.append(base)
    return sorted(names, key=lambda name: name != "loss")[:MAX_PANELS]  # stable: the rest keep their order


def curves_figure(comparison: Comparison, language: str) -> go.Figure:
    panels = metric_panels(comparison)
    figure = make_subplots(rows=1, cols=max(len(panels), 1), subplot_titles=panels or None)
    validation = tr(language, "validation", "验证集")
    for index, run in enumerate(comparison.runs):
        label = run.text(language)
        for curve in run.curves:
            base = curve.metric.removeprefix("val_")
            if base not in panels:
                continue
            is_validation = curve.metric.startswith("val_")
            figure.add_trace(
                go.Scatter(
                    x=curve.x,
                    y=curve.values,
                    mode="lines",
                    name=f"{label} ({validation})" if is_validation else label,
                    legendgroup=label,
                    showlegend=base == panels[0],
                    line={"color": run_colour(index), "dash": "dash" if is_validation else "solid"},
                    hovertemplate=f"{label}<br>{curve.metric} %{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=panels.index(base) + 1,
            )
    x_title = (
        tr(language, "epoch", "轮次 (epoch)")
        if comparison.x_axis == "epoch"
        else tr(language, "training step", "训练步数 (step)")
    )
    figure.update_xaxes(title_text=x_title)
    figure.update_layout(
        title=tr(language, "Curves of each run (dashed: validation)", "各训练记录的曲线（虚线：验证集）"),
        hovermode="x unified",
        height=420,
    )
    return figure


def format_value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def settings_table(comparison: Comparison, language: str) -> go.Figure:
    """Runs best first by the ranking metric; columns of settings that differ are highlighted."""
    order = comparison.ranking
    keys = comparison.shown_keys
    metric = comparison.rank_metric
    arrow = "↓" if comparison.lower_is_better else "↑"
    header = [tr(language, "run", "训练记录"), f"{metric} {arrow}"] + [
        setting_name(key, language) for key in keys
    ]
    columns = [
        [comparison.runs[i].text(language) for i in order],
        [format_value(comparison.runs[i].final.get(metric)) for i in order],
    ] + [[format_value(comparison.runs[i].settings.get(key)) for i in order] for key in keys]
    # Wide enough for the longest text of each column (Plotly's default splits the width evenly).
    widths = [
        max(len(str(name)), *(len(text) for text in column))
        for name, column in zip(header, columns, strict=True)
    ]
    fills = ["white", "#E8F0FE"] + [
        DIFFERING_FILL if key in comparison.differing else SAME_FILL for key in keys
    ]
    figure = go.Figure(
        go.Table(
            header={
                "values": header,
                "align": "left",
                "height": ROW_HEIGHT,
                "fill_color": ["#DDDDDD"] * 2
                + ["#F6C343" if key in comparison.differing else "#DDDDDD" for key in keys],
            },
            cells={"values": columns, "align": "left", "height": ROW_HEIGHT, "fill_color": fills},
            columnwidth=[max(width, 4) for width in widths],
        )
    )
    figure.update_layout(
        title=tr(
            language,
            f"Settings of each run, best {metric} first (yellow: differs between runs)",
            f"各训练记录的设置，按 {metric} 从优到劣排序（黄色：各记录不同的设置）",
        ),
        height=110 + ROW_HEIGHT * min(len(order) + 1, 20),
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return figure


def parallel_coordinates(comparison: Comparison, language: str) -> go.Figure:
    """One axis per setting that differs (all settings when none does), then the final metric as colour."""
    keys = comparison.differing or comparison.setting_keys
    metric = comparison.rank_metric
    finals = np.array([run.final.get(metric, np.nan) for run in comparison.runs], np.float64)
    dimensions = [
        _dimension(setting_name(key, language), [run.settings.get(key) for run in comparison.runs])
        for key in keys
    ]
    dimensions.append({"label": metric, "values": np.nan_to_num(finals, nan=np.nanmax(finals))})
    figure = go.Figure(
        go.Parcoords(
            dimensions=dimensions,
            line={
                "color": np.nan_to_num(finals, nan=np.nanmax(finals)),
                "colorscale": "Viridis_r" if comparison.lower_is_better else "Viridis",
                "showscale": True,
                "colorbar": {"title": {"text": metric}},
            },
        )
    )
    figure.update_layout(
        title=tr(language, f"Settings against the final {metric}", f"设置与最终 {metric} 的关系"),
        height=420,
        margin={"l": 60, "r": 60, "t": 120, "b": 30},
    )
    return figure


def _dimension(label: str, values: list) -> dict:
    """A parcoords axis: numbers as they are (a learning rate over decades on a log10 axis), anything
    else as categories."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values) and numbers:
        array = np.asarray(numbers, np.float64)
        if np.all(array > 0) and array.max() / array.min() >= 10:
            ticks = np.arange(math.floor(np.log10(array.min())), math.ceil(np.log10(array.max())) + 1)
            return {
                "label": f"{label} (log)",
                "values": np.log10(array),
                "tickvals": ticks,
                "ticktext": [f"{10.0**tick:g}" for tick in ticks],
            }
        return {"label": label, "values": array}
    texts = [format_value(v) for v in values]
    names = sorted(set(texts))
    return {
        "label": label,
        "values": [names.index(text) for text in texts],
        "tickvals": list(range(len(names))),
        "ticktext": names,
    }


def comparison_figures(comparison: Comparison, language: str) -> list[go.Figure]:
    return [
        curves_figure(comparison, language),
        settings_table(comparison, language),
        parallel_coordinates(comparison, language),
    ]
