"""The `lr_finder` plugin: the learning-rate range test (Smith 2017) on a copy of the model."""

from plugins.lr_finder.plugin import LRFinder

__all__ = ["LRFinder"]
