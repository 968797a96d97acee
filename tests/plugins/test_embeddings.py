"""The `embeddings` plugin (the projector): projections against scikit-learn on the layer's own activations,
the snapshot alignment, colourings, hover texts and the slider."""

import dataclasses
import pickle
import re

import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA

import dlviz
from dlviz import datasets, models
from dlviz.errors import ParamsError
from dlviz.plugin import make_params
from dlviz.registry import make_context, run_plugin
from plugins._shared.snapshots import SnapshotModel, snapshot_indices
from plugins.embeddings import EmbeddingResult, Embeddings
from plugins.embeddings.compute import align, default_layer

PLUGIN = Embeddings()


def projected(ctx, **values):
    return run_plugin(PLUGIN, ctx, make_params(Embeddings.Params, values))


@pytest.fixture(scope="module")
def image_result(image):
    return projected(image, max_snapshots=4)


def test_pca_projection_is_scikit_learns_on_the_layers_activations(image, image_result):
    layer = default_layer(image.model)
    assert image_result.layer == layer == image.model.layers[-2].name
    activations = image.model.activations(image.dataset.x_test, layers=[layer])[layer]
    expected = PCA(n_components=2, random_state=0).fit(activations.reshape(len(activations), -1))
    np.testing.assert_allclose(
        image_result.coordinates, expected.transform(activations.reshape(len(activations), -1)), atol=1e-4
    )
    np.testing.assert_allclose(image_result.explained_variance, expected.explained_variance_ratio_, rtol=1e-5)
    assert isinstance(pickle.loads(pickle.dumps(image_result)), EmbeddingResult)


def test_snapshots_share_the_pca_of_the_last_snapshot(image, image_result):
    snapshots = image_result.snapshots
    run = image.run
    indices = snapshot_indices(len(run.snapshot_steps), 4)
    np.testing.assert_array_equal(snapshots.steps, run.snapshot_steps[indices])
    replay = SnapshotModel(image.model, run)
    layer = image_result.layer
    last = replay.load(int(indices[-1])).activations(image.dataset.x_test, layers=[layer])[layer]
    first = replay.load(int(indices[0])).activations(image.dataset.x_test, layers=[layer])[layer]
    pca = PCA(n_components=2, random_state=0).fit(last.reshape(len(last), -1))
    assert snapshots.alignment == "pca"
    np.testing.assert_allclose(
        snapshots.coordinates[0], pca.transform(first.reshape(len(first), -1)), atol=1e-4
    )
    np.testing.assert_allclose(
        snapshots.coordinates[-1], pca.transform(last.reshape(len(last), -1)), atol=1e-4
    )


def test_procrustes_undoes_a_rotation_reflection_scale_and_shift():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50, 2))
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1, -1])
    moved = 3.0 * reference @ rotation + np.array([5.0, -2.0])
    np.testing.assert_allclose(align(moved, reference), reference, atol=1e-10)


def test_classes_are_legend_entries_and_hover_names_them_in_chinese(image, image_result):
    figure, over_run = PLUGIN.figures(image_result, "zh")
    present = np.unique(image.dataset.y_test)
    assert [trace.name for trace in figure.data] == [image.dataset.class_label(int(c), "zh") for c in present]
    assert sum(len(trace.x) for trace in figure.data) == len(image.dataset.x_test)
    assert "真实" in figure.data[0].hovertemplate and "sample" not in figure.data[0].hovertemplate
    assert all(row[1] == figure.data[0].name for row in figure.data[0].customdata)
    assert "图像 8×8×1" in figure.data[0].customdata[0][4]
    # the slider: a frame per snapshot, each moving the same groups of points
    assert len(over_run.frames) == len(image_result.snapshots.steps)
    assert len(over_run.frames[0].data) == len(figure.data)
    np.testing.assert_allclose(over_run.frames[-1].data[0].x, over_run.data[0].x)
    assert over_run.layout.sliders[0].currentvalue.prefix == "步数 "


