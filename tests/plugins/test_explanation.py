"""`Explanation`, the one result type of every attribution method: its example runs, bad shapes are refused."""

import doctest

import numpy as np
import pytest

import plugins._shared.explanation as explanation_module
from plugins._shared.explanation import Explanation


def make(**changes):
    fields = {
        "method": "saliency",
        "params": (),
        "values": np.zeros((3, 2)),
        "base_values": None,
        "outputs": np.ones(3),
        "targets": np.array([0, 1, 0]),
        "score": "logit",
        "inputs": np.zeros((3, 2)),
        "feature_names": ("a", "b"),
    }
    return Explanation(**{**fields, **changes})


def test_docstring_example_runs():
    failures, _ = doctest.testmod(explanation_module)
    assert failures == 0


def test_shapes_are_checked():
    make()
    with pytest.raises(ValueError, match="one column per feature"):
        make(feature_names=("a",))
    with pytest.raises(ValueError, match="one row per explained sample"):
        make(values=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="base_values"):
        make(base_values=np.zeros(2))
    with pytest.raises(ValueError, match="inputs"):
        make(inputs=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="score"):
        make(score="odds")


def test_no_base_value_no_additivity():
    with pytest.raises(ValueError, match="no base value"):
        make().additivity_gap()
    np.testing.assert_allclose(make(base_values=np.ones(3)).additivity_gap(), np.zeros(3))
