"""The `shap` plugin: shap's explainers on the digits CNN, the breast_cancer MLP and a subclassed model."""

import dataclasses
import pickle
import re
import warnings

import keras
import numpy as np
import pytest

import dlviz
import plugins.shap.compute as shap_compute
import plugins.shap.explainers as explainers
import plugins.shap.rescale as rescale
from dlviz.datasets import Dataset
from dlviz.plugin import make_params
from dlviz.registry import make_context, run_plugin
from plugins._shared.explanation import Explanation
from plugins.shap import Shap
from plugins.shap.figures import TOP_FEATURES

PLUGIN = Shap()


def compute(ctx, **params):
    return run_plugin(PLUGIN, ctx, make_params(Shap.Params, params))


def assert_chinese_notes(result):
    """One Chinese note for each English one, keeping its numbers."""
    assert len(result.notes_zh) == len(result.notes)
    for english, chinese in zip(result.notes, result.notes_zh, strict=True):
        assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
        assert set(re.findall(r"\d+(?:\.\d+)?%?", english)) <= set(re.findall(r"\d+(?:\.\d+)?%?", chinese))


def background_of(ctx, size):
    """The background rows the plugin draws (same seed, same rule)."""
    train = ctx.dataset.x_train
    rng = np.random.default_rng(ctx.seed)
    return train[np.sort(rng.choice(len(train), min(size, len(train)), replace=False))]


