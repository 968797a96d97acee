"""The convolution lesson: its windows, sums and pooled values equal Keras' own layers, its output-size formula
equals Keras' output shapes, and its receptive fields equal the support of a unit's input gradient."""

from __future__ import annotations

import dataclasses
import itertools
import re

import keras
import numpy as np
import pytest

import dlviz
from dlviz import registry
from dlviz.plugin import make_params
from dlviz.testing import MAX_FIGURE_JSON_BYTES, tiny_context
from plugins.convolution import Convolution
from plugins.convolution.figures import WINDOW_COLOUR
from plugins.convolution.network import receptive_field, spatial_chain
from plugins.convolution.network_figures import MAX_RESPONSE_PIXELS
from plugins.convolution.sliding import PRESET_KERNELS, convolve, output_size, pool

CJK = re.compile(r"[\u4e00-\u9fff]")
CONV_CASES = [
    (stride, padding, dilation)
    for stride, padding, dilation in itertools.product((1, 2, 3), ("valid", "same"), (1, 2, 3))
    if stride == 1 or dilation == 1  # Keras' Conv2D refuses a stride and a dilation both above 1
]


def compute(ctx=None, **values):
    plugin = Convolution()
    return registry.run_plugin(
        plugin, ctx or registry.make_context(seed=0), make_params(Convolution.Params, values)
    )


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).random((9, 8)).astype(np.float32)


@pytest.fixture(scope="module")
def default_result():
    return compute()


@pytest.fixture(scope="module")
def cnn_result():
    """The lesson on the tiny trained digits CNN, with one of its learned filters as the kernel."""
    return compute(tiny_context("image"), kernel="learned", learned_filter=2, padding="same")


def keras_conv(image, kernel, bias, stride, padding, dilation):
    layer = keras.layers.Conv2D(1, kernel.shape, strides=stride, padding=padding, dilation_rate=dilation)
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel[:, :, None, None], np.array([bias], np.float32)])
    return np.asarray(layer(image[None, :, :, None]))[0, :, :, 0]


@pytest.mark.parametrize(("stride", "padding", "dilation"), CONV_CASES)
def test_sums_of_products_equal_keras_conv2d(image, stride, padding, dilation):
    kernel = np.random.default_rng(stride * 10 + dilation).normal(size=(3, 3)).astype(np.float32)
    steps = convolve(image, kernel, 0.25, "learned", stride, dilation, padding)
    expected = keras_conv(image, kernel, 0.25, stride, padding, dilation)
    assert steps.feature_map.shape == expected.shape == steps.sums.shape
    np.testing.assert_allclose(steps.sums, expected, atol=1e-6)
    np.testing.assert_allclose(steps.feature_map, expected, atol=1e-6)
    # The highlighted taps read exactly the pixels whose products are shown (zeros in the padding).
    rows, cols = image.shape
    for i, j in itertools.product(range(expected.shape[0]), range(expected.shape[1])):
        r, c = steps.windows.rows[i][:, None], steps.windows.cols[j][None, :]
        inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        window = np.where(inside, image[np.clip(r, 0, rows - 1), np.clip(c, 0, cols - 1)], 0.0)
        np.testing.assert_allclose(steps.products[i, j], window * kernel, atol=1e-6)


def test_a_larger_kernel_with_a_bias_also_matches(image):
    kernel = np.random.default_rng(5).normal(size=(5, 5)).astype(np.float32)
    steps = convolve(image, kernel, -0.5, "learned", 1, 1, "same")
    np.testing.assert_allclose(steps.sums, keras_conv(image, kernel, -0.5, 1, "same", 1), atol=1e-6)


