"""The `compare_runs` plugin: several runs' curves overlaid, their settings side by side (an HParams table)."""

from plugins.compare_runs.plugin import CompareRuns

__all__ = ["CompareRuns"]
