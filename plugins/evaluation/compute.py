"""The `evaluation` plugin's computation: predictions on a split, their scores, the confident mistakes with
their attribution maps, and the scores at each weight snapshot of the run."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz.errors import DataError, ModelError, PluginError
from dlviz.plugin import tr
from plugins._shared.explain import display_values, feature_names, is_image
from plugins._shared.snapshots import SnapshotModel, check_run_fits, snapshot_indices
from plugins.attributions import Params as AttributionParams
from plugins.attributions import attribute
from plugins.evaluation.metrics import (
    calibration,
    class_scores,
    classification_metrics,
    one_vs_rest_curves,
    regression_metrics,
)
from plugins.evaluation.result import (
    ClassificationResult,
    Gallery,
    GalleryItem,
    RegressionResult,
    SnapshotMetrics,
)
from plugins.evaluation.texts import classification_page, regression_page

if TYPE_CHECKING:
    from plugins.evaluation.plugin import Params


def is_regression(dataset) -> bool:
    """Whether the dataset's targets are numbers to predict rather than class ids."""
    return getattr(dataset, "task", "classification") == "regression"


def evaluate(ctx: dlviz.Context, params: Params) -> ClassificationResult | RegressionResult:
    """Evaluate ctx.model on ctx.dataset's chosen split (the `evaluation` plugin's computation, for other
    plugins to call with typed `Params`)."""
    x, y = evaluated_split(ctx, params)
    ctx.report(0.05, tr(ctx.language, "predicting", "预测中"))
    outputs = ctx.model.predict(x)
    if is_regression(ctx.dataset):
        return _regression(ctx, params, x, y, outputs)
    return _classification(ctx, params, x, y, outputs)


def evaluated_split(ctx: dlviz.Context, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """The chosen split, at most `params.max_samples` of it (a random subset fixed by the seed)."""
    dataset = ctx.dataset
    x, y = (dataset.x_train, dataset.y_train) if params.split == "train" else (dataset.x_test, dataset.y_test)
    if x is None or len(x) == 0:
        raise DataError(
            f"The dataset has no {params.split} samples to evaluate on.", "choose the other split."
        )
    if len(x) > params.max_samples:
        keep = np.sort(np.random.default_rng(ctx.seed).choice(len(x), params.max_samples, replace=False))
        x, y = x[keep], y[keep]
    return np.asarray(x), np.asarray(y)


def _classification(ctx, params, x, y, outputs) -> ClassificationResult:
    activation = ctx.model.output_activation
    scores = class_scores(outputs, activation)
    y = y.astype(np.int64)
    if y.max() >= scores.shape[1]:
        raise DataError(
            f"The labels name class {int(y.max())} but the model outputs {scores.shape[1]} class score(s).",
            "evaluate a model built for this dataset (one output unit per class, or one sigmoid unit for two).",
        )
    metrics = classification_metrics(y, scores)
    roc, pr = one_vs_rest_curves(y, scores)
    ctx.report(0.2, tr(ctx.language, "confident mistakes", "高置信度的错误"))
    gallery = _gallery(ctx, params, x, y, scores) if params.gallery_size else None
    snapshots = _snapshot_metrics(ctx, params, x, y, regression=False)
    dataset = ctx.dataset
    n_classes = scores.shape[1]
    names = tuple(dataset.class_label(i) for i in range(n_classes))
    names_zh = tuple(dataset.class_label(i, "zh") for i in range(n_classes)) if dataset.class_names_zh else ()
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return ClassificationResult(
        split=params.split,
        n_samples=len(x),
        class_names=names,
        class_names_zh=names_zh,
        metrics=metrics,
        roc=roc,
        precision_recall=pr,
        calibration=calibration(y, scores, params.calibration_bins),
        calibration_bins=params.calibration_bins,
        gallery=gallery,
        snapshots=snapshots,
        page=classification_page(params.split, len(x), _snapshots_missing(ctx, params, snapshots)),
    )


def _gallery(ctx, params, x, y, scores) -> Gallery | None:
    predicted = scores.argmax(axis=1)
    confidence = scores.max(axis=1)
    wrong = np.flatnonzero(predicted != y)
    if not len(wrong):
        return None
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][: params.gallery_size]
    kind = (
        "image" if is_image(ctx.model, ctx.dataset) else "text" if ctx.dataset.kind == "sequence" else "table"
    )
    method = params.gallery_method
    if method == "auto":
        method = "grad_cam" if kind == "image" and _has_conv(ctx.model) else "saliency"
    if kind == "text":  # token ids have no gradient: the mistakes are shown as their words alone
        maps, method = [None] * len(chosen), ""
    else:
        # The attributions plugin explains the first test samples of a dataset: give it the mistakes.
        mistakes = dataclasses.replace(ctx.dataset, x_test=x[chosen], y_test=y[chosen])
        explained = attribute(
            dataclasses.replace(ctx, dataset=mistakes, progress=None),
            AttributionParams(methods=(method,), n_samples=len(chosen), target=-1, sanity_check=False),
        )
        maps = list(explained.maps[method])
    values = display_values(ctx.dataset, x[chosen]) if kind != "text" else x[chosen]
    items = tuple(
        GalleryItem(
            index=int(index),
            true_class=int(y[index]),
            predicted_class=int(predicted[index]),
            confidence=float(confidence[index]),
            inputs=x[index],
            values=values[row],
            attribution=maps[row],
            text=_words(ctx.dataset, x[index]) if kind == "text" else "",
        )
        for row, index in enumerate(chosen)
    )
    return Gallery(method, kind, feature_names(ctx.dataset, tuple(ctx.model.input_shape)), items)