@pytest.mark.parametrize(
    ("size", "stride", "padding"), list(itertools.product((1, 2, 3), (1, 2, 3), ("valid", "same")))
)
def test_pooling_equals_keras_max_and_average_pooling(size, stride, padding):
    feature = np.random.default_rng(size + 3 * stride).normal(size=(7, 7)).astype(np.float32)
    steps = pool(feature, size, stride, padding)
    batch = feature[None, :, :, None]
    options = {"pool_size": size, "strides": stride, "padding": padding}
    expected_max = np.asarray(keras.layers.MaxPooling2D(**options)(batch))[0, :, :, 0]
    expected_average = np.asarray(keras.layers.AveragePooling2D(**options)(batch))[0, :, :, 0]
    np.testing.assert_allclose(steps.max_pooled, expected_max, atol=1e-6)
    np.testing.assert_allclose(steps.average_pooled, expected_average, atol=1e-6)
    # The drawn windows hold what Keras pooled: padding ignored, the marked cell is the maximum.
    np.testing.assert_allclose(np.nanmax(steps.window_values, axis=(2, 3)), expected_max, atol=1e-6)
    np.testing.assert_allclose(np.nanmean(steps.window_values, axis=(2, 3)), expected_average, atol=1e-6)
    out_h, out_w = expected_max.shape
    marked = steps.window_values[
        np.arange(out_h)[:, None], np.arange(out_w)[None, :], steps.argmax[..., 0], steps.argmax[..., 1]
    ]
    np.testing.assert_array_equal(marked, expected_max)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_size_formula_equals_keras_output_shapes(padding):
    for n, kernel, stride, dilation in itertools.product(range(5, 12), (1, 2, 3, 5), (1, 2, 3), (1, 2, 3)):
        if stride > 1 and dilation > 1 or (padding == "valid" and dilation * (kernel - 1) + 1 > n):
            continue
        layer = keras.layers.Conv2D(1, kernel, strides=stride, padding=padding, dilation_rate=dilation)
        shape = layer.compute_output_shape((1, n, n + 1, 1))
        expected = output_size(n, kernel, stride=stride, dilation=dilation, padding=padding)
        assert shape[1] == expected, (n, kernel, stride, dilation)
        assert shape[2] == output_size(n + 1, kernel, stride=stride, dilation=dilation, padding=padding)
        if dilation == 1 and kernel <= n:
            pooled = keras.layers.MaxPooling2D(kernel, strides=stride, padding=padding)(
                np.zeros((1, n, n, 1))
            )
            assert pooled.shape[1] == expected


def test_the_page_shows_the_size_keras_returned(default_result):
    conv = default_result.convolution
    assert conv.feature_map.shape == conv.keras_output_shape == (6, 6)  # 8×8, 3×3, valid
    latex = [formula.latex for formula in default_result.page.formulas]
    assert any(r"\frac{8 + 0 - 1\cdot(3-1) - 1}{1}" in text and text.endswith("= 6") for text in latex)
    same = compute(padding="same", stride=3)
    assert same.convolution.feature_map.shape == (3, 3)
    assert any(r"{8 + 1 - 1\cdot(3-1) - 1}{3}" in formula.latex for formula in same.page.formulas)


