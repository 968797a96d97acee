"""The `regularization` lesson: one over-parameterised MLP on a few noisy samples, trained six ways from
the same initial weights, to show overfitting and what each regularizer does against it."""

from plugins.regularization.plugin import Regularization

__all__ = ["Regularization"]
