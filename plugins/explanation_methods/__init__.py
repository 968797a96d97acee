"""The `explanation_methods` lesson: LIME beside SHAP and Integrated Gradients on the same samples, class
and model, and how far the three agree (Spearman rank correlation of their feature importances).

SHAP values and Integrated Gradients come from the `shap` and `attributions` plugins' compute functions,
called with their typed Params (the same explained test samples and classes); only LIME is computed here,
with the `lime` package's own explainers (imported when needed).
"""

from plugins.explanation_methods.plugin import ExplanationMethods

__all__ = ["ExplanationMethods"]
