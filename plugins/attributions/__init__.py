"""The `attributions` plugin: gradient-based attribution maps, their completeness and their sanity check."""

from plugins.attributions.compute import attribute
from plugins.attributions.plugin import Attributions, Params
from plugins.attributions.result import AttributionResult

__all__ = ["AttributionResult", "Attributions", "Params", "attribute"]
