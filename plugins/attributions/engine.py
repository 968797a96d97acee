"""The `attributions` plugin's compiled computation: one TensorFlow function gives the class scores, their
input gradients and Grad-CAM maps of a batch of rows, from which every method's maps are assembled."""

from __future__ import annotations

import dataclasses
import weakref

import keras
import numpy as np
import tensorflow as tf

import dlviz
from dlviz.errors import PluginError
from plugins._shared.explain import Head, class_weights

# Rows per call of the compiled function, scaled down for large inputs (about 16 MB of float32 inputs).
MAX_ROWS_PER_CALL = 4096
INPUT_VALUES_PER_CALL = 1 << 22


@dataclasses.dataclass(frozen=True)
class Plan:
    """Which row blocks a batch holds for each sample: the input, IG's path points, SmoothGrad's copies."""

    methods: tuple[str, ...]
    steps: int
    smoothgrad_samples: int
    noise: float

    @property
    def path(self) -> int:
        return self.steps + 1 if "integrated_gradients" in self.methods else 0

    @property
    def noisy(self) -> int:
        return self.smoothgrad_samples if "smoothgrad" in self.methods else 0

    @property
    def rows_per_sample(self) -> int:
        return 1 + self.path + self.noisy

    def alphas(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, self.steps + 1, dtype=np.float32)

    def trapezoid(self) -> np.ndarray:
        weights = np.full(self.steps + 1, 1.0 / self.steps, dtype=np.float32)
        weights[[0, -1]] *= 0.5
        return weights


