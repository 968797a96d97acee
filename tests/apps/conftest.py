"""Fixtures of the dashboard's AppTest tests (helpers live in dashboard_helpers.py)."""

from __future__ import annotations

import pytest

import dlviz
from dlviz.registry import unregister


@pytest.fixture
def registered():
    """Register plugin classes for one test; they are removed afterwards."""
    names = []

    def register(cls):
        dlviz.register(cls, replace=True)
        names.append(cls.name)
        return cls

    yield register
    for name in names:
        unregister(name)
