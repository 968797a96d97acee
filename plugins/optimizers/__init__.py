"""The optimizer race (plugin `optimizers`): see `plugins.optimizers.plugin.Optimizers`."""

from plugins.optimizers.plugin import Optimizers

__all__ = ["Optimizers"]
