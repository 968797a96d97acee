"""The `shap` plugin's figures: beeswarm summary, mean |SHAP| bars, waterfall, dependence scatter, and the
per-pixel maps of images' top classes."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr, tr_names
from plugins._shared.explain import grey_image_trace, image_axes, note_annotation, signed_heatmap
from plugins.shap.result import ShapResult

TOP_FEATURES = 12


def result_figures(result: ShapResult, language: str = "en") -> list[go.Figure]:
    """The figures of a `shap` result, titles in `language`; the additivity check and notes under the first."""
    figures = [
        _beeswarm(result, language),
        _importance_bars(result, language),
        _waterfall(result, language),
        _dependence(result, language),
    ]
    if result.image_shape is not None and len(result.image_samples):
        figures.append(_image_maps(result, language))
    if result.series_shape is not None:
        figures.append(_over_time(result, language))
    note_annotation(figures[0], _notes(result, language))
    return figures


def _output_text(result: ShapResult, language: str) -> str:
    classes = np.unique(result.targets)
    if len(classes) == 1 and len(result.targets) > 1 or len(result.targets) == 1:
        return _target_text(result, int(classes[0]), language)
    if result.regression:
        return tr(language, "predicted target", "预测的目标值")
    return tr(language, "P(predicted class)", "P(预测类别)")


def _target_text(result: ShapResult, target: int, language: str) -> str:
    """What is explained for one class or target: P(class name), or a regressor's predicted target."""
    name = tr_names(language, result.class_names, result.class_names_zh)[target]
    if result.regression:
        return tr(language, f"predicted {name}", f"预测的{name}")
    return tr(language, f"P(class {name})", f"P(类别 {name})")


def _method_text(result: ShapResult, language: str) -> str:
    return tr(
        language,
        f"<br><sup>{result.method_label}, {len(result.targets)} samples, background {result.background_size} rows"
        "</sup>",
        f"<br><sup>{result.method_label}，{len(result.targets)} 个样本，背景 {result.background_size} 行</sup>",
    )


def _notes(result: ShapResult, language: str) -> tuple[str, ...]:
    additivity = tr(
        language,
        f"Additivity: base + sum(SHAP) vs output, max error {result.additivity_error_abs:.2g} "
        f"({result.additivity_error:.2g} of the mean output). Computed in {result.seconds:.1f} s.",
        f"可加性：基准值 + SHAP 之和 对比 模型输出，最大误差 {result.additivity_error_abs:.2g}"
        f"（为平均输出的 {result.additivity_error:.2g}）。用时 {result.seconds:.1f} 秒。",
    )
    return (additivity, *tr_names(language, result.notes, result.notes_zh))


def _top_features(result: ShapResult, count: int = TOP_FEATURES) -> np.ndarray:
    importance = np.abs(result.values).mean(axis=0)
    return np.argsort(-importance, kind="stable")[:count]


def _beeswarm(result: ShapResult, language: str) -> go.Figure:
    values, data = result.values, result.feature_values
    features = _top_features(result)[::-1]  # the most important feature at the top
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, size=len(values))
    xs, ys, colours, text = [], [], [], []
    for row, feature in enumerate(features):
        column = data[:, feature]
        low, high = np.percentile(column, [5, 95])
        xs.append(values[:, feature])
        ys.append(row + jitter)
        colours.append(
            np.clip((column - low) / (high - low), 0, 1) if high > low else np.full(len(column), 0.5)
        )
        text.extend(f"{result.feature_names[feature]} = {value:.3g}" for value in column)
    figure = go.Figure(
        go.Scattergl(
            x=np.concatenate(xs),
            y=np.concatenate(ys),
            mode="markers",
            marker={
                "color": np.concatenate(colours),
                "colorscale": "Bluered",
                "cmin": 0,
                "cmax": 1,
                "size": 6,
                "opacity": 0.75,
                "colorbar": {
                    "title": {"text": tr(language, "feature value", "特征取值"), "side": "right"},
                    "tickvals": [0, 1],
                    "ticktext": [tr(language, "low", "低"), tr(language, "high", "高")],
                },
            },
            text=text,
            hovertemplate="%{text}<br>SHAP %{x:.3g}<extra></extra>",
            name=tr(language, "samples", "样本"),
        )
    )
    figure.add_vline(x=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(language, "SHAP summary: ", "SHAP 汇总：")
        + _output_text(result, language)
        + _method_text(result, language),
        xaxis_title=tr(
            language,
            f"SHAP value (change of {_output_text(result, language)} from the base value)",
            f"SHAP 值（{_output_text(result, language)} 相对基准值的变化）",
        ),
        yaxis={
            "title": tr(language, "feature (most important at the top)", "特征（最重要的在上）"),
            "tickvals": list(range(len(features))),
            "ticktext": [result.feature_names[f] for f in features],
        },
        height=max(400, 34 * len(features) + 160),
    )
    return figure


