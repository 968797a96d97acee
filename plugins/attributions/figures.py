"""The `attributions` plugin's figures: the maps (images) or bars (tables) of every method, IG's
completeness, and the sanity check's curves and maps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr, tr_names
from plugins._shared.explain import (
    HEATMAP_OPACITY,
    grey_image_trace,
    image_axes,
    note_annotation,
    signed_heatmap,
    units_text,
)
from plugins.attributions.result import METHOD_NAMES, SANITY_LIMIT, AttributionResult
from plugins.attributions.series import series_figure
from plugins.attributions.token_figures import token_figure

TABULAR_SAMPLES_SHOWN = 3
TOP_FEATURES = 15


def result_figures(result: AttributionResult, language: str = "en") -> list[go.Figure]:
    """The figures of an `attributions` result, titles in `language`; timing and notes under the first."""
    if result.image:
        figures = [_image_figure(result, language)]
    elif result.tokens:
        shown = range(result.sample, min(result.sample + TABULAR_SAMPLES_SHOWN, len(result.targets)))
        figures = [
            token_figure(result, index, _class_text(result, index, language), _units(result, language), language)
            for index in shown
        ]
    elif result.series_shape is not None:
        shown = range(result.sample, min(result.sample + TABULAR_SAMPLES_SHOWN, len(result.targets)))
        figures = [
            series_figure(result, index, _class_text(result, index, language), _units(result, language), language)
            for index in shown
        ]
    else:
        shown = range(result.sample, min(result.sample + TABULAR_SAMPLES_SHOWN, len(result.targets)))
        figures = [_bars_figure(result, index, language) for index in shown]
    if result.ig_sums is not None:
        figures.append(_completeness_figure(result, language))
    if result.sanity is not None:
        figures.append(_sanity_curve(result, language))
        if result.image:
            figures.append(_sanity_maps(result, language))
    timing = tr(
        language,
        f"{len(result.targets)} samples explained in {result.seconds:.1f} s"
        + ("." if result.tokens else " (one compiled function)."),
        f"解释了 {len(result.targets)} 个样本，用时 {result.seconds:.1f} 秒" + ("。" if result.tokens else "（同一个编译函数）。"),
    )
    note_annotation(figures[0], (timing, *tr_names(language, result.notes, result.notes_zh)))
    return figures


def _method_name(method: str, language: str) -> str:
    en, zh = METHOD_NAMES[method]
    return tr(language, en, zh)


def _target_name(result: AttributionResult, index: int, language: str) -> str:
    return tr_names(language, result.class_names, result.class_names_zh)[int(result.targets[index])]


def _units(result: AttributionResult, language: str) -> str:
    """What the attributions are measured in: a regressor's target (in its own units), else the score."""
    if result.regression:
        return _target_name(result, 0, language)
    return units_text(result.score, language)


def _class_text(result: AttributionResult, index: int, language: str) -> str:
    name = _target_name(result, index, language)
    if result.regression:
        return tr(
            language,
            f"sample {index}, predicted {name} = {result.probabilities[index]:.4g}",
            f"样本 {index}，预测的{name} = {result.probabilities[index]:.4g}",
        )
    return tr(
        language,
        f"sample {index}, class {name} (p = {result.probabilities[index]:.2f})",
        f"样本 {index}，类别 {name}（p = {result.probabilities[index]:.2f}）",
    )


def _scaled(values: np.ndarray) -> np.ndarray:
    """A map divided by its largest |value|, so maps of different methods share one colour scale."""
    peak = float(np.max(np.abs(values)))
    return values / peak if peak > 0 else values


