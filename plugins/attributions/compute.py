"""The `attributions` plugin's computation: the methods, Grad-CAM layer and IG baseline chosen, the
maps of the explained samples, IG's completeness, and the sanity check when asked for."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import tr
from plugins._shared.explain import (
    check_sample,
    class_probabilities,
    display_values,
    explained_inputs,
    feature_names,
    head_class_names,
    head_of,
    is_image,
    resolve_targets,
    target_units,
)
from plugins.attributions.engine import Plan, display_maps, engine_for
from plugins.attributions.result import COMPLETENESS_LIMIT, METHODS, AttributionResult
from plugins.attributions.sanity import LARGE_MODEL_LAYERS, sanity_check, skipped_on_large_model
from plugins.attributions.tokens import token_attributions

if TYPE_CHECKING:
    from plugins.attributions.plugin import Params

CONV_KINDS = frozenset({"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose"})
# Standard deviation of the Gaussian blur of the "blurred" baseline, as a fraction of the image side.
BLUR_FRACTION = 0.25


def attribute(ctx: dlviz.Context, params: Params) -> AttributionResult:
    """Attribution maps of the first `params.n_samples` test samples of ctx.dataset, for ctx.model (the
    `attributions` plugin's computation, for other plugins to call with typed `Params`). Token ids are
    explained per token through the model's Embedding (`plugins.attributions.tokens`)."""
    if getattr(ctx.dataset, "kind", "") == "sequence":
        return token_attributions(ctx, params)
    started = time.perf_counter()
    handle, dataset = ctx.model, ctx.dataset
    x = explained_inputs(dataset, params.n_samples)
    check_sample(params.sample, len(x))
    image = is_image(handle, dataset)
    methods = _methods(params.methods, handle)
    layer = _grad_cam_layer(handle, params.grad_cam_layer) if "grad_cam" in methods else None
    head = head_of(handle, x)
    outputs = handle.predict(x)
    targets = resolve_targets(head, outputs, params.target)
    baseline = _baseline(params.baseline, dataset, x, image)
    notes: list[tuple[str, str]] = []  # (English, Chinese)
    engine = engine_for(handle, head, params.score, layer)
    trained = engine.weights()
    rng = np.random.default_rng(ctx.seed)
    train = np.asarray(dataset.x_train, dtype=np.float32)
    noise = params.smoothgrad_noise * float(train.max() - train.min())
    plan = Plan(methods, params.steps, params.smoothgrad_samples, noise)
    noises = rng.normal(size=(len(x), plan.noisy, *x.shape[1:])).astype(np.float32) * noise

    ctx.report(0.05, tr(ctx.language, "attributions", "计算归因 (attributions)"))
    raw, ig, explained_scores = engine.attribute(plan, x, targets, baseline, noises, trained)
    notes.extend(engine.notes)
    units = target_units(dataset, head)
    if units is not None:  # a regressor: every number in the target's units, not standardised ones
        raw = {method: units.values(values, targets) for method, values in raw.items()}
        explained_scores = units.outputs(explained_scores, targets)
        if ig is not None:
            ig = (units.values(ig[0], targets), units.values(ig[1], targets))
    maps = {method: display_maps(raw[method], image) for method in methods}
    ig_sums = ig_deltas = completeness = None
    if ig is not None:
        ig_sums, ig_deltas = ig
        completeness = float(np.max(np.abs(ig_sums - ig_deltas)) / max(np.mean(np.abs(ig_deltas)), 1e-12))
        if completeness > COMPLETENESS_LIMIT:
            notes.append(
                (
                    f"Integrated Gradients' sum misses score(x) - score(baseline) by {completeness:.1%}: "
                    "use more steps.",
                    f"积分梯度 (Integrated Gradients) 之和与 score(x) - score(baseline) 相差 {completeness:.1%}："
                    "请增加步数。",
                )
            )

    sanity = None
    large = len(handle.layers) > LARGE_MODEL_LAYERS
    if params.sanity_check and large and not params.sanity_check_large_models:
        notes.append(skipped_on_large_model(len(handle.layers)))
    elif params.sanity_check:
        ctx.report(0.3, tr(ctx.language, "sanity check", "合理性检验 (sanity check)"))
        sanity = sanity_check(
            ctx,
            engine,
            trained,
            plan,
            x,
            targets,
            baseline,
            noises,
            maps,
            params.sample,
            image,
            params.sanity_stages,
        )
    probabilities = class_probabilities(head, outputs)[np.arange(len(x)), targets]
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    names_en, names_zh = head_class_names(dataset, head)
    if units is not None:
        probabilities, names_en, names_zh = explained_scores, units.names, units.names_zh
    return AttributionResult(
        methods=methods,
        maps=maps,
        inputs=x,
        feature_values=display_values(dataset, x),
        feature_names=feature_names(dataset, tuple(handle.input_shape)),
        image=image,
        targets=targets,
        probabilities=probabilities,
        class_names=names_en,
        class_names_zh=names_zh,
        score=params.score if head.activation in ("softmax", "sigmoid") else "output",
        outputs=explained_scores,
        baseline=params.baseline,
        steps=params.steps,
        smoothgrad_samples=params.smoothgrad_samples,
        smoothgrad_noise=params.smoothgrad_noise,
        grad_cam_layer=layer,
        ig_sums=ig_sums,
        ig_deltas=ig_deltas,
        completeness_error=completeness,
        sanity=sanity,
        sample=params.sample,
        notes=tuple(english for english, _ in notes),
        seconds=time.perf_counter() - started,
        notes_zh=tuple(chinese for _, chinese in notes),
        regression=units is not None,
        series_shape=tuple(x.shape[1:]) if getattr(dataset, "kind", "") == "timeseries" else None,
        series_features=tuple(dataset.feature_names) if getattr(dataset, "kind", "") == "timeseries" else (),
    )


def _methods(chosen: tuple, handle) -> tuple[str, ...]:
    convolutional = bool(_spatial_layers(handle, conv_only=True))
    if "auto" in chosen:
        return tuple(m for m in METHODS if m != "grad_cam" or convolutional)
    if "grad_cam" in chosen and not convolutional:
        raise PluginError(
            "Grad-CAM needs a convolutional layer (its feature maps are what it weighs); this model has none.",
            "pick other methods (Integrated Gradients, saliency, SmoothGrad, Gradient x Input), or explain a CNN.",
        )
    return tuple(m for m in METHODS if m in chosen)


def _spatial_layers(handle, conv_only: bool) -> list[str]:
    return [
        info.name
        for info in handle.layers
        if len(info.output_shape) == 4 and (info.kind in CONV_KINDS or not conv_only)
    ]


def _grad_cam_layer(handle, name: str) -> str:
    if not name:
        return _spatial_layers(handle, conv_only=True)[-1]
    candidates = _spatial_layers(handle, conv_only=False)
    if name not in candidates:
        raise ParamsError(
            f"Grad-CAM layer {name!r} is not a layer with spatial feature maps (height x width x channels).",
            f"use one of: {', '.join(candidates)} (or leave it empty for the last convolutional layer).",
        )
    return name


def _baseline(kind: str, dataset, x: np.ndarray, image: bool) -> np.ndarray:
    if kind == "zeros":
        return np.zeros_like(x)
    if kind == "mean":
        mean = np.asarray(dataset.x_train, dtype=np.float32).mean(axis=0)
        return np.broadcast_to(mean, x.shape).astype(np.float32)
    if not image:
        raise ParamsError(
            "A blurred baseline needs images: blurring the columns of a table means nothing.",
            "use baseline='zeros' or 'mean' for tabular data.",
        )
    from scipy.ndimage import gaussian_filter

    sigma = BLUR_FRACTION * min(x.shape[1:3])
    return gaussian_filter(x, sigma=(0, sigma, sigma, 0), mode="nearest").astype(np.float32)
