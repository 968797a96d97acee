"""The `explanation_methods` lesson's computation: SHAP values and Integrated Gradients from the `shap` and
`attributions` plugins' compute functions, called with their typed Params (the same explained test samples
and classes), LIME from the lime package, all on the same units (an image's pixel blocks), and how far they
agree."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import make_params, tr
from plugins._shared.explain import check_sample, explained_inputs, is_image
from plugins.attributions import Params as AttributionParams
from plugins.attributions import attribute
from plugins.explanation_methods.agreement import agreement_matrices, mean_agreement
from plugins.explanation_methods.lime_explainers import lime_image, lime_tabular
from plugins.explanation_methods.result import METHODS, ComparisonResult
from plugins.explanation_methods.segments import block_name, block_segments, per_segment
from plugins.shap import Params as ShapParams
from plugins.shap import shap_values

if TYPE_CHECKING:
    from plugins.explanation_methods.plugin import Params

FORMULAS = (
    dlviz.Formula(
        "LIME (lime package): a weighted linear model fitted to the model's outputs on perturbed copies z of x",
        "LIME（lime 库）：在 x 的扰动样本 z 上，用加权线性模型拟合模型输出",
        r"\hat g = \arg\min_{g} \sum_{z} \pi_x(z)\,\big(f(z) - g(z')\big)^2 + \Omega(g),"
        r"\quad \pi_x(z) = \exp\!\big(-d(x, z)^2 / \sigma^2\big)",
    ),
    dlviz.Formula(
        "SHAP (shap package): Shapley values of the features, averaged over a training background",
        "SHAP（shap 库）：特征的 Shapley 值，在训练集背景样本上取平均",
        r"\phi_i = \sum_{S \subseteq F \setminus \{i\}} \frac{|S|!\,(|F| - |S| - 1)!}{|F|!}"
        r"\big(f(x_{S \cup \{i\}}) - f(x_S)\big),\quad f(x) = \mathbb{E}[f] + \sum_i \phi_i",
    ),
    dlviz.Formula(
        "Integrated Gradients (attributions plugin): gradients summed along the path from a baseline x′",
        "积分梯度（attributions 插件）：沿基线 x′ 到 x 的直线路径累加梯度",
        r"\mathrm{IG}_i(x) = (x_i - x'_i) \int_0^1 \frac{\partial f\big(x' + \alpha (x - x')\big)}{\partial x_i}\, d\alpha",
    ),
    dlviz.Formula(
        "Agreement: Spearman rank correlation of two methods' importances over the features",
        "一致性：两种方法的特征重要性之间的斯皮尔曼秩相关 (Spearman)",
        r"\rho = 1 - \frac{6 \sum_i d_i^2}{n (n^2 - 1)},\quad d_i = \operatorname{rank}(a_i) - \operatorname{rank}(b_i)",
    ),
)


def compare(ctx: dlviz.Context, params: Params) -> ComparisonResult:
    """LIME, SHAP and Integrated Gradients on the first `params.n_samples` test samples, and their agreement."""
    check_sample(params.sample, params.n_samples)
    handle, dataset = ctx.model, ctx.dataset
    image = is_image(handle, dataset)
    if params.ig_baseline == "blurred" and not image:
        raise ParamsError(
            "The blurred IG baseline applies to images only.", "use zeros or mean for tables."
        )
    ctx.report(0.05, tr(ctx.language, "SHAP values (shap view)", "SHAP 值（shap 视图）"))
    shap_result = shap_values(
        ctx,
        checked(
            ShapParams(
                n_samples=params.n_samples,
                sample=params.sample,
                target=params.target,
                background=params.background,
            )
        ),
    )
    ctx.report(
        0.4,
        tr(
            ctx.language,
            "Integrated Gradients (attributions view)",
            "积分梯度 (Integrated Gradients)（attributions 视图）",
        ),
    )
    ig_result = attribute(
        ctx,
        checked(
            AttributionParams(
                n_samples=params.n_samples,
                sample=params.sample,
                target=params.target,
                methods=("integrated_gradients",),
                baseline=params.ig_baseline,
                score="probability",
                sanity_check=False,
            )
        ),
    )
    shap_explanation = shap_result.as_explanation()
    ig_explanation = ig_result.as_explanation("integrated_gradients")
    targets = ig_explanation.targets
    if not np.array_equal(shap_explanation.targets, targets):
        raise PluginError(
            "The shap and attributions views explained different classes for the same samples.",
            "set 'Class explained' to a fixed class.",
        )
    x = explained_inputs(dataset, params.n_samples)
    ctx.report(0.7, tr(ctx.language, "LIME", "LIME（拟合局部线性模型）"))
    notes: list[tuple[str, str]] = []  # (English, Chinese)
    if image:
        segments = block_segments(handle.input_shape[:2], params.segment)
        blocks = int(segments.max()) + 1
        unit_names = tuple(block_name(segments, unit) for unit in range(blocks))
        lime_explanation, scores = lime_image(handle, x, targets, segments, unit_names, params, ctx.seed)
        shap_maps = shap_explanation.values.reshape(x.shape).sum(axis=-1)
        importances = {
            "lime": lime_explanation.values,
            "shap": per_segment(shap_maps, segments),
            "integrated_gradients": per_segment(ig_explanation.values.reshape(x.shape[:3]), segments),
        }
        shown_inputs = x[..., 0] if x.shape[-1] == 1 else x.mean(axis=-1)
    else:
        segments = None
        lime_explanation, scores = lime_tabular(handle, dataset, x, targets, params, ctx.seed)
        importances = {
            "lime": lime_explanation.values,
            "shap": np.asarray(shap_explanation.values, dtype=np.float64),
            "integrated_gradients": np.asarray(ig_explanation.values, dtype=np.float64),
        }
        unit_names = shap_explanation.feature_names
        shown_inputs = np.asarray(ig_result.feature_values)
    if float(np.median(scores)) < 0.3:
        notes.append(
            (
                f"LIME's local linear model explains little of the model here (median R² {np.median(scores):.2f}): "
                "its weights are rough. More perturbations or larger segments may help.",
                f"LIME 的局部线性模型对这里的模型解释得很少（R² 中位数 {np.median(scores):.2f}）："
                "其权重只是粗略的。增加扰动样本数或加大分块也许有帮助。",
            )
        )
    if len(unit_names) < 4:
        notes.append(
            (
                f"Only {len(unit_names)} features: a rank correlation over so few can only be coarse (±1 for two).",
                f"只有 {len(unit_names)} 个特征：在这么少的特征上，秩相关只能很粗略（两个特征时只能是 ±1）。",
            )
        )
    spearman = agreement_matrices(importances, params.compare)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return ComparisonResult(
        methods=METHODS,
        image=image,
        unit_names=unit_names,
        importances=importances,
        targets=targets,
        class_names=tuple(ig_result.class_names),
        class_names_zh=tuple(ig_result.class_names_zh),
        regression=ig_result.regression,
        probabilities=np.asarray(ig_result.probabilities),
        compare=params.compare,
        spearman=spearman,
        agreement=mean_agreement(spearman),
        sample=params.sample,
        inputs=shown_inputs,
        segments=segments,
        lime_scores=scores,
        shap_method=shap_result.method_label,
        ig_completeness=ig_result.completeness_error,
        settings={
            "lime_samples": params.lime_samples,
            "segment": params.segment if image else None,
            "background": shap_result.background_size,
            "ig_baseline": params.ig_baseline,
            "ig_steps": ig_result.steps,
        },
        page=dlviz.Page(tuple(dlviz.Note(*note) for note in notes), FORMULAS),
    )


def checked(params):
    """`params` (another plugin's typed Params) after the range checks its controls get from `make_params`."""
    return make_params(type(params), dataclasses.asdict(params))
