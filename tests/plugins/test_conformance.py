"""Every registered plugin, built-in or installed, keeps the plugin contract."""

import doctest
import importlib

import pytest

import dlviz
from dlviz.testing import check_plugin

PLUGINS = dlviz.plugins()


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugin_loads_and_conforms(name):
    info = PLUGINS[name]
    assert info.plugin is not None, f"{name} failed to load: {info.error}\n{info.traceback}"
    check_plugin(info.plugin)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugin_docstring_examples_run(name):
    module = importlib.import_module(PLUGINS[name].plugin.__module__)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
