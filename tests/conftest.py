"""Shared test configuration."""

import pytest

# Plugins whose compute trains models of its own: a test run once per plugin is slow for these.
TRAINING_PLUGINS = frozenset(
    {
        "imbalance",
        "regularization",
        "playground",
        "optimizers",
        "backprop",
        "recurrent",
        "initialization",
        "lr_finder",
        "minibatch",
        "normalization",
        "augmentation",
        "generative",
    }
)


def pytest_collection_modifyitems(config, items):
    """Mark the per-plugin cases of training plugins `slow`; skip `gpu` tests where TensorFlow sees no GPU."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("name") in TRAINING_PLUGINS:
            item.add_marker(pytest.mark.slow)
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    from dlviz import device

    if device.has_gpu():
        return
    skip = pytest.mark.skip(reason=f"needs a GPU; TensorFlow computes on: {device.describe()}")
    for item in gpu_tests:
        item.add_marker(skip)
