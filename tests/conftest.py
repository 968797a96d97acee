"""Shared test configuration."""

import pytest


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `gpu` on a machine where TensorFlow sees no GPU."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    from dlviz import device

    if device.has_gpu():
        return
    skip = pytest.mark.skip(reason=f"needs a GPU; TensorFlow computes on: {device.describe()}")
    for item in gpu_tests:
        item.add_marker(skip)
