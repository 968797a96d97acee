"""The class-imbalance workbench (plugin `imbalance`): see `plugins.imbalance.plugin.Imbalance`."""

from plugins.imbalance.plugin import Imbalance

__all__ = ["Imbalance"]
