"""The dashboard's own figures (training curves, dataset preview): pure functions of plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dlviz.i18n import t
from dlviz.plugin import tr_names

_TRAIN_COLOUR = "#4C78A8"
_VALIDATION_COLOUR = "#F58518"
_PREVIEW_IMAGES = 12


def training_curves(epochs: Mapping[str, Sequence[float]], language: str, titled: bool = True) -> go.Figure:
    """Loss and accuracy per epoch, training and validation, side by side (`titled`: with a title)."""
    metrics = [name for name in ("loss", "accuracy") if name in epochs] or [
        name for name in epochs if name not in ("epoch", "step") and not name.startswith("val_")
    ][:2]
    titles = [t(f"curves.{name}", language) if name in ("loss", "accuracy") else name for name in metrics]
    figure = make_subplots(
        rows=1, cols=max(len(metrics), 1), subplot_titles=titles or [""], horizontal_spacing=0.14
    )
    epoch_axis = np.asarray(epochs.get("epoch", np.arange(len(next(iter(epochs.values()), [])))))
    epoch_axis = epoch_axis + 1
    for column, name in enumerate(metrics, start=1):
        for key, colour, label in (
            (name, _TRAIN_COLOUR, t("curves.train", language)),
            (f"val_{name}", _VALIDATION_COLOUR, t("curves.validation", language)),
        ):
            if key not in epochs:
                continue
            figure.add_trace(
                go.Scatter(
                    x=epoch_axis,
                    y=np.asarray(epochs[key], dtype=float),
                    mode="lines+markers",
                    name=label,
                    line={"color": colour},
                    legendgroup=label,
                    showlegend=column == 1,
                ),
                row=1,
                col=column,
            )
        figure.update_xaxes(
            title_text=t("curves.epoch", language),
            dtick=1 if len(epoch_axis) <= 15 else None,
            row=1,
            col=column,
        )
        figure.update_yaxes(title_text=titles[column - 1], row=1, col=column)
    figure.update_layout(
        title=t("curves.title", language) if titled else None,
        height=380 if titled else 340,
        margin={"l": 60, "r": 20, "t": 70 if titled else 30, "b": 40},
        legend={"orientation": "h", "y": -0.22, "x": 0.5, "xanchor": "center", "yanchor": "top"},
    )
    return figure


def _class_names(dataset: Any, language: str) -> list[str]:
    """The dataset's class names in the UI language (Chinese ones when it has them), else the class ids."""
    names = tr_names(language, dataset.class_names, getattr(dataset, "class_names_zh", ()))
    return [str(name) for name in names] or [str(i) for i in range(dataset.n_classes)]


def _target_names(dataset: Any, language: str) -> list[str]:
    """The regression targets' names in the UI language (Chinese ones when the dataset has them)."""
    return [
        str(name)
        for name in tr_names(language, dataset.target_names, getattr(dataset, "target_names_zh", ()))
    ]


def dataset_summary(dataset: Any, language: str) -> str:
    """The split sizes and the classes, or the targets of a regression set, in `language`."""
    sizes = {"train": len(dataset.x_train), "test": len(dataset.x_test)}
    if getattr(dataset, "task", "classification") == "regression":
        return t(
            "data.summary_regression", language, **sizes, targets=", ".join(_target_names(dataset, language))
        )
    return t("data.summary", language, **sizes, classes=dataset.n_classes)


def class_counts(dataset: Any, language: str) -> go.Figure:
    """How many samples of each class (or label) the training and test splits hold; for a regression
    set, the histogram of its first target in the user's units."""
    task = getattr(dataset, "task", "classification")
    if task == "regression":
        return _target_histogram(dataset, language)
    names = _class_names(dataset, language)
    if task == "multilabel":
        train, test = np.asarray(dataset.y_train).sum(axis=0), np.asarray(dataset.y_test).sum(axis=0)
    else:
        train = np.bincount(np.asarray(dataset.y_train, dtype=np.int64), minlength=len(names))
        test = np.bincount(np.asarray(dataset.y_test, dtype=np.int64), minlength=len(names))
    figure = go.Figure(
        [
            go.Bar(x=names, y=train, name=t("curves.train_split", language), marker_color=_TRAIN_COLOUR),
            go.Bar(x=names, y=test, name=t("curves.test_split", language), marker_color=_VALIDATION_COLOUR),
        ]
    )
    figure.update_layout(
        title=t("preview.counts_title", language),
        barmode="group",
        height=320,
        xaxis_title=t("preview.class", language),
        yaxis_title=t("preview.samples", language),
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
    )
    return figure


def _target_histogram(dataset: Any, language: str) -> go.Figure:
    def first_target(y: Any) -> np.ndarray:
        return np.asarray(dataset.in_target_units(y)).reshape(len(y), -1)[:, 0]

    figure = go.Figure(
        [
            go.Histogram(
                x=first_target(dataset.y_train),
                name=t("curves.train_split", language),
                marker_color=_TRAIN_COLOUR,
            ),
            go.Histogram(
                x=first_target(dataset.y_test),
                name=t("curves.test_split", language),
                marker_color=_VALIDATION_COLOUR,
            ),
        ]
    )
    figure.update_layout(
        title=t("preview.targets_title", language),
        barmode="overlay",
        height=320,
        xaxis_title=_target_names(dataset, language)[0],
        yaxis_title=t("preview.samples", language),
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
    )
    figure.update_traces(opacity=0.7, bingroup="targets")  # one set of bins, so the splits compare
    return figure


def samples(dataset: Any, language: str) -> go.Figure | None:
    """A look at the data: the first images, or the 2-D points coloured by class; None for tables and for
    data without classes."""
    if getattr(dataset, "task", "classification") != "classification":
        return None
    if dataset.kind == "image":
        return _image_grid(dataset, language)
    if dataset.kind == "points2d" or dataset.n_features == 2:
        return _points(dataset, language)
    return None


def _image_grid(dataset: Any, language: str) -> go.Figure:
    count = min(_PREVIEW_IMAGES, len(dataset.x_train))
    images = np.asarray(dataset.x_train[:count], dtype=float)
    images = images.mean(axis=-1) if images.ndim == 4 else images
    names = _class_names(dataset, language)
    labels = [names[int(y)] for y in dataset.y_train[:count]]
    figure = px.imshow(
        images, facet_col=0, facet_col_wrap=6, color_continuous_scale="gray_r", facet_row_spacing=0.12
    )
    for annotation in figure.layout.annotations:
        index = int(annotation.text.split("=")[-1])
        annotation.text = t("preview.label", language, label=labels[index])
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.update_traces(hovertemplate=None, hoverinfo="skip")
    rows = -(-count // 6)
    figure.update_layout(
        title=t("preview.images_title", language),
        coloraxis_showscale=False,
        height=150 * rows + 80,
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
    )
    return figure


def _points(dataset: Any, language: str) -> go.Figure:
    x = np.asarray(dataset.x_train, dtype=float)
    figure = go.Figure()
    for label, name in enumerate(_class_names(dataset, language)):
        chosen = np.asarray(dataset.y_train) == label
        figure.add_trace(
            go.Scatter(x=x[chosen, 0], y=x[chosen, 1], mode="markers", name=str(name), marker={"size": 5})
        )
    features = list(dataset.feature_names) or ["x1", "x2"]
    figure.update_layout(
        title=t("preview.points_title", language),
        xaxis_title=features[0],
        yaxis_title=features[1] if len(features) > 1 else "x2",
        height=380,
        legend_title_text=t("preview.class", language),
    )
    return figure
