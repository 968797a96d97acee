"""The imbalance workbench's figures, in English or Chinese. Each builder takes the plugin's
`ImbalanceResult`.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.plugin import tr, tr_names
from plugins.imbalance.result import ImbalanceResult

STRATEGY_NAMES = {
    "none": ("no rebalancing", "不处理 (no rebalancing)"),
    "class_weight": ("class weights", "类别权重 (class weights)"),
    "oversample": ("random oversampling", "随机过采样 (oversampling)"),
    "undersample": ("random undersampling", "随机欠采样 (undersampling)"),
    "smote": ("SMOTE", "SMOTE 合成过采样"),
    "adasyn": ("ADASYN", "ADASYN 自适应合成"),
    "balanced_batches": ("balanced batches", "平衡批次 (balanced batches)"),
    "focal_loss": ("focal loss", "焦点损失 (focal loss)"),
    "augment": ("augmentation", "数据增强 (augmentation)"),
}
_PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC")


def strategy_label(strategy: str, language: str) -> str:
    en, zh = STRATEGY_NAMES.get(strategy, (strategy, strategy))
    return tr(language, en, zh)


def _class_names(result: ImbalanceResult, language: str) -> tuple[str, ...]:
    """The class (or label) names in the figure's language."""
    return tr_names(language, result.class_names, result.class_names_zh)


def _color(index: int) -> str:
    return _PALETTE[index % len(_PALETTE)]


def _ratio_text(counts: np.ndarray) -> str:
    if counts.min() == 0:
        return "∞"
    return f"{counts.max() / counts.min():.1f} : 1"


def _fmt(value: float, digits: int = 3) -> str:
    return "—" if not np.isfinite(value) else f"{value:.{digits}f}"


def _edge_titles(figure: go.Figure, n_panels: int, columns: int, x_title: str, y_title: str) -> None:
    """Axis titles on the outer panels of a subplot grid only, so they never cover tick labels."""
    for index in range(n_panels):
        row, col = index // columns + 1, index % columns + 1
        figure.update_xaxes(showticklabels=True, row=row, col=col)
        if index + columns >= n_panels:
            figure.update_xaxes(title_text=x_title, row=row, col=col)
        if col == 1:
            figure.update_yaxes(title_text=y_title, row=row, col=col)


def distribution_figure(result: ImbalanceResult, language: str) -> go.Figure:
    figure = go.Figure()
    splits = (
        (tr(language, "training split", "训练集"), result.train_counts, result.n_train),
        (tr(language, "test split", "测试集"), result.test_counts, result.n_test),
    )
    for index, (label, counts, total) in enumerate(splits):
        figure.add_bar(
            x=list(_class_names(result, language)),
            y=counts.tolist(),
            name=label,
            marker_color=_PALETTE[index],
            text=[f"{share:.0%}" for share in counts / max(total, 1)],
            textposition="outside",
        )
    title = tr(language, "Class distribution", "类别分布") + (
        f" — {tr(language, 'imbalance ratio', '不平衡比 (imbalance ratio)')}: "
        f"{tr(language, 'train', '训练集')} {_ratio_text(result.train_counts)}, "
        f"{tr(language, 'test', '测试集')} {_ratio_text(result.test_counts)}"
    )
    if result.reduced_classes:
        reduced = ", ".join(_class_names(result, language)[c] for c in result.reduced_classes)
        title += tr(
            language,
            f"<br><sup>training samples of {reduced} thinned to {result.keep_fraction:.0%}; test split untouched</sup>",
            f"<br><sup>{reduced} 的训练样本只保留 {result.keep_fraction:.0%}；测试集未改动</sup>",
        )
    figure.update_layout(
        title=title,
        barmode="group",
        xaxis_title=tr(language, "label", "标签") if result.multilabel else tr(language, "class", "类别"),
        yaxis_title=tr(language, "samples (count)", "样本数"),
        legend_title=tr(language, "split", "数据集划分"),
    )
    return figure


