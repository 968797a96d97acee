"""What the `shap` and `attributions` plugins share: which samples and classes to explain, the class
score of a single-sigmoid head, and the image-with-heatmap panels both draw.

A binary model with one sigmoid unit outputs p = P(class 1). Explaining class 1 explains p (or its
logit z); explaining class 0 must explain 1 - p (or -z), never the unit itself, which is what tools that
index `output[:, class]` end up doing. `class_weights` turns a class per sample into the weights w and
offset c of the score w . output + c that every method here explains.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go

from dlviz.errors import DataError, ParamsError
from dlviz.plugin import tr
from plugins._shared.classes import predicted_classes

# Colour scale of signed attributions: red pushes towards the class, blue away from it, white is zero.
SIGNED_COLOURS = "RdBu_r"
HEATMAP_OPACITY = 0.6


@dataclasses.dataclass(frozen=True)
class Head:
    """The model's output layer as the explanations see it."""

    units: int
    activation: str  # "softmax", "sigmoid" or "linear" (anything else is explained as its raw output)

    @property
    def n_classes(self) -> int:
        """Classes a target may name: 2 for a single sigmoid unit, else one per unit."""
        return 2 if self.single_sigmoid else self.units

    @property
    def single_sigmoid(self) -> bool:
        return self.units == 1 and self.activation == "sigmoid"


def head_of(handle, sample: np.ndarray) -> Head:
    """Describe the output layer of `handle` (a dlviz ModelHandle) from one forward pass."""
    outputs = handle.predict(sample[:1])
    if outputs.ndim != 2:
        raise DataError(
            f"Explanations need one output vector per sample; this model outputs shape {outputs.shape[1:]}.",
            "explain a classifier or regressor whose output has shape (n, units).",
        )
    activation = handle.output_activation or "linear"
    return Head(units=int(outputs.shape[1]), activation=activation)


def explained_inputs(dataset, n: int) -> np.ndarray:
    """The first `n` test samples (training samples when the dataset has no test split)."""
    pool = dataset.x_test if dataset.x_test is not None and len(dataset.x_test) else dataset.x_train
    return np.asarray(pool[:n], dtype=np.float32)


def check_sample(sample: int, n_explained: int, what: str = "Sample") -> None:
    """Refuse a chosen sample index that is not among the `n_explained` samples."""
    if sample >= n_explained:
        raise ParamsError(
            f"{what} {sample} is not among the {n_explained} samples explained.",
            f"pick a sample between 0 and {n_explained - 1}, or explain more samples.",
        )


def one_output_vector_reason(ctx, what: str, what_zh: str) -> str | None:
    """Why `what` cannot explain ctx.model (in ctx.language), or None when it gives one output vector per sample."""
    if len(ctx.model.predict(explained_inputs(ctx.dataset, 1)).shape) != 2:
        return tr(
            ctx.language,
            f"{what} need a model with one output vector per sample.",
            f"{what_zh} 需要每个样本只输出一个向量 (one output vector per sample) 的模型。",
        )
    return None


def resolve_targets(head: Head, outputs: np.ndarray, target: int) -> np.ndarray:
    """One class per sample: the predicted class when `target` is -1, else `target` for every sample."""
    if target == -1:
        if head.n_classes == 1:  # one unit that is no probability: its only "class" is the output itself
            return np.zeros(len(outputs), dtype=np.int64)
        return predicted_classes(outputs)
    if not 0 <= target < head.n_classes:
        raise ParamsError(
            f"Class {target} does not exist: the model's output has {head.n_classes} class(es).",
            f"pick a class between 0 and {head.n_classes - 1}, or -1 for each sample's predicted class.",
        )
    return np.full(len(outputs), target, dtype=np.int64)


