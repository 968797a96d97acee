"""Attributions of token ids, through the model's Embedding.

Token ids are looked up, not multiplied: they have no gradient. The standard approach explains the
Embedding's output instead: Integrated Gradients moves each token's embedding vector from a baseline
vector to its own along a straight line, and Gradient × Input multiplies the gradient by the embedding;
each token's attribution is the sum over the embedding dimensions. IG's completeness then holds per
sample: the token attributions add up to score(x) - score(baseline embeddings).

The Embedding is made to return the path's vectors by replacing its `call` for the duration of one
forward pass, so the rest of the model, and the mask the Embedding computes from the token ids, are the
model's own whatever its architecture.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz.errors import ParamsError
from dlviz.handle import leaf_layers
from dlviz.plugin import tr
from plugins._shared.explain import (
    check_sample,
    class_probabilities,
    class_weights,
    head_class_names,
    head_of,
    resolve_targets,
    target_units,
)
from plugins.attributions.result import COMPLETENESS_LIMIT, AttributionResult

if TYPE_CHECKING:
    from plugins.attributions.plugin import Params

TOKEN_METHODS = ("integrated_gradients", "gradient_x_input")
# Rows (token sequences on IG's path) per forward pass.
ROWS_PER_CALL = 512


def embedding_layer(model: keras.Model) -> keras.layers.Embedding | None:
    """The first Embedding among the model's layers (the one that looks the token ids up), or None."""
    return next((layer for layer in leaf_layers(model) if isinstance(layer, keras.layers.Embedding)), None)


@contextlib.contextmanager
def _returning(layer: keras.layers.Layer, values: tf.Tensor):
    """Inside the block `layer` returns `values` instead of computing its output; Keras still computes
    its mask from the inputs (an Embedding's mask_zero mask from the token ids)."""
    own_call = layer.__dict__.get("call")
    object.__setattr__(layer, "call", lambda *args, **kwargs: values)
    try:
        yield
    finally:
        if own_call is None:
            object.__delattr__(layer, "call")
        else:
            object.__setattr__(layer, "call", own_call)


def token_attributions(ctx: dlviz.Context, params: Params) -> AttributionResult:
    """Per-token attributions of the first `params.n_samples` test sequences of ctx.dataset (token ids)."""
    started = time.perf_counter()
    handle, dataset = ctx.model, ctx.dataset
    pool = dataset.x_test if len(dataset.x_test) else dataset.x_train
    tokens = np.asarray(pool[: params.n_samples], dtype=np.int32)
    check_sample(params.sample, len(tokens))
    methods = _token_methods(params.methods)
    model, layer = handle.model, embedding_layer(handle.model)
    head = head_of(handle, tokens)
    outputs = handle.predict(tokens)
    targets = resolve_targets(head, outputs, params.target)
    weights, offsets = class_weights(head, targets)
    use_logits = params.score == "logit" and head.activation in ("softmax", "sigmoid")
    if use_logits:
        offsets = np.zeros_like(offsets)
    notes: list[tuple[str, str]] = []
    embedded = np.asarray(layer(tf.constant(tokens)), dtype=np.float32)  # (n, steps, dimensions)
    baseline = _baseline(params.baseline, layer, dataset, embedded)
    alphas = np.linspace(0.0, 1.0, params.steps + 1, dtype=np.float32)
    trapezoid = np.full(params.steps + 1, 1.0 / params.steps, dtype=np.float32)
    trapezoid[[0, -1]] *= 0.5
    path = baseline[:, None] + alphas[None, :, None, None] * (embedded - baseline)[:, None]
    ctx.report(0.05, tr(ctx.language, "attributions per token", "计算每个词元的归因"))
    scores, gradients = _scores_and_gradients(
        model,
        layer,
        np.repeat(tokens, len(alphas), axis=0),
        path.reshape(-1, *embedded.shape[1:]),
        np.repeat(weights, len(alphas), axis=0),
        np.repeat(offsets, len(alphas), axis=0),
        use_logits,
        head.activation == "sigmoid",
        notes,
    )
    scores = scores.reshape(len(tokens), len(alphas))
    gradients = gradients.reshape(len(tokens), len(alphas), *embedded.shape[1:])
    raw = {
        "integrated_gradients": (
            (embedded - baseline) * np.tensordot(trapezoid, gradients, axes=([0], [1]))
        ).sum(axis=-1),
        "gradient_x_input": (gradients[:, -1] * embedded).sum(axis=-1),
    }
    ig_sums, ig_deltas = raw["integrated_gradients"].sum(axis=1), scores[:, -1] - scores[:, 0]
    explained = scores[:, -1]
    units = target_units(dataset, head)
    if units is not None:  # a regressor: every number in the target's units
        raw = {method: units.values(values, targets) for method, values in raw.items()}
        ig_sums, ig_deltas = units.values(ig_sums, targets), units.values(ig_deltas, targets)
        explained = units.outputs(explained, targets)
    completeness = float(np.max(np.abs(ig_sums - ig_deltas)) / max(np.mean(np.abs(ig_deltas)), 1e-12))
    if completeness > COMPLETENESS_LIMIT:
        notes.append(
            (
                f"Integrated Gradients' sum misses score(x) - score(baseline) by {completeness:.1%}: use more steps.",
                f"积分梯度 (Integrated Gradients) 之和与 score(x) - score(baseline) 相差 {completeness:.1%}：请增加步数。",
            )
        )
    probabilities = class_probabilities(head, outputs)[np.arange(len(tokens)), targets]
    names_en, names_zh = head_class_names(dataset, head)
    if units is not None:
        probabilities, names_en, names_zh = explained, units.names, units.names_zh
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return AttributionResult(
        methods=methods,
        maps={method: raw[method].astype(np.float32) for method in methods},
        inputs=tokens,
        feature_values=tokens.astype(np.float32),
        feature_names=tuple(f"t{step}" for step in range(tokens.shape[1])),
        image=False,
        targets=targets,
        probabilities=probabilities,
        class_names=names_en,
        class_names_zh=names_zh,
        score=params.score if head.activation in ("softmax", "sigmoid") else "output",
        outputs=explained.astype(np.float32),
        baseline=params.baseline,
        steps=params.steps,
        smoothgrad_samples=params.smoothgrad_samples,
        smoothgrad_noise=params.smoothgrad_noise,
        grad_cam_layer=None,
        ig_sums=ig_sums.astype(np.float32),
        ig_deltas=ig_deltas.astype(np.float32),
        completeness_error=completeness,
        sanity=None,
        sample=params.sample,
        notes=tuple(english for english, _ in notes),
        seconds=time.perf_counter() - started,
        notes_zh=tuple(chinese for _, chinese in notes),
        regression=units is not None,
        tokens=tuple(tuple(_word(dataset, token) for token in row) for row in tokens),
    )


