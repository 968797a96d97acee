"""The backpropagation lesson (plugin `backprop`): see `plugins.backprop.plugin.Backprop`."""

from plugins.backprop.plugin import Backprop

__all__ = ["Backprop"]
