"""The loss of one model at many weight settings, batched in one compiled function."""

from __future__ import annotations

import math
import os

import numpy as np

from dlviz.errors import DlvizError, ModelError, PluginError

MEMORY_BUDGET_BYTES = 1 << 30
MAX_CHUNK = 1024
PROGRESS_CHUNK = 64

# Layers that tf.vectorized_map turns into batched kernels; anything else (convolutions, whose
# filters pfor cannot batch) is evaluated with tf.map_fn, one weight setting after the other.
_VECTORISABLE_LAYERS = frozenset(
    {
        "Dense",
        "Activation",
        "Dropout",
        "BatchNormalization",
        "Flatten",
        "Reshape",
        "ReLU",
        "LeakyReLU",
        "Softmax",
    }
)


class BatchedLoss:
    """The loss of one model at many weight settings, evaluated in one compiled function.

    A weight setting is `base + coefficients @ directions` (flattened trainable weights); the
    non-trainable weights (batch-norm moving statistics) stay at the model's values. Each setting
    runs through `model.stateless_call(..., training=False)` (dropout off, batch norm in inference
    mode), and the model's compiled loss is applied in the same graph to the output it produced, so
    Keras computes a sigmoid/softmax cross-entropy from the logits exactly as `model.evaluate` does;
    regularisation losses are evaluated at the setting's weights. Settings are batched with
    `tf.vectorized_map` (dense models) or `tf.map_fn`, in chunks sized to `memory_budget` bytes.
    """

    def __init__(self, handle, x: np.ndarray, y: np.ndarray, memory_budget: int | None = None):
        import tensorflow as tf

        model = handle.model
        if getattr(model, "_compile_loss", None) is None:
            raise ModelError(
                "The loss landscape needs the model's loss, and this model was not compiled with one.",
                "compile it first, e.g. model.compile(optimizer='adam', loss='sparse_categorical_crossentropy').",
            )
        self.model = model
        self.x, self.y = handle.prepare(x, y)
        self.n_params = int(sum(math.prod(v.shape) for v in model.trainable_variables))
        self._shapes = [tuple(v.shape) for v in model.trainable_variables]
        self._sizes = [math.prod(shape) for shape in self._shapes]
        self._non_trainable = [tf.convert_to_tensor(v.value) for v in model.non_trainable_variables]
        kinds = {info.kind for info in handle.layers}
        self.vectorised = kinds <= _VECTORISABLE_LAYERS
        units = sum(math.prod(d for d in info.output_shape if d is not None) for info in handle.layers)
        # Two copies of the weights and of every activation per setting (inputs and outputs of each op).
        self.bytes_per_setting = 8 * (self.n_params + len(self.x) * max(units, 1))
        budget = memory_budget if memory_budget is not None else default_memory_budget()
        if self.bytes_per_setting > budget:
            raise PluginError(
                f"Evaluating this model at one weight setting on {len(self.x)} samples needs about "
                f"{self.bytes_per_setting / 2**20:.0f} MB, more than the {budget / 2**20:.0f} MB this "
                "computation may use.",
                "evaluate on fewer samples ('Evaluation samples') or use a smaller model.",
            )
        self.chunk = int(min(MAX_CHUNK, budget // self.bytes_per_setting))
        x_const, y_const = tf.constant(self.x), tf.constant(self.y)
        loss_of = model._compile_loss

        def loss_at(base, directions, coefficients):
            flat = base + tf.linalg.matvec(directions, coefficients, transpose_a=True)
            values = [
                tf.reshape(part, shape)
                for part, shape in zip(tf.split(flat, self._sizes), self._shapes, strict=True)
            ]
            y_pred, _, extra = model.stateless_call(
                values, self._non_trainable, x_const, training=False, return_losses=True
            )
            loss = tf.cast(loss_of(y_const, y_pred), tf.float32)
            for term in extra:
                loss += tf.cast(term, tf.float32)
            return loss

        def chunk_losses(base, directions, coefficients):
            if self.vectorised:
                return tf.vectorized_map(lambda c: loss_at(base, directions, c), coefficients)
            return tf.map_fn(
                lambda c: loss_at(base, directions, c),
                coefficients,
                fn_output_signature=tf.float32,
                parallel_iterations=8,
            )

        signature = [
            tf.TensorSpec((self.n_params,), tf.float32),
            tf.TensorSpec((None, self.n_params), tf.float32),
            tf.TensorSpec((None, None), tf.float32),
        ]
        try:
            self._compiled = tf.function(chunk_losses).get_concrete_function(*signature)
        except DlvizError:
            raise
        except Exception as exc:
            raise ModelError(
                f"The model could not be evaluated at other weights: {type(exc).__name__}: {exc}",
                "the loss landscape supports Keras models with one input and one output.",
            ) from exc

    def losses(
        self, base: np.ndarray, directions: np.ndarray, coefficients: np.ndarray, progress=None
    ) -> np.ndarray:
        """Loss at `base + c @ directions` for every row `c` of `coefficients` ([K, k] -> [K])."""
        import tensorflow as tf

        base = tf.constant(np.asarray(base, np.float32))
        directions = tf.constant(np.asarray(directions, np.float32).reshape(-1, self.n_params))
        coefficients = np.asarray(coefficients, np.float32).reshape(len(coefficients), -1)
        out = np.empty(len(coefficients), np.float32)
        # About ten chunks, so a progress bar moves, but never more than the memory budget allows.
        chunk = min(self.chunk, max(PROGRESS_CHUNK, math.ceil(len(coefficients) / 10)))
        for start in range(0, len(coefficients), chunk):
            stop = min(start + chunk, len(coefficients))
            out[start:stop] = self._compiled(base, directions, tf.constant(coefficients[start:stop])).numpy()
            if progress is not None:
                progress(stop / len(coefficients))
        return out

    def at(self, weights: np.ndarray, progress=None) -> np.ndarray:
        """Loss at each row of `weights` ([K, n_params] flattened trainable weights)."""
        weights = np.asarray(weights, np.float32).reshape(-1, self.n_params)
        return self.losses(
            np.zeros(self.n_params, np.float32), weights, np.eye(len(weights), dtype=np.float32), progress
        )


def default_memory_budget() -> int:
    """A quarter of the memory available now, at most `MEMORY_BUDGET_BYTES`."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return MEMORY_BUDGET_BYTES
    return int(min(MEMORY_BUDGET_BYTES, available // 4))
