"""What the `gradients` and `activations` plugins share: their record controls, windows over a run's
records, histograms rebinned to common edges, the onset of a persistent condition, the
heatmap-of-histograms figure, and the test samples (with their input images) both show.

Runs record histograms with each record's own edges (a record's gradients may span 1e-6 or 1e2);
a heatmap over steps needs one set of edges, so counts are redistributed onto common edges assuming a
uniform density inside each recorded bin (exact at the edges the two sets share).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

import dlviz
from dlviz.plugin import tr
from plugins._shared.layers import DEFAULT_LAYERS, DEFAULT_MAP_LAYERS, MAX_CHOSEN_LAYERS

# Layers that only reshape or mask their input: their outputs repeat the previous layer's values.
PASS_THROUGH_KINDS = frozenset(
    {"Flatten", "Reshape", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "Permute"}
)


@dataclasses.dataclass(frozen=True)
class RecordParams:
    """The controls both plugins offer over a run's records: layers, step range, resolution, persistence."""

    layers: tuple = dlviz.param(
        (),
        label="Layers",
        label_zh="显示的层",
        help=f"Layers to show, input to output (at most {MAX_CHOSEN_LAYERS}); empty shows an even selection of "
        f"at most {DEFAULT_LAYERS} ({DEFAULT_MAP_LAYERS} for feature maps and unit responses), first and last "
        "layer included.",
        help_zh=f"要显示的层（从输入到输出，最多 {MAX_CHOSEN_LAYERS} 个）；留空则均匀选取至多 {DEFAULT_LAYERS} 个层"
        f"（特征图和单元响应至多 {DEFAULT_MAP_LAYERS} 个），包括第一层和最后一层。",
        multiple=True,
    )
    first_step: int = dlviz.param(
        0,
        label="First step",
        label_zh="起始步数",
        help="Show records from this training step on.",
        help_zh="从这一训练步开始显示。",
        min=0,
        step=1,
    )
    last_step: int = dlviz.param(
        0,
        label="Last step",
        label_zh="结束步数",
        help="Show records up to this step; 0 = to the end.",
        help_zh="显示到这一步为止；0 表示直到结束。",
        min=0,
        step=1,
    )
    max_points: int = dlviz.param(
        200,
        label="Steps drawn",
        label_zh="绘制的步数",
        min=10,
        max=2000,
        step=10,
        help="At most this many records are drawn; longer runs are thinned evenly (the diagnosis uses all).",
        help_zh="最多绘制这么多条记录；更长的训练记录会被均匀抽稀（诊断仍使用全部记录）。",
    )
    bins: int = dlviz.param(
        40,
        label="Histogram bins",
        label_zh="直方图分箱数",
        min=5,
        max=200,
        step=5,
        help="Bins of the histograms drawn.",
        help_zh="所画直方图的分箱数。",
    )
    persist: int = dlviz.param(
        3,
        label="Records in a row",
        label_zh="连续记录数",
        min=1,
        max=100,
        step=1,
        help="A problem must show in this many consecutive records before the diagnosis reports it.",
        help_zh="问题需在连续这么多条记录中出现，诊断才会报告。",
    )


def record_window(steps: np.ndarray, first_step: int, last_step: int, max_points: int) -> np.ndarray:
    """Indices of the records between `first_step` and `last_step` (0 = the end), thinned evenly
    to at most `max_points` (the first and the last record of the window are always kept)."""
    steps = np.asarray(steps)
    mask = steps >= first_step
    if last_step > 0:
        mask &= steps <= last_step
    indices = np.flatnonzero(mask)
    if not len(indices):
        span = f"{int(steps.min())}..{int(steps.max())}" if len(steps) else "none"
        raise dlviz.ParamsError(
            f"No records between step {first_step} and {last_step or 'the end'} (the run has steps {span}).",
            "widen the step range (last step 0 means up to the end).",
        )
    if len(indices) > max_points:
        keep = np.unique(np.round(np.linspace(0, len(indices) - 1, max_points)).astype(int))
        indices = indices[keep]
    return indices


def onset(condition: np.ndarray, persist: int) -> int | None:
    """Index of the first record that starts `persist` consecutive True records (shorter runs of
    records need all of them), or None when the condition never persists that long."""
    condition = np.asarray(condition, bool)
    if not len(condition):
        return None
    need = max(1, min(int(persist), len(condition)))
    full_windows = np.convolve(condition.astype(int), np.ones(need, int), mode="valid") == need
    hits = np.flatnonzero(full_windows)
    return int(hits[0]) if len(hits) else None


def histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Shares [bins] (summing to 1) and edges [bins+1] of the finite `values`; all-equal values get a
    narrow range around them instead of numpy's "too many bins" error."""
    values = np.asarray(values, np.float64).ravel()
    values = values[np.isfinite(values)]
    if not values.size:
        return np.zeros(bins), np.linspace(-1.0, 1.0, bins + 1)
    low, high = float(values.min()), float(values.max())
    pad = max(abs(low), abs(high), 1.0) * 1e-6
    if high - low < pad:
        low, high = low - pad, high + pad
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    return counts / values.size, edges


def rebin(counts: np.ndarray, edges: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Histograms [n_records, b] with per-record edges [n_records, b+1] onto `bins` common linear edges.

    Returns (common_edges [bins+1], fractions [n_records, bins]); each row sums to 1, or is NaN where
    the record has no finite values.
    """
    counts = np.asarray(counts, np.float64)
    edges = np.asarray(edges, np.float64)
    totals = counts.sum(axis=1)
    valid = np.all(np.isfinite(edges), axis=1) & np.isfinite(totals) & (totals > 0)
    if not valid.any():
        return np.linspace(-1.0, 1.0, bins + 1), np.full((len(counts), bins), np.nan)
    low, high = float(edges[valid, 0].min()), float(edges[valid, -1].max())
    if high <= low:
        pad = max(abs(low) * 1e-3, 1e-12)
        low, high = low - pad, high + pad
    common = np.linspace(low, high, bins + 1)
    fractions = np.full((len(counts), bins), np.nan)
    for row in np.flatnonzero(valid):
        row_edges = edges[row]
        if row_edges[-1] <= row_edges[0]:  # every value equal: a point mass
            index = min(int(np.searchsorted(common, row_edges[0], side="right")) - 1, bins - 1)
            fractions[row] = 0.0
            fractions[row, max(index, 0)] = 1.0
            continue
        cdf = np.concatenate([[0.0], np.cumsum(counts[row])]) / totals[row]
        fractions[row] = np.diff(np.interp(common, row_edges, cdf))
    return common, fractions


@dataclasses.dataclass(frozen=True)
class HistogramsOverTime:
    """Per-layer histograms over the shown records, on common edges per layer."""

    layers: tuple[str, ...]
    steps: np.ndarray  # [n_steps]
    edges: tuple[np.ndarray, ...]  # per layer [bins+1]
    fractions: tuple[np.ndarray, ...]  # per layer [n_steps, bins]


def histograms_over_time(
    histograms: dict[str, tuple[np.ndarray, np.ndarray]],
    layers: list[str],
    steps: np.ndarray,
    indices: np.ndarray,
    bins: int,
) -> HistogramsOverTime:
    """Rebin the recorded histograms of `layers` at the records `indices` onto common edges."""
    shown = [layer for layer in layers if layer in histograms]
    edges, fractions = [], []
    for layer in shown:
        counts, layer_edges = histograms[layer]
        common, layer_fractions = rebin(counts[indices], layer_edges[indices], bins)
        edges.append(common.astype(np.float32))
        fractions.append(layer_fractions.astype(np.float32))
    return HistogramsOverTime(tuple(shown), np.asarray(steps)[indices], tuple(edges), tuple(fractions))


@functools.cache
def _colour_steps(n: int) -> tuple[str, ...]:
    return tuple(sample_colorscale("Plasma", list(np.linspace(0.0, 0.85, n)) if n > 1 else [0.0]))


def layer_colours(n: int) -> list[str]:
    """One colour per layer, dark (input side) to light (output side), all readable on white."""
    return list(_colour_steps(n))


# Shares below this (in %) are drawn as empty; the colour scale spans SHARE_FLOOR..100 % in decades.
SHARE_FLOOR = 0.01


def histogram_heatmaps(
    histograms: HistogramsOverTime, *, title: str, value_label: str, language: str
) -> go.Figure:
    """One heatmap per layer (rows, input at the top): step on x, value on y, share of values as colour.

    The colour is logarithmic in the share, so that the thin tails of a distribution stay visible
    beside its peak; empty bins are left blank. The rows share one step axis; the layout is written
    out directly (make_subplots costs more than everything else this figure does).
    """
    n = len(histograms.layers)
    gap = min(0.1, 0.5 / max(n, 1))
    row_height = (1 - gap * (n - 1)) / n
    share = tr(language, "share of values", "数值占比")
    step = tr(language, "step", "步数")
    traces, layout, titles = [], {}, []
    for row, (layer, edges, fractions) in enumerate(
        zip(histograms.layers, histograms.edges, histograms.fractions, strict=True)
    ):
        percent = fractions.T.astype(np.float64) * 100
        with np.errstate(divide="ignore", invalid="ignore"):
            shade = np.where(percent >= SHARE_FLOOR, np.log10(percent), np.nan)
        axis = f"y{row + 1}" if row else "y"
        traces.append(
            go.Heatmap(
                x=histograms.steps,
                y=(edges[:-1] + edges[1:]) / 2,
                z=shade.astype(np.float32),
                customdata=percent.astype(np.float32),
                coloraxis="coloraxis",
                name=layer,
                yaxis=axis,
                hovertemplate=(
                    f"{layer}<br>{step} %{{x}}<br>{value_label} %{{y:.3g}}<br>{share} %{{customdata:.2f}}%"
                    "<extra></extra>"
                ),
            )
        )
        top = 1 - row * (row_height + gap)
        layout[f"yaxis{row + 1 if row else ''}"] = {
            "domain": [max(top - row_height, 0.0), top],
            "anchor": "x",
            "exponentformat": "e",
            "title": {"text": value_label if n <= 3 else ""},
        }
        titles.append(
            {
                "text": layer,
                "x": 0.5,
                "y": top,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
        )
    if n > 3:
        titles.append(
            {
                "text": value_label,
                "textangle": -90,
                "x": -0.09,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "showarrow": False,
            }
        )
    decades = np.arange(np.log10(SHARE_FLOOR), 2.5)
    return go.Figure(
        traces,
        layout={
            **layout,
            "title": {"text": title},
            "xaxis": {
                "anchor": f"y{n}" if n > 1 else "y",
                "title": {"text": tr(language, "training step", "训练步数 (step)")},
            },
            "annotations": titles,
            "height": max(320, (150 if n <= 6 else 110) * n + 120),
            "coloraxis": {
                "colorscale": "Viridis",
                "cmin": float(decades[0]),
                "cmax": 2.0,
                "colorbar": {
                    "title": {"text": share + " (%)"},
                    "tickvals": decades.tolist(),
                    "ticktext": [f"{10.0**d:g}%" for d in decades],
                },
            },
            "plot_bgcolor": "white",
            "margin": {"l": 80, "r": 20, "t": 80, "b": 50},
        },
    )


def test_samples(dataset, first: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, x, y) of up to `count` test samples from index `first` (training samples without a test split)."""
    x, y = (dataset.x_test, dataset.y_test) if len(dataset.x_test) else (dataset.x_train, dataset.y_train)
    if first >= len(x):
        raise dlviz.ParamsError(
            f"sample_index {first} is past the last test sample ({len(x) - 1}).",
            f"choose a sample index between 0 and {len(x) - 1}.",
        )
    indices = np.arange(first, min(first + count, len(x)))
    return indices, x[indices], y[indices]


def image_trace(image: np.ndarray, name: str = "") -> go.Image | go.Heatmap:
    """An input image [H, W, C] as a trace: RGB as an image, one channel as a grey heatmap."""
    if image.shape[-1] == 3:
        return go.Image(z=(np.clip(image, 0, 1) * 255).astype(np.uint8), name=name, hoverinfo="skip")
    return go.Heatmap(
        z=image[..., 0],
        colorscale="gray",
        showscale=False,
        name=name,
        hovertemplate="x %{x}, y %{y}<br>%{z:.2f}<extra></extra>",
    )


def run_label(run, index: int, language: str = "en") -> str:
    """A short name for a run in legends: its own name, its folder, or its position in `language`."""
    name = run.meta.get("name") if isinstance(getattr(run, "meta", None), dict) else None
    if name:
        return str(name)
    if getattr(run, "path", None) is not None:
        return run.path.name
    return tr(language, f"run {index + 1}", f"训练记录 {index + 1}")
