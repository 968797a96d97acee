"""Long runs are drawn from downsampled series: a synthetic 100,000-step run through the pages that draw
step and record series; the figures stay bounded, spikes stay visible, and the run keeps every value."""

from __future__ import annotations

import numpy as np
import pytest

from dlviz.plugin import make_params
from dlviz.registry import make_context, plugin_figures, run_plugin
from dlviz.runs import MAX_DRAWN_POINTS, Run, downsample, downsample_indices
from plugins.activations import Activations
from plugins.compare_runs import CompareRuns
from plugins.gradients import Gradients
from tests.dlviz.test_runs import META

STEPS = 100_000
CHUNKS = 10
EVERY = 5
SPIKE_STEP = 43_217  # a single bad step: striding by 50 would step over it
BINS = 6


def long_chunk(index: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    per_chunk = STEPS // CHUNKS
    steps = np.arange(index * per_chunk, (index + 1) * per_chunk)
    records = steps[steps % EVERY == 0]
    n = len(records)
    loss = 1.0 / np.sqrt(1.0 + steps) + rng.normal(scale=1e-3, size=len(steps))
    loss[steps == SPIKE_STEP] = 5.0
    edges = np.sort(rng.random((n, 2, BINS + 1)).astype(np.float32), axis=-1)
    return {
        "steps/step": steps,
        "steps/epoch": np.full(len(steps), index),
        "steps/loss": loss,
        "epochs/epoch": np.array([index]),
        "epochs/step": np.array([steps[-1] + 1]),
        "epochs/loss": np.array([loss.mean()]),
        "records/step": records,
        "records/grad_norm": rng.random((n, 2)).astype(np.float32) + 0.5,
        "records/update_ratio": np.full((n, 2), 1e-3, np.float32),
        "records/act_mean": rng.random((n, 2)).astype(np.float32),
        "records/act_zero_frac": rng.random((n, 2)).astype(np.float32) * 0.1,
        "records/act_sat_frac": np.zeros((n, 2), np.float32),
        "records/grad_hist_counts": rng.integers(0, 50, (n, 2, BINS)).astype(np.int32),
        "records/grad_hist_edges": edges,
        "records/act_hist_counts": rng.integers(0, 50, (n, 2, BINS)).astype(np.int32),
        "records/act_hist_edges": edges,
    }


def draw(plugin, run, runs=(), **values) -> list:
    """The plugin's figures as the dashboard draws them (without loading every other plugin)."""
    result = run_plugin(plugin, make_context(run=run, runs=runs), make_params(plugin.Params, values))
    return plugin_figures(plugin, result, "en")


@pytest.fixture(scope="module")
def long_run() -> Run:
    rng = np.random.default_rng(0)
    run = Run({**META, "model_name": "long"})
    for index in range(CHUNKS):
        run._append_chunk(long_chunk(index, rng))
    return run


def test_min_max_downsampling_keeps_the_envelope_and_the_ends():
    values = np.sin(np.linspace(0, 60, 50_001))
    values[12_345], values[40_000] = 9.0, -9.0
    values[20_000:20_500] = np.nan
    kept = downsample_indices(values, max_points=500)
    assert len(kept) <= 500 and np.all(np.diff(kept) > 0)
    assert kept[0] == 0 and kept[-1] == len(values) - 1
    assert {12_345, 40_000} <= set(kept.tolist())
    assert np.isnan(values[kept]).any()  # the gap is still drawn as a gap
    # Between kept points nothing lies outside their range: what is drawn covers every value.
    finite = np.isfinite(values)
    assert np.nanmax(values[kept]) == values[finite].max() and np.nanmin(values[kept]) == values[finite].min()
    short = np.arange(10.0)
    np.testing.assert_array_equal(downsample_indices(short, 100), np.arange(10))
    x, y = downsample(np.arange(50_001) * 2, values, max_points=500)
    assert np.array_equal(x, kept * 2) and np.array_equal(y, values[kept], equal_nan=True)


def test_step_curves_of_a_long_run_are_drawn_bounded_with_the_spike(long_run):
    other = Run({**META, "model_name": "other"})
    other._append_chunk(long_chunk(0, np.random.default_rng(1)))
    curves = draw(CompareRuns(), long_run, (other,), x_axis="step")[0]
    lines = [trace for trace in curves.data if trace.name and len(trace.x) > 2]
    assert lines, [trace.name for trace in curves.data]
    assert all(len(trace.x) <= MAX_DRAWN_POINTS for trace in curves.data)
    longest = max(lines, key=lambda trace: trace.x[-1])
    assert longest.x[-1] == STEPS - 1 and max(longest.y) == 5.0
    assert SPIKE_STEP in np.asarray(longest.x).astype(int)
    assert len(long_run.steps["step"]) == STEPS and long_run.steps["loss"].max() == 5.0


@pytest.mark.parametrize("plugin", [Gradients(), Activations()], ids=["gradients", "activations"])
def test_record_pages_draw_a_bounded_window_of_a_long_run(long_run, plugin):
    records = len(long_run.record_steps)
    assert records == STEPS // EVERY
    name = plugin.name
    figures = draw(plugin, long_run, max_points=MAX_DRAWN_POINTS)
    assert figures
    for figure in figures:
        for trace in figure.data:
            for axis in ("x", "y", "z"):
                values = getattr(trace, axis, None)
                if values is not None and np.ndim(values) >= 1:
                    assert np.shape(values)[-1] <= MAX_DRAWN_POINTS, (name, trace.type, axis)
    assert len(long_run.series("grad_norm")["dense"]) == records
