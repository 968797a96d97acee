"""The `evaluation` plugin: classification and regression scores, confident mistakes, scores over a run."""

from plugins.evaluation.compute import evaluate, in_target_units
from plugins.evaluation.metrics import class_scores
from plugins.evaluation.plugin import Evaluation, Params
from plugins.evaluation.result import ClassificationResult, RegressionResult

__all__ = [
    "ClassificationResult",
    "Evaluation",
    "Params",
    "RegressionResult",
    "class_scores",
    "evaluate",
    "in_target_units",
]
