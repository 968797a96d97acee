"""The range test itself: a copy of the model trained for one short pass with an exponentially rising
learning rate, with the model's own optimizer class and compiled loss (Keras' `train_on_batch`)."""

from __future__ import annotations

import keras
import numpy as np

import dlviz
from dlviz.plugin import tr
from plugins.lr_finder.result import RangeTest


def learning_rates(low: float, high: float, steps: int) -> np.ndarray:
    """`steps` learning rates rising exponentially from `low` to `high`."""
    return np.geomspace(low, high, steps)


def smooth(losses: np.ndarray, beta: float) -> np.ndarray:
    """Exponential moving average with bias correction (as fastai's finder smooths its curve)."""
    average, smoothed = 0.0, np.empty(len(losses))
    for index, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        smoothed[index] = average / (1 - beta ** (index + 1))
    return smoothed


def steepest_descent(rates: np.ndarray, smoothed: np.ndarray) -> tuple[int, int]:
    """(index of the steepest fall of the smoothed loss against log10(lr) before its minimum, the minimum)."""
    minimum = int(np.nanargmin(smoothed))
    if minimum < 2:
        return minimum, minimum
    slopes = np.gradient(smoothed[: minimum + 1], np.log10(rates[: minimum + 1]))
    return int(np.nanargmin(slopes)), minimum


def copy_of(handle, run, start: str) -> tuple[keras.Model, str]:
    """A copy of the model with its own variables: the run's first weights when asked and they fit, else
    the model's current weights. Returns (copy, which start it got)."""
    model = handle.model
    try:
        copy = keras.models.clone_model(model)
    except Exception as exc:  # subclassed models without get_config / from_config cannot be cloned
        raise dlviz.ModelError(
            f"The range test needs a copy of {model.name!r}, and Keras cannot clone it ({exc}).",
            "use a Sequential or Functional model, or give the subclassed model get_config / from_config.",
        ) from exc
    copy.set_weights(model.get_weights())
    if start == "initial" and run is not None and len(run.snapshot_steps):
        shapes = [tuple(variable.shape) for variable in copy.trainable_variables]
        if (
            run.variable_paths == handle.variable_paths
            and [tuple(v["shape"]) for v in run.meta["variables"]] == shapes
        ):
            for variable, value in zip(
                copy.trainable_variables, run.unflatten(run.snapshots[0]), strict=True
            ):
                variable.assign(value)
            return copy, "initial"
    return copy, "current"


def range_test(ctx: dlviz.Context, params) -> RangeTest:
    if params.max_lr <= params.min_lr:
        raise dlviz.ParamsError(
            f"The range ends ({params.max_lr:g}) below where it starts ({params.min_lr:g}).",
            "choose a largest learning rate above the smallest one.",
        )
    model = ctx.model.model
    copy, start = copy_of(ctx.model, ctx.run, params.start)
    config = {**model.optimizer.get_config(), "learning_rate": float(params.min_lr)}
    optimizer = type(model.optimizer).from_config(config)
    copy.compile(optimizer=optimizer, loss=model.loss)
    x, y = ctx.dataset.x_train, ctx.dataset.y_train
    rng = np.random.default_rng(ctx.seed)
    order = np.concatenate(
        [rng.permutation(len(x)) for _ in range(-(-params.steps * params.batch_size // len(x)))]
    )
    rates = learning_rates(params.min_lr, params.max_lr, params.steps)
    losses = []
    best, diverged = np.inf, None
    for step, rate in enumerate(rates):
        if step % 10 == 0:
            ctx.report(step / len(rates), tr(ctx.language, f"learning rate {rate:.1e}", f"学习率 {rate:.1e}"))
        optimizer.learning_rate.assign(rate)
        batch = order[step * params.batch_size : (step + 1) * params.batch_size]
        copy.reset_metrics()  # train_on_batch reports the running mean otherwise; we want this batch's loss
        losses.append(float(copy.train_on_batch(x[batch], y[batch], return_dict=True)["loss"]))
        smoothed = smooth(np.array(losses), params.smoothing)[-1]
        best = min(best, smoothed)
        if not np.isfinite(smoothed) or smoothed > params.divergence * best:
            diverged = step
            break
    losses = np.array(losses)
    smoothed = smooth(losses, params.smoothing)
    finite = np.where(np.isfinite(smoothed), smoothed, np.nan)
    steepest, minimum = steepest_descent(rates[: len(losses)], finite)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return RangeTest(
        learning_rates=rates[: len(losses)],
        losses=losses,
        smoothed=smoothed,
        steepest=steepest,
        minimum=minimum,
        diverged=diverged,
        start=start,
        optimizer=type(model.optimizer).__name__,
        batch_size=params.batch_size,
        page=dlviz.Page(notes=(_start_note(start, params.start),)),
    )


def _start_note(start: str, asked: str) -> dlviz.Note:
    if start == "initial":
        return dlviz.Note(
            "Run on a copy of the model from the current run's first weights; the model itself is not changed.",
            "在模型的副本上运行，从当前训练记录 (run) 的初始权重开始；模型本身不会改变。",
        )
    if asked == "initial":
        return dlviz.Note(
            "No run of this model holds its first weights, so the copy starts from the model's current weights "
            "(the model itself is not changed). Train from fresh weights first to test from the start.",
            "没有该模型的训练记录保存其初始权重，因此副本从模型当前的权重开始（模型本身不会改变）。"
            "若要从头测试，请先从新的初始权重训练。",
        )
    return dlviz.Note(
        "Run on a copy of the model from its current weights; the model itself is not changed.",
        "在模型的副本上运行，从其当前权重开始；模型本身不会改变。",
    )
