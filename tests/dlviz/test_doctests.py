"""The `>>>` examples in the core's docstrings run."""

import doctest
import importlib
import pkgutil

import pytest

import dlviz

MODULES = sorted(
    name
    for _, name, _ in pkgutil.iter_modules(dlviz.__path__, "dlviz.")
    if name not in ("dlviz.__main__",)
)


@pytest.mark.parametrize("name", ["dlviz", *MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
