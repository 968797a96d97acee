"""Widgets generated from parameter declarations: the mapping rules, without a browser."""

from __future__ import annotations

import pytest

from apps import widgets
from dlviz.errors import ParamsError
from dlviz.plugin import ParamSpec


def spec(default, **kw):
    fields = dict(name="p", default=default, label="P", label_zh="", help="", help_zh="", min=None, max=None,
                  step=None, choices=None, multiple=False, log=False)
    fields.update(kw)
    return ParamSpec(**fields)


def test_log_grid_spans_decades_in_nice_steps_and_keeps_the_default():
    grid = widgets.log_grid(1e-4, 1.0, 3e-3)
    assert grid[0] == 1e-4 and grid[-1] == 1.0 and 3e-3 in grid
    assert {1e-3, 2e-3, 5e-3} <= set(grid) and grid == sorted(grid)


def test_tuples_of_numbers_are_edited_as_text_and_parsed_back():
    sizes = spec((32, 16))
    assert widgets.raw_default(sizes) == "32, 16"
    assert widgets.value_of(sizes, "8; 4, 2") == (8, 4, 2)
    with pytest.raises(ParamsError, match="comma-separated"):
        widgets.value_of(sizes, "eight")


def test_multiple_choices_and_int_values_keep_their_types():
    assert widgets.raw_default(spec(("a",), choices=("a", "b"), multiple=True)) == ["a"]
    assert widgets.value_of(spec(("a",), choices=("a", "b"), multiple=True), ["b", "a"]) == ("b", "a")
    assert widgets.value_of(spec(3, min=1, max=9), 4.0) == 4 and isinstance(widgets.value_of(spec(3), 4.0), int)


def test_declarations_from_plain_dicts_become_specs():
    made = widgets.spec_from_dict("noise", {"default": 0.1, "min": 0.0, "max": 0.5, "step": 0.01, "help": "h"})
    assert (made.label, made.min, made.max, made.step, made.help) == ("Noise", 0.0, 0.5, 0.01, "h")
