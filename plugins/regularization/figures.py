"""The regularization lesson as figures: loss curves with the gap, gap bars, weight histograms, and the
decision boundaries (2-D classes) or predicted against actual values (regression)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr, tr_names
from plugins._shared.lessons import boundary_traces, point_traces
from plugins.regularization.result import VARIANT_NAMES, VARIANTS, RegularizationResult

VARIANT_COLOURS = dict(
    zip(VARIANTS, ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#ff7f0e"), strict=True)
)
HISTOGRAM_BINS = 61  # odd: one bin is centred on zero, where L1 piles the weights up


def _name(variant: str, language: str) -> str:
    return tr(language, *VARIANT_NAMES[variant])


def _strength(result: RegularizationResult, variant: str, language: str) -> str:
    settings = result.settings
    return {
        "l1": f"λ₁ = {settings['l1']:g}",
        "l2": f"λ₂ = {settings['l2']:g}",
        "dropout": f"p = {settings['dropout']:g}",
        "early_stopping": tr(language, f"patience {settings['patience']}", f"耐心值 {settings['patience']}"),
    }.get(variant, "")


def _panel_titles(result: RegularizationResult, language: str, extra) -> list[str]:
    titles = []
    for variant in VARIANTS:
        strength = _strength(result, variant, language)
        titles.append(f"{_name(variant, language)}{f' ({strength})' if strength else ''}{extra(variant)}")
    return titles


def _loss_name(result: RegularizationResult, language: str) -> str:
    """What the losses are: cross-entropy for classes, MSE on the standardised targets for regression."""
    if result.task == "regression":
        return tr(language, "MSE (standardised targets)", "均方误差 MSE（标准化目标）")
    return tr(language, "cross-entropy (nats)", "交叉熵 (nats)")


def _target_name(result: RegularizationResult, language: str) -> str:
    """The first regression target's name in `language` (the one the predicted-vs-actual panels show)."""
    return tr_names(language, result.target_names, result.target_names_zh)[0]


def _grid_figure(titles: list[str]) -> go.Figure:
    return make_subplots(
        rows=2, cols=3, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.14
    )


def _cell(index: int) -> dict:
    return {"row": index // 3 + 1, "col": index % 3 + 1}


def curves_figure(result: RegularizationResult, language: str) -> go.Figure:
    figure = _grid_figure(
        _panel_titles(
            result,
            language,
            lambda v: tr(language, f": gap {result.gap[v]:.2f}", f"：差距 {result.gap[v]:.2f}"),
        )
    )
    top = max(float(np.max(result.val_loss[v])) for v in VARIANTS)
    top = min(top, 4.0 * max(result.final_val_loss.values())) * 1.08
    for index, variant in enumerate(VARIANTS):
        epochs = np.arange(1, len(result.train_loss[variant]) + 1)
        first = index == 0
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=result.train_loss[variant],
                mode="lines",
                line={"color": "#4C78A8"},
                name=tr(language, "training loss", "训练损失"),
                legendgroup="train",
                showlegend=first,
            ),
            **_cell(index),
        )
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=result.val_loss[variant],
                mode="lines",
                line={"color": "#F58518"},
                fill="tonexty",
                fillcolor="rgba(214, 39, 40, 0.15)",
                name=tr(language, "validation loss (gap shaded)", "验证损失（阴影为差距）"),
                legendgroup="val",
                showlegend=first,
            ),
            **_cell(index),
        )
        best = result.best_epoch[variant]
        label = (
            tr(language, f"restored: epoch {best}", f"恢复：第 {best} 轮")
            if variant == "early_stopping"
            else tr(language, f"lowest val: {best}", f"验证最低：{best}")
        )
        figure.add_vline(
            x=best,
            line_dash="dot",
            line_color="#54A24B",
            annotation_text=label,
            annotation_font_size=10,
            annotation_position="top right",
            **_cell(index),
        )
        end = best if variant == "early_stopping" else len(epochs)
        train_end, val_end = result.final_train_loss[variant], result.final_val_loss[variant]
        figure.add_trace(
            go.Scatter(
                x=[end, end],
                y=[train_end, val_end],
                mode="lines+markers",
                line={"color": "#d62728", "width": 3},
                marker={"symbol": "line-ew", "size": 10, "line": {"width": 2, "color": "#d62728"}},
                name=tr(language, "overfitting gap of the returned model", "返回模型的过拟合差距"),
                legendgroup="gap",
                showlegend=first,
                hovertemplate=tr(
                    language, "gap %{customdata:.3f}<extra></extra>", "差距 %{customdata:.3f}<extra></extra>"
                ),
                customdata=[val_end - train_end] * 2,
            ),
            **_cell(index),
        )
    if result.stopped_epoch is not None:
        figure.add_vline(
            x=result.stopped_epoch,
            line_dash="dash",
            line_color="grey",
            annotation_text=tr(language, f"stopped: {result.stopped_epoch}", f"停止：{result.stopped_epoch}"),
            annotation_font_size=10,
            annotation_position="bottom right",
            **_cell(VARIANTS.index("early_stopping")),
        )
    figure.update_xaxes(range=[0, result.settings["epochs"] + 1])
    figure.update_xaxes(title_text=tr(language, "epoch", "轮次 (epoch)"), row=2)
    figure.update_yaxes(range=[0, top])
    figure.update_yaxes(title_text=_loss_name(result, language), col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Training vs validation loss: {result.dataset_name}, {result.n_train} training samples, "
            f"{result.n_parameters:,} parameters",
            f"训练损失与验证损失：{result.dataset_name}，{result.n_train} 个训练样本，{result.n_parameters:,} 个参数",
        ),
        legend={"orientation": "h", "y": -0.12},
        height=680,
    )
    return figure