def _image_figure(result: AttributionResult, language: str) -> go.Figure:
    index = result.sample
    rows = len(result.methods)
    headers = [
        tr(language, "input", "输入"),
        tr(language, "attribution", "归因"),
        tr(language, "overlay", "叠加"),
    ]
    row_titles = [_method_name(m, language).replace(" (", "<br>(") for m in result.methods]
    figure = make_subplots(
        rows=rows,
        cols=3,
        column_titles=headers,
        row_titles=row_titles,
        horizontal_spacing=0.03,
        vertical_spacing=0.03,
    )
    image = result.inputs[index]
    for row, method in enumerate(result.methods, start=1):
        scaled = _scaled(result.maps[method][index])
        figure.add_trace(grey_image_trace(image, language), row=row, col=1)
        figure.add_trace(
            signed_heatmap(
                scaled,
                1.0,
                language=language,
                colorbar_title=tr(language, "attribution / max |attribution|", "归因 / 最大 |归因|"),
                show_scale=row == 1,
            ),
            row=row,
            col=2,
        )
        figure.add_trace(grey_image_trace(image, language), row=row, col=3)
        figure.add_trace(
            signed_heatmap(scaled, 1.0, language=language, opacity=HEATMAP_OPACITY), row=row, col=3
        )
    image_axes(figure, rows, 3)
    figure.for_each_annotation(
        lambda note: note.update(x=-0.02, xanchor="right", textangle=0) if note.text in row_titles else None
    )
    layer = (
        f", Grad-CAM {tr(language, 'layer', '层')} {result.grad_cam_layer}" if result.grad_cam_layer else ""
    )
    figure.update_layout(
        title=tr(language, "Attribution maps: ", "归因图：")
        + _class_text(result, index, language)
        + tr(
            language,
            f"<br><sup>{_units(result, language)} explained; red = evidence for the "
            f"{'higher prediction' if result.regression else 'class'}, blue = against; "
            f"{result.baseline} IG baseline{layer}</sup>",
            f"<br><sup>解释 {_units(result, language)}；红色 = 支持"
            f"{'更高预测值' if result.regression else '该类别'}的证据，蓝色 = 反对；"
            f"积分梯度基线 {result.baseline}{layer}</sup>",
        ),
        height=230 * rows + 140,
        width=900,
        margin={"l": 190},
    )
    return figure


