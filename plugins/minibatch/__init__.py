"""The `minibatch` lesson: full-batch gradient descent, mini-batch SGD and single-sample SGD on the same
model and data from the same initial weights, with the measured noise of the gradient estimate."""

from plugins.minibatch.plugin import Minibatch

__all__ = ["Minibatch"]
