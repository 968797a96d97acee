"""The diagnosis of the `gradients` plugin: vanishing, exploding and dead gradients, and update-to-weight
ratios far from the rule of thumb."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import dlviz
from plugins._shared.records import onset

if TYPE_CHECKING:
    from plugins.gradients.plugin import Params

# Median update-to-weight ratios beyond these are worth a note in the diagnosis.
RATIO_TOO_HIGH, RATIO_TOO_LOW = 1e-1, 1e-6

VANISHING_ADVICE = (
    "The gradient shrinks at every layer it flows back through, so the layers near the input barely learn. "
    "Use ReLU (or Leaky ReLU) instead of sigmoid/tanh in the hidden layers, He initialisation "
    "(kernel_initializer='he_normal'), batch normalisation between layers, or fewer layers / residual connections."
)
EXPLODING_ADVICE = (
    "The updates are so large that training diverges. Lower the learning rate (try 10x smaller), clip the "
    "gradients (e.g. keras.optimizers.Adam(clipnorm=1.0)), standardise the inputs, or add batch normalisation."
)
DEAD_ADVICE = (
    "No gradient reaches these layers, so they stop learning. Usually the ReLU units after them output zero "
    "for every sample (dying ReLU): try Leaky ReLU, a lower learning rate or He initialisation; also check "
    "that no layer on the path was frozen or cut off by mistake."
)
VANISHING_ADVICE_ZH = (
    "梯度每向后穿过一层就缩小一些，所以靠近输入的层几乎学不到东西（梯度消失 (vanishing gradients)）。"
    "隐藏层改用 ReLU（或 Leaky ReLU）代替 sigmoid/tanh，使用 He 初始化 (He initialization)"
    "（kernel_initializer='he_normal'），在层之间加入批归一化 (batch normalization)，或减少层数 / 使用残差连接 (residual connections)。"
)
EXPLODING_ADVICE_ZH = (
    "更新量太大，训练发散（梯度爆炸 (exploding gradients)）。降低学习率 (learning rate)（试试缩小 10 倍），"
    "进行梯度裁剪 (gradient clipping)（例如 keras.optimizers.Adam(clipnorm=1.0)），标准化输入，"
    "或加入批归一化 (batch normalization)。"
)
DEAD_ADVICE_ZH = (
    "没有梯度能到达这些层，所以它们停止学习。通常是它们后面的 ReLU 单元对每个样本都输出零（死亡 ReLU (dying ReLU)）："
    "试试 Leaky ReLU、更低的学习率 (learning rate) 或 He 初始化 (He initialization)；"
    "也检查一下路径上是否有层被误冻结或被意外切断。"
)


def diagnose_norms(
    layers: list[str], steps: np.ndarray | None, norms: np.ndarray, sizes: np.ndarray, params: Params
) -> list[dlviz.Finding]:
    """Vanishing, exploding and dead gradients from per-layer norms [n_layers, n_records].

    Layers are in input-to-output order; `steps` are the records' training steps (None for one
    batch). Vanishing compares each layer's RMS gradient (norm / sqrt(size), so that big and small
    layers compare fairly) with the output layer's; exploding compares each layer's norm with its
    own start and with `params.exploding_norm`; dead means a norm of exactly zero.
    """
    norms = np.asarray(norms, np.float64)
    finite = np.isfinite(norms)
    rms = norms / np.sqrt(sizes)[:, None]

    def started(condition: np.ndarray, persist: int) -> dict[str, int]:
        starts = {}
        for layer, row in zip(layers, condition, strict=True):
            first = onset(row, persist)
            if first is not None:
                starts[layer] = first
        return starts

    def at(index: int) -> int | None:
        return None if steps is None else int(steps[index])

    def since(index: int) -> str:
        return "" if steps is None else f", from step {at(index)} on"

    def since_zh(index: int) -> str:
        return "" if steps is None else f"，从第 {at(index)} 步起"

    findings = []
    # Exploding: non-finite at once; or a norm far above the layer's start or above the absolute limit,
    # for `persist` records or until the gradient breaks down (NaN, or zero once the units die).
    with np.errstate(invalid="ignore", divide="ignore"):
        start = np.array([_initial(row) for row in norms])
        grown = finite & (
            (norms > start[:, None] * 10.0**params.exploding_decades) | (norms > params.exploding_norm)
        )
    collapsed = ~finite | (norms == 0)
    episode = grown | (np.maximum.accumulate(grown, axis=1) & collapsed)
    broken = started(~finite, 1)
    exploding = started(episode, params.persist)
    for layer, index in broken.items():
        exploding[layer] = min(index, exploding.get(layer, index))
    if exploding:
        first = min(exploding.values())
        worst = _first_named(layers, exploding)
        peak = np.nanmax(np.where(finite, norms, np.nan)) if finite.any() else np.nan
        what = "NaN/infinite gradients" if broken else f"gradient norms up to {peak:.3g}"
        what_zh = "梯度为 NaN/无穷大" if broken else f"梯度范数 (gradient norm) 高达 {peak:.3g}"
        findings.append(
            dlviz.Finding(
                "problem",
                f"Exploding gradients in {_names(layers, exploding)}: {what}{since(first)}.",
                EXPLODING_ADVICE,
                layer=worst,
                step=at(first),
                headline_zh=f"{_names(layers, exploding)} 出现梯度爆炸 (exploding gradients)：{what_zh}{since_zh(first)}。",
                advice_zh=EXPLODING_ADVICE_ZH,
            )
        )

    dead = started(finite & (norms == 0), params.persist)
    if dead:
        first = min(dead.values())
        findings.append(
            dlviz.Finding(
                "problem",
                f"Dead layers: the gradient of {_names(layers, dead)} is exactly zero{since(first)}.",
                DEAD_ADVICE,
                layer=_first_named(layers, dead),
                step=at(first),
                headline_zh=f"死亡层 (dead layers)：{_names(layers, dead)} 的梯度恰好为零{since_zh(first)}。",
                advice_zh=DEAD_ADVICE_ZH,
            )
        )

    reference = rms[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = finite & finite[-1] & (rms > 0) & (reference > 0)
        gap = np.where(usable, np.log10(reference / rms), np.nan)
    vanishing = {
        layer: index
        for layer, index in started(usable & (gap >= params.vanishing_decades), params.persist).items()
        if layer != layers[-1] and layer not in exploding
    }
    if vanishing:
        first = min(vanishing.values())
        rows = [layers.index(layer) for layer in vanishing]
        deepest = float(np.nanmax(gap[rows]))
        findings.append(
            dlviz.Finding(
                "problem",
                f"Vanishing gradients in {_names(layers, vanishing)}: up to {deepest:.1f} orders of magnitude "
                f"(10^{deepest:.1f}x) smaller than at the output layer ({layers[-1]}){since(first)}.",
                VANISHING_ADVICE,
                layer=layers[rows[int(np.nanargmax(np.nanmax(gap[rows], axis=1)))]],
                step=at(first),
                headline_zh=f"{_names(layers, vanishing)} 出现梯度消失 (vanishing gradients)：比输出层 ({layers[-1]}) "
                f"小多达 {deepest:.1f} 个数量级（10^{deepest:.1f} 倍）{since_zh(first)}。",
                advice_zh=VANISHING_ADVICE_ZH,
            )
        )
    if not findings:
        findings.append(
            dlviz.Finding(
                "ok",
                "Gradients flow: no vanishing, exploding or dead layers found.",
                headline_zh="梯度流动正常：没有发现梯度消失 (vanishing gradients)、梯度爆炸 (exploding gradients) 或死亡层。",
            )
        )
    return findings


def _initial(row: np.ndarray) -> float:
    """A layer's starting norm: the median of its first finite, non-zero records (a tenth of them, at least one)."""
    usable = row[np.isfinite(row) & (row > 0)]
    if not usable.size:
        return np.inf
    return float(np.median(usable[: max(1, len(row) // 10)]))


def _names(layers: list[str], flagged: dict[str, int]) -> str:
    return ", ".join(layer for layer in layers if layer in flagged)


def _first_named(layers: list[str], flagged: dict[str, int]) -> str:
    return next(layer for layer in layers if layer in flagged)


def ratio_findings(run, layers: list[str], steps: np.ndarray) -> list[dlviz.Finding]:
    """Layers whose typical update-to-weight ratio (median over the second half of the run) is far off 1e-3."""
    ratios = run.series("update_ratio")
    typical = {}
    for layer in layers:
        late = ratios.get(layer, np.zeros(0))[len(steps) // 2 :]
        late = late[np.isfinite(late)]
        if late.size:
            typical[layer] = float(np.median(late))
    high = {layer: ratio for layer, ratio in typical.items() if ratio > RATIO_TOO_HIGH}
    low = {layer: ratio for layer, ratio in typical.items() if 0 < ratio < RATIO_TOO_LOW}
    findings = []
    if high:
        findings.append(
            dlviz.Finding(
                "info",
                f"Large updates in {', '.join(high)}: each update changes the weights by up to "
                f"{max(high.values()):.0%} (update/weight ratio; rule of thumb about 1e-3).",
                "The learning rate is probably too high for these layers; try a smaller one.",
                layer=max(high, key=high.get),
                headline_zh=f"{', '.join(high)} 的更新量很大：每次更新使权重改变多达 {max(high.values()):.0%}"
                "（更新/权重比 (update/weight ratio)；经验值约为 1e-3）。",
                advice_zh="对这些层来说学习率 (learning rate) 可能太高了；试试更小的学习率。",
            )
        )
    if low:
        findings.append(
            dlviz.Finding(
                "info",
                f"Weights barely change in {', '.join(low)}: update/weight ratio down to {min(low.values()):.1e} "
                "(rule of thumb about 1e-3).",
                "The learning rate may be too low for these layers, or their gradients vanish.",
                layer=min(low, key=low.get),
                headline_zh=f"{', '.join(low)} 的权重几乎不变：更新/权重比 (update/weight ratio) 低至 {min(low.values()):.1e}"
                "（经验值约为 1e-3）。",
                advice_zh="对这些层来说学习率 (learning rate) 可能太低，或者它们的梯度消失 (vanishing gradients) 了。",
            )
        )
    return findings
