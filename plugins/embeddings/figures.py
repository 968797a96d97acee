"""The `embeddings` plugin's figures: the projected activations (2-D or 3-D), and the same projection at
each weight snapshot of a run under a step slider."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dlviz.plugin import tr
from plugins._shared.snapshots import step_slider
from plugins.embeddings.result import METHOD_NAMES, EmbeddingResult

COLOURINGS = {
    "class": ("true class", "真实类别"),
    "prediction": ("predicted class", "预测类别"),
    "correctness": ("right or wrong", "预测是否正确"),
    "confidence": ("confidence", "置信度"),
}
REGRESSION_COLOURINGS = {
    "class": ("target", "目标值"),
    "prediction": ("prediction", "预测值"),
    "correctness": ("absolute error", "绝对误差"),
    "confidence": ("absolute error", "绝对误差"),
}
MARKER_SIZE = {2: 6, 3: 3}


def embedding_figures(result: EmbeddingResult, language: str) -> list[go.Figure]:
    figures = [projection_figure(result, language)]
    if result.snapshots is not None:
        figures.append(snapshot_figure(result, language))
    return figures


def colouring_name(result: EmbeddingResult, language: str) -> str:
    if result.colour_by == "feature":
        return result.colour_label
    names = REGRESSION_COLOURINGS if result.regression else COLOURINGS
    return tr(language, *names[result.colour_by])


def _hover_rows(result: EmbeddingResult, language: str) -> tuple[np.ndarray, str]:
    """customdata (one row of texts per sample) and the hover template that reads it."""
    if result.regression:
        true = [f"{value:.3g}" for value in result.labels]
        predicted = [f"{value:.3g}" for value in result.predicted]
        extra = [f"{value:.3g}" for value in result.confidence]
        template = tr(
            language,
            "sample #%{customdata[0]}<br>target %{customdata[1]}<br>predicted %{customdata[2]}"
            "<br>absolute error %{customdata[3]}",
            "样本 #%{customdata[0]}<br>目标值 %{customdata[1]}<br>预测值 %{customdata[2]}"
            "<br>绝对误差 %{customdata[3]}",
        )
    else:
        names = result.names(language)
        true = [names[int(label)] for label in result.labels]
        predicted = [names[int(label)] for label in result.predicted]
        extra = [f"{value:.0%}" for value in result.confidence]
        template = tr(
            language,
            "sample #%{customdata[0]}<br>true %{customdata[1]}<br>predicted %{customdata[2]}"
            " (%{customdata[3]})",
            "样本 #%{customdata[0]}<br>真实 %{customdata[1]}<br>预测 %{customdata[2]}（%{customdata[3]}）",
        )
    if result.image_shape is not None:
        description = tr(language, "image", "图像") + " " + "×".join(str(d) for d in result.image_shape)
        details = [description] * len(result.labels)
    else:
        details = [
            "<br>".join(
                f"{name} = {value:.3g}" for name, value in zip(result.feature_names, row, strict=True)
            )
            for row in result.features
        ]
    data = np.array([[str(i) for i in result.indices], true, predicted, extra, details], dtype=object).T
    return data, template + "<br>%{customdata[4]}<extra></extra>"


def _groups(result: EmbeddingResult, language: str) -> list[tuple[str, np.ndarray]]:
    """(legend name, sample mask) per category of a categorical colouring; one unnamed group otherwise."""
    if not result.categorical:
        return [("", np.ones(len(result.labels), dtype=bool))]
    if result.colour_by == "correctness":
        right = result.colour_values == 1
        return [(tr(language, "right", "正确"), right), (tr(language, "wrong", "错误"), ~right)]
    names = result.names(language)
    return [
        (names[c], result.colour_values == c) for c in range(len(names)) if (result.colour_values == c).any()
    ]


def _traces(result: EmbeddingResult, coordinates: np.ndarray, language: str) -> list:
    customdata, template = _hover_rows(result, language)
    three = result.dimensions == 3
    traces = []
    for name, mask in _groups(result, language):
        points = coordinates[mask]
        marker = {"size": MARKER_SIZE[result.dimensions], "opacity": 0.8}
        if not result.categorical:
            marker.update(
                color=result.colour_values,
                colorscale="Viridis",
                showscale=True,
                colorbar={"title": {"text": colouring_name(result, language)}},
            )
        common = {
            "mode": "markers",
            "marker": marker,
            "customdata": customdata[mask],
            "hovertemplate": template,
            "name": name,
            "showlegend": bool(name),
        }
        if three:
            traces.append(go.Scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], **common))
        else:
            traces.append(go.Scatter(x=points[:, 0], y=points[:, 1], **common))
    return traces


def _positions(result: EmbeddingResult, coordinates: np.ndarray, language: str) -> list:
    """The points of each group at `coordinates`, without styling (a slider frame's data)."""
    traces = []
    for _, mask in _groups(result, language):
        points = coordinates[mask]
        if result.dimensions == 3:
            traces.append(go.Scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2]))
        else:
            traces.append(go.Scatter(x=points[:, 0], y=points[:, 1]))
    return traces


