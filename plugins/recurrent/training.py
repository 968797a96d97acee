"""The recurrent lesson's training: per dependency length, a SimpleRNN, an LSTM and a GRU, each followed by
its own sigmoid unit, trained by one `model.fit` of a three-branch Keras model on the same batches; at the
unrolled length, one test sequence unrolled through each trained layer and the gradients of backpropagation
through time before and after training."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import TYPE_CHECKING

import keras
import numpy as np
from keras import ops

import dlviz
from dlviz.errors import ParamsError
from dlviz.plugin import tr
from plugins._shared.classes import predicted_classes
from plugins.recurrent.result import CELL_NAMES, CELLS, FORMULAS, GATES, STAGES, CellTrace, RecurrentResult
from plugins.recurrent.task import MemoryTask, memory_task
from plugins.recurrent.unroll import layer_outputs, state_gradient_norms, unroll

if TYPE_CHECKING:
    from plugins.recurrent.plugin import Params

# Lessons already computed, by (params, seed): the same lesson on another context (the dashboard's, the
# conformance checks' three) is not trained again. The oldest goes first.
_RESULTS: OrderedDict = OrderedDict()
CACHED_RESULTS = 4

LAYERS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def head_name(cell: str) -> str:
    return f"{cell}_output"


def build_model(task: MemoryTask, params: Params, seed: int) -> keras.Model:
    """Sequence → each of SimpleRNN, LSTM, GRU (`params.units`, Keras' default activations) → its own
    sigmoid unit. Every branch is initialised from `seed`, and the loss is the sum of the three binary
    cross-entropies: a branch's gradients are those of its own loss, and Adam updates each weight from its
    own gradients only, so the three branches train exactly as three separate fits on the same batches."""
    inputs = keras.Input(shape=(task.steps, 1), name="sequence")
    outputs = {}
    for cell in CELLS:
        state = LAYERS[cell](
            params.units,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            recurrent_initializer=keras.initializers.Orthogonal(seed=seed),
            name=cell,
        )(inputs)
        outputs[head_name(cell)] = keras.layers.Dense(
            1,
            activation="sigmoid",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            name=head_name(cell),
        )(state)
    model = keras.Model(inputs, outputs, name=f"memory_{task.length}")
    model.compile(
        optimizer=keras.optimizers.Adam(params.learning_rate),
        loss={name: keras.losses.BinaryCrossentropy() for name in outputs},
    )
    return model


def fit(model: keras.Model, task: MemoryTask, params: Params) -> None:
    targets = task.y_train.astype(np.float32)
    model.fit(
        task.x_train,
        {head_name(cell): targets for cell in CELLS},
        epochs=params.epochs,
        batch_size=params.batch_size,
        shuffle=False,  # the sequences are drawn at random already; no global random state
        verbose=0,
    )


def held_out_accuracy(model: keras.Model, task: MemoryTask) -> dict[str, float]:
    outputs = model.predict(task.x_test, batch_size=len(task.x_test), verbose=0)
    return {
        cell: float(np.mean(predicted_classes(outputs[head_name(cell)]) == task.y_test)) for cell in CELLS
    }


def gradient_norms(model: keras.Model, task: MemoryTask) -> dict[str, np.ndarray]:
    """Per cell, mean ‖∂L/∂h_t‖ over the test sequences at every step (backpropagation through time)."""
    return {
        cell: state_gradient_norms(
            model.get_layer(cell), model.get_layer(head_name(cell)), task.x_test, task.y_test
        )
        for cell in CELLS
    }


def trace(model: keras.Model, cell: str, sequence: np.ndarray) -> CellTrace:
    """`sequence` (steps, 1) unrolled through the trained `cell` layer, checked against the layer's own outputs."""
    layer = model.get_layer(cell)
    batch = sequence[None]
    values = {name: ops.convert_to_numpy(value)[0] for name, value in unroll(layer, batch).items()}
    own_sequence, own_cell_state = layer_outputs(layer, batch)
    gap = float(np.abs(values["hidden"] - own_sequence[0]).max())
    if own_cell_state is not None:
        gap = max(gap, float(np.abs(values["cell"][-1] - own_cell_state[0]).max()))
    probability = float(ops.convert_to_numpy(model.get_layer(head_name(cell))(values["hidden"][-1:]))[0, 0])
    return CellTrace(
        hidden=values["hidden"],
        gates={gate: values[gate] for gate in GATES[cell]},
        cell_state=values.get("cell"),
        probability=probability,
        layer_gap=gap,
    )


def run_lesson(ctx: dlviz.Context, params: Params) -> RecurrentResult:
    if not params.lengths:
        raise ParamsError("No dependency length chosen.", "pick at least one length L.")
    n_test = held_out_count(params)
    if params.sample >= n_test:
        raise ParamsError(
            f"Sequence {params.sample} does not exist: there are {n_test} test sequences (0 to {n_test - 1}).",
            f"pick a sequence below {n_test}, or raise the training sequences (half as many are generated "
            "for testing).",
        )
    params = dataclasses.replace(params, lengths=tuple(params.lengths))  # hashable, whatever was passed
    key = (params, ctx.seed)
    if key not in _RESULTS:
        _RESULTS[key] = train_lesson(params, ctx.seed, ctx)
        while len(_RESULTS) > CACHED_RESULTS:
            _RESULTS.popitem(last=False)
    ctx.report(1.0, tr(ctx.language, "done", "完成"))
    return _RESULTS[key]


def forget_results() -> None:
    """Empty the cache of lessons already computed (benchmarks time the training itself)."""
    _RESULTS.clear()


def held_out_count(params: Params) -> int:
    return max(params.n_samples // 2, 50)


def train_lesson(params: Params, seed: int, ctx: dlviz.Context) -> RecurrentResult:
    """The lesson for `params` and `seed`, whatever else `ctx` holds (it only hears the progress)."""
    lengths = tuple(sorted({*params.lengths, params.unrolled_length}))
    accuracy = {cell: np.zeros(len(lengths)) for cell in CELLS}
    norms: dict[str, dict] = {stage: {} for stage in STAGES}
    traces: dict[str, CellTrace] = {}
    shown: MemoryTask | None = None
    for index, length in enumerate(lengths):
        ctx.report(index / len(lengths), tr(ctx.language, f"training at L = {length}", f"训练：L = {length}"))
        task = memory_task(seed, length, params.noise, params.n_samples, held_out_count(params))
        model = build_model(task, params, seed)
        if length == params.unrolled_length:
            norms["initial"] = gradient_norms(model, task)
        fit(model, task, params)
        for cell, value in held_out_accuracy(model, task).items():
            accuracy[cell][index] = value
        if length == params.unrolled_length:
            shown = task
            norms["trained"] = gradient_norms(model, task)
            traces = {cell: trace(model, cell, task.x_test[params.sample]) for cell in CELLS}
    assert shown is not None  # unrolled_length is among the lengths
    return RecurrentResult(
        cells=CELLS,
        units=params.units,
        noise=params.noise,
        epochs=params.epochs,
        n_train=params.n_samples,
        n_test=held_out_count(params),
        lengths=lengths,
        accuracy=accuracy,
        unrolled_length=params.unrolled_length,
        sample=params.sample,
        sequence=shown.x_test[params.sample, :, 0].astype(np.float64),
        label=int(shown.y_test[params.sample]),
        traces=traces,
        gradient_norms=norms,
        page=dlviz.Page(notes=notes(params, traces), formulas=FORMULAS),
    )


def notes(params: Params, traces: dict[str, CellTrace]) -> tuple[dlviz.Note, ...]:
    gap = max(cell_trace.layer_gap for cell_trace in traces.values())
    names = ", ".join(CELL_NAMES[cell][0] for cell in CELLS)
    return (
        dlviz.Note(
            f"Task: the label is the sign of the first step (±1), followed by L steps of noise N(0, {params.noise:g}²); "
            f"{params.n_samples} training and {held_out_count(params)} test sequences per length. {names} with "
            f"{params.units} units each, then one sigmoid unit, initialised from the same seed and trained side by "
            f"side on the same batches (Adam, learning rate {params.learning_rate:g}, batch size "
            f"{params.batch_size}, {params.epochs} epochs).",
            f"任务：标签是第一步的符号 (±1)，其后是 L 步噪声 N(0, {params.noise:g}²)；每个长度 {params.n_samples} 条训练序列、"
            f"{held_out_count(params)} 条测试序列。{names} 各 {params.units} 个单元，后接一个 sigmoid 单元，从同一随机种子初始化，"
            f"在相同的批次上同时训练（Adam，学习率 {params.learning_rate:g}，批大小 {params.batch_size}，"
            f"{params.epochs} 轮）。",
        ),
        dlviz.Note(
            "Hidden states, gates and cell states are computed step by step with keras.ops from each trained "
            f"layer's own kernel, recurrent kernel and bias; they match the layer's own outputs to {gap:.1e}. "
            "Gradients: tf.GradientTape through that unroll, averaged over the test sequences.",
            "隐藏状态、门值和细胞状态由 keras.ops 根据每个训练好的层自己的 kernel、recurrent_kernel 和 bias 逐步算出；"
            f"与该层自身的输出相差不超过 {gap:.1e}。梯度：经过这一展开的 tf.GradientTape，对测试序列取平均。",
        ),
    )