def class_weights(head: Head, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights w (n, units) and offsets c (n,) so that w . output + c is the score of each target class.

    A single sigmoid unit: class 1 is the unit (w = 1, c = 0), class 0 its complement (w = -1, c = 1 for
    a probability; pass the offset on only when explaining probabilities, not logits).
    """
    if head.single_sigmoid:
        weights = np.where(targets == 1, 1.0, -1.0).astype(np.float32)[:, None]
        offsets = (targets == 0).astype(np.float32)
        return weights, offsets
    weights = np.zeros((len(targets), head.units), dtype=np.float32)
    weights[np.arange(len(targets)), targets] = 1.0
    return weights, np.zeros(len(targets), dtype=np.float32)


def class_probabilities(head: Head, outputs: np.ndarray) -> np.ndarray:
    """Outputs as one column per class (a single sigmoid unit becomes [1 - p, p])."""
    if head.single_sigmoid:
        return np.concatenate([1.0 - outputs, outputs], axis=1)
    return outputs


def class_label(class_names, index: int, head: Head) -> str:
    """A class's name when the dataset names it, else its index."""
    if head.activation not in ("softmax", "sigmoid"):
        return f"output {index}"
    names = tuple(class_names or ())
    return str(names[index]) if index < len(names) else str(index)


def head_class_names(dataset, head: Head) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The head's class names in English and in Chinese (the Chinese ones empty when the dataset has none)."""
    english = tuple(class_label(dataset.class_names, c, head) for c in range(head.n_classes))
    names_zh = getattr(dataset, "class_names_zh", ())
    chinese = tuple(class_label(names_zh, c, head) for c in range(head.n_classes)) if names_zh else ()
    return english, chinese


@dataclasses.dataclass(frozen=True)
class TargetUnits:
    """A regression model's standardised outputs in the user's units: value = mean + scale * output, per
    target. Attributions and SHAP values are linear in the output, so they convert by the scale alone."""

    names: tuple[str, ...]
    names_zh: tuple[str, ...]
    means: np.ndarray
    scales: np.ndarray

    def values(self, values: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Attributions (n, ...) of each sample's target in the target's units."""
        scales = self.scales[targets].reshape(-1, *([1] * (np.ndim(values) - 1)))
        return (np.asarray(values) * scales).astype(np.float32)

    def outputs(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Outputs (n,) of each sample's target in the target's units."""
        return (self.means[targets] + self.scales[targets] * np.asarray(outputs)).astype(np.float32)


def target_units(dataset, head: Head) -> TargetUnits | None:
    """How the outputs of a regression model on `dataset` read in the user's units (the dataset's
    `target_scaler` undone), or None when the model is no regressor of the dataset's targets."""
    names = tuple(getattr(dataset, "target_names", ()) or ())
    if getattr(dataset, "task", "classification") != "regression" or head.units != len(names):
        return None
    if head.activation in ("softmax", "sigmoid"):
        return None
    scaler = dataset.target_scaler
    means = np.zeros(len(names)) if scaler is None else np.asarray(scaler.mean_, dtype=np.float64)
    scales = np.ones(len(names)) if scaler is None else np.asarray(scaler.scale_, dtype=np.float64)
    return TargetUnits(
        names=names,
        names_zh=tuple(getattr(dataset, "target_names_zh", ()) or ()) or names,
        means=means,
        scales=scales,
    )


def is_image(handle, dataset) -> bool:
    """Whether the inputs are images (height, width, channels)."""
    return len(handle.input_shape) == 3 and (dataset is None or getattr(dataset, "kind", "image") == "image")


def feature_names(dataset, input_shape: tuple) -> tuple[str, ...]:
    """One name per input value: the dataset's column names, pixel (row, column[, channel]), or for a
    sequence of (steps, features) each feature name at its step."""
    size = int(np.prod(input_shape))
    names = tuple(getattr(dataset, "feature_names", ()) or ())
    if len(names) == size:
        return names
    if len(input_shape) == 2 and len(names) == input_shape[1]:
        return tuple(f"{name} @ t{step}" for step in range(input_shape[0]) for name in names)
    if len(input_shape) == 3:
        height, width, channels = input_shape
        return tuple(
            f"pixel ({r}, {c})" if channels == 1 else f"pixel ({r}, {c}, ch {k})"
            for r in range(height)
            for c in range(width)
            for k in range(channels)
        )
    return tuple(f"x{i}" for i in range(size))


def display_values(dataset, x: np.ndarray) -> np.ndarray:
    """Inputs as (n, features) in the dataset's own units (undoing the standardisation of tabular sets)."""
    flat = x.reshape(len(x), -1)
    scaler = getattr(dataset, "scaler", None)
    if scaler is not None and getattr(scaler, "n_features_in_", None) == flat.shape[1]:
        return scaler.inverse_transform(flat).astype(np.float32)
    return flat


def grey(image: np.ndarray) -> np.ndarray:
    """An (H, W, C) image as one (H, W) intensity channel."""
    return image.mean(axis=-1) if image.ndim == 3 else image


def pixel_hover(language: str, value: str = "", fmt: str = ".3g") -> str:
    """Hover text of an image cell: its row and column, then the cell's value (after the label `value`)."""
    where = tr(language, "row %{y}, column %{x}", "第 %{y} 行，第 %{x} 列")
    shown = f"{value} %{{z:{fmt}}}" if value else f"%{{z:{fmt}}}"
    return f"{where}<br>{shown}<extra></extra>"


def grey_image_trace(image: np.ndarray, language: str) -> go.Heatmap:
    """The input image in grey levels (dark ink on white, like the digits themselves)."""
    return go.Heatmap(
        z=grey(image),
        colorscale="Greys",
        showscale=False,
        hovertemplate=pixel_hover(language, tr(language, "value", "值"), ".2f"),
    )


def signed_heatmap(
    values: np.ndarray,
    limit: float,
    *,
    language: str,
    opacity: float = 1.0,
    colorbar_title: str = "",
    show_scale: bool = False,
) -> go.Heatmap:
    """A signed map on the diverging scale, white at zero, symmetric limits [-limit, limit]."""
    limit = float(limit) if limit > 0 else 1.0
    return go.Heatmap(
        z=values,
        colorscale=SIGNED_COLOURS,
        zmid=0.0,
        zmin=-limit,
        zmax=limit,
        opacity=opacity,
        showscale=show_scale,
        colorbar={"title": {"text": colorbar_title, "side": "right"}} if show_scale else None,
        hovertemplate=pixel_hover(language),
    )


def image_axes(figure: go.Figure, rows: int, cols: int) -> None:
    """Square pixels, row 0 at the top, no tick clutter, on every image subplot."""
    for index in range(1, rows * cols + 1):
        suffix = "" if index == 1 else str(index)
        figure.layout[f"yaxis{suffix}"].update(
            autorange="reversed", scaleanchor=f"x{suffix}", showticklabels=False
        )
        figure.layout[f"xaxis{suffix}"].update(showticklabels=False, constrain="domain")
        figure.layout[f"yaxis{suffix}"].update(constrain="domain")


def note_annotation(figure: go.Figure, notes: tuple[str, ...]) -> None:
    """Write the computation's notes (method used, warnings) under the plot."""
    if not notes:
        return
    figure.add_annotation(
        text="<br>".join(notes),
        xref="paper",
        yref="paper",
        x=0.0,
        y=0.0,
        yshift=-48,  # in pixels, so that the margin below holds every line however tall the plot is
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 11, "color": "#7a4b00"},
    )
    figure.update_layout(margin={"b": 90 + 16 * sum(note.count("<br>") + 1 for note in notes)})


def units_text(score: str, language: str) -> str:
    """The unit of an attribution: the explained score."""
    if score == "logit":
        return tr(language, "logit", "logit (对数几率)")
    if score == "probability":
        return tr(language, "probability", "概率")
    return tr(language, "model output", "模型输出")
