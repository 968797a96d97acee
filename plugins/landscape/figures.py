"""The loss landscape as figures: contours with trajectories, a 3-D surface, the loss along a line."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins.landscape.result import LandscapeResult

RUN_COLORS = ("#e45756", "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b")


def _axis_titles(result: LandscapeResult, language: str, short: bool = False) -> tuple[str, str]:
    if result.directions == "pca":
        if short:
            return tuple(f"PC{i + 1} ({share:.0%})" for i, share in enumerate(result.explained_variance))
        return tuple(
            tr(
                language,
                f"PC{i + 1} ({share:.1%} of the trajectory's variance)",
                f"PC{i + 1}（占轨迹方差的 {share:.1%}）",
            )
            for i, share in enumerate(result.explained_variance)
        )
    if short:
        return ("α", "β")
    return tuple(
        tr(
            language,
            f"{name}: filter-normalised random direction {i + 1}",
            f"{name}：滤波器归一化随机方向 {i + 1}",
        )
        for i, name in enumerate(("α", "β"))
    )


def _plane_title(result: LandscapeResult, language: str) -> str:
    data = tr(
        language,
        f"{result.split} loss, {result.eval_samples} samples",
        f"{'训练' if result.split == 'train' else '测试'}损失，{result.eval_samples} 个样本",
    )
    if result.directions == "pca":
        return tr(language, "on the PCA plane of training", "训练轨迹的 PCA 平面") + f" ({data})"
    return tr(language, "random filter-normalised plane", "随机滤波器归一化平面") + f" ({data})"


def _colour(result: LandscapeResult, language: str) -> tuple[np.ndarray, dict]:
    title = result.loss_name
    if not result.log_scale:
        return result.losses, {"title": {"text": title}}
    low, high = float(np.nanmin(result.losses)), float(np.nanmax(result.losses))
    ticks = _nice_log_ticks(low, high)
    colorbar = {
        "title": {"text": title + tr(language, " (log scale)", "（对数刻度）")},
        "tickvals": [math.log10(v) for v in ticks],
        "ticktext": [f"{v:.3g}" for v in ticks],
    }
    return np.log10(np.maximum(result.losses, 1e-12)), colorbar


def contour_figure(result: LandscapeResult, language: str) -> go.Figure:
    z, colorbar = _colour(result, language)
    figure = go.Figure(
        go.Contour(
            x=_rounded(result.alphas),
            y=_rounded(result.betas),
            z=_rounded(z),
            colorscale="Viridis",
            ncontours=25,
            colorbar=colorbar,
            customdata=_rounded(result.losses),
            hovertemplate="%{x:.3f}, %{y:.3f}<br>"
            + tr(language, "loss", "损失")
            + " %{customdata:.4g}<extra></extra>",
            name=tr(language, "loss", "损失"),
            showlegend=False,
        )
    )
    for index, trajectory in enumerate(result.trajectories):
        color = RUN_COLORS[index % len(RUN_COLORS)]
        figure.add_trace(
            go.Scatter(
                x=_rounded(trajectory.coordinates[:, 0]),
                y=_rounded(trajectory.coordinates[:, 1]),
                mode="lines+markers",
                line={"color": color, "width": 2.5},
                marker={"size": 5, "color": color, "line": {"color": "white", "width": 0.5}},
                name=trajectory.text(language),
                customdata=np.c_[trajectory.steps, _rounded(trajectory.losses)].tolist(),
                hovertemplate=(
                    f"{trajectory.text(language)}<br>"
                    + tr(language, "step", "步")
                    + " %{customdata[0]}<br>"
                    + tr(language, "loss", "损失")
                    + " %{customdata[1]:.4g}<extra></extra>"
                ),
            )
        )
        figure.add_trace(
            go.Scatter(
                x=_rounded(trajectory.coordinates[:1, 0]),
                y=_rounded(trajectory.coordinates[:1, 1]),
                mode="markers",
                marker={
                    "symbol": "circle",
                    "size": 11,
                    "color": "white",
                    "line": {"color": color, "width": 3},
                },
                name=tr(language, "start of training", "训练起点"),
                showlegend=index == 0,
                legendgroup="start",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[0.0],
            y=[0.0],
            mode="markers",
            marker={
                "symbol": "x",
                "size": 13,
                "color": "white",
                "line": {"color": "black", "width": 1.5},
            },
            name=tr(
                language,
                f"trained weights (loss {result.centre_loss:.4g})",
                f"训练后的权重（损失 {result.centre_loss:.4g}）",
            ),
        )
    )
    x_title, y_title = _axis_titles(result, language)
    figure.update_layout(
        title=tr(language, "Loss landscape: ", "损失曲面：") + _plane_title(result, language),
        xaxis_title=x_title,
        yaxis={"title": {"text": y_title}, "scaleanchor": "x" if result.directions == "random" else None},
        legend={"orientation": "h", "x": 0.0, "y": -0.15, "yanchor": "top"},
        height=620,
    )
    return figure


def surface_figure(result: LandscapeResult, language: str) -> go.Figure:
    z, colorbar = _colour(result, language)
    figure = go.Figure(
        go.Surface(
            x=_rounded(result.alphas),
            y=_rounded(result.betas),
            z=_rounded(z),
            colorscale="Viridis",
            colorbar=colorbar,
            opacity=0.9,
            name=tr(language, "loss", "损失"),
            hoverinfo="skip",
        )
    )
    lift = 0.01 * float(np.ptp(z)) if z.size else 0.0
    for index, trajectory in enumerate(result.trajectories):
        heights = (
            np.log10(np.maximum(trajectory.plane_losses, 1e-12))
            if result.log_scale
            else trajectory.plane_losses
        )
        figure.add_trace(
            go.Scatter3d(
                x=_rounded(trajectory.coordinates[:, 0]),
                y=_rounded(trajectory.coordinates[:, 1]),
                z=_rounded(heights + lift),
                mode="lines+markers",
                line={"color": RUN_COLORS[index % len(RUN_COLORS)], "width": 6},
                marker={"size": 2.5, "color": RUN_COLORS[index % len(RUN_COLORS)]},
                name=trajectory.text(language),
            )
        )
    centre = math.log10(max(result.centre_loss, 1e-12)) if result.log_scale else result.centre_loss
    figure.add_trace(
        go.Scatter3d(
            x=[0.0],
            y=[0.0],
            z=[centre + lift],
            mode="markers",
            marker={"symbol": "x", "size": 6, "color": "black"},
            name=tr(language, "trained weights", "训练后的权重"),
        )
    )
    x_title, y_title = _axis_titles(result, language, short=True)
    z_axis = {"title": {"text": colorbar["title"]["text"]}}
    if result.log_scale:
        z_axis.update(tickvals=colorbar["tickvals"], ticktext=colorbar["ticktext"])
    figure.update_layout(
        title=tr(language, "Loss surface (3-D): ", "损失曲面（三维）：") + _plane_title(result, language),
        scene={
            "xaxis": {"title": {"text": x_title}},
            "yaxis": {"title": {"text": y_title}},
            "zaxis": z_axis,
        },
        legend={"orientation": "h", "x": 0.0, "y": -0.05, "yanchor": "top"},
        height=650,
    )
    return figure


def line_figure(result: LandscapeResult, language: str) -> go.Figure:
    figure = go.Figure()
    interpolation = result.line_kind == "interpolation"
    for index, line in enumerate(result.lines):
        figure.add_trace(
            go.Scatter(
                x=_rounded(line.t),
                y=_rounded(line.losses),
                mode="lines",
                line={"color": RUN_COLORS[index % len(RUN_COLORS)], "width": 2.5},
                name=line.text(language) if interpolation else tr(language, "loss", "损失"),
                showlegend=interpolation,
            )
        )
    if interpolation:
        title = tr(
            language,
            "Loss along a line: from the start to the end of training",
            "沿直线的损失：从训练开始到结束",
        )
        if len(result.lines) == 1:
            first, last = result.lines[0].steps
            x_title = tr(
                language,
                f"t (0 = first snapshot, step {first}; 1 = last snapshot, step {last})",
                f"t（0 = 第一个快照，第 {first} 步；1 = 最后一个快照，第 {last} 步）",
            )
        else:
            x_title = tr(
                language,
                "t (0 = each run's first snapshot, 1 = its last snapshot)",
                "t（0 = 每条训练记录的第一个快照，1 = 其最后一个快照）",
            )
        for t in (0.0, 1.0):
            figure.add_vline(x=t, line={"dash": "dot", "color": "grey"})
    else:
        title = tr(
            language,
            "Loss along a line: filter-normalised random direction 1 through the trained weights",
            "沿直线的损失：沿滤波器归一化随机方向 1 穿过训练后的权重",
        )
        x_title = tr(language, "α (0 = trained weights)", "α（0 = 训练后的权重）")
        figure.add_vline(x=0.0, line={"dash": "dot", "color": "grey"})
    figure.update_layout(
        title=title,
        xaxis_title=x_title,
        yaxis={
            "title": {
                "text": tr(
                    language,
                    f"{result.split} loss ({result.loss_name})",
                    f"{'训练' if result.split == 'train' else '测试'}损失（{result.loss_name}）",
                )
            },
            "type": "log" if result.log_scale else "linear",
            "tickformat": ".3g",
        },
        legend_title_text=tr(language, "run", "训练记录"),
    )
    return figure


def _nice_log_ticks(low: float, high: float) -> list[float]:
    """Round loss values between `low` and `high` for a log-scale colour bar: 1-2-5 steps, else 1-9."""
    low, high = max(low, 1e-12), max(high, 2e-12)
    exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for mantissas in ((1, 2, 5), tuple(range(1, 10))):
        ticks = [m * 10.0**e for e in exponents for m in mantissas if low <= m * 10.0**e <= high]
        if len(ticks) >= 3:
            return ticks
    return [float(f"{value:.3g}") for value in np.geomspace(low, high, 4)]


def _rounded(values) -> list:
    """Plain floats with 5 significant digits (None for NaN), to keep the figures' JSON small."""
    array = np.asarray(values, np.float64)
    out = np.array(
        [float(f"{value:.5g}") if np.isfinite(value) else None for value in array.ravel()], dtype=object
    )
    return out.reshape(array.shape).tolist()
