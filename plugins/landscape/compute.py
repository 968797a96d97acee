"""The loss landscape's computation: the plane, the loss on its grid, trajectories and 1-D lines."""

from __future__ import annotations

import math

import numpy as np

import dlviz
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import tr
from plugins.landscape.directions import covering_axis, filter_normalized_direction, flat_weights, pca_plane
from plugins.landscape.evaluation import BatchedLoss
from plugins.landscape.result import LandscapeResult, Line, Trajectory

MAX_MULTIPLY_ADDS = 2e12
LINE_RANGE = (-0.5, 1.5)


def compute_landscape(ctx: dlviz.Context, params) -> LandscapeResult:
    """The loss on a grid over the chosen plane through the trained weights, each run's trajectory on it,
    and the loss along the 1-D line (`Landscape.Params` gives the plane, the grid and the data)."""
    if params.resolution % 2 == 0:
        raise ParamsError(
            f"Grid points per axis must be odd, got {params.resolution}.",
            f"use {params.resolution + 1}, so that the trained weights lie on the grid.",
        )
    model = ctx.model.model
    runs = _runs_with_snapshots(ctx)
    mode = params.directions
    if mode == "auto":
        mode = "pca" if runs else "random"
    if mode == "pca" and not runs:
        raise PluginError(
            "The PCA plane needs a run with at least 3 weight snapshots of this model.",
            "train with dlviz.Recorder(weights=True) and pass its run, or choose the random plane.",
        )
    x, y = evaluation_subset(ctx, params)
    n_params = int(sum(math.prod(v.shape) for v in model.trainable_variables))
    points = params.resolution**2 + params.line_points + sum(len(run.snapshots) for run in runs) * 2
    work = points * len(x) * n_params
    if work > MAX_MULTIPLY_ADDS:
        raise ParamsError(
            f"About {points:,} weight settings x {len(x):,} samples x {n_params:,} parameters "
            f"(~{work:.1e} multiply-adds) is more than this view computes.",
            "lower 'Grid points per axis' or 'Evaluation samples'.",
        )
    evaluator = BatchedLoss(ctx.model, x, y)
    centre = flat_weights(model)
    ctx.report(0.02, tr(ctx.language, "choosing the plane", "选择平面"))
    directions, alphas, betas, explained, coordinates = _plane(ctx, mode, runs, centre, params)

    def report(start: float, width: float, message: str):
        return lambda fraction: ctx.report(start + width * fraction, message)

    grid = np.stack(np.meshgrid(alphas, betas), axis=-1).reshape(-1, 2)
    message = tr(ctx.language, f"loss at {len(grid)} weight settings", f"计算 {len(grid)} 组权重处的损失")
    losses = evaluator.losses(centre, directions, grid, report(0.05, 0.75, message))
    losses = losses.reshape(len(betas), len(alphas))
    centre_loss = float(evaluator.losses(centre, directions, np.zeros((1, 2)))[0])

    trajectories = []
    # Random directions are almost orthogonal to any training path (Li et al. 2018, section 7), so
    # trajectories are drawn on the PCA plane only.
    for index, (run, coords) in enumerate(zip(runs if mode == "pca" else [], coordinates, strict=True)):
        trajectories.append(
            Trajectory(
                label=run_optimizer_label(run, index),
                steps=np.asarray(run.snapshot_steps),
                coordinates=coords.astype(np.float32),
                plane_losses=evaluator.losses(centre, directions, coords),
                losses=evaluator.at(run.snapshots),
                label_zh=run_optimizer_label(run, index, "zh"),
            )
        )
    ctx.report(0.85, tr(ctx.language, "the 1-D line", "一维直线"))
    lines, line_kind = _lines(evaluator, runs, centre, directions, params)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return LandscapeResult(
        directions=mode,
        alphas=alphas.astype(np.float32),
        betas=betas.astype(np.float32),
        losses=losses,
        centre_loss=centre_loss,
        explained_variance=explained,
        trajectories=tuple(trajectories),
        line_kind=line_kind,
        lines=lines,
        eval_samples=len(x),
        split=params.split,
        n_params=evaluator.n_params,
        loss_name=_loss_name(model),
        log_scale=params.log_scale,
        seed=ctx.seed,
    )


