"""The loss landscape of a real model (Li et al. 2018), with training trajectories drawn on it."""

from plugins.landscape.plugin import Landscape

__all__ = ["Landscape"]
