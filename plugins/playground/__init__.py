"""The `playground` lesson: TensorFlow Playground on a real Keras model, any Keras optimizer included."""

from plugins.playground.plugin import Playground

__all__ = ["Playground"]