def scatter_figure(result: ImbalanceResult, language: str) -> go.Figure:
    panels = result.scatter
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    titles = []
    for panel in panels:
        if panel.title == "original":
            titles.append(
                tr(language, "original training split", "原始训练集") + f"<br><sup>n={panel.total}</sup>"
            )
        elif panel.title == "balanced_batches":
            titles.append(
                strategy_label(panel.title, language)
                + tr(
                    language,
                    f"<br><sup>n={panel.total} per epoch</sup>",
                    f"<br><sup>每轮 n={panel.total}</sup>",
                )
            )
        else:
            titles.append(strategy_label(panel.title, language) + f"<br><sup>n={panel.total}</sup>")
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles,
        shared_xaxes="all",
        shared_yaxes="all",
        horizontal_spacing=0.05,
        vertical_spacing=0.12,
    )
    if result.multilabel:
        focus = _class_names(result, language)[result.focus_class]
        legend_names = {
            0: tr(language, f"without {focus}", f"不含 {focus}"),
            1: tr(language, f"with {focus}", f"含 {focus}"),
        }
    else:
        legend_names = dict(enumerate(_class_names(result, language)))
    shown = set()
    for index, panel in enumerate(panels):
        for cls in np.unique(panel.labels):
            for added in (False, True):
                mask = (panel.labels == cls) & (panel.added == added)
                if not mask.any():
                    continue
                key = (int(cls), added)
                figure.add_scatter(
                    x=panel.xy[mask, 0].tolist(),
                    y=panel.xy[mask, 1].tolist(),
                    mode="markers",
                    name=legend_names[int(cls)] + (tr(language, " (added)", "（新增）") if added else ""),
                    legendgroup=str(key),
                    showlegend=key not in shown,
                    marker={
                        "color": _color(int(cls)),
                        "size": 6 if added else 5,
                        "symbol": "x" if added else "circle",
                        "opacity": 0.9 if added else 0.55,
                    },
                    meta=panel.title,
                    row=index // columns + 1,
                    col=index % columns + 1,
                )
                shown.add(key)
    if not result.explained_variance:
        x_title, y_title = tr(language, "feature 1", "特征 1"), tr(language, "feature 2", "特征 2")
        view = tr(language, "the two input features", "两个输入特征")
    else:
        x_title = tr(language, "PC 1 (standardised units)", "主成分 1（标准化单位）")
        y_title = tr(language, "PC 2 (standardised units)", "主成分 2（标准化单位）")
        first, second = result.explained_variance
        view = tr(
            language,
            f"PCA of the original training split ({first:.0%} + {second:.0%} of its variance)",
            f"原始训练集的主成分分析 PCA（解释 {first:.0%} + {second:.0%} 的方差）",
        )
    _edge_titles(figure, len(panels), columns, x_title, y_title)
    figure.update_layout(
        title=tr(language, "Training points before and after resampling", "重采样前后的训练样本")
        + f" — {view}"
        + tr(
            language,
            "<br><sup>✕ = sample added by the strategy (copy, synthetic or augmented)</sup>",
            "<br><sup>✕ = 策略新增的样本（复制、合成或增强）</sup>",
        ),
        height=320 * rows + 110,
        legend_title=tr(language, "class", "类别"),
    )
    return figure


