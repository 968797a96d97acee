"""The `embeddings` plugin's computation: a layer's activations on a sample of the data, projected by PCA,
t-SNE (scikit-learn) or UMAP (umap-learn, when installed), for the model shown and at the run's snapshots."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import numpy as np

import dlviz
from dlviz.errors import DataError, ModelError, ParamsError, PluginError
from dlviz.plugin import tr
from plugins._shared.explain import display_values, feature_names, is_image
from plugins._shared.snapshots import SNAPSHOTS_NOT_SHOWN, SnapshotModel, check_run_fits, snapshot_indices
from plugins.embeddings.result import METHOD_NAMES, EmbeddingResult, SnapshotProjections
from plugins.evaluation import class_scores, in_target_units

if TYPE_CHECKING:
    from plugins.embeddings.plugin import Params

UMAP_AVAILABLE = importlib.util.find_spec("umap") is not None
METHODS = ("pca", "tsne", *(("umap",) if UMAP_AVAILABLE else ()))
# Input values shown in a tabular sample's hover.
HOVER_FEATURES = 6


def default_layer(handle) -> str:
    """The layer whose activations the projector shows by default: the last one before the output layer."""
    layers = handle.layers
    return layers[-2].name if len(layers) > 1 else layers[-1].name


def embed(ctx: dlviz.Context, params: Params) -> EmbeddingResult:
    """Project ctx.model's activations of `params.layer` (the `embeddings` plugin's computation, for other
    plugins to call with typed `Params`)."""
    handle, dataset = ctx.model, ctx.dataset
    layer = params.layer or default_layer(handle)
    names = [info.name for info in handle.layers]
    if layer not in names:
        raise ParamsError(
            f"The model has no layer {layer!r}.", f"use one of: {', '.join(names)} (or leave it empty)."
        )
    split, x, y, indices = _sample(ctx, params.samples)
    regression = getattr(dataset, "task", "classification") == "regression"
    ctx.report(0.05, tr(ctx.language, "activations", "激活值"))
    activations = _flat(handle.activations(x, layers=[layer])[layer])
    if activations.shape[1] < params.dimensions:
        raise ParamsError(
            f"Layer {layer!r} has {activations.shape[1]} unit(s): too few to project to {params.dimensions} dimensions.",
            "choose a wider layer, or fewer dimensions.",
        )
    outputs = handle.predict(x)
    if regression:  # the first target, in the user's units; a regressor has no confidence: its error instead
        y = in_target_units(dataset, y)[:, 0]
        predicted = in_target_units(dataset, outputs)[:, 0]
        confidence = np.abs(predicted - y)
    else:
        scores = class_scores(outputs, handle.output_activation)
        predicted, confidence = scores.argmax(axis=1), scores.max(axis=1)
    ctx.report(
        0.15,
        tr(
            ctx.language,
            f"projecting ({METHOD_NAMES[params.method][0]})",
            f"投影中（{METHOD_NAMES[params.method][1]}）",
        ),
    )
    coordinates, explained = project(
        activations, params.method, params.dimensions, ctx.seed, params.perplexity
    )
    snapshots = _snapshot_projections(ctx, params, layer, x, activations) if params.snapshots else None
    colour_values, colour_label = _colouring(params, dataset, handle, x, y, predicted, confidence, regression)
    display = display_values(dataset, x)
    all_names = feature_names(dataset, tuple(handle.input_shape))
    image = is_image(handle, dataset)
    shown = slice(0, 0) if image else slice(0, HOVER_FEATURES)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    class_names = tuple(dataset.class_names) if not regression else ()
    return EmbeddingResult(
        layer=layer,
        layer_units=int(activations.shape[1]),
        method=params.method,
        dimensions=params.dimensions,
        split=split,
        indices=indices,
        coordinates=coordinates.astype(np.float32),
        labels=y,
        predicted=predicted,
        confidence=confidence.astype(np.float32),
        colour_by=params.colour_by,
        colour_values=colour_values,
        colour_label=colour_label,
        features=display[:, shown],
        feature_names=all_names[shown],
        image_shape=tuple(handle.input_shape) if image else None,
        class_names=class_names,
        class_names_zh=tuple(getattr(dataset, "class_names_zh", ()) or ()) if not regression else (),
        regression=regression,
        explained_variance=explained,
        snapshots=snapshots,
        page=_page(params, ctx, snapshots),
    )


def project(activations: np.ndarray, method: str, dimensions: int, seed: int, perplexity: float):
    """(samples, dimensions) coordinates and, for PCA, the explained variance ratio of each axis."""
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=dimensions, random_state=seed)
        return pca.fit_transform(activations), tuple(float(r) for r in pca.explained_variance_ratio_)
    if method == "tsne":
        from sklearn.manifold import TSNE

        # scikit-learn requires perplexity < samples; a third of the samples keeps neighbourhoods meaningful.
        usable = min(perplexity, max((len(activations) - 1) / 3, 1.0))
        tsne = TSNE(n_components=dimensions, perplexity=usable, init="pca", random_state=seed)
        return tsne.fit_transform(activations), ()
    if method == "umap" and UMAP_AVAILABLE:
        import umap

        return umap.UMAP(n_components=dimensions, random_state=seed).fit_transform(activations), ()
    raise ParamsError(
        f"Projection {method!r} is not available here.",
        "use 'pca' or 'tsne'; UMAP needs the optional extra: pip install 'dlviz[umap]'.",
    )


def align(coordinates: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`coordinates` rotated, reflected, scaled and shifted onto `reference` (orthogonal Procrustes)."""
    from scipy.linalg import orthogonal_procrustes

    centred, reference_centre = coordinates - coordinates.mean(axis=0), reference.mean(axis=0)
    rotation, singular_sum = orthogonal_procrustes(centred, reference - reference_centre)
    scale = singular_sum / max(float((centred**2).sum()), 1e-12)
    return scale * centred @ rotation + reference_centre