def positive_linear_cnn() -> keras.Model:
    """Linear layers with positive weights: no ReLU or max pooling hides a pixel, so the gradient is non-zero
    on the whole field and the field can be held to it exactly."""
    positive = keras.initializers.RandomUniform(0.1, 1.0, seed=1)
    return keras.Sequential(
        [
            keras.Input((19, 17, 1)),
            keras.layers.Conv2D(2, 3, padding="same", kernel_initializer=positive, name="c1"),
            keras.layers.AveragePooling2D(2, padding="same", name="p1"),
            keras.layers.ZeroPadding2D(((1, 0), (2, 1)), name="pad"),
            keras.layers.Conv2D(
                2, 3, dilation_rate=2, padding="same", kernel_initializer=positive, name="c2"
            ),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Conv2D(2, (3, 2), strides=2, kernel_initializer=positive, name="c3"),
            keras.layers.AveragePooling2D(2, strides=1, name="p2"),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )


def test_receptive_field_equals_the_gradient_support():
    model = positive_linear_cnn()
    sample = np.random.default_rng(0).uniform(0.5, 1.0, (19, 17, 1)).astype(np.float32)
    layers = {layer.name: layer for layer in spatial_chain(model)}
    assert list(layers) == ["c1", "p1", "pad", "c2", "bn", "c3", "p2"]
    for name in ("c1", "p1", "c2", "c3", "p2"):
        rows, cols = layers[name].output.shape[1:3]
        for unit in {(0, 0), (rows - 1, cols - 1), (rows // 2, cols // 3), (1, cols - 1)}:
            field, _ = receptive_field(model, layers[name], unit, sample)
            np.testing.assert_array_equal(field.gradient != 0, field.mask, err_msg=f"{name} {unit}")
    field, _ = receptive_field(model, layers["c2"], (4, 4), sample)
    growth = [(layer.name, layer.size, layer.jump) for layer in field.chain]
    assert growth == [("c1", 3, 1), ("p1", 4, 2), ("c2", 12, 2)]


def test_a_dilated_kernel_has_holes_in_its_field():
    model = keras.Sequential(
        [
            keras.Input((9, 9, 1)),
            keras.layers.Conv2D(1, 3, dilation_rate=2, kernel_initializer="ones", name="dilated"),
        ]
    )
    sample = np.ones((9, 9, 1), np.float32)
    field, _ = receptive_field(model, model.get_layer("dilated"), (2, 1), sample)
    assert field.rows.tolist() == [2, 4, 6] and field.cols.tolist() == [1, 3, 5]
    np.testing.assert_array_equal(field.gradient != 0, field.mask)
    assert field.mask.sum() == 9  # 9 taps spread over a 5×5 area


def test_relu_and_max_pooling_never_reach_outside_the_field(default_result, cnn_result):
    for result in (default_result, cnn_result):
        field = result.network.field
        assert field.gradient_outside == 0.0
        assert np.count_nonzero(field.gradient) > 0
        assert field.chain[-1].name == field.layer


def test_field_layer_and_unit_are_chosen_or_refused():
    result = compute(field_layer=1, unit_row=0, unit_col=7)
    field = result.network.field
    assert field.layer == "conv_1" and field.unit == (0, 7)
    assert field.rows.tolist() == [0, 1] and field.cols.tolist() == [
        6,
        7,
    ]  # 3×3 'same', clipped at the corner
    with pytest.raises(dlviz.ParamsError, match="choose 0 .* 1 = conv_1, 2 = pool_1, 3 = conv_2"):
        compute(field_layer=4)
    with pytest.raises(dlviz.ParamsError, match="outside conv_1's 8×8 output"):
        compute(field_layer=1, unit_row=8)


def test_bad_settings_get_clear_errors():
    with pytest.raises(dlviz.ParamsError, match="stride above 1 or a dilation above 1, not both"):
        compute(stride=2, dilation=2)
    with pytest.raises(dlviz.ParamsError, match="padding='valid' leaves no output"):
        compute(pool_size=4, padding="valid", dilation=3)  # 8 → 2×2 map, a 4×4 window does not fit
    with pytest.raises(dlviz.ParamsError, match="has 8 filters"):
        compute(kernel="learned", learned_filter=8)


def test_without_a_cnn_the_untrained_default_stands_in(default_result):
    network = default_result.network
    assert not network.own_model and network.model_name == "cnn_digits"
    assert "untrained" in default_result.page.notes[0].text and CJK.search(
        default_result.page.notes[0].text_zh
    )
    np.testing.assert_allclose(default_result.convolution.kernel, PRESET_KERNELS["vertical_edge"])
    assert (
        default_result.image.shape == (8, 8)
        and 0 <= default_result.image.min() <= default_result.image.max() <= 1
    )


def test_silent_filters_of_the_loaded_cnn_are_named(cnn_result):
    def with_network(**changes):
        return dataclasses.replace(cnn_result, network=dataclasses.replace(cnn_result.network, **changes))

    responses = np.zeros_like(cnn_result.network.responses)
    responses[0] = 1.0
    (finding,) = Convolution().diagnose(with_network(responses=responses))
    assert (
        finding.headline.startswith("7 of 8 filters of conv_1 give no response") and finding.layer == "conv_1"
    )
    assert "filters 1, 2, 3, 4, 5, 6, 7" in finding.headline and CJK.search(finding.headline_zh)
    # The untrained default CNN is not the learner's: nothing to diagnose; nor when every filter answers.
    assert Convolution().diagnose(with_network(responses=responses, own_model=False)) == []
    assert Convolution().diagnose(with_network(responses=responses + 1)) == []


def test_sessions_share_the_result_only_without_a_cnn(default_result):
    plugin, params = Convolution(), Convolution.Params()
    assert plugin.shared_result_key(tiny_context("image"), params) is None
    assert plugin.shared_result_key(registry.make_context(), params) == "no model"
    points = tiny_context("points2d")
    assert plugin.shared_result_key(points, params) == "a model without Conv2D"
    # What it reads of a model without Conv2D is only that there is one: the note.
    other = compute(points)
    np.testing.assert_array_equal(other.network.filters, default_result.network.filters)
    assert other.page.notes[0].text.startswith("The loaded model has no Conv2D layer")


def test_the_learned_kernel_is_the_cnns_own_filter(cnn_result):
    handle = tiny_context("image").model
    conv = handle.model.get_layer("conv_1")
    kernel, bias = (np.asarray(weight) for weight in conv.get_weights())
    network = cnn_result.network
    assert network.own_model and network.conv_layer == "conv_1"
    np.testing.assert_array_equal(cnn_result.convolution.kernel, kernel[:, :, 0, 2])
    assert cnn_result.convolution.bias == pytest.approx(float(bias[2]))
    # The responses are the layer's own activations of the sample the page names.
    responses = handle.activations(network.sample[None], layers=["conv_1"])["conv_1"][0]
    np.testing.assert_allclose(network.responses, np.moveaxis(responses, -1, 0), atol=1e-6)
    assert network.flatten.input_shape == (4, 4, 16) and network.flatten.dense_layer == "hidden_1"
    flat = handle.activations(network.sample[None], layers=["flatten"])["flatten"][0]
    np.testing.assert_allclose(network.flatten.vector, flat, atol=1e-6)
    assert "test image" in cnn_result.page.notes[0].text


def test_animations_step_through_every_output_cell(default_result):
    figures = Convolution().figures(default_result, "en")
    conv_figure, pool_figure, flat_figure = figures[:3]
    conv = default_result.convolution
    assert len(conv_figure.frames) == conv.feature_map.size == len(conv_figure.layout.sliders[0].steps)
    last = conv_figure.frames[-1]
    np.testing.assert_allclose(np.asarray(last.data[1].z, float), conv.feature_map, atol=1e-6)
    np.testing.assert_allclose(np.asarray(conv_figure.frames[7].data[0].z, float), conv.products[1, 1])
    # Frame 7 is output cell (1, 1): its window covers input rows and columns 1-3 (valid, stride 1).
    (window,) = [shape for shape in conv_figure.frames[7].layout.shapes if shape.line.color == WINDOW_COLOUR]
    assert (window.xref, window.y0, window.y1, window.x0, window.x1) == ("x", 0.5, 3.5, 0.5, 3.5)
    first = np.asarray(conv_figure.data[3].z, float)
    assert np.isfinite(first).sum() == 1
    pooling = default_result.pooling
    assert len(pool_figure.frames) == pooling.max_pooled.size
    np.testing.assert_allclose(np.asarray(pool_figure.frames[-1].data[0].z, float), pooling.max_pooled)
    np.testing.assert_allclose(np.asarray(pool_figure.frames[-1].data[1].z, float), pooling.average_pooled)
    np.testing.assert_allclose(np.asarray(flat_figure.data[1].z, float)[0], pooling.max_pooled.ravel())
    np.testing.assert_allclose(default_result.flattened, pooling.max_pooled.ravel())


def test_dilated_windows_mark_each_tap():
    result = compute(dilation=2, padding="same")
    figure = Convolution().figures(result, "en")[0]
    taps = [shape for shape in figure.frames[0].layout.shapes if shape.line.color == WINDOW_COLOUR]
    # Output cell (0, 0) with 'same' padding of 2 before: taps at -2, 0, 2 along both axes.
    assert sorted({(shape.y0 + 0.5, shape.x0 + 0.5) for shape in taps}) == [
        (r, c) for r in (-2, 0, 2) for c in (-2, 0, 2)
    ]


def test_figures_speak_the_language(cnn_result):
    english = Convolution().figures(cnn_result, "en")
    chinese = Convolution().figures(cnn_result, "zh")
    assert len(english) == len(chinese) == 6
    for figure in chinese:
        assert CJK.search(figure.layout.title.text), figure.layout.title.text
        assert all(CJK.search(frame.layout.title.text) for frame in figure.frames)
    for figure in english:
        assert not CJK.search(figure.layout.title.text), figure.layout.title.text
    assert "(the loaded model's weights)" in english[3].layout.title.text
    growth = english[5]
    assert list(growth.data[0].y) == [layer.size for layer in cnn_result.network.field.chain]


def test_a_large_first_layer_draws_few_enough_responses_and_a_resized_digit():
    model = keras.Sequential(
        [
            keras.Input((128, 128, 3)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="wide"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    result = compute(registry.make_context(model=model), kernel="learned", learned_filter=15)
    network = result.network
    assert network.sample.shape == (128, 128, 3) and network.input_channels == 3 and network.flatten is None
    assert "resized to 128×128" in network.sample_note.text and len(result.page.notes) == 2
    np.testing.assert_allclose(
        result.convolution.kernel, model.get_layer("wide").get_weights()[0][:, :, :, 15].sum(-1)
    )
    figure = Convolution().figures(result, "en")[3]
    assert len(figure.to_json()) < MAX_FIGURE_JSON_BYTES
    assert set(np.unique(figure.data[1].customdata)) == {-1, *range(MAX_RESPONSE_PIXELS // 128**2)}
    assert set(np.unique(figure.data[0].customdata)) == {-1, *range(16)}


def test_results_are_deterministic_for_a_seed():
    ctx = registry.make_context(seed=3)
    first, second = compute(ctx), compute(dataclasses.replace(ctx))
    np.testing.assert_array_equal(first.network.filters, second.network.filters)
    np.testing.assert_array_equal(first.image, second.image)


def test_keras_refuses_what_the_lesson_refuses():
    with pytest.raises(ValueError, match="dilation_rate"):
        keras.layers.Conv2D(1, 3, strides=2, dilation_rate=2)