def verdict_figure(result: ImbalanceResult, language: str) -> go.Figure:
    header = [tr(language, "strategy", "策略")] + [label for _, label in _metric_rows(result, language)]
    header.append(tr(language, "training time (s)", "训练时间（秒）"))
    best = {
        "minority_recall": result.best_minority_recall,
        "balanced_accuracy": result.best_balanced_accuracy,
    }
    columns = [[] for _ in header]
    fills = [[] for _ in header]
    for outcome in result.outcomes:
        columns[0].append(strategy_label(outcome.strategy, language))
        fills[0].append("white")
        for column, (key, _) in enumerate(_metric_rows(result, language), start=1):
            winner = best.get(key) == outcome.strategy
            columns[column].append(_fmt(getattr(outcome, key)) + (" ★" if winner else ""))
            fills[column].append("#DCEFD8" if winner else "white")
        columns[-1].append(f"{outcome.fit_seconds:.1f}")
        fills[-1].append("white")
    for skipped in result.skipped:
        columns[0].append(strategy_label(skipped.strategy, language))
        for column in range(len(header)):
            if column:
                columns[column].append(tr(language, "skipped", "已跳过"))
            fills[column].append("#F3F3F3")
    figure = go.Figure(
        go.Table(
            columnwidth=[1.8] + [1.1] * (len(header) - 1),
            header={"values": header, "align": "left", "fill_color": "#E8EEF6"},
            cells={"values": columns, "align": "left", "fill_color": fills, "height": 26},
        )
    )
    if best["minority_recall"] and best["balanced_accuracy"]:
        recall, balanced = (
            strategy_label(best[key], language) for key in ("minority_recall", "balanced_accuracy")
        )
        title = tr(
            language,
            f"Verdict — best on minority recall: {recall}; best on balanced accuracy: {balanced}",
            f"结论 —— 少数类召回率最佳：{recall}；平衡准确率最佳：{balanced}",
        )
    else:
        title = tr(language, "Verdict", "结论")
    caveats = _caveats(result, language)
    figure.update_layout(
        title=title,
        height=60 + 52 + 28 * (len(result.outcomes) + len(result.skipped)) + 16 + 24 * len(caveats),
        margin={"l": 10, "r": 10, "t": 60, "b": 16 + 24 * len(caveats)},
        annotations=[
            {
                "text": "<br>".join(caveats),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "yanchor": "top",
                "xanchor": "left",
                "showarrow": False,
                "align": "left",
                "font": {"size": 12},
            }
        ],
    )
    return figure


def _caveats(result: ImbalanceResult, language: str) -> list[str]:
    lines = []
    if np.isfinite(result.majority_share):
        lines.append(
            tr(
                language,
                "⚠ Accuracy is misleading under imbalance: always predicting the largest class scores "
                f"{result.majority_share:.0%} on this test split.",
                f"⚠ 不平衡时准确率有误导性：在这个测试集上，永远预测最大类别就能得到 {result.majority_share:.0%} 的准确率。",
            )
        )
    lines.append(
        tr(
            language,
            "⚠ Resample the training split only: oversampling (or SMOTE) before the train/test split leaks copies "
            "of test samples into training and inflates every score.",
            "⚠ 只对训练集重采样：在划分训练/测试集之前过采样（或 SMOTE）会把测试样本的副本泄漏 (leakage) 进训练集，让所有分数虚高。",
        )
    )
    lines.append(
        tr(
            language,
            f"One seed ({result.seed}), {result.epochs} epochs, {result.n_test} test samples: "
            "differences of a few points may be noise.",
            f"单一随机种子 ({result.seed})、{result.epochs} 轮训练、{result.n_test} 个测试样本：几个百分点的差别可能只是噪声。",
        )
    )
    return lines


def _metric_rows(result: ImbalanceResult, language: str) -> list[tuple[str, str]]:
    average = tr(language, "minority", "少数类") if result.binary else tr(language, "macro", "宏平均")
    return [
        ("minority_recall", tr(language, "minority recall", "少数类召回率")),
        ("balanced_accuracy", tr(language, "balanced accuracy", "平衡准确率")),
        ("macro_f1", tr(language, "macro F1", "宏平均 F1")),
        ("roc_auc", "ROC-AUC"),
        ("pr_auc", f"PR-AUC ({average})"),
        ("accuracy", tr(language, "accuracy (misleading)", "准确率（有误导性）")),
    ]


