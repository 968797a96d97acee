"""The explanation_methods lesson: SHAP and IG come from their plugins, LIME from the lime package, the
agreement is Spearman's rank correlation; tabular and image; refusals."""

import numpy as np
import pytest
from scipy.stats import spearmanr

import dlviz
import plugins.explanation_methods.compute as comparison
from dlviz.errors import ParamsError
from dlviz.testing import tiny_context
from plugins._shared.explanation import Explanation
from plugins.attributions import Params as AttributionParams
from plugins.explanation_methods import ExplanationMethods
from plugins.explanation_methods.lime_explainers import lime_image, lime_tabular
from plugins.explanation_methods.result import METHODS
from plugins.explanation_methods.segments import block_segments, per_segment
from plugins.shap import Params as ShapParams

SMALL = {"n_samples": 4, "lime_samples": 300, "background": 20}


@pytest.fixture(scope="module")
def tabular():
    ctx = tiny_context("tabular")
    return ctx, dlviz.compute("explanation_methods", model=ctx.model, dataset=ctx.dataset, **SMALL)


@pytest.fixture(scope="module")
def image():
    ctx = tiny_context("image")
    return ctx, dlviz.compute("explanation_methods", model=ctx.model, dataset=ctx.dataset, segment=2, **SMALL)


def test_shap_and_ig_are_the_explanation_plugins_results(tabular, monkeypatch):
    ctx, result = tabular
    shap = dlviz.compute("shap", model=ctx.model, dataset=ctx.dataset, n_samples=4, background=20)
    np.testing.assert_allclose(result.importances["shap"], shap.values, rtol=1e-6)
    ig = dlviz.compute(
        "attributions",
        model=ctx.model,
        dataset=ctx.dataset,
        n_samples=4,
        methods=("integrated_gradients",),
        score="probability",
        sanity_check=False,
    )
    np.testing.assert_allclose(
        result.importances["integrated_gradients"], ig.maps["integrated_gradients"], rtol=1e-6
    )
    np.testing.assert_array_equal(result.targets, ig.targets)

    called = []

    def spy(name, compute):
        def run(context, params):
            called.append((name, params))
            return compute(context, params)

        return run

    monkeypatch.setattr(comparison, "shap_values", spy("shap", comparison.shap_values))
    monkeypatch.setattr(comparison, "attribute", spy("attributions", comparison.attribute))
    ExplanationMethods().compute(ctx, ExplanationMethods.Params(n_samples=2, lime_samples=200, background=10))
    assert [name for name, _ in called] == ["shap", "attributions"]
    assert called[0][1] == ShapParams(n_samples=2, background=10)
    assert called[1][1] == AttributionParams(
        n_samples=2, methods=("integrated_gradients",), score="probability", sanity_check=False
    )


def test_other_plugins_params_are_typed_and_range_checked():
    assert comparison.checked(ShapParams(n_samples=3)) == ShapParams(n_samples=3)
    with pytest.raises(ParamsError, match="background"):
        comparison.checked(ShapParams(background=5))
    with pytest.raises(ParamsError, match="not one of its choices"):
        comparison.checked(AttributionParams(baseline="noise"))


def test_lime_is_the_lime_package_explainer(tabular):
    from lime.lime_tabular import LimeTabularExplainer

    from plugins._shared.explain import class_probabilities, head_of

    ctx, result = tabular
    x = ctx.dataset.x_test[:1]
    head = head_of(ctx.model, x)
    explainer = LimeTabularExplainer(
        np.asarray(ctx.dataset.x_train, np.float64),
        feature_names=list(ctx.dataset.feature_names),
        class_names=list(ctx.dataset.class_names),
        random_state=0,
    )
    target = int(result.targets[0])
    explanation = explainer.explain_instance(
        x[0].astype(np.float64),
        lambda rows: class_probabilities(head, ctx.model.predict(np.asarray(rows, np.float32))),
        labels=(target,),
        num_features=x.shape[1],
        num_samples=300,
    )
    expected = np.zeros(x.shape[1])
    for feature, weight in explanation.as_map()[target]:
        expected[feature] = weight
    np.testing.assert_allclose(result.importances["lime"][0], expected, rtol=1e-6, atol=1e-12)
    assert 0 < result.lime_scores[0] <= 1


