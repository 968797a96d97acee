"""model_graph: every connection of residual, nested and subclassed models; statistics from a run."""

import keras
import numpy as np
import pytest

import dlviz
from dlviz.plugin import make_params
from dlviz.registry import make_context, run_plugin
from plugins.model_graph import ModelGraph
from plugins.model_graph.layout import layered_layout


def named_edges(result):
    return {(result.nodes[a].name, result.nodes[b].name) for a, b in result.edges}


@pytest.fixture(scope="module")
def residual():
    """A residual block, then a nested Sequential, trained for a few steps with a Recorder."""
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(6, activation="relu", name="d1")(inputs)
    branch = keras.layers.Dense(6, activation="relu", name="d2")(hidden)
    added = keras.layers.Add(name="add")([hidden, branch])
    block = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, name="i1"), keras.layers.Dense(4, name="i2")], name="block"
    )
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(block(added)))
    model.compile("adam", "binary_crossentropy")
    x = np.random.default_rng(0).random((48, 6)).astype("float32")
    y = (x[:, 0] > 0.5).astype("float32")
    recorder = dlviz.Recorder(every=2, probe=(x[:16], y[:16]))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[recorder])
    return make_context(model=model, run=recorder.run)


def test_residual_and_nested_connections(residual):
    result = run_plugin(ModelGraph(), residual)
    assert named_edges(result) == {
        ("input", "d1"),
        ("d1", "d2"),
        ("d1", "add"),
        ("d2", "add"),
        ("add", "i1"),
        ("i1", "i2"),
        ("i2", "out"),
        ("out", "output"),
    }
    collapsed = run_plugin(ModelGraph(), residual, make_params(ModelGraph.Params, {"collapse_nested": True}))
    assert ("add", "block") in named_edges(collapsed) and ("block", "out") in named_edges(collapsed)
    (block,) = [node for node in collapsed.nodes if node.name == "block"]
    assert block.members == ("i1", "i2") and block.params == 6 * 4 + 4 + 4 * 4 + 4


def test_nodes_are_coloured_by_the_recorded_statistic(residual):
    result = run_plugin(ModelGraph(), residual, make_params(ModelGraph.Params, {"statistic": "grad_norm"}))
    norms = residual.run.series("grad_norm")
    names = [node.name for node in result.nodes]
    assert result.statistic == "grad_norm" and len(result.steps) == len(residual.run.record_steps)
    np.testing.assert_allclose(result.values[names.index("d2")], norms["d2"], rtol=1e-6)
    assert np.isnan(result.values[names.index("add")]).all()  # no weights, no gradient
    collapsed = run_plugin(
        ModelGraph(), residual, make_params(ModelGraph.Params, {"collapse_nested": True, "max_steps": 2})
    )
    block = [node.name for node in collapsed.nodes].index("block")
    expected = np.hypot(norms["i1"], norms["i2"])[[0, -1]]  # the norm over all of the block's weights
    np.testing.assert_allclose(collapsed.values[block], expected, rtol=1e-5)

    figure = ModelGraph().figures(result, "zh")[0]
    edges, plain, coloured = figure.data
    assert len(figure.layout.sliders[0].steps) == len(result.steps)
    assert list(coloured.customdata) == pytest.approx(
        list(result.values[~np.isnan(result.values[:, -1]), -1])
    )
    assert "梯度范数" in figure.layout.title.text and len(plain.x) + len(coloured.x) == len(result.nodes)


def test_without_a_run_nodes_show_parameters_and_say_why():
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="a"), keras.layers.Dense(1, name="b")]
    )
    result = run_plugin(ModelGraph(), make_context(model=model, language="zh"))
    assert result.statistic == "params" and "没有训练记录" in result.page.notes[0]("zh")
    assert named_edges(result) == {("input", "a"), ("a", "b"), ("b", "output")}


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.first = keras.layers.Dense(4, name="first")
        self.second = keras.layers.Dense(4, name="second")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        hidden = self.first(x)
        return self.head(hidden + self.second(hidden))  # a raw add between layers


def test_subclassed_connections_are_traced_through_raw_ops():
    model = Subclassed()
    model(np.zeros((1, 3), "float32"))
    result = run_plugin(ModelGraph(), make_context(model=model))
    assert named_edges(result) == {
        ("input", "first"),
        ("first", "second"),
        ("first", "head"),
        ("second", "head"),
        ("head", "output"),
    }


def test_long_edges_bend_beside_the_chain_they_skip():
    layout = layered_layout(5, [(0, 1), (1, 2), (2, 3), (0, 3), (3, 4)])
    assert list(layout.y) == [0, -1, -2, -3, -4]
    skip = layout.edge_paths[3]
    assert len(skip) == 4 and set(skip[1:3, 0]).isdisjoint({layout.x[1], layout.x[2]})


@pytest.mark.slow
def test_mobilenet_v2_stays_readable():
    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None)
    result = run_plugin(ModelGraph(), make_context(model=model))
    assert len(result.nodes) == len(model.layers) + 1  # its InputLayer is our input node, plus the output
    adds = [index for index, node in enumerate(result.nodes) if node.kind == "Add"]
    assert len(adds) == 10 and all(sum(b == add for _, b in result.edges) == 2 for add in adds)
    assert result.width <= 3
    figure = ModelGraph().figures(result, "en")[0]
    labelled = [text for trace in figure.data[1:] for text in trace.text if text]
    assert len(labelled) == len(result.nodes)  # a narrow layout leaves room for every name


def test_a_recurrent_layer_is_one_node_as_in_the_handle():
    model = keras.Sequential(
        [keras.Input((5, 3)), keras.layers.LSTM(4, name="lstm"), keras.layers.Dense(2, name="out")]
    )
    result = run_plugin(ModelGraph(), make_context(model=model))
    assert named_edges(result) == {("input", "lstm"), ("lstm", "out"), ("out", "output")}


def test_each_input_of_a_model_is_a_node():
    image, extra = keras.Input((4,), name="image"), keras.Input((2,), name="extra")
    joined = keras.layers.Concatenate(name="join")([keras.layers.Dense(3, name="encode")(image), extra])
    model = keras.Model([image, extra], keras.layers.Dense(1, name="head")(joined))
    result = run_plugin(ModelGraph(), make_context(model=model))
    assert named_edges(result) == {
        ("image", "encode"),
        ("encode", "join"),
        ("extra", "join"),
        ("join", "head"),
        ("head", "output"),
    }
