"""The `initialization` lesson: one deep MLP started from Keras' initialisers, measured at step 0 and
trained from the same data, to show vanishing, exploding and symmetric starts."""

from plugins.initialization.plugin import Initialization

__all__ = ["Initialization"]