def test_correctness_and_feature_colourings(tabular):
    right_wrong = projected(tabular, colour_by="correctness", snapshots=False)
    predicted = tabular.model.predict(tabular.dataset.x_test)[:, 0] > 0.5
    np.testing.assert_array_equal(right_wrong.colour_values, predicted == tabular.dataset.y_test)
    names = [trace.name for trace in PLUGIN.figures(right_wrong, "zh")[0].data]
    assert set(names) <= {"正确", "错误"}

    feature = tabular.dataset.feature_names[3]
    coloured = projected(tabular, colour_by="feature", feature=feature, snapshots=False, dimensions=3)
    (trace,) = PLUGIN.figures(coloured)[0].data
    assert trace.type == "scatter3d" and len(trace.x) == len(tabular.dataset.x_test)
    original = tabular.dataset.scaler.inverse_transform(tabular.dataset.x_test)[:, 3]
    np.testing.assert_allclose(trace.marker.color, original, rtol=1e-4)
    assert trace.marker.colorbar.title.text == feature
    assert f"{tabular.dataset.feature_names[0]} = " in trace.customdata[0][4]


def test_bad_layer_feature_or_width_are_refused_with_the_fix(tabular):
    with pytest.raises(ParamsError, match="use one of"):
        projected(tabular, layer="no_such_layer", snapshots=False)
    with pytest.raises(ParamsError, match="no feature"):
        projected(tabular, colour_by="feature", feature="height", snapshots=False)
    output_layer = tabular.model.layers[-1].name  # one sigmoid unit: nothing to project to 2-D
    with pytest.raises(ParamsError, match="too few"):
        projected(tabular, layer=output_layer, snapshots=False)


def test_regression_points_are_coloured_by_the_target_in_its_units():
    dataset = datasets.load("curve")
    model = models.build("mlp", dataset, hidden=(8,), seed=0)
    result = projected(make_context(model=model, dataset=dataset), snapshots=False)
    assert result.regression and not result.categorical
    np.testing.assert_allclose(
        result.colour_values, dataset.in_target_units(dataset.y_test).reshape(-1), rtol=1e-5
    )
    (trace,) = PLUGIN.figures(result, "zh")[0].data
    assert "目标值" in trace.hovertemplate and trace.marker.colorbar.title.text == "目标值"


@pytest.mark.slow
def test_tsne_snapshots_are_aligned_onto_the_last(tabular):
    small = dataclasses.replace(
        tabular.dataset, x_test=tabular.dataset.x_test[:60], y_test=tabular.dataset.y_test[:60]
    )
    result = projected(dataclasses.replace(tabular, dataset=small), method="tsne", max_snapshots=3)
    snapshots = result.snapshots
    assert snapshots.alignment == "procrustes" and snapshots.coordinates.shape == (3, 60, 2)
    assert "t-SNE" in result.page.notes[0].text
    titles = [figure.layout.title.text for figure in PLUGIN.figures(result)]
    assert "Procrustes" in titles[1]


def test_progress_messages_follow_the_language(tabular):
    messages = []
    ctx = dataclasses.replace(
        tabular, language="zh", progress=lambda fraction, message: messages.append(message)
    )
    projected(ctx, max_snapshots=2)
    assert messages and all(re.search(r"[\u4e00-\u9fff]", message) for message in messages)


@pytest.mark.parametrize("name", ["evaluation", "embeddings"])
def test_several_outputs_are_refused_with_their_names(name):
    dataset = datasets.load("iris", seed=0)
    inputs = keras.Input(dataset.input_shape)
    hidden = keras.layers.Dense(4)(inputs)
    outputs = [keras.layers.Dense(3, name="species")(hidden), keras.layers.Dense(1, name="size")(hidden)]
    ctx = make_context(model=keras.Model(inputs, outputs), dataset=dataset, language="zh")
    reason = dlviz.get_plugin(name).is_compatible(ctx)
    assert "2 个输出" in reason and "species, size" in reason
