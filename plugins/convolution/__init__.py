"""The `convolution` lesson: a 2-D convolution of a digit step by step (products, sums, the growing feature map,
the output-size formula), max and average pooling, Flatten, and a real CNN's first filters, their responses and
a unit's receptive field checked against its gradient."""

from plugins.convolution.plugin import Convolution

__all__ = ["Convolution"]