def metrics_figure(result: ImbalanceResult, language: str) -> go.Figure:
    rows = _metric_rows(result, language)
    figure = go.Figure()
    for index, outcome in enumerate(result.outcomes):
        values = [getattr(outcome, key) for key, _ in rows]
        figure.add_bar(
            x=[label for _, label in rows],
            y=[value if np.isfinite(value) else None for value in values],
            name=strategy_label(outcome.strategy, language),
            marker_color=_color(index),
            text=[_fmt(value) for value in values] if len(result.outcomes) <= 4 else None,
            textposition="outside",
            meta=outcome.strategy,
        )
    figure.update_layout(
        title=tr(language, "Test-split scores per strategy", "各策略在测试集上的得分"),
        barmode="group",
        xaxis_title=tr(language, "metric", "指标"),
        yaxis_title=tr(language, "score (0–1, higher is better)", "得分（0–1，越高越好）"),
        yaxis_range=[0, 1.1],
        legend_title=tr(language, "strategy", "策略"),
    )
    return figure


def per_class_figure(result: ImbalanceResult, language: str) -> go.Figure:
    names = [
        name + (" *" if c in result.minority_classes else "")
        for c, name in enumerate(_class_names(result, language))
    ]
    strategies = [strategy_label(outcome.strategy, language) for outcome in result.outcomes]
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=[
            tr(language, "precision", "精确率 (precision)"),
            tr(language, "recall", "召回率 (recall)"),
        ],
        shared_yaxes=True,
        horizontal_spacing=0.04,
    )
    for col, key in ((1, "precision"), (2, "recall")):
        z = np.array([getattr(outcome, key) for outcome in result.outcomes], dtype=np.float64)
        figure.add_heatmap(
            z=z.tolist(),
            x=names,
            y=strategies,
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            text=[[f"{value:.2f}" for value in row] for row in z],
            texttemplate="%{text}",
            showscale=col == 2,
            colorbar={"title": tr(language, "score", "得分")},
            meta=key,
            row=1,
            col=col,
        )
    noun = tr(language, "label", "标签") if result.multilabel else tr(language, "class", "类别")
    figure.update_xaxes(title_text=noun + tr(language, " (* = minority)", "（* = 少数类）"))
    figure.update_yaxes(autorange="reversed")
    figure.update_yaxes(title_text=tr(language, "strategy", "策略"), col=1)
    figure.update_layout(
        title=tr(
            language, "Per-class precision and recall on the test split", "测试集上每个类别的精确率和召回率"
        ),
        height=200 + 34 * len(strategies),
    )
    return figure