def _axis_titles(result: EmbeddingResult, language: str) -> list[str]:
    if result.method == "pca" and result.explained_variance:
        return [
            tr(language, f"PC {i + 1} ({ratio:.0%} of the variance)", f"主成分 {i + 1}（方差的 {ratio:.0%}）")
            for i, ratio in enumerate(result.explained_variance)
        ]
    label = METHOD_NAMES[result.method][0]
    return [f"{label} {i + 1}" for i in range(result.dimensions)]


def _axes(figure: go.Figure, result: EmbeddingResult, titles: list[str], ranges=None) -> None:
    if result.dimensions == 3:
        scene = {
            axis: {"title": title} for axis, title in zip(("xaxis", "yaxis", "zaxis"), titles, strict=True)
        }
        if ranges is not None:
            for axis, bounds in zip(("xaxis", "yaxis", "zaxis"), ranges, strict=True):
                scene[axis]["range"] = bounds
        figure.update_layout(scene=scene)
    else:
        figure.update_layout(xaxis={"title": titles[0]}, yaxis={"title": titles[1]})
        if ranges is not None:
            figure.update_xaxes(range=ranges[0])
            figure.update_yaxes(range=ranges[1])


def _title(result: EmbeddingResult, language: str) -> str:
    method = METHOD_NAMES[result.method]
    return tr(
        language,
        f"Layer {result.layer} ({result.layer_units} values) by {method[0]}, coloured by {colouring_name(result, 'en')}",
        f"层 {result.layer}（{result.layer_units} 个值）的{method[1]}投影，按{colouring_name(result, 'zh')}着色",
    )


def projection_figure(result: EmbeddingResult, language: str) -> go.Figure:
    figure = go.Figure(_traces(result, result.coordinates, language))
    figure.update_layout(title=_title(result, language), height=600, legend={"itemsizing": "constant"})
    _axes(figure, result, _axis_titles(result, language))
    return figure


def snapshot_figure(result: EmbeddingResult, language: str) -> go.Figure:
    """The projection at each snapshot, aligned to the last one, under a step slider (fixed axes)."""
    snapshots = result.snapshots
    # A frame carries only the points' positions: colours and hover texts stay those of the first traces.
    frames = [
        go.Frame(name=str(index), data=_positions(result, coordinates, language))
        for index, coordinates in enumerate(snapshots.coordinates)
    ]
    low, high = snapshots.coordinates.min(axis=(0, 1)), snapshots.coordinates.max(axis=(0, 1))
    margin = 0.05 * (high - low)
    ranges = [[float(a - m), float(b + m)] for a, b, m in zip(low, high, margin, strict=True)]
    figure = go.Figure(data=_traces(result, snapshots.coordinates[-1], language), frames=frames)
    how = (
        tr(language, "one PCA fitted on the last snapshot", "用最后一个快照拟合的同一个 PCA")
        if snapshots.alignment == "pca"
        else tr(language, "each aligned to the last by Procrustes", "各自经 Procrustes 对齐到最后一个快照")
    )
    figure.update_layout(
        title=tr(
            language,
            f"Layer {result.layer} during training ({how})",
            f"训练过程中的层 {result.layer}（{how}）",
        ),
        sliders=[step_slider(snapshots.steps, language)],
        height=650,
        legend={"itemsizing": "constant"},
    )
    if snapshots.alignment == "pca":  # the axes are the last snapshot's components, not the model's
        titles = [
            tr(language, f"PC {i + 1} of the last snapshot", f"最后一个快照的主成分 {i + 1}")
            for i in range(result.dimensions)
        ]
    else:
        titles = [f"{METHOD_NAMES[result.method][0]} {i + 1}" for i in range(result.dimensions)]
    _axes(figure, result, titles, ranges)
    return figure
