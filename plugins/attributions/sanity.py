"""The `attributions` plugin's sanity check (Adebayo et al. 2018): how much each method's maps change as
the model's weights are randomised from the top layer down."""

from __future__ import annotations

import numpy as np

from dlviz.plugin import tr
from plugins.attributions.engine import Engine, display_maps
from plugins.attributions.result import SanityCheck

# The sanity check compares maps of this many samples.
SANITY_SAMPLES = 8
# On a model of more layers than this, the check runs only when asked for (`sanity_check_large_models`):
# it repeats every method once per stage, which on MobileNetV2 (156 layers) takes about twice as long as
# a training epoch of 512 samples, while the maps themselves take under one.
LARGE_MODEL_LAYERS = 100


def skipped_on_large_model(layer_count: int) -> tuple[str, str]:
    """The page's note (English, Chinese) when the check did not run on a model of `layer_count` layers."""
    return (
        f"The sanity check did not run: this model has {layer_count} layers (more than {LARGE_MODEL_LAYERS}),<br>"
        "where it repeats every method once per stage and takes several times a training epoch. Tick "
        "'Sanity check on large models' to run it.",
        f"合理性检验没有运行：这个模型有 {layer_count} 层（超过 {LARGE_MODEL_LAYERS} 层），<br>检验要在每个阶段把每种方法"
        "重新计算一遍，耗时是一个训练轮次 (epoch) 的数倍。勾选“大模型上也做合理性检验”即可运行。",
    )


def layer_groups(layers: list, stages: int) -> list[list]:
    """`layers` (top first) cut into at most `stages` runs of consecutive layers of near-equal length: one
    attribution pass per run keeps the check's cost bounded on a model of hundreds of layers.

    >>> layer_groups(list("abcde"), 2)
    [['a', 'b'], ['c', 'd', 'e']]
    >>> layer_groups(list("ab"), 8)
    [['a'], ['b']]
    """
    count = min(stages, len(layers))
    bounds = np.linspace(0, len(layers), count + 1).round().astype(int) if count else np.zeros(1, int)
    return [layers[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True) if end > start]


def sanity_check(
    ctx, engine: Engine, trained, plan, x, targets, baseline, noises, maps, sample, image, stages: int
) -> SanityCheck:
    """Adebayo et al. (2018), cascading randomisation: re-draw the weights of the top layer, then the top
    two, ... down to the first (on a model of more than `stages` trainable layers, of the top group of
    layers, then the top two groups, ...: see `layer_groups`), and compare each method's maps with the trained model's (Spearman rank
    correlation of |map| and of the signed map, averaged over samples). Each weight tensor is re-drawn
    once, from a normal distribution with the trained tensor's standard deviation, so stage k+1 extends
    stage k. The weights are swapped in through the compiled function's arguments (a stateless call), so
    the model's own variables are never modified."""
    handle = engine.handle
    count = min(len(x), SANITY_SAMPLES)
    chosen = np.unique(np.r_[np.arange(count), sample])
    position = int(np.searchsorted(chosen, sample))
    index_of_path = {path: i for i, path in enumerate(handle.variable_paths)}
    layers = [info for info in reversed(handle.layers) if info.trainable_paths]
    rng = np.random.default_rng(ctx.seed + 1)
    random_values = [
        rng.normal(0.0, float(value.std()) or 0.05, size=value.shape).astype(value.dtype) for value in trained
    ]
    values = list(trained)
    names = ["trained"]
    correlations = {method: [1.0] for method in plan.methods}
    signed = {method: [1.0] for method in plan.methods}
    stage_maps = {method: [maps[method][sample]] for method in plan.methods}
    groups = layer_groups(layers, stages)
    for number, group in enumerate(groups, start=1):
        for info in group:
            for path in info.trainable_paths:
                index = index_of_path[path]
                values[index] = random_values[index]
        randomised, _, _ = engine.attribute(
            plan, x[chosen], targets[chosen], baseline[chosen], noises[chosen], values
        )
        for method in plan.methods:
            current = display_maps(randomised[method], image)
            original = maps[method][chosen]
            pairs = list(zip(original, current, strict=True))
            correlations[method].append(np.mean([_rank_correlation(np.abs(a), np.abs(b)) for a, b in pairs]))
            signed[method].append(np.mean([_rank_correlation(a, b) for a, b in pairs]))
            stage_maps[method].append(current[position])
        lowest = group[-1].name
        names.append(lowest)
        ctx.report(
            0.3 + 0.65 * number / len(groups),
            tr(ctx.language, f"randomised down to {lowest}", f"已随机化 {lowest} 及其上方各层的权重"),
        )
    return SanityCheck(
        stages=tuple(names),
        correlations={m: np.asarray(v) for m, v in correlations.items()},
        signed_correlations={m: np.asarray(v) for m, v in signed.items()},
        maps={m: np.stack(v) for m, v in stage_maps.items()},
    )


def _rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps; 0 when either is constant (it ranks nothing)."""
    from scipy.stats import spearmanr

    a, b = a.ravel(), b.ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)
