"""The `loss_functions` lesson: Keras' losses and their gradients against the prediction, and why
cross-entropy trains a sigmoid output faster than mean squared error."""

from plugins.loss_functions.plugin import LossFunctions

__all__ = ["LossFunctions"]
