"""The notes and formulas of the `evaluation` page, in English and Chinese."""

from __future__ import annotations

import dlviz
from plugins._shared.snapshots import SNAPSHOTS_NOT_SHOWN

SPLIT_NAMES = {"test": ("test", "测试集"), "train": ("training", "训练集")}

CLASSIFICATION_FORMULAS = (
    dlviz.Formula("Precision", "精确率 (precision)", r"\mathrm{precision} = \frac{TP}{TP + FP}"),
    dlviz.Formula("Recall", "召回率 (recall)", r"\mathrm{recall} = \frac{TP}{TP + FN}"),
    dlviz.Formula(
        "F1 score",
        "F1 分数",
        r"F_1 = 2\,\frac{\mathrm{precision} \cdot \mathrm{recall}}{\mathrm{precision} + \mathrm{recall}}",
    ),
    dlviz.Formula(
        "Expected calibration error",
        "期望校准误差 (ECE)",
        r"\mathrm{ECE} = \sum_b \frac{n_b}{n}\,\left|\mathrm{acc}(b) - \mathrm{conf}(b)\right|",
    ),
)

REGRESSION_FORMULAS = (
    dlviz.Formula(
        "Mean absolute error", "平均绝对误差 (MAE)", r"\mathrm{MAE} = \frac{1}{n}\sum_i |y_i - \hat y_i|"
    ),
    dlviz.Formula(
        "Root mean squared error",
        "均方根误差 (RMSE)",
        r"\mathrm{RMSE} = \sqrt{\frac{1}{n}\sum_i (y_i - \hat y_i)^2}",
    ),
    dlviz.Formula(
        "Coefficient of determination",
        "决定系数 (R²)",
        r"R^2 = 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2}",
    ),
)


def _evaluated_on(split: str, n_samples: int) -> dlviz.Note:
    english, chinese = SPLIT_NAMES[split]
    return dlviz.Note(
        f"Evaluated on {n_samples} {english} samples, every score with scikit-learn's metrics.",
        f"在 {n_samples} 个{chinese}样本上评估，所有分数均由 scikit-learn 的指标函数计算。",
    )


def classification_page(split: str, n_samples: int, snapshots_missing: bool) -> dlviz.Page:
    """Notes (what was evaluated; snapshots not shown) and the formulas of the classification scores."""
    notes = (_evaluated_on(split, n_samples), *((SNAPSHOTS_NOT_SHOWN,) if snapshots_missing else ()))
    return dlviz.Page(notes=notes, formulas=CLASSIFICATION_FORMULAS)


def regression_page(split: str, n_samples: int, snapshots_missing: bool) -> dlviz.Page:
    """Notes and the formulas of MAE, RMSE and R²."""
    notes = (_evaluated_on(split, n_samples), *((SNAPSHOTS_NOT_SHOWN,) if snapshots_missing else ()))
    return dlviz.Page(notes=notes, formulas=REGRESSION_FORMULAS)
