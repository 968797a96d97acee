"""shap's explainers as the `shap` plugin runs them: DeepExplainer's rules over many samples per call
(on a chain of common layers by `plugins.shap.rescale`, else in shap's own graph), GradientExplainer and
KernelExplainer, and the fallbacks between them."""

from __future__ import annotations

import dataclasses
import threading
import warnings
import weakref

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz.errors import PluginError
from dlviz.plugin import tr
from plugins._shared.explain import Head, class_weights
from plugins.shap import rescale
from plugins.shap.rescale import RescaleGraph
from plugins.shap.result import ADDITIVITY_TOLERANCE, METHOD_LABELS

# Rows (sample copies + background copies) per call of the batched DeepExplainer graph; the chain path
# takes twice as many samples per call (as many pairs as shap's graph has rows, each computed once).
DEEP_ROWS_PER_CALL = 4096
# shap.GradientExplainer's own default number of (background, interpolation) draws per sample.
GRADIENT_DRAWS = 200
WRAPPED_NOTE = "Subclassed model wrapped in a Functional model for shap."
WRAPPED_NOTE_ZH = "子类化模型 (subclassed model) 已包装成 Functional 模型，供 shap 使用。"


@dataclasses.dataclass(frozen=True)
class Task:
    """What every explainer works on: (sample, class) pairs, the background and its mean output."""

    ctx: dlviz.Context
    head: Head
    background: np.ndarray
    expected: np.ndarray  # the model's mean output over the background, per unit
    x: np.ndarray  # one input per pair
    classes: np.ndarray  # the class explained for each pair
    outputs: np.ndarray  # the explained class score f(x) of each pair

    @property
    def handle(self):
        return self.ctx.model

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        return class_weights(self.head, self.classes)

    def base_values(self, expected: np.ndarray) -> np.ndarray:
        weights, offsets = self.weights()
        return weights @ expected + offsets

    def additivity(self, values: np.ndarray, base: np.ndarray) -> float:
        return additivity_errors(values, base, self.outputs)[1]


def additivity_errors(values: np.ndarray, base: np.ndarray, outputs: np.ndarray) -> tuple[float, float]:
    """max |base + sum(values) - f(x)| over the samples, absolute and relative to the mean |f(x)|."""
    error = float(np.max(np.abs(base + values.reshape(len(values), -1).sum(axis=1) - outputs)))
    return error, error / max(float(np.mean(np.abs(outputs))), 1e-12)


def explain(task: Task, choice: str, notes: list[tuple[str, str]]):
    """SHAP values (pairs, *input_shape), base values (pairs,) of each class score and the method used;
    what it had to do differently goes to `notes` as (English, Chinese)."""
    if choice == "kernel":
        return (*_kernel_values(task), "kernel")
    functional, wrap_note = _cached(task.handle, "functional", lambda: functional_model(task.handle))
    if functional is None:
        if choice != "auto":
            raise PluginError(
                f"shap's {METHOD_LABELS[choice]} needs a model with symbolic inputs, and this subclassed model "
                f"could not be wrapped in a Functional model: {wrap_note}",
                "use explainer=kernel (or auto), which only calls the model.",
            )
        notes.append(
            (
                f"KernelExplainer: the subclassed model could not be wrapped ({wrap_note}).",
                f"KernelExplainer：无法包装子类化模型 (subclassed model)（{wrap_note}）。",
            )
        )
        return (*_kernel_values(task), "kernel")
    if wrap_note:
        notes.append((wrap_note, WRAPPED_NOTE_ZH if wrap_note == WRAPPED_NOTE else wrap_note))
    if choice == "gradient":
        return (*_gradient_values(task, functional), "gradient")
    try:
        values, base = deep_values(task, functional)
    except Exception as exc:
        if choice == "deep":
            raise PluginError(
                f"shap's DeepExplainer cannot handle this model: {type(exc).__name__}: {_first_line(exc)}",
                "use explainer=gradient or kernel (auto picks one that works).",
            ) from exc
        failure = f"{type(exc).__name__}: {_first_line(exc)}"
        notes.append(
            (
                f"GradientExplainer: DeepExplainer failed ({failure}).",
                f"GradientExplainer：DeepExplainer 失败（{failure}）。",
            )
        )
        return (*_gradient_values(task, functional), "gradient")
    error = task.additivity(values, base)
    if choice == "auto" and error > ADDITIVITY_TOLERANCE:
        notes.append(
            (
                f"GradientExplainer: DeepExplainer's values missed the output by {error:.1%} (an operation it "
                "does not handle).",
                f"GradientExplainer：DeepExplainer 的值与模型输出相差 {error:.1%}（模型中有它处理不了的运算）。",
            )
        )
        return (*_gradient_values(task, functional), "gradient")
    return values, base, "deep"


