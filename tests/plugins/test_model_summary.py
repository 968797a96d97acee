"""The model_summary plugin: the table and bars show the handle's layers; the table fits its rows."""

from __future__ import annotations

import keras

import dlviz
from plugins.model_summary import MAX_TABLE_ROWS, ROW_HEIGHT


def _mlp(hidden_layers: int) -> keras.Model:
    layers = [keras.layers.Dense(3, activation="tanh") for _ in range(hidden_layers)]
    return keras.Sequential([keras.Input((4,)), *layers, keras.layers.Dense(2, activation="softmax")])


def test_table_and_bars_show_every_layer_with_its_parameters():
    model = _mlp(2)
    table, bars = dlviz.figures("model_summary", model=model)
    names, kinds, shapes, params, activations = table.data[0].cells.values
    assert names == [layer.name for layer in model.layers]
    assert kinds == ["Dense"] * 3
    assert params == [f"{layer.count_params():,}" for layer in model.layers]
    assert activations == ["tanh", "tanh", "softmax"]
    assert list(bars.data[0].y) == [layer.count_params() for layer in model.layers]
    assert f"({model.count_params():,} parameters)" in table.layout.title.text


def test_table_is_as_tall_as_its_rows_and_scrolls_past_the_limit():
    short = dlviz.figures("model_summary", model=_mlp(2))[0]
    long = dlviz.figures("model_summary", model=_mlp(MAX_TABLE_ROWS + 5))[0]
    assert short.layout.height == 70 + ROW_HEIGHT * 4  # header + 3 layers
    assert long.layout.height == 70 + ROW_HEIGHT * MAX_TABLE_ROWS
    assert len(long.data[0].cells.values[0]) == MAX_TABLE_ROWS + 6  # every layer is still in the table