class Engine:
    """One compiled function: class scores, their input gradients and Grad-CAM maps for a batch of rows,
    under any values of the trainable weights (passed in, so the sanity check's randomised models reuse
    the same trace and the model's own variables are never touched)."""

    def __init__(self, handle, head: Head, score: str, layer: str | None):
        self.handle = handle
        self.head = head
        self.layer = layer
        self.variables = list(handle.model.trainable_variables)
        self.notes: list[tuple[str, str]] = []  # (English, Chinese)
        self.use_logits = score == "logit" and head.activation in ("softmax", "sigmoid")
        shape = tuple(handle.input_shape)
        self.input_size = int(np.prod(shape))
        signature = [
            tf.TensorSpec((None, *shape), tf.float32),
            tf.TensorSpec((None, head.units), tf.float32),
            [tf.TensorSpec(v.shape, v.dtype) for v in self.variables],
        ]
        self.compiled = tf.function(self._graph, input_signature=signature, autograph=False)

    def weights(self) -> list[np.ndarray]:
        """The model's current trainable weights (copies)."""
        return [np.array(v.numpy()) for v in self.variables]

    def _graph(self, rows, weights, values):
        with keras.StatelessScope(state_mapping=list(zip(self.variables, values, strict=True))):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(rows)
                captured = self.handle.capture(rows)
                scores = tf.reduce_sum(self._class_scores(captured.outputs) * weights, axis=-1)
            if self.layer is None:
                return scores, tape.gradient(scores, rows), tf.zeros((tf.shape(rows)[0], 1, 1))
            maps = captured.activations[self.layer]
            input_gradients, map_gradients = tape.gradient(scores, [rows, maps])
        channel_weights = tf.reduce_mean(map_gradients, axis=[1, 2], keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(channel_weights * maps, axis=-1, keepdims=True))
        cam = tf.image.resize(cam, tf.shape(rows)[1:3], method="bilinear")[..., 0]
        return scores, input_gradients, cam

    def _class_scores(self, outputs):
        if not self.use_logits:
            return outputs
        logits = getattr(outputs, "_keras_logits", None)
        if logits is not None:
            return logits
        probabilities = tf.clip_by_value(outputs, 1e-7, 1.0 - 1e-7)
        if self.head.activation == "sigmoid":
            self._note(
                "The model's logits were not reachable; used log(p / (1 - p)) instead.",
                "无法取得模型的 logits（对数几率）；改用 log(p / (1 - p))。",
            )
            return tf.math.log(probabilities) - tf.math.log1p(-probabilities)
        self._note(
            "The model's logits were not reachable; used log-probabilities instead.",
            "无法取得模型的 logits（对数几率）；改用对数概率 (log-probabilities)。",
        )
        return tf.math.log(probabilities)

    def _note(self, text: str, text_zh: str) -> None:
        if (text, text_zh) not in self.notes:
            self.notes.append((text, text_zh))

    def run(self, rows: np.ndarray, weights: np.ndarray, values) -> tuple[np.ndarray, ...]:
        """Scores, input gradients and Grad-CAM maps of `rows`, in chunks through the compiled function."""
        per_call = max(1, min(MAX_ROWS_PER_CALL, INPUT_VALUES_PER_CALL // self.input_size))
        tensors = [tf.constant(v) for v in values]
        parts = []
        for start in range(0, len(rows), per_call):
            try:
                result = self.compiled(
                    tf.constant(rows[start : start + per_call]),
                    tf.constant(weights[start : start + per_call]),
                    tensors,
                )
            except dlviz.DlvizError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"Computing gradients failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}",
                    "check that the model is differentiable with respect to its input.",
                ) from exc
            parts.append([t.numpy() for t in result])
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))

    def attribute(self, plan: Plan, x, targets, baseline, noises, values):
        """Raw maps per method, shaped like the inputs (Grad-CAM: (n, H, W)), IG's (sums, deltas), and the
        explained score of each input."""
        n, per = len(x), plan.rows_per_sample
        blocks = [x[:, None]]
        if plan.path:
            alphas = plan.alphas().reshape(1, -1, *([1] * (x.ndim - 1)))
            blocks.append(baseline[:, None] + alphas * (x - baseline)[:, None])
        if plan.noisy:
            blocks.append(x[:, None] + noises)
        rows = np.concatenate(blocks, axis=1).reshape(n * per, *x.shape[1:])
        weights, offsets = class_weights(self.head, targets)
        scores, gradients, cams = self.run(rows, np.repeat(weights, per, axis=0), values)
        scores = scores.reshape(n, per)
        gradients = gradients.reshape(n, per, *x.shape[1:])
        maps: dict[str, np.ndarray] = {}
        ig = None
        at_input = gradients[:, 0]
        if "saliency" in plan.methods:
            maps["saliency"] = at_input
        if "gradient_x_input" in plan.methods:
            maps["gradient_x_input"] = at_input * x
        if plan.path:
            trapezoid = plan.trapezoid().reshape(1, -1, *([1] * (x.ndim - 1)))
            path_gradients = (gradients[:, 1 : 1 + plan.path] * trapezoid).sum(axis=1)
            maps["integrated_gradients"] = (x - baseline) * path_gradients
            sums = maps["integrated_gradients"].reshape(n, -1).sum(axis=1)
            ig = (sums, scores[:, plan.path] - scores[:, 1])
        if plan.noisy:
            maps["smoothgrad"] = gradients[:, 1 + plan.path :].mean(axis=1)
        if "grad_cam" in plan.methods:
            maps["grad_cam"] = cams.reshape(n, per, *cams.shape[1:])[:, 0]
        # A single sigmoid's class 0 is explained as -p (same gradients as 1 - p): its score adds the 1 back.
        return maps, ig, scores[:, 0] if self.use_logits else scores[:, 0] + offsets


# Compiled engines per model handle, reused while the handle lives (a view recomputed skips tracing).
_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def engine_for(handle, head: Head, score: str, layer: str | None) -> Engine:
    engines = _ENGINES.setdefault(handle, {})
    key = (head, score, layer)
    if key not in engines:
        engines[key] = Engine(handle, head, score, layer)
    return engines[key]


def display_maps(raw: np.ndarray, image: bool) -> np.ndarray:
    """Maps as (n, H, W) for images (channels summed, like their attributions add up) or (n, features)."""
    if image:
        return raw.sum(axis=-1) if raw.ndim == 4 else raw
    return raw.reshape(len(raw), -1)