def functional_model(handle) -> tuple[keras.Model | None, str]:
    """A model with `.inputs`/`.outputs` for shap: the model itself, or a subclassed one wrapped."""
    model = handle.model
    try:
        if model.inputs and model.outputs:
            return model, ""
    except (AttributeError, ValueError):
        pass
    try:
        inputs = keras.Input(shape=tuple(handle.input_shape))
        return keras.Model(inputs, model(inputs)), WRAPPED_NOTE
    except Exception as exc:
        return None, f"{type(exc).__name__}: {_first_line(exc)}"


class DeepGraph:
    """shap's DeepExplainer (DeepLIFT rescale rule) as one compiled graph, batched over samples.

    DeepExplainer pairs each sample with every background row: the first half of a batch holds the
    sample's copies, the second half the references, and its gradient overrides compare the halves row
    by row. Its `shap_values` loops over samples and classes in Python with one graph call each; stacking
    many samples' pairs (and a class weight per row) into each call gives the same numbers in a few calls.
    The graph reads the model's variables when it runs, so it stays valid while the model trains.
    """

    def __init__(self, functional: keras.Model, background: np.ndarray, units: int):
        shap = load_shap()
        from shap.explainers._deep import deep_tf
        from tensorflow.python.eager import execute as tf_execute

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._deep = shap.DeepExplainer(
                (functional.inputs[0], functional.outputs[0]), background
            ).explainer
        deep, model = self._deep, self._deep.model
        self._record_gradient = deep_tf.custom_record_gradient
        self._execute = tf_execute
        x_spec = tf.TensorSpec((None, *background.shape[1:]), tf.float32)

        @tf.function(input_signature=[x_spec, tf.TensorSpec((None, units), tf.float32)], autograph=False)
        def multipliers(joint, weights):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(joint)
                score = tf.reduce_sum(model(joint, training=False) * weights, axis=-1)
            deep._init_between_tensors(score.op, [joint])
            return tape.gradient(score, joint)

        self._multipliers = multipliers

    def multipliers(self, joint: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """DeepLIFT multipliers of the weighted output score for the paired rows of `joint`."""

        def run():
            saved = self._execute.record_gradient
            self._execute.record_gradient = self._record_gradient
            try:
                return [self._multipliers(tf.constant(joint), tf.constant(weights))]
            finally:
                self._execute.record_gradient = saved

        # shap swaps TensorFlow's global gradient registry while the graph is traced: one caller at a time
        with _SHAP_LOCK:
            (result,) = self._deep.execute_with_overridden_gradients(run)
        return result


def deep_values(task: Task, functional: keras.Model):
    """SHAP values by shap's DeepExplainer rules, many samples per graph call: through `RescaleGraph`
    when the model is a chain of layers it handles and the chain reproduces the model's outputs, else
    through shap's own graph (`DeepGraph`)."""
    background = task.background
    weights, offsets = task.weights()
    per_call = max(1, DEEP_ROWS_PER_CALL // (2 * len(background)))  # samples per call of shap's graph
    entries = _CACHE.setdefault(task.handle, {})
    if "plan" not in entries:
        entries["plan"] = rescale.plan(functional)
    if entries["plan"] is not None:
        traced = "rescale" in entries  # the handle's first explanation runs eagerly (see RescaleGraph)
        graph = _cached(
            task.handle,
            "rescale",
            lambda: RescaleGraph(entries["plan"], tuple(background.shape[1:]), task.head.units),
        )
        references = tf.constant(background)

        def rescaled(chunk, chunk_weights, start):
            values, outputs, reference_outputs = graph.values(chunk, references, chunk_weights, traced)
            scores = np.sum(outputs * chunk_weights, axis=1) + offsets[start : start + len(chunk)]
            expected = reference_outputs.astype(np.float64).mean(axis=0)
            if not (
                rescale.chain_matches(scores, task.outputs[start : start + len(chunk)])
                and rescale.chain_matches(expected, task.expected)
            ):
                raise _NotTheChain
            return values

        try:
            return _chunked(task, 2 * per_call, rescaled), task.base_values(task.expected)
        except _NotTheChain:
            entries["plan"] = None

    graph = _cached(task.handle, "deep", lambda: DeepGraph(functional, background, task.head.units))
    n_background = len(background)

    def paired(chunk, chunk_weights, start):
        copies = np.repeat(chunk, n_background, axis=0)
        references = np.tile(background, (len(chunk),) + (1,) * (background.ndim - 1))
        row_weights = np.repeat(chunk_weights, n_background, axis=0)
        gradients = graph.multipliers(
            np.concatenate([copies, references]), np.concatenate([row_weights, row_weights])
        )
        contributions = gradients[len(copies) :] * (copies - references)
        return contributions.reshape(len(chunk), n_background, *chunk.shape[1:]).mean(1)

    return _chunked(task, per_call, paired), task.base_values(task.expected)


class _NotTheChain(Exception):
    """The layers `rescale.plan` read do not compute this model's outputs."""


def _chunked(task: Task, per_call: int, explain_chunk) -> np.ndarray:
    """`explain_chunk(samples, their class weights, first index)` over the samples, `per_call` at a time."""
    x = task.x
    weights, _ = task.weights()
    values = np.zeros(x.shape, dtype=np.float32)
    for start in range(0, len(x), per_call):
        chunk = x[start : start + per_call]
        values[start : start + len(chunk)] = explain_chunk(chunk, weights[start : start + per_call], start)
        task.ctx.report(
            0.05 + 0.8 * (start + len(chunk)) / len(x),
            tr(task.ctx.language, "DeepExplainer", "用 DeepExplainer 计算"),
        )
    return values


_SHAP_LOCK = threading.Lock()
# Compiled explainer graphs and Functional wrappers, per model handle, reused while the handle lives.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(handle, key: str, build):
    entries = _CACHE.setdefault(handle, {})
    if key not in entries:
        entries[key] = build()
    return entries[key]


def _gradient_values(task: Task, functional: keras.Model):
    """shap's GradientExplainer (expected gradients) with its defaults, one class per sample."""
    shap = load_shap()

    weights, _ = task.weights()
    units = np.argmax(np.abs(weights), axis=1)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.GradientExplainer((functional.inputs[0], functional.outputs[0]), task.background)
        values, _ = explainer.shap_values(
            task.x,
            nsamples=GRADIENT_DRAWS,
            ranked_outputs=units,
            output_rank_order="custom",
            rseed=task.ctx.seed,
        )
    signs = np.sum(weights, axis=1).reshape(-1, *([1] * (task.x.ndim - 1)))
    return np.asarray(values, dtype=np.float32)[..., 0] * signs, task.base_values(task.expected)


def _kernel_values(task: Task):
    """shap's KernelExplainer on a summarised background, calling the model's compiled predict."""
    shap = load_shap()

    handle, dataset = task.handle, task.ctx.dataset
    shape = tuple(handle.input_shape)
    train = np.asarray(dataset.x_train, dtype=np.float32).reshape(len(dataset.x_train), -1)
    if len(shape) == 1:
        summary = shap.kmeans(train, min(len(task.background), len(train)))
    else:
        summary = task.background.reshape(len(task.background), -1)

    def model(rows):
        return handle.predict(np.asarray(rows, dtype=np.float32).reshape(-1, *shape))

    weights, _ = task.weights()
    state = np.random.get_state()
    np.random.seed(task.ctx.seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.KernelExplainer(model, summary)
            values = []
            for index, row in enumerate(task.x.reshape(len(task.x), -1)):
                unit_values = np.asarray(explainer.shap_values(row[None], silent=True), dtype=np.float64)
                values.append(unit_values.reshape(row.size, -1) @ weights[index])
                task.ctx.report(
                    0.05 + 0.8 * (index + 1) / len(task.x),
                    tr(task.ctx.language, "KernelExplainer", "用 KernelExplainer 计算"),
                )
    finally:
        np.random.set_state(state)
    expected = np.asarray(explainer.expected_value, dtype=np.float64).reshape(-1)
    return np.asarray(values, dtype=np.float32).reshape(task.x.shape), task.base_values(expected)


def load_shap():
    """The shap package, imported on first use (it is slow to import, and warns about matplotlib).

    Imports are absolute, so `import shap` here is the library, never this plugin's package `plugins.shap`
    (which only a sys.path holding plugins/ itself could put in its place).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
