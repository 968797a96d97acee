"""The `embeddings` plugin's result: one layer's activations projected to 2-D or 3-D, for the model shown and
at each weight snapshot of a run, with what each point is coloured and described by."""

from __future__ import annotations

import dataclasses

import numpy as np

import dlviz
from dlviz.plugin import tr_names

METHOD_NAMES = {"pca": ("PCA", "主成分分析 (PCA)"), "tsne": ("t-SNE", "t-SNE"), "umap": ("UMAP", "UMAP")}


@dataclasses.dataclass(frozen=True)
class SnapshotProjections:
    """The projection at each chosen weight snapshot, aligned to the last one so points do not jump:
    `coordinates[k]` is (samples, dimensions) at `steps[k]`. `alignment` is "pca" (one PCA fitted on the
    last snapshot projects every snapshot) or "procrustes" (each snapshot's own projection rotated,
    reflected and scaled onto the last one's)."""

    steps: np.ndarray
    coordinates: np.ndarray
    alignment: str


@dataclasses.dataclass(frozen=True)
class EmbeddingResult:
    """Projected activations of `layer` for the samples shown.

    `coordinates` is (samples, dimensions). Per sample: `indices` into the split, `labels` (class ids, or
    the target value for regression), `predicted`, `confidence`; `colour_by` names what colours the
    points and `colour_values` holds it (class ids for "class" and "prediction", 0/1 for "correctness",
    numbers otherwise). `features` holds a few of each sample's input values (in the data's own units) for
    the hover, named by `feature_names`; `image_shape` is set for image inputs.
    """

    layer: str
    layer_units: int
    method: str
    dimensions: int
    split: str
    indices: np.ndarray
    coordinates: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    colour_by: str
    colour_values: np.ndarray
    colour_label: str
    features: np.ndarray
    feature_names: tuple[str, ...]
    image_shape: tuple[int, ...] | None
    class_names: tuple[str, ...]
    regression: bool
    explained_variance: tuple[float, ...]  # PCA's explained variance ratio per axis; () for t-SNE / UMAP
    snapshots: SnapshotProjections | None
    page: dlviz.Page
    class_names_zh: tuple[str, ...] = ()

    def names(self, language: str) -> tuple[str, ...]:
        """Class names in `language` (English when the dataset has no Chinese names)."""
        return tr_names(language, self.class_names, self.class_names_zh)

    @property
    def categorical(self) -> bool:
        """Whether the colouring is a set of categories (one legend entry each) rather than a scale."""
        return self.colour_by in ("class", "prediction", "correctness") and not self.regression
