"""The `evaluation` plugin's figures: confusion matrices, the per-class table, ROC and precision-recall curves,
the reliability diagram, top-k accuracy, the gallery of confident mistakes, the scores over a run's snapshots,
and the regression views."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr
from plugins._shared.explain import grey, image_axes, signed_heatmap
from plugins.evaluation.result import ClassificationResult, Gallery, RegressionResult
from plugins.evaluation.snapshot_figures import (
    classification_snapshot_figures,
    regression_snapshot_figure,
)

TABLE_ROW_HEIGHT = 26
# Features listed per mistake in a tabular gallery: the ones with the largest attributions.
GALLERY_FEATURES = 5
# Confident mistakes side by side before the gallery starts another block of images and maps.
GALLERY_COLUMNS = 8


def classification_figures(result: ClassificationResult, language: str) -> list[go.Figure]:
    figures = [
        confusion_figure(result, language),
        class_table(result, language),
        curves_figure(result, "roc", language),
        curves_figure(result, "pr", language),
        calibration_figure(result, language),
    ]
    if len(result.metrics.top_k):
        figures.append(top_k_figure(result, language))
    if result.gallery is not None:
        figures.append(gallery_figure(result.gallery, result, language))
    if result.snapshots is not None:
        figures.extend(classification_snapshot_figures(result.snapshots, result.names(language), language))
    return figures


def confusion_heatmap(confusion: np.ndarray, names, normalised: bool, language: str) -> go.Heatmap:
    """Counts, or each row divided by its true-class total (so the diagonal is each class's recall)."""
    if normalised:
        totals = confusion.sum(axis=1, keepdims=True)
        z = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
        value = tr(language, "share of the true class %{z:.1%}", "占真实类别的比例 %{z:.1%}")
    else:
        z = confusion
        value = tr(language, "samples %{z}", "样本数 %{z}")
    hover = (
        tr(language, "true %{y}<br>predicted %{x}<br>", "真实 %{y}<br>预测 %{x}<br>")
        + value
        + "<extra></extra>"
    )
    return go.Heatmap(
        z=z,
        x=list(names),
        y=list(names),
        colorscale="Blues",
        zmin=0,
        showscale=False,
        text=np.round(z, 2) if normalised else z,
        texttemplate="%{text}",
        hovertemplate=hover,
    )


def confusion_figure(result: ClassificationResult, language: str) -> go.Figure:
    names = result.names(language)
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            tr(language, "counts", "样本数"),
            tr(language, "normalised by true class", "按真实类别归一化"),
        ),
        horizontal_spacing=0.12,
    )
    for column, normalised in ((1, False), (2, True)):
        figure.add_trace(confusion_heatmap(result.metrics.confusion, names, normalised, language), 1, column)
        figure.update_xaxes(
            title_text=tr(language, "predicted class", "预测类别"), type="category", row=1, col=column
        )
        figure.update_yaxes(
            title_text=tr(language, "true class", "真实类别"),
            type="category",
            autorange="reversed",
            row=1,
            col=column,
        )
    figure.update_layout(
        title=tr(
            language,
            f"Confusion matrix (accuracy {result.metrics.accuracy:.1%})",
            f"混淆矩阵 (confusion matrix)（准确率 {result.metrics.accuracy:.1%}）",
        ),
        height=480,
    )
    return figure


def class_table(result: ClassificationResult, language: str) -> go.Figure:
    metrics = result.metrics
    names = list(result.names(language)) + [tr(language, "macro average", "宏平均 (macro)")]

    def column(values, mean):
        return [f"{value:.3f}" for value in values] + [f"{mean:.3f}"]

    header = [
        tr(language, "class", "类别"),
        tr(language, "precision", "精确率"),
        tr(language, "recall", "召回率"),
        "F1",
        tr(language, "support", "样本数 (support)"),
    ]
    cells = [
        names,
        column(metrics.precision, metrics.precision.mean()),
        column(metrics.recall, metrics.recall.mean()),
        column(metrics.f1, metrics.macro_f1),
        [str(int(count)) for count in metrics.support] + [str(int(metrics.support.sum()))],
    ]
    title = tr(language, "Precision, recall and F1 per class", "各类别的精确率、召回率和 F1")
    return _table(header, cells, title, len(names))