def _importance_bars(result: ShapResult, language: str) -> go.Figure:
    features = _top_features(result, 15)[::-1]
    importance = np.abs(result.values).mean(axis=0)
    figure = go.Figure(
        go.Bar(
            x=importance[features],
            y=[result.feature_names[f] for f in features],
            orientation="h",
            marker_color="#4C78A8",
            name=tr(language, "mean |SHAP|", "平均 |SHAP|"),
            hovertemplate="%{y}: %{x:.3g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=tr(language, "Mean |SHAP|: ", "平均 |SHAP|：")
        + tr(language, "global feature importance", "全局特征重要性")
        + _method_text(result, language),
        xaxis_title=tr(
            language,
            f"mean |SHAP value| over samples ({_output_text(result, language)})",
            f"各样本 |SHAP 值| 的平均（{_output_text(result, language)}）",
        ),
        yaxis_title=tr(language, "feature", "特征"),
        height=max(400, 26 * len(features) + 160),
    )
    return figure


def _waterfall(result: ShapResult, language: str, shown: int = 10) -> go.Figure:
    index = result.sample
    values = result.values[index]
    order = np.argsort(-np.abs(values), kind="stable")
    top, rest = order[:shown], order[shown:]
    base = float(result.base_values[index])
    labels = [tr(language, "base value E[f(x)]", "基准值 E[f(x)]")]
    labels += [f"{result.feature_names[f]} = {result.feature_values[index, f]:.3g}" for f in top]
    steps = [base, *values[top].tolist()]
    if len(rest):
        labels.append(tr(language, f"{len(rest)} other features", f"其余 {len(rest)} 个特征"))
        steps.append(float(values[rest].sum()))
    labels.append(tr(language, "model output f(x)", "模型输出 f(x)"))
    steps.append(0.0)
    target = _target_text(result, int(result.targets[index]), language)
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            measure=["absolute"] + ["relative"] * (len(steps) - 2) + ["total"],
            y=labels,
            x=steps,
            increasing={"marker": {"color": "#d6604d"}},
            decreasing={"marker": {"color": "#4393c3"}},
            totals={"marker": {"color": "#5f5f5f"}},
            name=tr(language, "contribution", "贡献"),
            hovertemplate="%{y}: %{x:+.3g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=tr(
            language,
            f"SHAP waterfall: sample {index}, {target} = {result.outputs[index]:.4g}"
            f"<br><sup>{result.method_label}</sup>",
            f"SHAP 瀑布图：样本 {index}，{target} = {result.outputs[index]:.4g}<br><sup>{result.method_label}</sup>",
        ),
        xaxis_title=target,
        yaxis={
            "title": tr(language, "contribution (largest first)", "贡献（从大到小）"),
            "autorange": "reversed",
        },
        height=max(400, 30 * len(steps) + 160),
        showlegend=False,
    )
    return figure


def _dependence(result: ShapResult, language: str) -> go.Figure:
    feature, other = result.dependence_feature, result.interaction_feature
    name, other_name = result.feature_names[feature], result.feature_names[other]
    figure = go.Figure(
        go.Scatter(
            x=result.feature_values[:, feature],
            y=result.values[:, feature],
            mode="markers",
            marker={
                "color": result.feature_values[:, other],
                "colorscale": "Bluered",
                "size": 7,
                "opacity": 0.8,
                "colorbar": {"title": {"text": other_name, "side": "right"}},
            },
            name=name,
            hovertemplate=f"{name} = %{{x:.3g}}<br>SHAP %{{y:.3g}}<br>{other_name} = %{{marker.color:.3g}}<extra></extra>",
        )
    )
    figure.add_hline(y=0, line_color="grey", line_width=1)
    figure.update_layout(
        title=tr(language, f"SHAP dependence: {name}", f"SHAP 依赖图：{name}")
        + _method_text(result, language),
        xaxis_title=tr(language, f"{name} (feature value)", f"{name}（特征取值）"),
        yaxis_title=tr(
            language,
            f"SHAP value of {name} ({_output_text(result, language)})",
            f"{name} 的 SHAP 值（{_output_text(result, language)}）",
        ),
    )
    return figure


