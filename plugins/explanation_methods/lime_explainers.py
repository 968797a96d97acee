"""LIME as the `explanation_methods` lesson runs it: the `lime` package's tabular and image explainers
(imported when needed), each sample's weights returned as an `Explanation`."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

import numpy as np

from dlviz.errors import PluginError
from plugins._shared.explain import class_probabilities, feature_names, head_of, target_units
from plugins._shared.explanation import Explanation

if TYPE_CHECKING:
    from plugins.explanation_methods.plugin import Params

def _lime_import(module: str):
    try:
        if module == "image":
            from lime import lime_image

            return lime_image
        from lime import lime_tabular

        return lime_tabular
    except ImportError as exc:
        raise PluginError("The lime package is not installed.", "pip install lime") from exc


def _classifier(handle, sample: np.ndarray, shape: tuple, grey: bool):
    """LIME's classifier function: rows (or RGB images LIME made from grey ones) -> class probabilities."""
    head = head_of(handle, sample)

    def probabilities(rows):
        rows = np.asarray(rows, dtype=np.float32)
        if grey:
            rows = rows[..., :1]
        return class_probabilities(head, handle.predict(rows.reshape((-1, *shape))))

    return probabilities


def _regressor(handle, dataset, sample: np.ndarray, shape: tuple):
    """LIME's regression function of one output (`target`): rows -> the output, in the target's units when
    `dataset` is a regression set; None when the model is a classifier (softmax or sigmoid head)."""
    head = head_of(handle, sample)
    if head.activation in ("softmax", "sigmoid"):
        return None
    units = target_units(dataset, head)

    def regressor(target: int):
        def outputs(rows):
            values = handle.predict(np.asarray(rows, dtype=np.float32).reshape((-1, *shape)))[:, target]
            return values if units is None else units.outputs(values, np.full(len(values), target))

        return outputs

    return regressor


def lime_tabular(handle, dataset, x, targets, params: Params, seed: int) -> tuple[Explanation, np.ndarray]:
    """LimeTabularExplainer (quartile discretisation, the package's default) on the training data: the
    explanation of `x` (one class per sample, `targets`) and the R² of each sample's local linear fit."""
    lime_module = _lime_import("tabular")
    train = np.asarray(dataset.x_train, dtype=np.float64).reshape(len(dataset.x_train), -1)
    names = feature_names(dataset, tuple(handle.input_shape))  # one per column of `train`
    regressor = _regressor(handle, dataset, x, tuple(handle.input_shape))
    if regressor is not None:
        return _lime_regression(lime_module, regressor, train, names, x, targets, params, seed)
    explainer = lime_module.LimeTabularExplainer(
        train,
        mode="classification",
        feature_names=list(names),
        class_names=[str(name) for name in dataset.class_names],
        random_state=seed,
    )
    predict = _classifier(handle, x, tuple(handle.input_shape), grey=False)
    values = np.zeros((len(x), train.shape[1]))
    scores = np.zeros(len(x))
    for index, (row, target) in enumerate(zip(x.reshape(len(x), -1), targets, strict=True)):
        explanation = explainer.explain_instance(
            row.astype(np.float64),
            predict,
            labels=(int(target),),
            num_features=train.shape[1],
            num_samples=params.lime_samples,
        )
        for feature, weight in explanation.as_map()[int(target)]:
            values[index, feature] = weight
        scores[index] = explanation.score
    settings = (("perturbations", params.lime_samples),)
    return _as_explanation(values, x, targets, predict, names, settings), scores


def _lime_regression(lime_module, regressor, train, names, x, targets, params: Params, seed: int):
    """LimeTabularExplainer in regression mode: LIME fits each sample's output itself (a regressor has no
    class probabilities to fit), in the target's units."""
    explainer = lime_module.LimeTabularExplainer(
        train, mode="regression", feature_names=list(names), random_state=seed
    )
    values = np.zeros((len(x), train.shape[1]))
    scores = np.zeros(len(x))
    outputs = np.zeros(len(x))
    for index, (row, target) in enumerate(zip(x.reshape(len(x), -1), targets, strict=True)):
        predict = regressor(int(target))
        explanation = explainer.explain_instance(
            row.astype(np.float64), predict, num_features=train.shape[1], num_samples=params.lime_samples
        )
        for feature, weight in explanation.local_exp[1]:  # lime keeps a regressor's weights under label 1
            values[index, feature] = weight
        scores[index] = explanation.score
        outputs[index] = predict(row[None])[0]
    explained = Explanation(
        method="lime",
        params=(("perturbations", params.lime_samples),),
        values=values,
        base_values=None,
        outputs=outputs,
        targets=np.asarray(targets),
        score="output",
        inputs=x,
        feature_names=tuple(names),
    )
    return explained, scores


def lime_image(
    handle, x, targets, segments, segment_names, params: Params, seed: int
) -> tuple[Explanation, np.ndarray]:
    """LimeImageExplainer with square-block segments, switched-off blocks set to 0 (hide_color=0): the
    explanation of `x` per segment (named by `segment_names`), and the R² of each sample's local fit."""
    lime_module = _lime_import("image")
    explainer = lime_module.LimeImageExplainer(random_state=seed)
    grey = x.shape[-1] == 1
    predict = _classifier(handle, x, tuple(handle.input_shape), grey=grey)
    count = int(segments.max()) + 1
    values = np.zeros((len(x), count))
    scores = np.zeros(len(x))
    for index, (image, target) in enumerate(zip(x, targets, strict=True)):
        with contextlib.redirect_stderr(io.StringIO()):  # lime draws a tqdm progress bar on stderr
            explanation = explainer.explain_instance(
                image[..., 0].astype(np.float64) if grey else image.astype(np.float64),
                predict,
                labels=(int(target),),
                top_labels=None,
                hide_color=0,
                num_features=count,
                num_samples=params.lime_samples,
                batch_size=params.lime_samples,
                segmentation_fn=lambda _image: segments,
                random_seed=seed,
            )
        for unit, weight in explanation.local_exp[int(target)]:
            values[index, unit] = weight
        scores[index] = explanation.score
    settings = (("perturbations", params.lime_samples), ("segment", params.segment))
    return _as_explanation(values, x, targets, predict, segment_names, settings), scores


def _as_explanation(values, x, targets, predict, feature_names, settings) -> Explanation:
    """LIME's weights as an `Explanation`: slopes of a local linear surrogate, with no base value they add
    up from; its outputs are the model's probabilities of the explained classes."""
    return Explanation(
        method="lime",
        params=settings,
        values=values,
        base_values=None,
        outputs=predict(x)[np.arange(len(x)), targets],
        targets=np.asarray(targets),
        score="probability",
        inputs=x,
        feature_names=tuple(feature_names),
    )
