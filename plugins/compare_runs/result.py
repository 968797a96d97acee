"""The result of the `compare_runs` plugin: each run's curves, settings and final metrics."""

from __future__ import annotations

import dataclasses

import numpy as np

from dlviz.plugin import tr

# The settings a run's metadata can tell, in table order: key -> (English, Chinese) column name.
SETTING_NAMES = {
    "model": ("model", "模型"),
    "parameters": ("parameters", "参数数量"),
    "layers": ("layers", "层数"),
    "activation": ("activation", "激活函数"),
    "optimizer": ("optimizer", "优化器"),
    "learning_rate": ("learning rate", "学习率"),
    "momentum": ("momentum", "动量"),
    "nesterov": ("Nesterov", "Nesterov"),
    "beta_1": ("beta_1", "beta_1"),
    "beta_2": ("beta_2", "beta_2"),
    "rho": ("rho", "rho"),
    "weight_decay": ("weight decay", "权重衰减"),
    "clipnorm": ("clip norm", "梯度裁剪 (范数)"),
    "clipvalue": ("clip value", "梯度裁剪 (数值)"),
    "global_clipnorm": ("global clip norm", "全局梯度裁剪"),
    "loss": ("loss", "损失函数"),
    "dataset": ("dataset", "数据集"),
    "dropout": ("dropout", "dropout 比例"),
    "l1": ("L1", "L1 正则化"),
    "l2": ("L2", "L2 正则化"),
    "batch_norm": ("batch-norm layers", "批归一化层数"),
    "epochs": ("epochs", "训练轮数 (epochs)"),
    "steps": ("steps", "训练步数"),
}


def setting_name(key: str, language: str) -> str:
    """A setting's column name in `language` (a metric's own name when it is no known setting)."""
    english, chinese = SETTING_NAMES.get(key, (key, key))
    return tr(language, english, chinese)


@dataclasses.dataclass(frozen=True)
class Curve:
    """One metric of one run over training: x is the epoch (1-based) or the global step."""

    metric: str
    x: np.ndarray
    values: np.ndarray


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What the comparison shows of one run."""

    label: str
    label_zh: str
    curves: tuple[Curve, ...]
    settings: dict  # setting key -> str, float, int or bool (None when the run does not tell)
    final: dict  # metric -> its value at the last epoch

    def text(self, language: str) -> str:
        return tr(language, self.label, self.label_zh)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Runs in the order they were given, the metric that ranks them and the settings that differ."""

    runs: tuple[RunSummary, ...]
    x_axis: str  # "epoch" or "step"
    rank_metric: str
    lower_is_better: bool
    setting_keys: tuple[str, ...]  # settings at least one run tells, in SETTING_NAMES order
    differing: tuple[str, ...]  # those whose values are not all equal
    only_differing: bool

    @property
    def ranking(self) -> tuple[int, ...]:
        """Indices of `runs`, best final `rank_metric` first (runs without it last)."""

        def key(index: int) -> tuple[bool, float]:
            value = self.runs[index].final.get(self.rank_metric, np.nan)
            missing = not np.isfinite(value)
            return missing, (value if self.lower_is_better else -value) if not missing else 0.0

        return tuple(sorted(range(len(self.runs)), key=key))

    @property
    def shown_keys(self) -> tuple[str, ...]:
        return self.differing if self.only_differing and self.differing else self.setting_keys