def _bar_text(result: RegularizationResult, variant: str, language: str) -> str:
    """A variant's gap with its validation accuracy, or for regression its validation MSE in the target's
    units (the standardised MSE times the target's variance)."""
    gap = result.gap[variant]
    if result.task == "regression":
        units = result.final_val_mse_in_units[variant]
        return tr(
            language,
            f"gap {gap:.2f}<br>val MSE {units:.4g}<br>in units²",
            f"差距 {gap:.2f}<br>验证 MSE {units:.4g}<br>（原单位²）",
        )
    accuracy = result.final_val_accuracy[variant]
    return tr(language, f"gap {gap:.2f}<br>acc {accuracy:.0%}", f"差距 {gap:.2f}<br>准确率 {accuracy:.0%}")


def gap_bars_figure(result: RegularizationResult, language: str) -> go.Figure:
    names = [_name(v, language) for v in VARIANTS]
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=[result.final_train_loss[v] for v in VARIANTS],
                name=tr(language, "training loss", "训练损失"),
                marker_color="#4C78A8",
            ),
            go.Bar(
                x=names,
                y=[result.final_val_loss[v] for v in VARIANTS],
                name=tr(language, "validation loss", "验证损失"),
                marker_color="#F58518",
                text=[_bar_text(result, v, language) for v in VARIANTS],
                textposition="outside",
            ),
        ]
    )
    best = result.best_variant
    figure.update_layout(
        barmode="group",
        title=tr(
            language,
            f"Overfitting gap of each returned model (lowest validation loss: {_name(best, language)})",
            f"各返回模型的过拟合差距（验证损失最低：{_name(best, language)}）",
        ),
        xaxis_title=tr(language, "variant (same initial weights)", "变体（相同的初始权重）"),
        yaxis_title=tr(language, "after training: ", "训练结束时：") + _loss_name(result, language),
        legend_title_text=tr(language, "split", "数据划分"),
    )
    return figure


def histograms_figure(result: RegularizationResult, language: str) -> go.Figure:
    threshold = result.near_zero_threshold
    titles = _panel_titles(
        result,
        language,
        lambda v: tr(language, f": {result.near_zero[v]:.0%} near 0", f"：{result.near_zero[v]:.0%} 接近 0"),
    )
    figure = _grid_figure(titles)
    limit = float(
        np.quantile(np.abs(np.concatenate([result.initial_weights, *result.weights.values()])), 0.995)
    )
    edges = np.linspace(-limit, limit, HISTOGRAM_BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    initial = np.histogram(np.clip(result.initial_weights, -limit, limit), edges)[0] / len(
        result.initial_weights
    )
    for index, variant in enumerate(VARIANTS):
        weights = result.weights[variant]
        counts = np.histogram(np.clip(weights, -limit, limit), edges)[0] / len(weights)
        figure.add_trace(
            go.Bar(
                x=centres,
                y=100 * counts,
                width=edges[1] - edges[0],
                marker_color=VARIANT_COLOURS[variant],
                name=_name(variant, language),
                showlegend=False,
                hovertemplate="w ≈ %{x:.3f}: %{y:.1f}%<extra></extra>",
            ),
            **_cell(index),
        )
        figure.add_trace(
            go.Scatter(
                x=centres,
                y=100 * initial,
                mode="lines",
                line={"color": "grey", "shape": "hvh", "width": 1},
                name=tr(language, "initial weights (all variants)", "初始权重（所有变体相同）"),
                legendgroup="initial",
                showlegend=index == 0,
            ),
            **_cell(index),
        )
        figure.add_vrect(
            x0=-threshold, x1=threshold, fillcolor="rgba(0,0,0,0.08)", line_width=0, **_cell(index)
        )
    figure.update_xaxes(title_text=tr(language, "kernel weight value", "权重值"), row=2)
    figure.update_yaxes(type="log", dtick=1, range=[-2, 2.05])
    figure.update_yaxes(title_text=tr(language, "% of weights (log scale)", "权重占比 %（对数刻度）"), col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Weight histograms after training (grey band: |w| < {threshold:g}; values beyond ±{limit:.2f} in the end bins)",
            f"训练后的权重直方图（灰色带：|w| < {threshold:g}；超出 ±{limit:.2f} 的值计入两端的柱）",
        ),
        legend={"orientation": "h", "y": -0.12},
        height=640,
        bargap=0,
    )
    return figure


