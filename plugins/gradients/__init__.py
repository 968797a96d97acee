"""The `gradients` plugin: per-layer gradient flow over training, its diagnosis, and saliency maps."""

from plugins.gradients.plugin import Gradients

__all__ = ["Gradients"]
