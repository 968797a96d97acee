"""The `shap` plugin's computation: which (sample, class) pairs to explain, the background, the explainer's
run, and the result with its additivity check, dependence feature and per-pixel maps."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz.errors import ParamsError
from dlviz.plugin import tr
from plugins._shared.explain import (
    check_sample,
    class_probabilities,
    class_weights,
    display_values,
    explained_inputs,
    feature_names,
    head_class_names,
    head_of,
    is_image,
    resolve_targets,
    target_units,
)
from plugins.shap.explainers import GRADIENT_DRAWS, Task, additivity_errors, explain, load_shap
from plugins.shap.result import ADDITIVITY_TOLERANCE, ShapResult

if TYPE_CHECKING:
    from plugins.shap.plugin import Params

# A choice whose estimated run time exceeds this gets a warning in the result and the figures.
SLOW_SECONDS = 60.0
# Image samples whose top classes get per-pixel maps.
IMAGE_SAMPLES = 3


def shap_values(ctx: dlviz.Context, params: Params) -> ShapResult:
    """SHAP values of the first `params.n_samples` test samples of ctx.dataset, for ctx.model (the `shap`
    plugin's computation, for other plugins to call with typed `Params`)."""
    started = time.perf_counter()
    handle, dataset = ctx.model, ctx.dataset
    x = explained_inputs(dataset, params.n_samples)
    check_sample(params.sample, len(x), "Waterfall sample")
    head = head_of(handle, x)
    outputs = handle.predict(x)
    targets = resolve_targets(head, outputs, params.target)
    names = feature_names(dataset, tuple(handle.input_shape))
    image = is_image(handle, dataset)

    probabilities = class_probabilities(head, outputs)
    pairs = Pairs.choose(targets, probabilities, image, min(params.top_classes, head.n_classes))

    rng = np.random.default_rng(ctx.seed)
    train = np.asarray(dataset.x_train, dtype=np.float32)
    background = train[np.sort(rng.choice(len(train), min(params.background, len(train)), replace=False))]
    expected, seconds_per_row = _background_outputs(handle, background)
    weights, offsets = class_weights(head, pairs.classes)
    task = Task(
        ctx=ctx,
        head=head,
        background=background,
        expected=expected,
        x=x[pairs.samples],
        classes=pairs.classes,
        outputs=np.sum(outputs[pairs.samples] * weights, axis=1) + offsets,
    )
    notes: list[tuple[str, str]] = []  # (English, Chinese)
    estimate = estimate_seconds(params.explainer, task, len(x), seconds_per_row)
    if estimate > SLOW_SECONDS:
        notes.append(
            (
                f"Warning: {params.explainer} with {len(background)} background rows and {len(x)} samples "
                f"takes about {estimate / 60:.0f} min; fewer background rows or samples, or explainer=auto, "
                "is faster.",
                f"警告：{params.explainer} 用 {len(background)} 行背景数据 (background) 解释 {len(x)} 个样本，"
                f"约需 {estimate / 60:.0f} 分钟；减少背景行数或样本数，或改用 explainer=auto，会更快。",
            )
        )
    ctx.report(0.05, tr(ctx.language, "explaining", "计算解释"))
    values, base, method = explain(task, params.explainer, notes)

    main = pairs.main
    additivity_abs, additivity = additivity_errors(values[main], base[main], task.outputs[main])
    if additivity > ADDITIVITY_TOLERANCE:
        notes.append(
            (
                f"Warning: base + sum(SHAP) misses the output by {additivity:.1%} of the mean output.",
                f"警告：基准值 (base value) + SHAP 之和与模型输出相差平均输出的 {additivity:.1%}。",
            )
        )

    units = target_units(dataset, head)
    explained_outputs = task.outputs
    if units is not None:  # a regressor: values, base values and outputs in the target's units
        values, base = units.values(values, pairs.classes), units.outputs(base, pairs.classes)
        explained_outputs = units.outputs(task.outputs, pairs.classes)
        additivity_abs, _ = additivity_errors(values[main], base[main], explained_outputs[main])

    ctx.report(0.9, tr(ctx.language, "summarising", "汇总结果"))
    shown = display_values(dataset, x)
    flat = values[main].reshape(len(x), -1)
    dependence = _feature_index(params.feature, names, flat)
    interaction = _interaction_feature(dependence, flat, shown)
    shap = load_shap()

    explanation = shap.Explanation(
        values=values[main] if image else flat,
        base_values=base[main],
        data=x if image else x.reshape(len(x), -1),
        display_data=None if image else shown,
        feature_names=list(names),
    )
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    names_en, names_zh = head_class_names(dataset, head)
    if units is not None:
        names_en, names_zh = units.names, units.names_zh
    return ShapResult(
        explanation=explanation,
        method=method,
        notes=tuple(english for english, _ in notes),
        notes_zh=tuple(chinese for _, chinese in notes),
        targets=targets,
        class_names=names_en,
        class_names_zh=names_zh,
        outputs=explained_outputs[main],
        additivity_error=additivity,
        additivity_error_abs=additivity_abs,
        feature_values=shown,
        background_size=len(background),
        sample=params.sample,
        dependence_feature=dependence,
        interaction_feature=interaction,
        image_shape=tuple(handle.input_shape) if image else None,
        image_samples=pairs.image_samples,
        image_classes=pairs.image_classes,
        image_probabilities=np.take_along_axis(
            probabilities[pairs.image_samples], pairs.image_classes, axis=1
        ),
        image_values=values[pairs.shown].reshape(*pairs.image_classes.shape, *x.shape[1:]),
        score="probability" if head.activation in ("softmax", "sigmoid") else "output",
        seconds=time.perf_counter() - started,
        regression=units is not None,
        series_shape=tuple(x.shape[1:]) if getattr(dataset, "kind", "") == "timeseries" else None,
        series_features=tuple(dataset.feature_names) if getattr(dataset, "kind", "") == "timeseries" else (),
    )


@dataclasses.dataclass(frozen=True)
class Pairs:
    """The (sample, class) pairs to explain, each once: every sample's explained class, and the top
    classes of the first few images. `main` and `shown` index the pairs of those two purposes."""

    samples: np.ndarray
    classes: np.ndarray
    main: np.ndarray
    shown: np.ndarray
    image_samples: np.ndarray
    image_classes: np.ndarray

    @classmethod
    def choose(cls, targets: np.ndarray, probabilities: np.ndarray, image: bool, top: int) -> Pairs:
        image_samples = np.arange(min(IMAGE_SAMPLES, len(targets)) if image else 0)
        image_classes = np.argsort(-probabilities[image_samples], axis=1)[:, :top]
        wanted = list(zip(range(len(targets)), targets.tolist(), strict=True))
        wanted += [(int(s), int(c)) for s, row in zip(image_samples, image_classes, strict=True) for c in row]
        position = {pair: i for i, pair in enumerate(dict.fromkeys(wanted))}
        return cls(
            samples=np.array([pair[0] for pair in position], dtype=np.int64),
            classes=np.array([pair[1] for pair in position], dtype=np.int64),
            main=np.array([position[pair] for pair in wanted[: len(targets)]], dtype=np.int64),
            shown=np.array([position[pair] for pair in wanted[len(targets) :]], dtype=np.int64),
            image_samples=image_samples,
            image_classes=image_classes,
        )


def _background_outputs(handle, background: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's mean output over the background, and its forward time per row (from a 512-row call)."""
    probe = background if len(background) >= 512 else np.resize(background, (512, *background.shape[1:]))
    started = time.perf_counter()
    outputs = handle.predict(probe)
    per_row = (time.perf_counter() - started) / len(probe)
    return outputs[: len(background)].astype(np.float64).mean(axis=0), per_row


def estimate_seconds(choice: str, task: Task, samples: int, per_row: float) -> float:
    """A rough run time from the model's forward time per row (a gradient costs about 3 forwards).

    Measured here: KernelExplainer's batches of 10^5 rows ran 2-3x slower per row than the 512-row probe
    and it adds about 0.5 s of its own work per sample; GradientExplainer adds about 10 ms per sample.
    """
    features = int(np.prod(task.x.shape[1:]))
    if choice == "kernel":
        coalitions = 2 * features + 2048  # KernelExplainer's automatic number of coalitions
        return samples * (2 * coalitions * len(task.background) * per_row + 0.5)
    if choice == "gradient":
        return len(task.x) * (GRADIENT_DRAWS * 3 * per_row + 0.01)
    return 2 * len(task.x) * len(task.background) * 4 * per_row + 1.0


def _feature_index(feature: str, names: tuple[str, ...], values: np.ndarray) -> int:
    if not feature:
        return int(np.argmax(np.abs(values).mean(axis=0)))
    if feature in names:
        return names.index(feature)
    raise ParamsError(
        f"Feature {feature!r} is not an input of this model.",
        f"use one of: {', '.join(names[:8])}{', ...' if len(names) > 8 else ''} (or leave it empty).",
    )


def _interaction_feature(index: int, values: np.ndarray, data: np.ndarray) -> int:
    """The feature that seems to interact most with `index`: shap's `approximate_interactions` heuristic
    (sort by the feature, cut into bins, add up |correlation| of its SHAP values with each other feature
    inside the bins), vectorised over features."""
    n, features = data.shape
    if features < 2:
        return index
    order = np.argsort(data[:, index], kind="stable")
    size = max(min(n // 10, 50), 1)
    reference, others = values[order, index], data[order]
    scores = np.zeros(features)
    for start in range(0, n, size):
        a, b = reference[start : start + size], others[start : start + size]
        a_centred, b_centred = a - a.mean(), b - b.mean(axis=0)
        spread = np.sqrt((a_centred**2).sum() * (b_centred**2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            scores += np.nan_to_num(np.abs(a_centred @ b_centred) / spread)
    scores[index] = -1.0
    return int(np.argmax(scores))