def boundaries_figure(result: RegularizationResult, language: str) -> go.Figure:
    titles = _panel_titles(
        result,
        language,
        lambda v: tr(
            language,
            f": val acc {result.final_val_accuracy[v]:.0%}",
            f"：验证准确率 {result.final_val_accuracy[v]:.0%}",
        ),
    )
    figure = _grid_figure(titles)
    for index, variant in enumerate(VARIANTS):
        for trace in boundary_traces(
            result.grid_x,
            result.grid_y,
            result.grid_outputs[variant],
            tr_names(language, result.class_names, result.class_names_zh),
            language,
            show_scale=index == 0,
        ):
            figure.add_trace(trace, **_cell(index))
        for trace in point_traces(
            result.x_train,
            result.y_train,
            tr_names(language, result.class_names, result.class_names_zh),
            language,
            show_legend=index == 0,
        ):
            figure.add_trace(trace, **_cell(index))
    for index in range(1, 7):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", scaleratio=1)
    figure.update_xaxes(title_text="x₁", row=2)
    figure.update_yaxes(title_text="x₂", col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Decision boundaries side by side (the {result.n_train} training points shown)",
            f"决策边界并排比较（图中为 {result.n_train} 个训练点）",
        ),
        legend={"orientation": "h", "y": -0.1},
        height=700,
    )
    return figure


def predictions_figure(result: RegularizationResult, language: str) -> go.Figure:
    """Each variant's prediction against the actual value of the first target on the validation split, in
    the target's units, with the diagonal of perfect predictions."""
    actual = result.y_validation_in_units[:, 0]
    titles = _panel_titles(
        result,
        language,
        lambda v: tr(
            language,
            f": val MSE {result.final_val_mse_in_units[v]:.4g}",
            f"：验证 MSE {result.final_val_mse_in_units[v]:.4g}",
        ),
    )
    figure = _grid_figure(titles)
    predicted_all = np.concatenate([result.val_predictions_in_units[v][:, 0] for v in VARIANTS])
    low = float(min(actual.min(), predicted_all.min()))
    high = float(max(actual.max(), predicted_all.max()))
    hover = tr(
        language,
        "actual %{x:.4g}<br>predicted %{y:.4g}<extra></extra>",
        "真实值 %{x:.4g}<br>预测值 %{y:.4g}<extra></extra>",
    )
    for index, variant in enumerate(VARIANTS):
        figure.add_trace(
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                line={"color": "grey", "dash": "dash", "width": 1},
                name=tr(language, "perfect prediction", "完美预测"),
                legendgroup="diagonal",
                showlegend=index == 0,
                hoverinfo="skip",
            ),
            **_cell(index),
        )
        figure.add_trace(
            go.Scatter(
                x=actual,
                y=result.val_predictions_in_units[variant][:, 0],
                mode="markers",
                marker={"color": VARIANT_COLOURS[variant], "size": 5, "opacity": 0.7},
                name=_name(variant, language),
                showlegend=False,
                hovertemplate=hover,
            ),
            **_cell(index),
        )
    target = _target_name(result, language)
    figure.update_xaxes(
        range=[low, high], title_text=tr(language, f"actual {target}", f"真实 {target}"), row=2
    )
    figure.update_yaxes(
        range=[low, high], title_text=tr(language, f"predicted {target}", f"预测 {target}"), col=1
    )
    figure.update_annotations(font_size=11)
    figure.update_layout(
        title=tr(
            language,
            f"Predicted against actual {target} on the {result.n_validation} validation samples "
            "(MSE in the target's units²)",
            f"验证集 {result.n_validation} 个样本上 {target} 的预测值与真实值（MSE 为目标原单位的平方）",
        ),
        legend={"orientation": "h", "y": -0.1},
        height=700,
    )
    return figure