def confusion_figure(result: ImbalanceResult, language: str) -> go.Figure:
    outcomes = result.outcomes
    columns = min(3, len(outcomes))
    rows = math.ceil(len(outcomes) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[strategy_label(outcome.strategy, language) for outcome in outcomes],
        horizontal_spacing=0.07,
        vertical_spacing=0.14,
    )
    names = list(_class_names(result, language))
    for index, outcome in enumerate(outcomes):
        if result.multilabel:
            counts = outcome.confusion.reshape(len(names), 4)
            negatives = np.maximum(counts[:, :2].sum(axis=1, keepdims=True), 1)
            positives = np.maximum(counts[:, 2:].sum(axis=1, keepdims=True), 1)
            rates = np.hstack([counts[:, :2] / negatives, counts[:, 2:] / positives])
            columns_shown = [
                tr(language, word, zh)
                for word, zh in (("TN", "真阴"), ("FP", "假阳"), ("FN", "假阴"), ("TP", "真阳"))
            ]
        else:
            counts = outcome.confusion
            rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
            columns_shown = names
        figure.add_heatmap(
            z=rates.tolist(),
            x=columns_shown,
            y=names,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            text=counts.tolist(),
            texttemplate="%{text}",
            showscale=index == 0,
            colorbar={"title": tr(language, "share of<br>true class", "占真实类别<br>的比例")},
            hovertemplate=tr(
                language,
                "true %{y}, predicted %{x}: %{text} samples<extra></extra>",
                "真实 %{y}，预测 %{x}：%{text} 个样本<extra></extra>",
            ),
            meta=outcome.strategy,
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_yaxes(autorange="reversed")
    _edge_titles(
        figure,
        len(outcomes),
        columns,
        tr(language, "outcome", "结果") if result.multilabel else tr(language, "predicted class", "预测类别"),
        tr(language, "label", "标签") if result.multilabel else tr(language, "true class", "真实类别"),
    )
    figure.update_layout(
        title=tr(
            language,
            "Confusion matrices on the test split (numbers: samples; colour: share of the true class)",
            "测试集上的混淆矩阵 (confusion matrix)（数字：样本数；颜色：占真实类别的比例）",
        ),
        height=300 * rows + 100,
    )
    return figure


def pr_figure(result: ImbalanceResult, language: str) -> go.Figure:
    focus = _class_names(result, language)[result.focus_class]
    figure = go.Figure()
    for index, outcome in enumerate(result.outcomes):
        if outcome.pr_curve_recall.size == 0:
            continue
        figure.add_scatter(
            x=outcome.pr_curve_recall.tolist(),
            y=outcome.pr_curve_precision.tolist(),
            mode="lines",
            name=f"{strategy_label(outcome.strategy, language)} (AP {outcome.ap_per_class[result.focus_class]:.3f})",
            line={"color": _color(index), "shape": "hv"},
            meta=outcome.strategy,
        )
    prevalence = result.test_counts[result.focus_class] / max(result.n_test, 1)
    figure.add_scatter(
        x=[0, 1],
        y=[prevalence, prevalence],
        mode="lines",
        name=tr(language, f"chance (prevalence {prevalence:.2f})", f"随机猜测（占比 {prevalence:.2f}）"),
        line={"color": "grey", "dash": "dash"},
        meta="chance",
    )
    figure.update_layout(
        title=tr(
            language,
            f"Precision-recall curves of the rarest class '{focus}' on the test split",
            f"最稀少类别 '{focus}' 在测试集上的精确率-召回率曲线 (PR curve)",
        ),
        xaxis_title=tr(language, f"recall of '{focus}'", f"'{focus}' 的召回率 (recall)"),
        yaxis_title=tr(language, f"precision of '{focus}'", f"'{focus}' 的精确率 (precision)"),
        xaxis_range=[0, 1.02],
        yaxis_range=[0, 1.05],
        legend_title=tr(language, "strategy (average precision)", "策略（平均精确率 AP）"),
    )
    return figure


def threshold_figure(result: ImbalanceResult, language: str) -> go.Figure:
    focus = _class_names(result, language)[result.focus_class]
    thresholds = result.thresholds.tolist()
    metrics = (
        ("threshold_recall", tr(language, "recall", "召回率 (recall)")),
        ("threshold_precision", tr(language, "precision", "精确率 (precision)")),
        ("threshold_f1", "F1"),
    )
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[label for _, label in metrics],
    )
    for index, outcome in enumerate(result.outcomes):
        for row, (key, _) in enumerate(metrics, start=1):
            figure.add_scatter(
                x=thresholds,
                y=[value if np.isfinite(value) else None for value in getattr(outcome, key)],
                mode="lines",
                name=strategy_label(outcome.strategy, language),
                legendgroup=outcome.strategy,
                showlegend=row == 1,
                line={"color": _color(index)},
                meta=f"{outcome.strategy}:{key}",
                row=row,
                col=1,
            )
    readout = len(figure.layout.annotations)
    start = int(np.argmin(np.abs(result.thresholds - 0.5)))
    texts = []
    for position, threshold in enumerate(thresholds):
        lines = [f"<b>{tr(language, 'threshold', '阈值')} {threshold:.2f}</b>", "P · R · F1"]
        lines += [
            f"{strategy_label(outcome.strategy, language)}: {_fmt(outcome.threshold_precision[position], 2)} · "
            f"{_fmt(outcome.threshold_recall[position], 2)} · {_fmt(outcome.threshold_f1[position], 2)}"
            for outcome in result.outcomes
        ]
        texts.append("<br>".join(lines))
    steps = [
        {
            "method": "relayout",
            "label": f"{threshold:.2f}",
            "args": [
                {"shapes[0].x0": threshold, "shapes[0].x1": threshold, f"annotations[{readout}].text": text}
            ],
        }
        for threshold, text in zip(thresholds, texts, strict=True)
    ]
    figure.add_annotation(
        text=texts[start],
        xref="paper",
        yref="paper",
        x=1.02,
        y=0.0,
        xanchor="left",
        yanchor="bottom",
        align="left",
        showarrow=False,
        font={"size": 11},
    )
    figure.add_shape(
        type="line",
        x0=thresholds[start],
        x1=thresholds[start],
        y0=0,
        y1=1,
        xref="x",
        yref="paper",
        line={"color": "black", "width": 1, "dash": "dot"},
    )
    figure.update_yaxes(range=[0, 1.05], title_text=tr(language, "score", "得分"))
    figure.update_xaxes(range=[0, 1])
    figure.update_xaxes(
        title_text=tr(
            language, f"threshold on the predicted probability of '{focus}'", f"'{focus}' 预测概率的阈值"
        ),
        row=3,
        col=1,
    )
    figure.update_layout(
        title=tr(
            language,
            f"Decision threshold for '{focus}': slide to trade recall for precision (test split)",
            f"'{focus}' 的决策阈值 (decision threshold)：拖动滑块，在召回率与精确率之间权衡（测试集）",
        ),
        height=760,
        margin={"r": 290, "b": 110},
        legend_title=tr(language, "strategy", "策略"),
        sliders=[
            {
                "active": start,
                "currentvalue": {"prefix": tr(language, "threshold: ", "阈值：")},
                "pad": {"t": 60},
                "steps": steps,
            }
        ],
    )
    return figure