def _plane(ctx: dlviz.Context, mode: str, runs: list, centre: np.ndarray, params):
    """Directions [2, n_params] and grid axes of the plane, explained variance, trajectory coordinates."""
    if mode == "random":
        rng = np.random.default_rng(ctx.seed)
        directions = np.stack([filter_normalized_direction(ctx.model.model, rng) for _ in range(2)])
        half = (params.resolution - 1) // 2
        axis = params.span * np.arange(-half, half + 1) / half  # exactly 0 in the middle
        return directions, axis, axis.copy(), (), []
    directions, ratio, coordinates = pca_plane([run.snapshots for run in runs], centre)
    alphas, betas = (covering_axis(coordinates, axis, params.resolution) for axis in (0, 1))
    return directions, alphas, betas, tuple(float(value) for value in ratio), coordinates


def _runs_with_snapshots(ctx: dlviz.Context) -> list:
    """ctx.run and ctx.runs that hold ≥ 3 snapshots; a run of another architecture is refused."""
    shapes = [list(v.shape) for v in ctx.model.model.trainable_variables]
    runs = []
    for run in (ctx.run, *ctx.runs):
        if run is None or len(run.snapshot_steps) < 3:
            continue
        recorded = [list(v["shape"]) for v in run.meta.get("variables", [])]
        if recorded != shapes:
            raise PluginError(
                f"A run's weight snapshots ({sum(math.prod(s) for s in recorded):,} parameters) do not fit "
                f"this model ({sum(math.prod(s) for s in shapes):,} parameters).",
                "compare runs of the same model architecture (same layers and sizes) on one landscape.",
            )
        runs.append(run)
    return runs


def evaluation_subset(ctx: dlviz.Context, params) -> tuple[np.ndarray, np.ndarray]:
    """The samples the loss is computed on: the chosen split, at most `params.eval_samples` of them (a
    random subset fixed by the seed)."""
    dataset = ctx.dataset
    x, y = (dataset.x_train, dataset.y_train) if params.split == "train" else (dataset.x_test, dataset.y_test)
    if len(x) == 0:
        raise PluginError(f"The dataset has no {params.split} samples.", "choose the other split.")
    if len(x) > params.eval_samples:
        keep = np.sort(np.random.default_rng(ctx.seed).choice(len(x), params.eval_samples, replace=False))
        x, y = x[keep], y[keep]
    return np.asarray(x), np.asarray(y)


def _lines(evaluator: BatchedLoss, runs, centre, directions, params):
    """Start-to-end interpolation of each run, or without runs a slice along random direction 1."""
    if runs:
        t = np.linspace(*LINE_RANGE, params.line_points)
        lines = []
        for index, run in enumerate(runs):
            first, last = run.snapshots[0], run.snapshots[-1]
            losses = evaluator.losses(first, (last - first)[None], t[:, None])
            steps = (int(run.snapshot_steps[0]), int(run.snapshot_steps[-1]))
            label, label_zh = run_optimizer_label(run, index), run_optimizer_label(run, index, "zh")
            lines.append(Line(label, t.astype(np.float32), losses, steps, label_zh))
        return tuple(lines), "interpolation"
    t = np.linspace(-params.span, params.span, params.line_points)
    losses = evaluator.losses(centre, directions[:1], t[:, None])
    return (Line("direction 1", t.astype(np.float32), losses),), "direction"


def run_optimizer_label(run, index: int, language: str = "en") -> str:
    """A run's legend label: its number, optimizer and learning rate, e.g. "1: SGD (lr=0.01)"."""
    optimizer = run.meta.get("optimizer") or {}
    name = optimizer.get("class") or optimizer.get("name") or tr(language, "run", "训练记录")
    rate = optimizer.get("learning_rate")
    rate_text = f" (lr={float(rate):g})" if isinstance(rate, int | float) else ""
    return f"{index + 1}: {name}{rate_text}"


def _loss_name(model) -> str:
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or type(loss).__name__