def curves_figure(result: ClassificationResult, kind: str, language: str) -> go.Figure:
    """One-vs-rest ROC (kind "roc") or precision-recall ("pr") curves, one line per class."""
    names = result.names(language)
    roc = kind == "roc"
    curves = result.roc if roc else result.precision_recall
    area = "AUC" if roc else tr(language, "AP", "平均精确率 AP")
    figure = go.Figure()
    if roc:
        figure.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                line={"dash": "dot", "color": "grey"},
                name=tr(language, "chance", "随机猜测"),
                hoverinfo="skip",
            )
        )
    x_title = (
        tr(language, "false positive rate", "假阳性率 (FPR)") if roc else tr(language, "recall", "召回率")
    )
    y_title = (
        tr(language, "true positive rate", "真阳性率 (TPR)") if roc else tr(language, "precision", "精确率")
    )
    for curve in curves:
        label = f"{names[curve.class_index]} ({area} {curve.area:.3f})"
        figure.add_trace(
            go.Scatter(
                x=curve.x,
                y=curve.y,
                mode="lines",
                name=label,
                line={"shape": "hv" if not roc else "linear"},
                hovertemplate=f"{label}<br>{x_title} %{{x:.3f}}<br>{y_title} %{{y:.3f}}<extra></extra>",
            )
        )
    title = (
        tr(language, "ROC curves, one class against the rest", "ROC 曲线（一对其余）")
        if roc
        else tr(
            language, "Precision-recall curves, one class against the rest", "精确率-召回率曲线（一对其余）"
        )
    )
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, height=460)
    figure.update_xaxes(range=[0, 1])
    figure.update_yaxes(range=[0, 1.02])
    return figure


def calibration_figure(result: ClassificationResult, language: str) -> go.Figure:
    calibration = result.calibration
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(
            x=calibration.confidence,
            y=calibration.counts,
            name=tr(language, "samples", "样本数"),
            marker={"color": "lightgrey", "opacity": 0.5},
            width=0.9 * (1.0 - 1.0 / len(result.class_names)) / result.calibration_bins,
            hovertemplate=tr(
                language, "confidence %{x:.2f}<br>samples %{y}", "置信度 %{x:.2f}<br>样本数 %{y}"
            )
            + "<extra></extra>",
        ),
        secondary_y=True,
    )
    low = 1.0 / len(result.class_names)
    figure.add_trace(
        go.Scatter(
            x=[low, 1],
            y=[low, 1],
            mode="lines",
            line={"dash": "dot", "color": "grey"},
            name=tr(language, "perfectly calibrated", "完美校准"),
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=calibration.confidence,
            y=calibration.accuracy,
            mode="lines+markers",
            name=tr(language, "model", "模型"),
            hovertemplate=tr(
                language, "confidence %{x:.2f}<br>accuracy %{y:.2f}", "置信度 %{x:.2f}<br>准确率 %{y:.2f}"
            )
            + "<extra></extra>",
        )
    )
    figure.update_layout(
        title=tr(
            language,
            f"Reliability diagram (expected calibration error {calibration.expected_error:.3f})",
            f"可靠性图 (reliability diagram)（期望校准误差 ECE {calibration.expected_error:.3f}）",
        ),
        xaxis_title=tr(language, "confidence in the predicted class", "对预测类别的置信度"),
        height=460,
    )
    figure.update_xaxes(range=[low - 0.02, 1.02])
    figure.update_yaxes(title_text=tr(language, "accuracy", "准确率"), range=[0, 1.02], secondary_y=False)
    figure.update_yaxes(title_text=tr(language, "samples", "样本数"), showgrid=False, secondary_y=True)
    return figure