@pytest.mark.parametrize("which", ["image", "tabular", "subclassed"])
def test_default_path_is_deep_and_additive(which, request):
    ctx = request.getfixturevalue(which)
    result = compute(ctx, n_samples=30, background=40)
    assert result.method == "deep"
    assert result.additivity_error < 1e-3
    values, base = result.values, result.base_values
    np.testing.assert_allclose(base + values.sum(axis=1), result.outputs, atol=1e-3 * np.mean(result.outputs))
    # the output explained is each sample's predicted class probability
    outputs = ctx.model.predict(ctx.dataset.x_test[:30])
    probabilities = np.concatenate([1 - outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs
    np.testing.assert_allclose(result.outputs, probabilities.max(axis=1), rtol=1e-5)


@pytest.mark.parametrize("which", ["image", "tabular"])
def test_explanation_adds_up_to_the_output(which, request):
    ctx = request.getfixturevalue(which)
    result = compute(ctx, n_samples=12, background=20)
    explanation = result.as_explanation()
    assert isinstance(explanation, Explanation)
    features = int(np.prod(ctx.model.input_shape))
    assert explanation.values.shape == (12, features) and len(explanation.feature_names) == features
    assert explanation.base_values.shape == explanation.outputs.shape == explanation.targets.shape == (12,)
    assert explanation.method == "shap" and explanation.score == "probability"
    assert explanation.param("explainer") == "deep" and explanation.param("background") == 20
    np.testing.assert_array_equal(explanation.targets, result.targets)
    np.testing.assert_array_equal(
        np.asarray(explanation.inputs).reshape(12, -1), ctx.dataset.x_test[:12].reshape(12, -1)
    )
    # additivity: base value + sum of the SHAP values = the explained output
    np.testing.assert_allclose(
        explanation.base_values + explanation.values.sum(axis=1), explanation.outputs, atol=1e-4
    )
    assert np.abs(explanation.additivity_gap()).max() == pytest.approx(result.additivity_error_abs, rel=1e-4)


def test_import_shap_in_the_package_is_the_library():
    """`plugins.shap` shares the library's name; its absolute `import shap` must reach the library."""
    import pathlib
    import sys

    import plugins.shap

    library = explainers.load_shap()
    assert library is sys.modules["shap"] and library is not plugins.shap
    assert hasattr(library, "DeepExplainer") and hasattr(library, "Explanation") and library.__version__
    location = pathlib.Path(library.__file__).resolve()
    assert {"site-packages", "dist-packages"} & set(location.parts)
    assert pathlib.Path(plugins.shap.__file__).resolve().parent not in location.parents
    assert pathlib.Path(plugins.__file__).resolve().parent not in location.parents


def test_result_is_a_real_explanation_that_pickles(image, tabular):
    import shap

    for ctx in (image, tabular):
        result = compute(ctx, n_samples=12, background=20)
        explanation = result.explanation
        assert isinstance(explanation, shap.Explanation)
        assert explanation.values.shape == ((12, *ctx.model.input_shape) if ctx is image else (12, 30))
        assert explanation.base_values.shape == (12,)
        assert len(explanation.feature_names) == int(np.prod(ctx.model.input_shape))
        np.testing.assert_array_equal(
            np.asarray(explanation.data).reshape(12, -1), ctx.dataset.x_test[:12].reshape(12, -1)
        )
        copy = pickle.loads(pickle.dumps(result))
        np.testing.assert_array_equal(copy.explanation.values, explanation.values)
        assert copy.explanation.feature_names == explanation.feature_names
    # shap's own slicing works on it
    assert explanation[0].values.shape == (30,)


def test_subclassed_model_is_wrapped_and_said_so(subclassed):
    result = compute(subclassed, n_samples=10, background=20)
    assert result.method == "deep"
    assert any("wrapped in a Functional model" in note for note in result.notes)
    assert "DeepExplainer" in PLUGIN.figures(result)[0].layout.title.text
    assert_chinese_notes(result)
    assert explainers.WRAPPED_NOTE_ZH in result.notes_zh


@pytest.mark.slow
def test_batched_deep_equals_shap_deep_explainer(image, monkeypatch):
    import shap

    monkeypatch.setattr(explainers, "DEEP_ROWS_PER_CALL", 100)  # several graph calls of 2 samples each
    result = compute(image, n_samples=5, background=25)
    background = background_of(image, 25)
    x = image.dataset.x_test[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.DeepExplainer(
            (image.model.model.inputs[0], image.model.model.outputs[0]), background
        )
        reference = np.asarray(explainer.shap_values(x, check_additivity=False))  # (n, H, W, C, classes)
    expected = reference[np.arange(5), ..., result.targets]
    np.testing.assert_allclose(result.explanation.values, expected, atol=1e-5)
    np.testing.assert_allclose(
        result.base_values, np.asarray(explainer.expected_value)[result.targets], atol=1e-5
    )


def without_the_chain(ctx, monkeypatch, **params):
    """The same explanation through shap's own graph of pairs (`DeepGraph`), on a fresh handle."""
    with monkeypatch.context() as patch:
        patch.setattr(rescale, "plan", lambda model: None)
        return compute(make_context(model=ctx.model.model, dataset=ctx.dataset), **params)


@pytest.mark.parametrize("which", ["image", "tabular"])
def test_the_chain_path_gives_deep_explainers_values(which, request, monkeypatch):
    """Forward on distinct rows, backward per pair: the values of shap's graph on the copies of each pair."""
    ctx = request.getfixturevalue(which)
    fresh = make_context(model=ctx.model.model, dataset=ctx.dataset)
    eager = compute(fresh, n_samples=8, background=16)  # a handle's first explanation runs op by op
    assert "rescale" in explainers._CACHE[fresh.model], "the digits CNN and the MLP are chains of known layers"
    traced = compute(fresh, n_samples=8, background=16)  # the next ones through the traced graph
    graphed = without_the_chain(ctx, monkeypatch, n_samples=8, background=16)
    scale = np.abs(graphed.explanation.values).max()
    for chained in (eager, traced):
        np.testing.assert_allclose(chained.explanation.values, graphed.explanation.values, atol=1e-5 * scale)
        np.testing.assert_allclose(chained.base_values, graphed.base_values, rtol=1e-6)
        if which == "image":
            np.testing.assert_allclose(chained.image_values, graphed.image_values, atol=1e-5 * scale)


def test_every_rule_of_the_chain_matches_shaps_graph(monkeypatch):
    """Each layer kind the chain handles, in one small model with non-trivial batch-norm statistics."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(3, 3, padding="same", activation="elu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.BatchNormalization(),
            keras.layers.AveragePooling2D(1),
            keras.layers.MaxPooling2D(2, strides=1),  # overlapping windows: TensorFlow's MaxPoolGrad
            keras.layers.Conv2D(4, 2, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(4, activation="softplus"),
            keras.layers.Dense(3, activation="sigmoid"),
            keras.layers.Dense(3),
            keras.layers.Activation("softmax"),
        ]
    )
    norm = model.layers[2]
    norm.moving_mean.assign(np.full(3, 0.2, np.float32))
    norm.moving_variance.assign(np.full(3, 0.5, np.float32))
    norm.gamma.assign(np.array([1.5, -0.5, 2.0], np.float32))
    kinds = [step.kind for step in rescale.plan(model)]
    assert kinds == [
        "conv", "elementwise", "max_pool", "batch_norm", "average_pool", "max_pool", "conv", "elementwise", "reshape",
        "dense", "elementwise", "dense", "elementwise", "dense", "elementwise", "dense", "softmax",
    ]  # fmt: skip
    rng = np.random.default_rng(0)
    images = rng.random((40, 6, 6, 1)).astype(np.float32)
    images[:, :2] = 0.0  # equal inputs in a pair: the rules' "no step" branches
    data = Dataset.from_arrays(images, rng.integers(0, 3, 40), kind="image", standardize=False)
    ctx = make_context(model=model, dataset=data)
    eager, traced = (compute(ctx, n_samples=6, background=10) for _ in range(2))
    assert "rescale" in explainers._CACHE[ctx.model]
    graphed = without_the_chain(ctx, monkeypatch, n_samples=6, background=10)
    scale = np.abs(graphed.explanation.values).max()
    for chained in (eager, traced):
        np.testing.assert_allclose(chained.explanation.values, graphed.explanation.values, atol=1e-5 * scale)
        assert chained.additivity_error < 1e-4


def test_a_model_that_is_not_the_chain_of_its_layers_takes_shaps_graph(tabular):
    """A layer applied twice is listed once: the chain read from the layers misses the outputs, so the
    plugin notices and runs shap's graph instead, with the same exact additivity."""
    shared = keras.layers.Dense(30, activation="tanh")
    inputs = keras.Input((30,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(shared(shared(inputs))))
    ctx = make_context(model=model, dataset=tabular.dataset)
    assert rescale.plan(model) is not None
    result = compute(ctx, n_samples=6, background=10)
    assert result.method == "deep" and result.additivity_error < 1e-4
    assert explainers._CACHE[ctx.model]["plan"] is None and "deep" in explainers._CACHE[ctx.model]


def test_layers_the_chain_does_not_handle_are_left_to_shap():
    def chain(*layers, shape=(4,)):
        return rescale.plan(keras.Sequential([keras.Input(shape), *layers]))

    assert chain(keras.layers.Dense(3, activation="leaky_relu")) is None  # no rescale rule in shap either
    assert chain(keras.layers.Dense(3, activation="gelu")) is None
    assert chain(keras.layers.Conv1D(2, 2), shape=(4, 1)) is None
    assert chain(keras.layers.Dense(3), keras.layers.LayerNormalization()) is None
    inputs = keras.Input((4,))
    two_heads = keras.Model(inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(2)(inputs)])
    assert rescale.plan(two_heads) is None
    assert [step.kind for step in chain(keras.layers.Dense(3, activation="selu"))] == ["dense", "elementwise"]


def test_single_sigmoid_class_zero_is_the_complement(tabular):
    one = compute(tabular, n_samples=10, background=20, target=1)
    zero = compute(tabular, n_samples=10, background=20, target=0)
    np.testing.assert_allclose(zero.values, -one.values, atol=1e-6)
    np.testing.assert_allclose(zero.base_values, 1.0 - one.base_values, atol=1e-6)
    np.testing.assert_allclose(zero.outputs, 1.0 - one.outputs, atol=1e-6)
    assert zero.additivity_error < 1e-3


def test_gradient_explainer_reports_its_additivity(tabular):
    result = compute(tabular, explainer="gradient", n_samples=10, background=20)
    assert result.method == "gradient"
    recomputed = np.abs(result.base_values + result.values.sum(axis=1) - result.outputs).max()
    assert result.additivity_error_abs == pytest.approx(recomputed, rel=1e-5)
    assert "GradientExplainer" in PLUGIN.figures(result)[0].layout.title.text


def test_kernel_explainer_calls_the_compiled_function_not_model_predict(tabular, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model.predict must not be called")

    monkeypatch.setattr(tabular.model.model, "predict", refuse)
    result = compute(tabular, explainer="kernel", n_samples=2, background=10)
    assert result.method == "kernel"
    assert result.additivity_error < 1e-3  # KernelExplainer enforces base + sum = output
    assert result.values.shape == (2, 30)


def test_auto_falls_back_when_deep_fails(tabular, monkeypatch):
    def broken(task, functional):
        raise LookupError("no gradient handler for this operation")

    monkeypatch.setattr(explainers, "deep_values", broken)
    result = compute(tabular, n_samples=5, background=10)
    assert result.method == "gradient"
    assert any("DeepExplainer failed" in note for note in result.notes)
    assert any("DeepExplainer 失败" in note and "LookupError" in note for note in result.notes_zh)
    assert_chinese_notes(result)
    with pytest.raises(dlviz.PluginError, match="DeepExplainer cannot handle"):
        compute(tabular, explainer="deep", n_samples=5, background=10)


def test_unwrappable_subclassed_model_falls_back_to_kernel(tabular, monkeypatch):
    monkeypatch.setattr(explainers, "functional_model", lambda handle: (None, "TypeError: symbolic call failed"))
    handle = dlviz.wrap(tabular.model.model)  # a fresh handle: nothing cached for it yet
    ctx = make_context(model=handle, dataset=tabular.dataset)
    result = compute(ctx, n_samples=2, background=10)
    assert result.method == "kernel"
    assert any("could not be wrapped" in note for note in result.notes)
    assert any("无法包装" in note and "symbolic call failed" in note for note in result.notes_zh)
    with pytest.raises(dlviz.PluginError, match="explainer=kernel"):
        compute(ctx, explainer="gradient", n_samples=2, background=10)


def test_slow_choices_warn_in_result_and_figure(image, monkeypatch):
    per_row = 5e-6
    task = explainers.Task(
        ctx=image,
        head=None,
        background=np.zeros((100, 8, 8, 1)),
        expected=np.zeros(10),
        x=np.zeros((100, 8, 8, 1)),
        classes=np.zeros(100, dtype=int),
        outputs=np.zeros(100),
    )
    assert shap_compute.estimate_seconds("kernel", task, 100, per_row) > shap_compute.SLOW_SECONDS
    assert shap_compute.estimate_seconds("auto", task, 100, per_row) < shap_compute.SLOW_SECONDS

    monkeypatch.setattr(shap_compute, "SLOW_SECONDS", 0.0)
    result = compute(image, n_samples=4, background=10)
    assert any(note.startswith("Warning:") and "min" in note for note in result.notes)
    annotations = " ".join(a.text for a in PLUGIN.figures(result)[0].layout.annotations)
    assert "Warning:" in annotations
    assert_chinese_notes(result)
    chinese = " ".join(a.text for a in PLUGIN.figures(result, language="zh")[0].layout.annotations)
    assert "警告" in chinese and "Warning:" not in chinese


def test_bad_parameters_are_refused(image, tabular):
    with pytest.raises(dlviz.ParamsError, match="Class 10 does not exist"):
        compute(image, n_samples=4, background=10, target=10)
    with pytest.raises(dlviz.ParamsError, match="Class 2 does not exist"):
        compute(tabular, n_samples=4, background=10, target=2)
    with pytest.raises(dlviz.ParamsError, match="not among the 4 samples"):
        compute(image, n_samples=4, background=10, sample=4)
    with pytest.raises(dlviz.ParamsError, match="not an input"):
        compute(tabular, n_samples=4, background=10, feature="colour")
    with pytest.raises(dlviz.ParamsError):
        compute(image, explainer="lime")


def test_figures_plot_the_computed_values(image):
    result = compute(image, n_samples=20, background=20, sample=3, top_classes=2)
    beeswarm, bars, waterfall, dependence, maps = PLUGIN.figures(result)
    values = result.values
    importance = np.abs(values).mean(axis=0)
    top = np.argsort(-importance, kind="stable")[:TOP_FEATURES][::-1]
    np.testing.assert_allclose(beeswarm.data[0].x, values[:, top].T.reshape(-1), rtol=1e-6)
    assert list(beeswarm.layout.yaxis.ticktext) == [result.feature_names[f] for f in top]

    top15 = np.argsort(-importance, kind="stable")[:15][::-1]
    np.testing.assert_allclose(bars.data[0].x, importance[top15], rtol=1e-6)

    steps = np.asarray(waterfall.data[0].x, dtype=float)
    assert steps[0] == pytest.approx(result.base_values[3])
    assert steps[0] + steps[1:-1].sum() == pytest.approx(result.outputs[3], abs=1e-3)

    feature = result.dependence_feature
    assert feature == int(np.argmax(importance))
    np.testing.assert_allclose(dependence.data[0].y, values[:, feature], rtol=1e-6)
    np.testing.assert_allclose(dependence.data[0].x, result.feature_values[:, feature], rtol=1e-6)

    overlays = [trace for trace in maps.data if trace.colorscale and trace.zmid == 0]
    assert len(overlays) == 3 * 2
    np.testing.assert_allclose(overlays[0].z, result.image_values[0, 0].sum(axis=-1), rtol=1e-6)
    assert result.image_classes[0, 0] == result.targets[0]  # the top class comes first
    for figure in (beeswarm, bars, waterfall, dependence, maps):
        assert "DeepExplainer" in figure.layout.title.text
    chinese = [figure.layout.title.text for figure in PLUGIN.figures(result, language="zh")]
    assert chinese[0].startswith("SHAP 汇总：P(预测类别)") and "背景 20 行" in chinese[0]
    assert chinese[4].startswith("前几个类别的逐像素 SHAP 值")


def test_tabular_figures_use_the_dataset_units(tabular):
    result = compute(tabular, n_samples=15, background=20, feature="mean radius")
    dependence = PLUGIN.figures(result)[3]
    index = result.feature_names.index("mean radius")
    raw = tabular.dataset.scaler.inverse_transform(tabular.dataset.x_test[:15])[:, index]
    np.testing.assert_allclose(dependence.data[0].x, raw, rtol=1e-5)
    assert dependence.layout.xaxis.title.text.startswith("mean radius")
    assert len(PLUGIN.figures(result)) == 4  # no image maps for a table


def test_diagnosis_flags_values_that_do_not_add_up(tabular):
    result = compute(tabular, n_samples=10, background=20)
    assert [f.severity for f in PLUGIN.diagnose(result)] == ["info"]
    broken = dataclasses.replace(result, additivity_error=0.3)
    assert PLUGIN.diagnose(broken)[0].severity == "warning"
