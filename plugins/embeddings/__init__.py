"""The `embeddings` plugin (the projector): a layer's activations projected by PCA, t-SNE or UMAP."""

from plugins.embeddings.compute import embed
from plugins.embeddings.plugin import Embeddings, Params
from plugins.embeddings.result import EmbeddingResult

__all__ = ["EmbeddingResult", "Embeddings", "Params", "embed"]
