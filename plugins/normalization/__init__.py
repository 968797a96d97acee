"""The `normalization` lesson: the same model trained on raw, standardised and min-max scaled features and
with normalisation layers, to show why unscaled inputs slow gradient descent."""

from plugins.normalization.plugin import Normalization

__all__ = ["Normalization"]
