"""The diagnosis of the `activations` plugin: dying ReLU and saturated layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import dlviz
from plugins._shared.records import onset
from plugins.activations.compute import watched_layers
from plugins.activations.result import ProbeHealth
from plugins.activations.views import has_run_records

if TYPE_CHECKING:
    from plugins.activations.plugin import Params

DYING_ADVICE = (
    "A dead ReLU unit outputs zero for every input, so it also passes no gradient back and never recovers. "
    "Use Leaky ReLU (keras.layers.LeakyReLU) or ELU, lower the learning rate, use He initialisation "
    "(kernel_initializer='he_normal'), and standardise the inputs."
)
SATURATION_ADVICE = (
    "Saturated units sit on the flat tails of their activation function, where the slope is almost zero, so "
    "little gradient flows back through them (vanishing gradients). Use ReLU in the hidden layers, standardise "
    "the inputs, use Glorot/Xavier initialisation, add batch normalisation, or lower the learning rate."
)
DYING_ADVICE_ZH = (
    "死亡的 ReLU 单元 (dying ReLU) 对任何输入都输出零，因此也不向后传递梯度，再也无法恢复。"
    "改用 Leaky ReLU（keras.layers.LeakyReLU）或 ELU，降低学习率 (learning rate)，使用 He 初始化 (He initialization)"
    "（kernel_initializer='he_normal'），并标准化输入。"
)
SATURATION_ADVICE_ZH = (
    "饱和 (saturation) 的单元处在激活函数平坦的尾部，那里的斜率几乎为零，所以几乎没有梯度能向后穿过它们"
    "（梯度消失 (vanishing gradients)）。隐藏层改用 ReLU，标准化输入，使用 Glorot/Xavier 初始化，"
    "加入批归一化 (batch normalization)，或降低学习率 (learning rate)。"
)


def diagnose_layers(run, health: ProbeHealth | None, params: Params) -> list[dlviz.Finding]:
    """Dying ReLU and saturated layers, from the run's records and the probe batch, one finding per layer."""
    dying: dict[str, dict] = {}
    saturated: dict[str, dict] = {}
    if has_run_records(run):
        steps, activations = run.record_steps, run.layer_activations
        relu, watched = watched_layers(activations, run.layers)
        for layer, row in run.series("act_zero_frac").items():
            start = onset(row >= params.zero_fraction, params.persist) if layer in relu else None
            if start is not None:
                dying[layer] = {"step": int(steps[start]), "zeros": float(np.nanmax(row[start:]))}
        for layer, row in run.series("act_sat_frac").items():
            start = onset(row >= params.saturation, params.persist) if layer in watched else None
            if start is not None:
                saturated[layer] = {
                    "step": int(steps[start]),
                    "share": float(np.nanmax(row[start:])),
                    "activation": activations[layer],
                }
    if health is not None:
        for layer, dead, units in zip(health.dead_layers, health.dead_units, health.units, strict=True):
            if dead / units >= params.dead_units:
                dying.setdefault(layer, {}).update(dead=dead, units=units)
        for layer, activation, share in zip(
            health.saturating_layers, health.saturating_activations, health.saturated, strict=True
        ):
            if share >= params.saturation:
                saturated.setdefault(layer, {"activation": activation, "share": share})

    order = list(health.layers) if health is not None else list(run.layers)
    position = {layer: i for i, layer in enumerate(order)}
    findings = []
    for layer in sorted(dying, key=lambda name: position.get(name, len(position))):
        facts = dying[layer]
        parts, parts_zh = [], []
        if "dead" in facts:
            parts.append(f"{facts['dead']} of {facts['units']} units never fire on the probe batch")
            parts_zh.append(
                f"{facts['units']} 个单元中有 {facts['dead']} 个在探针批次 (probe batch) 上从不激活"
            )
        if "zeros" in facts:
            parts.append(f"{facts['zeros']:.0%} of its outputs are zero, from step {facts['step']} on")
            parts_zh.append(f"从第 {facts['step']} 步起，{facts['zeros']:.0%} 的输出为零")
        # A layer that is entirely dead blocks every gradient below it: no longer a warning.
        whole = facts.get("dead", 0) == facts.get("units", -1) or facts.get("zeros", 0.0) >= 1.0
        findings.append(
            dlviz.Finding(
                "problem" if whole else "warning",
                f"Dying ReLU in {layer}: " + "; ".join(parts) + ".",
                DYING_ADVICE,
                layer=layer,
                step=facts.get("step"),
                headline_zh=f"{layer} 出现死亡 ReLU (dying ReLU)：" + "；".join(parts_zh) + "。",
                advice_zh=DYING_ADVICE_ZH,
            )
        )
    for layer in sorted(saturated, key=lambda name: position.get(name, len(position))):
        facts = saturated[layer]
        since = f", from step {facts['step']} on" if "step" in facts else " on the probe batch"
        since_zh = f"从第 {facts['step']} 步起，" if "step" in facts else "在探针批次 (probe batch) 上，"
        findings.append(
            dlviz.Finding(
                "warning",
                f"Saturated {facts['activation']} in {layer}: {facts['share']:.0%} of its outputs sit in the "
                f"flat tails{since}.",
                SATURATION_ADVICE,
                layer=layer,
                step=facts.get("step"),
                headline_zh=f"{layer} 中的 {facts['activation']} 饱和 (saturation)：{since_zh}"
                f"{facts['share']:.0%} 的输出落在平坦的尾部。",
                advice_zh=SATURATION_ADVICE_ZH,
            )
        )
    if not findings:
        findings.append(
            dlviz.Finding(
                "ok",
                "Activations look alive: no dying ReLU or saturated layer found.",
                headline_zh="激活值看起来正常：没有发现死亡 ReLU (dying ReLU) 或饱和 (saturation) 的层。",
            )
        )
    return findings