def train_counts_figure(result: ImbalanceResult, language: str) -> go.Figure:
    strategies = [strategy_label(outcome.strategy, language) for outcome in result.outcomes]
    figure = go.Figure()
    for cls, name in enumerate(_class_names(result, language)):
        figure.add_bar(
            x=strategies,
            y=[int(outcome.train_counts[cls]) for outcome in result.outcomes],
            name=name,
            marker_color=_color(cls),
            text=[
                f"w={outcome.class_weights[cls]:.1f}" if outcome.strategy == "class_weight" else ""
                for outcome in result.outcomes
            ],
            textposition="outside",
        )
    figure.update_layout(
        title=tr(
            language,
            "Training samples per class under each strategy (balanced batches: per epoch; w = class weight in the loss)",
            "各策略下每个类别的训练样本数（平衡批次：每轮；w = 损失中的类别权重）",
        ),
        barmode="group",
        xaxis_title=tr(language, "strategy", "策略"),
        yaxis_title=tr(language, "training samples (count)", "训练样本数"),
        legend_title=tr(language, "class", "类别"),
    )
    return figure


def skipped_figure(result: ImbalanceResult, language: str) -> go.Figure:
    header = [
        tr(language, "strategy", "策略"),
        tr(language, "why it was skipped", "跳过原因"),
        tr(language, "what to do", "怎么办"),
    ]
    figure = go.Figure(
        go.Table(
            columnwidth=[1, 3, 3],
            header={"values": header, "align": "left", "fill_color": "#F6E3E3"},
            cells={
                "values": [
                    [strategy_label(skipped.strategy, language) for skipped in result.skipped],
                    [tr(language, skipped.reason, skipped.reason_zh) for skipped in result.skipped],
                    [tr(language, skipped.fix, skipped.fix_zh) for skipped in result.skipped],
                ],
                "align": "left",
            },
        )
    )
    figure.update_layout(
        title=tr(
            language,
            "Strategies skipped on this data (the others ran)",
            "在这份数据上跳过的策略（其余策略照常运行）",
        ),
        height=150 + 70 * len(result.skipped),
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return figure