def top_k_figure(result: ClassificationResult, language: str) -> go.Figure:
    top_k = result.metrics.top_k
    ks = np.arange(1, len(top_k) + 1)
    figure = go.Figure(
        go.Bar(
            x=ks,
            y=top_k,
            text=[f"{value:.1%}" for value in top_k],
            textposition="outside",
            hovertemplate=tr(language, "top-%{x}: %{y:.1%}", "前 %{x} 名: %{y:.1%}") + "<extra></extra>",
        )
    )
    figure.update_layout(
        title=tr(
            language,
            "Top-k accuracy: the true class among the k most probable",
            "Top-k 准确率：真实类别在概率最高的 k 个之中",
        ),
        xaxis={"title": "k", "tickmode": "array", "tickvals": ks},
        yaxis={"title": tr(language, "accuracy", "准确率"), "range": [0, 1.1], "tickformat": ".0%"},
        height=380,
    )
    return figure


def _mistake_title(item, names, language: str, line_break: bool = False) -> str:
    """ "#index: true → predicted (confidence)", the sample's number on a line of its own when `line_break`."""
    what = tr(
        language,
        f"{names[item.true_class]} → {names[item.predicted_class]} ({item.confidence:.0%})",
        f"{names[item.true_class]} → {names[item.predicted_class]}（{item.confidence:.0%}）",
    )
    return f"#{item.index}<br>{what}" if line_break else f"#{item.index}: {what}"


