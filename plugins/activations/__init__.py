"""The `activations` plugin: what each layer outputs, how that changes while training, and where it goes wrong."""

from plugins.activations.plugin import Activations

__all__ = ["Activations"]