def _words(dataset, tokens: np.ndarray) -> str:
    """A sequence of token ids as its words (the ids themselves when the vocabulary is unknown), padding left out."""
    vocabulary = dataset.vocabulary
    return " ".join(vocabulary[t] if t < len(vocabulary) else str(t) for t in tokens.tolist() if t != 0)


def _has_conv(handle) -> bool:
    return any(len(info.output_shape) == 4 and "Conv" in info.kind for info in handle.layers)


def _snapshot_metrics(ctx, params, x, y, regression: bool) -> SnapshotMetrics | None:
    """The scores at (at most `params.max_snapshots`) weight snapshots of ctx.run, when asked for and
    the run was recorded from this model's architecture."""
    run = ctx.run
    if not params.snapshots or run is None or len(run.snapshot_steps) == 0:
        return None
    try:
        check_run_fits(run, ctx.model.model)
        replay = SnapshotModel(ctx.model, run)
    except (PluginError, ModelError):
        return None  # a run of another model, or a model Keras cannot copy: the page says so
    indices = snapshot_indices(len(replay.steps), params.max_snapshots)
    classification, regressions = [], []
    for done, index in enumerate(indices):
        ctx.report(0.4 + 0.6 * done / len(indices), tr(ctx.language, "weight snapshots", "权重快照"))
        outputs = replay.load(int(index)).predict(x)
        if regression:
            regressions.append(regression_metrics(y, in_target_units(ctx.dataset, outputs)))
        else:
            classification.append(
                classification_metrics(y, class_scores(outputs, ctx.model.output_activation))
            )
    return SnapshotMetrics(replay.steps[indices], tuple(classification), tuple(regressions))


def _regression(ctx, params, x, y, outputs) -> RegressionResult:
    actual = in_target_units(ctx.dataset, y)
    predicted = in_target_units(ctx.dataset, outputs)
    if predicted.shape != actual.shape:
        raise DataError(
            f"The model gives {predicted.shape[1]} output(s) per sample for {actual.shape[1]} regression target(s).",
            "end the model with Dense(number of targets) and a linear activation.",
        )
    snapshots = _snapshot_metrics(ctx, params, x, actual, regression=True)
    names = tuple(getattr(ctx.dataset, "target_names", ()) or ())
    if len(names) != actual.shape[1]:
        names = tuple(f"target {i + 1}" for i in range(actual.shape[1]))
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return RegressionResult(
        split=params.split,
        actual=actual,
        predicted=predicted,
        target_names=names,
        metrics=regression_metrics(actual, predicted),
        snapshots=snapshots,
        page=regression_page(params.split, len(x), _snapshots_missing(ctx, params, snapshots)),
    )


def in_target_units(dataset, values: np.ndarray) -> np.ndarray:
    """Targets or predictions as (samples, targets) in the user's units (undoing the dataset's scaling)."""
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    if getattr(dataset, "target_scaler", None) is not None:
        return np.asarray(dataset.in_target_units(values), dtype=np.float64).reshape(len(values), -1)
    return values


def _snapshots_missing(ctx, params, snapshots) -> bool:
    """Whether the snapshot view was asked for, a run is loaded, and its snapshots could not be replayed."""
    return bool(params.snapshots and ctx.run is not None and snapshots is None)