def _token_methods(chosen: tuple) -> tuple[str, ...]:
    if "auto" in chosen:
        return TOKEN_METHODS
    methods = tuple(method for method in TOKEN_METHODS if method in chosen)
    if not methods:
        raise ParamsError(
            "Token ids are explained through the Embedding by Integrated Gradients and Gradient x Input only "
            "(saliency, SmoothGrad and Grad-CAM need an input to differentiate or a convolution).",
            "pick integrated_gradients and/or gradient_x_input, or auto.",
        )
    return methods


def _baseline(kind: str, layer, dataset, embedded: np.ndarray) -> np.ndarray:
    """IG's starting embeddings: zero vectors, or every position at the mean embedding of the training tokens."""
    if kind == "zeros":
        return np.zeros_like(embedded)
    if kind == "mean":
        table = np.asarray(layer.embeddings, dtype=np.float32)
        counts = np.bincount(np.asarray(dataset.x_train).ravel(), minlength=len(table))
        mean = (counts[:, None] * table).sum(axis=0) / max(counts.sum(), 1)
        return np.broadcast_to(mean, embedded.shape).astype(np.float32)
    raise ParamsError(
        "A blurred baseline needs images; token sequences start from zero or mean embeddings.",
        "use baseline='zeros' or 'mean' for token ids.",
    )


def _scores_and_gradients(model, layer, tokens, embedded, weights, offsets, use_logits, sigmoid, notes):
    """The explained score of each row (the model's output with `layer` returning `embedded`) and its
    gradient with respect to those embeddings."""
    scores, gradients = [], []
    for start in range(0, len(tokens), ROWS_PER_CALL):
        rows = slice(start, start + ROWS_PER_CALL)
        vectors = tf.constant(embedded[rows])
        with tf.GradientTape() as tape:
            tape.watch(vectors)
            with _returning(layer, vectors):
                outputs = model(tf.constant(tokens[rows]), training=False)
            explained = _logits(outputs, sigmoid, notes) if use_logits else outputs
            score = tf.reduce_sum(explained * weights[rows], axis=-1) + offsets[rows]
        scores.append(score.numpy())
        gradients.append(tape.gradient(score, vectors).numpy())
    return np.concatenate(scores), np.concatenate(gradients)


def _logits(outputs, sigmoid: bool, notes):
    logits = getattr(outputs, "_keras_logits", None)
    if logits is not None:
        return logits
    note = (
        "The model's logits were not reachable; used log(p / (1 - p)) (sigmoid) or log p (softmax) instead.",
        "无法取得模型的 logits（对数几率）；改用 log(p / (1 - p))（sigmoid）或 log p（softmax）。",
    )
    if note not in notes:
        notes.append(note)
    probabilities = tf.clip_by_value(outputs, 1e-7, 1.0 - 1e-7)
    if sigmoid:
        return tf.math.log(probabilities) - tf.math.log1p(-probabilities)
    return tf.math.log(probabilities)


def _word(dataset, token: int) -> str:
    vocabulary = tuple(getattr(dataset, "vocabulary", ()) or ())
    return vocabulary[token] if token < len(vocabulary) else f"#{token}"
