"""The `explanation_methods` lesson's figures: the agreement matrix, the rank correlation per sample, the
shown sample's importances side by side (bars, or pixel blocks), and method against method."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr, tr_names
from plugins._shared.explain import grey_image_trace, image_axes, pixel_hover, signed_heatmap
from plugins.explanation_methods.agreement import disagreement, normalised
from plugins.explanation_methods.result import METHOD_NAMES, PAIRS, ComparisonResult
from plugins.explanation_methods.segments import block_name

METHOD_COLOURS = {"lime": "#54A24B", "shap": "#E45756", "integrated_gradients": "#4C78A8"}
PAIR_COLOURS = ("#B279A2", "#F58518", "#72B7B2")
TOP_FEATURES = 15


def result_figures(result: ComparisonResult, language: str = "en") -> list[go.Figure]:
    """The figures of an `explanation_methods` result, titles in `language`."""
    shown = _image_sample(result, language) if result.image else _feature_bars(result, language)
    return [
        _agreement_heatmap(result, language),
        _per_sample(result, language),
        shown,
        _scatter(result, language),
    ]


def _unit_names(result: ComparisonResult, language: str) -> tuple[str, ...]:
    """The units' names in `language`: an image's pixel blocks are named anew, a table's features as they are."""
    if result.image and result.segments is not None:
        return tuple(block_name(result.segments, unit, language) for unit in range(len(result.unit_names)))
    return result.unit_names


def _name(method: str, language: str) -> str:
    return tr(language, *METHOD_NAMES[method])


def _class_text(result: ComparisonResult, language: str) -> str:
    index = result.sample
    target = int(result.targets[index])
    name = tr_names(language, result.class_names, result.class_names_zh)[target]
    if result.regression:
        return tr(
            language,
            f"sample {index}, predicted {name} = {result.probabilities[index]:.4g}",
            f"样本 {index}，预测的{name} = {result.probabilities[index]:.4g}",
        )
    return tr(
        language,
        f"sample {index}, class {name} (P = {result.probabilities[index]:.2f})",
        f"样本 {index}，类别 {name}（P = {result.probabilities[index]:.2f}）",
    )


def _compare_text(result: ComparisonResult, language: str) -> str:
    if result.compare == "magnitude":
        return tr(language, "of |importance|", "（按 |重要性|）")
    return tr(language, "of signed importance", "（按带符号的重要性）")


def _agreement_heatmap(result: ComparisonResult, language: str) -> go.Figure:
    names = [_name(m, language) for m in result.methods]
    values = np.round(result.agreement, 3)
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=names,
            y=names,
            zmin=-1.0,
            zmax=1.0,
            zmid=0.0,
            colorscale="RdBu",
            text=[[f"{v:.2f}" for v in row] for row in values],
            texttemplate="%{text}",
            colorbar={"title": {"text": tr(language, "Spearman ρ", "斯皮尔曼 ρ"), "side": "right"}},
            hovertemplate="%{y} / %{x}: ρ = %{z:.3f}<extra></extra>",
        )
    )
    unit = tr(language, "pixel blocks", "像素块") if result.image else tr(language, "features", "特征")
    figure.update_layout(
        title=tr(
            language,
            f"Agreement: mean Spearman rank correlation {_compare_text(result, language)} over "
            f"{len(result.targets)} samples ({len(result.unit_names)} {unit})",
            f"一致性：{len(result.targets)} 个样本上的平均斯皮尔曼秩相关{_compare_text(result, language)}"
            f"（{len(result.unit_names)} 个{unit}）",
        ),
        xaxis_title=tr(language, "method", "方法"),
        yaxis={"title": tr(language, "method", "方法"), "autorange": "reversed"},
        width=640,
        height=520,
    )
    return figure


def _per_sample(result: ComparisonResult, language: str) -> go.Figure:
    figure = go.Figure()
    for (first, second), colour in zip(PAIRS, PAIR_COLOURS, strict=True):
        i, j = result.methods.index(first), result.methods.index(second)
        label = f"{_name(first, language)} – {_name(second, language)}"
        figure.add_trace(
            go.Box(
                y=np.round(result.spearman[:, i, j], 4),
                name=label,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker_color=colour,
                text=[tr(language, f"sample {s}", f"样本 {s}") for s in range(len(result.targets))],
                hovertemplate="%{text}: ρ = %{y:.3f}<extra></extra>",
            )
        )
    figure.add_hline(y=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(
            language,
            f"Rank correlation per sample (LIME's local fit: median R² {np.median(result.lime_scores):.2f}; "
            f"SHAP by {result.shap_method})",
            f"逐样本的秩相关（LIME 局部拟合的 R² 中位数 {np.median(result.lime_scores):.2f}；SHAP 使用 {result.shap_method}）",
        ),
        xaxis_title=tr(language, "pair of methods", "方法对"),
        yaxis={
            "title": tr(language, "Spearman ρ (one point per sample)", "斯皮尔曼 ρ（每点一个样本）"),
            "range": [-1.05, 1.05],
        },
        showlegend=False,
    )
    return figure


