"""The `augmentation` lesson: Keras' preprocessing layers applied to images, shown as images, and their
effect on overfitting of a CNN trained on a small subset."""

from plugins.augmentation.plugin import Augmentation

__all__ = ["Augmentation"]