def _snapshot_projections(ctx, params, layer, x, activations) -> SnapshotProjections | None:
    run = ctx.run
    if run is None or len(run.snapshot_steps) == 0:
        return None
    try:
        check_run_fits(run, ctx.model.model)
        replay = SnapshotModel(ctx.model, run)
    except (PluginError, ModelError):
        return None  # a run of another model, or a model Keras cannot copy: the page says so
    indices = snapshot_indices(len(replay.steps), params.max_snapshots)
    per_snapshot = []
    for done, index in enumerate(indices):
        ctx.report(0.3 + 0.7 * done / len(indices), tr(ctx.language, "weight snapshots", "权重快照"))
        per_snapshot.append(_flat(replay.load(int(index)).activations(x, layers=[layer])[layer]))
    if params.method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=params.dimensions, random_state=ctx.seed).fit(per_snapshot[-1])
        coordinates = [pca.transform(values) for values in per_snapshot]
        alignment = "pca"
    else:
        projected = [
            project(values, params.method, params.dimensions, ctx.seed, params.perplexity)[0]
            for values in per_snapshot
        ]
        coordinates = [align(points, projected[-1]) for points in projected]
        alignment = "procrustes"
    return SnapshotProjections(replay.steps[indices], np.stack(coordinates).astype(np.float32), alignment)


def _sample(ctx, samples: int):
    dataset = ctx.dataset
    split = "test" if dataset.x_test is not None and len(dataset.x_test) else "train"
    x, y = (dataset.x_test, dataset.y_test) if split == "test" else (dataset.x_train, dataset.y_train)
    if len(x) < 5:
        raise DataError(
            f"The {split} split has {len(x)} samples: too few to project.", "use a larger dataset."
        )
    indices = np.arange(len(x))
    if len(x) > samples:
        indices = np.sort(np.random.default_rng(ctx.seed).choice(len(x), samples, replace=False))
    return split, np.asarray(x[indices]), np.asarray(y[indices]), indices


def _flat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(len(values), -1)


def _colouring(params, dataset, handle, x, y, predicted, confidence, regression) -> tuple[np.ndarray, str]:
    """The value that colours each point, and the feature's name when a feature colours them ("" otherwise).
    A regressor has no classes and no confidence: "class" is the target, "prediction" the prediction, and
    "correctness" and "confidence" both the absolute error."""
    chosen = params.colour_by
    if chosen != "feature":
        by = {"class": y, "prediction": predicted, "confidence": confidence}
        by["correctness"] = confidence if regression else (predicted == y).astype(np.int64)
        return np.asarray(by[chosen]), ""
    names = feature_names(dataset, tuple(handle.input_shape))
    feature = params.feature or names[0]
    if feature not in names:
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise ParamsError(f"The data has no feature {feature!r}.", f"use one of: {shown}")
    return display_values(dataset, x)[:, names.index(feature)], feature


def _page(params, ctx, snapshots) -> dlviz.Page:
    notes = []
    if params.method == "tsne":
        notes.append(
            dlviz.Note(
                "t-SNE keeps neighbours together but not distances: the size of a cluster and the gaps between "
                "clusters mean little.",
                "t-SNE 保留近邻关系而不保留距离：簇的大小和簇之间的间隔意义不大。",
            )
        )
    if params.snapshots and ctx.run is not None and snapshots is None:
        notes.append(SNAPSHOTS_NOT_SHOWN)
    return dlviz.Page(notes=tuple(notes))
