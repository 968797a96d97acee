"""The imbalance workbench's training harness: one initialised network (the context model re-initialised,
a `dlviz.models` build, or a small multi-label MLP) trained under each strategy from the same initial
weights, with the strategy's loss, labels and class weights, and read back as class probabilities.
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np

from dlviz.errors import ModelError, ParamsError
from plugins.imbalance.data import Targets
from plugins.imbalance.resampling import Resampled


def output_units(handle) -> int:
    model = getattr(handle, "model", handle)
    try:
        return int(model.output_shape[-1])
    except (AttributeError, TypeError, ValueError):
        return int(handle.layers[-1].output_shape[-1])


def _head_activation(model: keras.Model) -> str:
    """The activation of the model's last layer that has one, looking into a nested last model ("" if none)."""
    for layer in reversed(model.layers):
        if isinstance(layer, keras.Model):
            return _head_activation(layer)
        if isinstance(layer, keras.layers.Softmax):
            return "softmax"
        function = getattr(layer, "activation", None)
        if function is not None:
            return getattr(function, "__name__", "")
    return ""


@dataclasses.dataclass
class Trainer:
    """Trains one initialised template (first strategy) and clones of it holding its initial weights."""

    template: keras.Model
    initial_weights: list
    optimizer_config: dict
    units: int
    from_logits: bool
    multilabel: bool
    n_classes: int
    seed: int
    description: str
    template_used: bool = False

    @classmethod
    def create(cls, ctx, params, targets: Targets, x_train, y_train) -> Trainer:
        from dlviz import models

        kind = params.architecture
        dataset = ctx.dataset
        image = getattr(dataset, "kind", "") == "image"
        if kind == "cnn" and not image:
            raise ParamsError("architecture 'cnn' needs image data.", "choose 'mlp' or 'auto'.")
        # dlviz.models.build seeds its own initialisers; a clone or the multi-label MLP draws from the
        # global seed. (Re-seeding costs: TensorFlow drops its cached kernels.)
        if kind == "auto" and ctx.model is not None:
            keras.utils.set_random_seed(ctx.seed)
            source = ctx.model.model if hasattr(ctx.model, "model") else ctx.model
            try:
                template = keras.models.clone_model(source)
            except Exception as exc:  # Keras raises many types for models it cannot rebuild from config
                raise ModelError(
                    f"The model cannot be cloned to train it afresh under each strategy ({type(exc).__name__}: {exc}).",
                    "give subclassed models get_config/from_config, or choose architecture 'mlp'.",
                ) from exc
            description = f"{source.name} (cloned, re-initialised)"
        elif targets.multilabel:
            keras.utils.set_random_seed(ctx.seed)
            source = template = _multilabel_mlp(x_train.shape[1:], targets.n_classes)
            description = "MLP (32, 16), sigmoid per label"
        else:
            kind = ("cnn" if image else "mlp") if kind == "auto" else kind
            source = template = models.build(kind, dataset, seed=ctx.seed)
            description = f"dlviz.models.build({kind!r})"
        if not template.built:
            template(x_train[:1])
        units = output_units(template)
        activation = _head_activation(template)
        if targets.multilabel and (units != targets.n_classes or activation == "softmax"):
            raise ModelError(
                f"A multi-label target needs {targets.n_classes} independent sigmoid outputs; the model has {units} "
                f"({activation or 'unknown'} activation).",
                "end the model with Dense(n_labels, activation='sigmoid').",
            )
        optimizer = getattr(source, "optimizer", None) or keras.optimizers.Adam(learning_rate=1e-3)
        return cls(
            template=template,
            initial_weights=template.get_weights(),
            optimizer_config=keras.optimizers.serialize(optimizer),
            units=units,
            from_logits=activation == "linear",
            multilabel=targets.multilabel,
            n_classes=targets.n_classes,
            seed=ctx.seed,
            description=description,
        )

    def _loss(self, strategy: str, gamma: float):
        focal = strategy == "focal_loss"
        if self.units == 1 or self.multilabel:
            if focal:
                return keras.losses.BinaryFocalCrossentropy(gamma=gamma, from_logits=self.from_logits)
            return keras.losses.BinaryCrossentropy(from_logits=self.from_logits)
        if focal:
            return keras.losses.CategoricalFocalCrossentropy(gamma=gamma, from_logits=self.from_logits)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=self.from_logits)

    def _labels(self, strategy: str, y: np.ndarray) -> np.ndarray:
        if self.multilabel or self.units == 1:
            return y.astype(np.float32)
        if strategy == "focal_loss":
            # CategoricalFocalCrossentropy has no sparse form: it needs one-hot rows.
            return np.eye(self.units, dtype=np.float32)[y]
        return y

    def _fresh_model(self) -> keras.Model:
        if not self.template_used:
            self.template_used = True
            return self.template
        # Seeded like the template, so layers that draw random numbers (dropout) start alike too.
        keras.utils.set_random_seed(self.seed)
        model = keras.models.clone_model(self.template)
        model.set_weights(self.initial_weights)
        return model

    def train(self, strategy: str, data: Resampled, params, progress) -> tuple[keras.Model, dict, float]:
        model = self._fresh_model()
        keras.utils.set_random_seed(self.seed)
        model.compile(
            optimizer=keras.optimizers.deserialize(self.optimizer_config),
            loss=self._loss(strategy, params.gamma),
        )
        callbacks = [_EpochProgress(progress, params.epochs)] if progress else []
        started = time.perf_counter()
        try:
            if data.sequence is not None:
                history = model.fit(
                    data.sequence, epochs=params.epochs, shuffle=False, verbose=0, callbacks=callbacks
                )
            else:
                history = model.fit(
                    data.x,
                    self._labels(strategy, data.y),
                    epochs=params.epochs,
                    batch_size=params.batch_size,
                    class_weight=data.class_weight,
                    verbose=0,
                    callbacks=callbacks,
                )
        except Exception as exc:  # surface TensorFlow failures as a dlviz error naming the strategy
            raise ModelError(
                f"Training under strategy {strategy!r} failed: {type(exc).__name__}: {exc}",
                "check that the model's output matches the dataset's classes.",
            ) from exc
        return model, history.history, time.perf_counter() - started

    def probabilities(self, model: keras.Model, x: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes); multi-label: per-label probabilities."""
        outputs = np.concatenate(
            [
                np.asarray(model(x[i : i + 1024], training=False), dtype=np.float64)
                for i in range(0, len(x), 1024)
            ]
        )
        if self.from_logits:
            if self.units == 1 or self.multilabel:
                outputs = 1.0 / (1.0 + np.exp(-outputs))
            else:
                outputs = np.exp(outputs - outputs.max(axis=1, keepdims=True))
                outputs /= outputs.sum(axis=1, keepdims=True)
        if self.units == 1 and not self.multilabel:
            positive = outputs.reshape(-1)
            outputs = np.stack([1.0 - positive, positive], axis=1)
        return outputs


def _multilabel_mlp(input_shape, n_labels: int) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(n_labels, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


class _EpochProgress(keras.callbacks.Callback):
    def __init__(self, progress, epochs: int):
        super().__init__()
        self._progress, self._epochs = progress, epochs

    def on_epoch_end(self, epoch, logs=None):
        self._progress((epoch + 1) / self._epochs)