@pytest.mark.parametrize("kind", ["tabular", "image"])
def test_lime_yields_an_explanation(kind, tabular, image):
    ctx, result = tabular if kind == "tabular" else image
    x = ctx.dataset.x_test[:4]
    params = ExplanationMethods.Params(**SMALL)
    if kind == "tabular":
        explanation, scores = lime_tabular(ctx.model, ctx.dataset, x, result.targets, params, ctx.seed)
        assert explanation.feature_names == tuple(ctx.dataset.feature_names)
    else:
        segments = block_segments((8, 8), params.segment)
        explanation, scores = lime_image(
            ctx.model, x, result.targets, segments, result.unit_names, params, ctx.seed
        )
        assert explanation.param("segment") == 2
    assert isinstance(explanation, Explanation) and explanation.method == "lime"
    assert explanation.values.shape == (4, len(result.unit_names)) and explanation.base_values is None
    np.testing.assert_allclose(explanation.values, result.importances["lime"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(scores, result.lime_scores)
    np.testing.assert_allclose(explanation.outputs, result.probabilities, rtol=1e-5)
    np.testing.assert_array_equal(explanation.targets, result.targets)
    assert explanation.score == "probability" and explanation.param("perturbations") == 300


def test_agreement_is_spearman_rank_correlation(tabular):
    _, result = tabular
    assert result.spearman.shape == (4, 3, 3) and result.agreement.shape == (3, 3)
    for sample in range(4):
        matrix = result.spearman[sample]
        np.testing.assert_allclose(matrix, matrix.T)
        np.testing.assert_allclose(np.diag(matrix), 1.0)
        for i in range(3):
            for j in range(i + 1, 3):
                expected = spearmanr(
                    result.importances[METHODS[i]][sample], result.importances[METHODS[j]][sample]
                )
                assert matrix[i, j] == pytest.approx(expected.statistic, abs=1e-9)
    np.testing.assert_allclose(result.agreement, result.spearman.mean(axis=0))
    # On a real (if tiny) model the methods broadly agree on which features matter.
    assert result.pair("shap", "integrated_gradients") > 0.3


def test_magnitude_comparison_ranks_absolute_values():
    ctx = tiny_context("tabular")
    result = dlviz.compute(
        "explanation_methods",
        model=ctx.model,
        dataset=ctx.dataset,
        compare="magnitude",
        **{**SMALL, "n_samples": 2},
    )
    expected = spearmanr(
        np.abs(result.importances["lime"][1]), np.abs(result.importances["shap"][1])
    ).statistic
    assert result.spearman[1, 0, 1] == pytest.approx(expected, abs=1e-9)


def test_image_methods_are_compared_on_the_same_pixel_blocks(image):
    ctx, result = image
    assert result.image and result.segments.shape == (8, 8)
    assert len(result.unit_names) == 16 and result.importances["lime"].shape == (4, 16)
    shap = dlviz.compute("shap", model=ctx.model, dataset=ctx.dataset, n_samples=4, background=20)
    per_pixel = shap.values.reshape(4, 8, 8)
    np.testing.assert_allclose(result.importances["shap"], per_segment(per_pixel, result.segments), rtol=1e-5)
    np.testing.assert_allclose(result.importances["shap"].sum(axis=1), per_pixel.sum(axis=(1, 2)), rtol=1e-5)
    assert np.isfinite(result.agreement).all()


def test_block_segments():
    segments = block_segments((8, 8), 2)
    assert segments[0, 0] == segments[1, 1] == 0 and segments[0, 2] == 1 and segments[2, 0] == 4
    assert segments.max() == 15 and np.all(np.bincount(segments.ravel()) == 4)
    assert block_segments((8, 8), 3).max() == 8  # 3, 3 and 2 pixels a side
    np.testing.assert_array_equal(block_segments((8, 8), 1).ravel(), np.arange(64))
    maps = np.arange(64, dtype=float).reshape(1, 8, 8)
    assert per_segment(maps, segments)[0, 0] == 0 + 1 + 8 + 9


def test_figures_plot_the_computed_values(tabular, image):
    plugin = ExplanationMethods()
    _, result = tabular
    heatmap, per_sample, bars, scatter = plugin.figures(result, "en")
    np.testing.assert_allclose(heatmap.data[0].z, np.round(result.agreement, 3))
    np.testing.assert_allclose(per_sample.data[0].y, np.round(result.spearman[:, 0, 1], 4))
    assert [trace.name for trace in bars.data] == ["LIME", "SHAP", "Integrated Gradients"]
    assert scatter.data[0].x.shape == (len(result.unit_names),)
    _, result = image
    figures = plugin.figures(result, "zh")
    assert "像素" in figures[2].layout.title.text and len(figures[2].data) == 5
    assert "一致性" in figures[0].layout.title.text


def test_pixel_blocks_and_hover_texts_follow_the_language(image):
    _, result = image
    plugin = ExplanationMethods()
    _, _, sample_en, scatter_en = plugin.figures(result, "en")
    _, _, sample_zh, scatter_zh = plugin.figures(result, "zh")
    assert scatter_en.data[0].text[1] == "rows 0-1, cols 2-3" == result.unit_names[1]
    assert scatter_zh.data[0].text[1] == "第 0-1 行，第 2-3 列"
    spread_en, spread_zh = sample_en.data[-1].hovertemplate, sample_zh.data[-1].hovertemplate
    assert "spread" in spread_en and "离散度" in spread_zh and "spread" not in spread_zh
    assert all("row" not in trace.hovertemplate for trace in sample_zh.data)


def test_refusals():
    plugin = ExplanationMethods()
    verdict = plugin.is_compatible(dlviz.registry.make_context(dataset="iris"))
    assert isinstance(verdict, str) and "model" in verdict
    ctx = tiny_context("tabular")
    with pytest.raises(ParamsError, match="not among"):
        dlviz.compute("explanation_methods", model=ctx.model, dataset=ctx.dataset, n_samples=2, sample=3)
    with pytest.raises(ParamsError, match="images only"):
        dlviz.compute("explanation_methods", model=ctx.model, dataset=ctx.dataset, ig_baseline="blurred")