def _feature_bars(result: ComparisonResult, language: str) -> go.Figure:
    index = result.sample
    scaled = {m: normalised(result.importances[m][index]) for m in result.methods}
    weight = np.mean([np.abs(v) for v in scaled.values()], axis=0)
    order = np.argsort(-weight)[:TOP_FEATURES][::-1]
    signs = np.stack([np.sign(scaled[m][order]) for m in result.methods])
    conflict = np.any(signs > 0, axis=0) & np.any(signs < 0, axis=0)
    names = _unit_names(result, language)
    labels = [f"{names[f]} {'⚠' if clash else ''}".strip() for f, clash in zip(order, conflict, strict=True)]
    figure = go.Figure()
    for method in result.methods:
        figure.add_trace(
            go.Bar(
                x=scaled[method][order],
                y=labels,
                orientation="h",
                name=_name(method, language),
                marker_color=METHOD_COLOURS[method],
                customdata=result.importances[method][index][order],
                hovertemplate="%{y}: %{customdata:.4g}<extra>" + _name(method, language) + "</extra>",
            )
        )
    figure.add_vline(x=0, line_color="grey", line_width=1)
    figure.update_layout(
        barmode="group",
        title=tr(
            language,
            f"Where they disagree: {_class_text(result, language)} (⚠ = the methods' signs differ)",
            f"哪里不一致：{_class_text(result, language)}（⚠ = 各方法符号不同）",
        ),
        xaxis_title=tr(
            language,
            "importance / the method's max |importance| "
            + ("(> 0 = raises the prediction)" if result.regression else "(> 0 = for the class)"),
            "重要性 / 该方法的最大 |重要性|" + ("（> 0 = 提高预测值）" if result.regression else "（> 0 = 支持该类别）"),
        ),
        yaxis_title=tr(
            language,
            f"feature (top {len(order)} by mean |importance|)",
            f"特征（按平均 |重要性| 的前 {len(order)} 个）",
        ),
        legend_title_text=tr(language, "method", "方法"),
        height=max(460, 26 * len(order) * 2 + 160),
    )
    return figure


def _image_sample(result: ComparisonResult, language: str) -> go.Figure:
    index = result.sample
    segments = result.segments
    titles = [tr(language, "input", "输入")] + [_name(m, language) for m in result.methods]
    titles.append(tr(language, "disagreement (spread)", "不一致程度（离散度）"))
    figure = make_subplots(rows=1, cols=len(titles), subplot_titles=titles, horizontal_spacing=0.03)
    figure.add_trace(grey_image_trace(result.inputs[index][..., None], language), row=1, col=1)
    for col, method in enumerate(result.methods, start=2):
        painted = normalised(result.importances[method][index])[segments]
        figure.add_trace(
            signed_heatmap(
                np.round(painted, 4),
                1.0,
                language=language,
                colorbar_title=tr(language, "importance / max |importance|", "重要性 / 最大 |重要性|"),
                show_scale=col == 2,
            ),
            row=1,
            col=col,
        )
    spread = disagreement(result, index)[segments]
    figure.add_trace(
        go.Heatmap(
            z=np.round(spread, 4),
            colorscale="Purples",
            zmin=0.0,
            showscale=False,
            hovertemplate=pixel_hover(language, tr(language, "spread", "离散度"), ".3f"),
        ),
        row=1,
        col=len(titles),
    )
    image_axes(figure, 1, len(titles))
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Where they disagree: {_class_text(result, language)}; blocks of {result.settings['segment']} px "
            "(red = for the class, blue = against; purple = methods differ)",
            f"哪里不一致：{_class_text(result, language)}；{result.settings['segment']} 像素方块"
            "（红 = 支持该类别，蓝 = 反对；紫 = 各方法差异大）",
        ),
        height=330,
        width=1100,
    )
    return figure


def _scatter(result: ComparisonResult, language: str) -> go.Figure:
    index = result.sample
    titles = []
    for first, second in PAIRS:
        value = result.spearman[index, result.methods.index(first), result.methods.index(second)]
        titles.append(f"{_name(first, language)} / {_name(second, language)}: ρ = {value:.2f}")
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.08)
    for col, (first, second) in enumerate(PAIRS, start=1):
        x, y = normalised(result.importances[first][index]), normalised(result.importances[second][index])
        figure.add_trace(
            go.Scatter(
                x=np.round(x, 4),
                y=np.round(y, 4),
                mode="markers",
                marker={"color": METHOD_COLOURS[second], "size": 7, "opacity": 0.8},
                text=list(_unit_names(result, language)),
                hovertemplate="%{text}<br>%{x:.3f} / %{y:.3f}<extra></extra>",
                name=f"{_name(first, language)} / {_name(second, language)}",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        figure.add_trace(
            go.Scatter(
                x=[-1, 1],
                y=[-1, 1],
                mode="lines",
                line={"color": "grey", "dash": "dot", "width": 1},
                hoverinfo="skip",
                showlegend=col == 1,
                name=tr(language, "equal importance", "重要性相同"),
            ),
            row=1,
            col=col,
        )
        figure.update_xaxes(title_text=_name(first, language), range=[-1.1, 1.1], row=1, col=col)
        figure.update_yaxes(title_text=_name(second, language), range=[-1.1, 1.1], row=1, col=col)
    unit = tr(language, "pixel block", "像素块") if result.image else tr(language, "feature", "特征")
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Method against method: {_class_text(result, language)}, one point per {unit} (importance / max |importance|)",
            f"方法两两对比：{_class_text(result, language)}，每点一个{unit}（重要性 / 最大 |重要性|）",
        ),
        legend={"orientation": "h", "y": -0.2},
        height=440,
    )
    return figure