def _over_time(result: ShapResult, language: str) -> go.Figure:
    """A time series' SHAP values as time x feature heatmaps: the shown sample's, signed, and the mean |SHAP|
    over the explained samples."""
    steps, n_features = result.series_shape
    names = list(result.series_features or (f"x{f}" for f in range(n_features)))
    sample = result.values[result.sample].reshape(steps, n_features).T
    mean = np.abs(result.values).mean(axis=0).reshape(steps, n_features).T
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            tr(language, f"sample {result.sample}: SHAP value", f"样本 {result.sample}：SHAP 值"),
            tr(
                language,
                f"mean |SHAP| over {len(result.targets)} samples",
                f"{len(result.targets)} 个样本的平均 |SHAP|",
            ),
        ],
    )
    limit = float(np.max(np.abs(sample))) or 1.0
    figure.add_trace(
        go.Heatmap(
            x=np.arange(steps),
            y=names,
            z=sample,
            zmin=-limit,
            zmax=limit,
            zmid=0.0,
            colorscale="RdBu_r",
            colorbar={"title": {"text": "SHAP", "side": "right"}, "len": 0.42, "y": 1.0, "yanchor": "top"},
            hovertemplate="%{y}, t %{x}<br>SHAP %{z:.3g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            x=np.arange(steps),
            y=names,
            z=mean,
            colorscale="Viridis",
            colorbar={
                "title": {"text": "|SHAP|", "side": "right"},
                "len": 0.42,
                "y": 0.0,
                "yanchor": "bottom",
            },
            hovertemplate="%{y}, t %{x}<br>"
            + tr(language, "mean |SHAP|", "平均 |SHAP|")
            + " %{z:.3g}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    figure.update_xaxes(title_text=tr(language, "time step", "时间步"), row=2, col=1)
    figure.update_layout(
        title=tr(language, "SHAP over time: ", "随时间的 SHAP：")
        + _output_text(result, language)
        + _method_text(result, language),
        height=max(420, 2 * (40 * n_features + 120) + 120),
    )
    return figure


def _image_maps(result: ShapResult, language: str) -> go.Figure:
    samples, classes = result.image_samples, result.image_classes
    rows, cols = len(samples), classes.shape[1] + 1
    maps = result.image_values.sum(axis=-1)  # (samples, classes, H, W): channels add up like features do
    limit = float(np.percentile(np.abs(maps), 99.5)) or 1.0
    titles = []
    for row, sample in enumerate(samples):
        titles.append(tr(language, f"sample {sample}: input", f"样本 {sample}：输入"))
        for col, klass in enumerate(classes[row]):
            name = tr_names(language, result.class_names, result.class_names_zh)[int(klass)]
            titles.append(
                f"{tr(language, 'class', '类别')} {name} (p = {result.image_probabilities[row, col]:.2f})"
            )
    figure = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.08
    )
    images = result.explanation.data
    for row, sample in enumerate(samples):
        figure.add_trace(grey_image_trace(images[sample], language), row=row + 1, col=1)
        for col in range(classes.shape[1]):
            figure.add_trace(grey_image_trace(images[sample], language), row=row + 1, col=col + 2)
            figure.add_trace(
                signed_heatmap(
                    maps[row, col],
                    limit,
                    language=language,
                    opacity=0.65,
                    colorbar_title=tr(language, "SHAP value per pixel", "每个像素的 SHAP 值"),
                    show_scale=row == 0 and col == 0,
                ),
                row=row + 1,
                col=col + 2,
            )
    image_axes(figure, rows, cols)
    figure.update_layout(
        title=tr(
            language,
            f"SHAP per pixel for the top classes ({result.method_label}; red = evidence for the class)",
            f"前几个类别的逐像素 SHAP 值（{result.method_label}；红色 = 支持该类别的证据）",
        ),
        height=230 * rows + 120,
        width=220 * cols + 160,
    )
    return figure
