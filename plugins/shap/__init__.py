"""The `shap` plugin: SHAP values from the shap package's explainers, drawn as Plotly figures.

The package shares its name with the shap library it calls: imports are absolute, so `import shap`
inside it is the library (see `plugins.shap.explainers.load_shap`).
"""

from plugins.shap.compute import shap_values
from plugins.shap.plugin import Params, Shap
from plugins.shap.result import ShapResult

__all__ = ["Params", "Shap", "ShapResult", "shap_values"]