def _bars_figure(result: AttributionResult, index: int, language: str) -> go.Figure:
    reference = result.maps[result.methods[0]][index]
    features = np.argsort(-np.abs(reference), kind="stable")[:TOP_FEATURES][::-1]
    labels = [f"{result.feature_names[f]} = {result.feature_values[index, f]:.3g}" for f in features]
    figure = go.Figure()
    for method in result.methods:
        values = result.maps[method][index]
        figure.add_trace(
            go.Bar(
                x=_scaled(values)[features],
                y=labels,
                orientation="h",
                name=_method_name(method, language),
                customdata=values[features],
                hovertemplate="%{y}<br>%{customdata:.3g} " + _units(result, language) + "<extra>"
                + _method_name(method, language)
                + "</extra>",
            )
        )
    figure.add_vline(x=0, line_color="grey", line_width=1)
    figure.update_layout(
        barmode="group",
        title=tr(language, "Attributions per feature: ", "各特征的归因：")
        + _class_text(result, index, language),
        xaxis_title=tr(
            language,
            "attribution / max |attribution| of the method "
            + ("(> 0 = raises the prediction)" if result.regression else "(> 0 = for the class)"),
            "归因 / 该方法的最大 |归因|" + ("（> 0 = 提高预测值）" if result.regression else "（> 0 = 支持该类别）"),
        ),
        yaxis_title=tr(
            language,
            f"feature (top {len(features)} by {_method_name(result.methods[0], language)})",
            f"特征（按 {_method_name(result.methods[0], language)} 排序的前 {len(features)} 个）",
        ),
        legend_title_text=tr(language, "method", "方法"),
        height=max(420, 22 * len(features) * max(1, len(result.methods)) // 2 + 160),
    )
    return figure


def _completeness_figure(result: AttributionResult, language: str) -> go.Figure:
    deltas, sums = result.ig_deltas, result.ig_sums
    low, high = float(min(deltas.min(), sums.min())), float(max(deltas.max(), sums.max()))
    units = _units(result, language)
    figure = go.Figure(
        [
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                line={"color": "grey", "dash": "dash"},
                name=tr(language, "complete (sum = difference)", "完整（之和 = 差值）"),
            ),
            go.Scatter(
                x=deltas,
                y=sums,
                mode="markers",
                marker={"color": "#4C78A8", "size": 7},
                name=tr(language, "explained samples", "被解释的样本"),
                text=[f"{tr(language, 'sample', '样本')} {i}" for i in range(len(sums))],
                hovertemplate="%{text}<br>Δ %{x:.4g}<br>Σ %{y:.4g}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        title=tr(
            language,
            f"Integrated Gradients completeness ({result.steps} steps, {result.baseline} baseline): "
            f"max error {result.completeness_error:.2%}",
            f"积分梯度完整性检验（{result.steps} 步，基线 {result.baseline}）：最大误差 {result.completeness_error:.2%}",
        ),
        xaxis_title=tr(language, f"score(x) - score(baseline) ({units})", f"分数(x) − 分数(基线)（{units}）"),
        yaxis_title=tr(language, f"sum of attributions ({units})", f"归因之和（{units}）"),
    )
    return figure


def _stage_labels(result: AttributionResult, language: str) -> list[str]:
    stages = result.sanity.stages
    return [tr(language, "trained", "训练好的")] + [
        tr(language, f"…{name}", f"…{name}") for name in stages[1:]
    ]


def _sanity_curve(result: AttributionResult, language: str) -> go.Figure:
    labels = _stage_labels(result, language)
    figure = go.Figure()
    colours = dict(zip(result.methods, ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756"), strict=False))
    for method in result.methods:
        name = _method_name(method, language)
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=result.sanity.correlations[method],
                mode="lines+markers",
                line={"color": colours[method]},
                name=f"{name} |map|",
                legendgroup=method,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=result.sanity.signed_correlations[method],
                mode="lines",
                line={"color": colours[method], "dash": "dash"},
                name=tr(language, f"{name} signed", f"{name} 带符号"),
                legendgroup=method,
            )
        )
    figure.add_hline(
        y=SANITY_LIMIT,
        line_dash="dot",
        line_color="#b2182b",
        annotation_text=tr(
            language, "flagged above this after full randomisation", "完全随机化后高于此线即被标记"
        ),
    )
    figure.add_hline(y=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(
            language,
            "Sanity check (Adebayo et al. 2018): cascading randomisation from the top layer",
            "合理性检验（Adebayo 等 2018）：从顶层开始级联随机化",
        ),
        xaxis_title=tr(
            language, "weights randomised from the top down to layer", "权重已自顶向下随机化到这一层"
        ),
        yaxis={
            "title": tr(
                language,
                "Spearman rank correlation with the trained model's map",
                "与训练模型归因图的斯皮尔曼秩相关 (Spearman)",
            ),
            "range": [-0.3, 1.05],
        },
        legend_title_text=tr(
            language, "method (solid |map|, dashed signed)", "方法（实线 |归因|，虚线带符号）"
        ),
    )
    return figure


def _sanity_maps(result: AttributionResult, language: str) -> go.Figure:
    labels = _stage_labels(result, language)
    rows, cols = len(result.methods), len(labels)
    row_titles = [_method_name(m, language).replace(" (", "<br>(") for m in result.methods]
    figure = make_subplots(
        rows=rows,
        cols=cols,
        column_titles=labels,
        row_titles=row_titles,
        # Plotly refuses a spacing above 1 / (cols - 1).
        horizontal_spacing=min(0.02, 0.5 / max(cols - 1, 1)),
        vertical_spacing=0.04,
    )
    for row, method in enumerate(result.methods, start=1):
        for col in range(cols):
            figure.add_trace(
                signed_heatmap(
                    _scaled(result.sanity.maps[method][col]),
                    1.0,
                    language=language,
                    colorbar_title=tr(language, "attribution / max |attribution|", "归因 / 最大 |归因|"),
                    show_scale=row == 1 and col == 0,
                ),
                row=row,
                col=col + 1,
            )
    image_axes(figure, rows, cols)
    figure.for_each_annotation(
        lambda note: note.update(x=-0.01, xanchor="right", textangle=0) if note.text in row_titles else None
    )
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Maps as the weights are randomised from the top layer down: {_class_text(result, result.sample, language)}"
            "<br><sup>columns: weights randomised down to that layer; an all-white map is zero everywhere</sup>",
            f"自顶向下逐层随机化权重后的归因图：{_class_text(result, result.sample, language)}"
            "<br><sup>每一列：权重已随机化到该层；全白的图处处为零</sup>",
        ),
        height=170 * rows + 150,
        width=max(760, 140 * cols + 240),
        margin={"l": 190},
    )
    return figure