def gallery_figure(gallery: Gallery, result: ClassificationResult, language: str) -> go.Figure:
    """Each confident mistake: the image above its attribution map, for tables its top features, for token
    sequences their words."""
    names = result.names(language)
    title = tr(
        language,
        "The most confidently wrong samples (true → predicted, confidence)",
        "置信度最高的错误样本（真实 → 预测，置信度）",
    )
    if gallery.method:
        method = {"saliency": tr(language, "saliency", "显著图"), "grad_cam": "Grad-CAM"}[gallery.method]
        title += tr(language, f" and their {method}", f"及其{method}")
    if gallery.kind == "text":
        return _text_gallery(gallery, names, title, language)
    if gallery.kind == "table":
        return _tabular_gallery(gallery, names, title, language)
    # Mistakes side by side, GALLERY_COLUMNS to a block: each block a row of images above a row of maps.
    columns = min(len(gallery.items), GALLERY_COLUMNS)
    blocks = -(-len(gallery.items) // columns)
    titles = [""] * (2 * blocks * columns)
    for position, item in enumerate(gallery.items):
        block, column = divmod(position, columns)
        titles[2 * block * columns + column] = _mistake_title(item, names, language, line_break=True)
    figure = make_subplots(
        rows=2 * blocks,
        cols=columns,
        vertical_spacing=0.12 / blocks,
        horizontal_spacing=0.01,
        subplot_titles=titles,
    )
    for position, item in enumerate(gallery.items):
        block, column = divmod(position, columns)
        figure.add_trace(
            go.Heatmap(
                z=grey(item.inputs),
                colorscale="Greys",
                showscale=False,
                hovertemplate=tr(language, "value %{z:.2f}", "值 %{z:.2f}") + "<extra></extra>",
            ),
            2 * block + 1,
            column + 1,
        )
        limit = float(np.abs(item.attribution).max())
        figure.add_trace(
            signed_heatmap(item.attribution, limit, language=language), 2 * block + 2, column + 1
        )
    image_axes(figure, 2 * blocks, columns)
    figure.update_annotations(font_size=11)
    figure.update_layout(title=title, height=80 + 300 * blocks, margin={"t": 110})
    return figure


def _table(header: list[str], cells: list[list[str]], title: str, rows: int, widths=None) -> go.Figure:
    """A table figure as tall as its rows (up to a scrolling maximum)."""
    figure = go.Figure(
        go.Table(
            header={"values": header, "height": TABLE_ROW_HEIGHT},
            cells={"values": cells, "height": TABLE_ROW_HEIGHT},
            columnwidth=widths,
        )
    )
    figure.update_layout(
        title=title, height=min(TABLE_ROW_HEIGHT * (rows + 1) + 80, 900), margin={"t": 60, "b": 10}
    )
    return figure


def _text_gallery(gallery: Gallery, names, title: str, language: str) -> go.Figure:
    header = [tr(language, "mistake", "错误样本"), tr(language, "text", "文本")]
    cells = [
        [_mistake_title(item, names, language) for item in gallery.items],
        [item.text for item in gallery.items],
    ]
    return _table(header, cells, title, len(gallery.items), widths=[1, 3])


def _tabular_gallery(gallery: Gallery, names, title: str, language: str) -> go.Figure:
    header = [
        tr(language, "mistake", "错误样本"),
        tr(language, "feature", "特征"),
        tr(language, "value", "值"),
        tr(language, "attribution", "归因值"),
    ]
    rows: list[list[str]] = [[], [], [], []]
    for item in gallery.items:
        strongest = np.argsort(-np.abs(item.attribution))[:GALLERY_FEATURES]
        for rank, feature in enumerate(strongest):
            rows[0].append(_mistake_title(item, names, language) if rank == 0 else "")
            rows[1].append(gallery.feature_names[feature])
            rows[2].append(f"{item.values[feature]:.3g}")
            rows[3].append(f"{item.attribution[feature]:+.3g}")
    return _table(header, rows, title, len(rows[0]))


def regression_figures(result: RegressionResult, language: str) -> list[go.Figure]:
    """Predicted against actual, residuals against predicted, the residuals' histogram: a colour per target."""
    metrics = result.metrics
    scores = f"MAE {metrics.mae:.3g}, RMSE {metrics.rmse:.3g}, R² {metrics.r2:.3f}"
    actual_label, predicted_label = tr(language, "actual", "真实值"), tr(language, "predicted", "预测值")
    residual_label = tr(language, "residual (actual − predicted)", "残差（真实值 − 预测值）")
    low = float(min(result.actual.min(), result.predicted.min()))
    high = float(max(result.actual.max(), result.predicted.max()))
    several = len(result.target_names) > 1
    versus = go.Figure(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            line={"dash": "dot", "color": "grey"},
            name=tr(language, "perfect prediction", "完美预测"),
            hoverinfo="skip",
        )
    )
    residuals, histogram = go.Figure(), go.Figure()
    for column, name in enumerate(result.target_names):
        actual, predicted = result.actual[:, column], result.predicted[:, column]
        residual = result.residuals[:, column]
        versus.add_trace(
            go.Scatter(
                x=actual,
                y=predicted,
                mode="markers",
                marker={"opacity": 0.6},
                name=name,
                hovertemplate=f"{name}<br>{actual_label} %{{x:.3g}}<br>{predicted_label} %{{y:.3g}}<extra></extra>",
            )
        )
        residuals.add_trace(
            go.Scatter(
                x=predicted,
                y=residual,
                mode="markers",
                marker={"opacity": 0.6},
                name=name,
                showlegend=several,
                hovertemplate=f"{name}<br>{predicted_label} %{{x:.3g}}<br>{residual_label} %{{y:.3g}}<extra></extra>",
            )
        )
        histogram.add_trace(
            go.Histogram(
                x=residual,
                name=name,
                opacity=0.7 if several else 1.0,
                showlegend=several,
                hovertemplate=tr(language, "residual %{x}<br>samples %{y}", "残差 %{x}<br>样本数 %{y}")
                + "<extra></extra>",
            )
        )
    versus.update_layout(
        title=tr(language, f"Predicted against actual ({scores})", f"预测值与真实值（{scores}）"),
        xaxis_title=actual_label,
        yaxis_title=predicted_label,
        height=460,
    )
    residuals.add_hline(y=0, line_dash="dot", line_color="grey")
    residuals.update_layout(
        title=tr(language, "Residuals against predicted values", "残差与预测值"),
        xaxis_title=predicted_label,
        yaxis_title=residual_label,
        height=420,
    )
    histogram.update_layout(
        title=tr(language, "Distribution of the residuals", "残差分布"),
        xaxis_title=residual_label,
        yaxis_title=tr(language, "samples", "样本数"),
        barmode="overlay",
        height=380,
    )
    figures = [versus, residuals, histogram]
    if result.snapshots is not None:
        figures.append(regression_snapshot_figure(result.snapshots, language))
    return figures
