"""The `activation_functions` lesson: Keras' activation functions, their derivatives by automatic
differentiation, why a deep stack of sigmoids loses its gradient (vanishing gradients), softmax with a
temperature and its Jacobian, and a trained PReLU's learned slopes."""

from plugins.activation_functions.plugin import ActivationFunctions

__all__ = ["ActivationFunctions"]
