"""The `model_graph` plugin: the model as a layered graph of its layers, coloured by a recorded statistic."""

from plugins.model_graph.plugin import ModelGraph

__all__ = ["ModelGraph"]
