"""A small zoo of compiled Keras models suited to a `dlviz.datasets.Dataset`.

Every layer gets a readable, stable name (``hidden_1``, ``conv_2``, ``output``...) so runs of the same
architecture can be compared layer by layer, and its own seeded initializer, so a seed gives the same
weights every time without touching the user's global random state.

>>> from dlviz import datasets, models
>>> ds = datasets.load("iris")
>>> model = models.build("mlp", ds, hidden=(8,), seed=1)
>>> [layer.name for layer in model.layers]
['hidden_1', 'output']
>>> model.output_shape
(None, 3)
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from dlviz.datasets import Dataset
from dlviz.errors import ModelError

KINDS = ("mlp", "cnn", "logreg", "rnn", "lstm", "gru")
RECURRENT = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
EMBEDDING_SIZE = 16  # the width of each token's learnt vector in sequence models
ACTIVATIONS = ("relu", "leaky_relu", "elu", "selu", "gelu", "silu", "tanh", "sigmoid", "softplus", "linear")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam")
# Kernel initialisers by dlviz name: Keras' own classes; the first is Keras' default for Dense and Conv2D.
INITIALIZERS = (
    "glorot_uniform",
    "he_normal",
    "lecun_normal",
    "small_normal",
    "large_normal",
    "constant",
    "zeros",
)
# The spread of the two plain normal initialisers and the value of the constant one.
SMALL_NORMAL_STDDEV = 0.01
LARGE_NORMAL_STDDEV = 1.0
CONSTANT_VALUE = 0.1

_OPTIMIZER_FACTORIES = {
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr),
    "momentum": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
    "nesterov": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True),
    "adagrad": lambda lr: keras.optimizers.Adagrad(learning_rate=lr),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
    "adamw": lambda lr: keras.optimizers.AdamW(learning_rate=lr),
    "nadam": lambda lr: keras.optimizers.Nadam(learning_rate=lr),
}


_INITIALIZER_FACTORIES = {
    "glorot_uniform": lambda seed: keras.initializers.GlorotUniform(seed=seed),
    "he_normal": lambda seed: keras.initializers.HeNormal(seed=seed),
    "lecun_normal": lambda seed: keras.initializers.LecunNormal(seed=seed),
    "small_normal": lambda seed: keras.initializers.RandomNormal(stddev=SMALL_NORMAL_STDDEV, seed=seed),
    "large_normal": lambda seed: keras.initializers.RandomNormal(stddev=LARGE_NORMAL_STDDEV, seed=seed),
    "constant": lambda seed: keras.initializers.Constant(CONSTANT_VALUE),
    "zeros": lambda seed: keras.initializers.Zeros(),
}


def make_initializer(name: str, seed: int) -> keras.initializers.Initializer:
    """A new seeded Keras kernel initialiser by its dlviz name (one of `INITIALIZERS`).

    >>> type(make_initializer("he_normal", 0)).__name__, make_initializer("small_normal", 0).stddev
    ('HeNormal', 0.01)
    """
    if name not in INITIALIZERS:
        raise ModelError(f"Unknown initializer {name!r}.", f"Use one of: {', '.join(INITIALIZERS)}.")
    return _INITIALIZER_FACTORIES[name](int(seed))


def kinds_for(dataset: Dataset) -> tuple[str, ...]:
    """The model kinds `build` makes for ``dataset``, in `KINDS` order.

    >>> from dlviz import datasets
    >>> kinds_for(datasets.load("sentiment", n_samples=200))
    ('mlp', 'logreg', 'rnn', 'lstm', 'gru')
    """
    if dataset.kind == "image":
        fitting = {"mlp", "cnn", "logreg"} if min(dataset.input_shape[:2]) >= 4 else {"mlp", "logreg"}
    elif dataset.kind in ("sequence", "timeseries"):
        fitting = {"mlp", "logreg", *RECURRENT}
    else:
        fitting = {"mlp", "logreg"}
    return tuple(kind for kind in KINDS if kind in fitting)


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """A new Keras optimizer by its dlviz name (one of `OPTIMIZERS`); "momentum" is SGD with momentum 0.9.

    >>> make_optimizer("momentum", 0.1).momentum
    0.9
    """
    if name not in OPTIMIZERS:
        raise ModelError(f"Unknown optimizer {name!r}.", f"Use one of: {', '.join(OPTIMIZERS)}.")
    return _OPTIMIZER_FACTORIES[name](float(learning_rate))


def build(
    kind: str,
    dataset: Dataset,
    *,
    hidden: Sequence[int] | int = (32, 16),
    activation: str = "relu",
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    batch_norm: bool = False,
    initializer: str = "glorot_uniform",
    seed: int = 0,
) -> keras.Model:
    """A compiled, built `keras.Sequential` model for ``dataset``.

    ``kind``: "mlp" (dense hidden layers), "cnn" (two small conv blocks, then ``hidden`` dense layers;
    image datasets of any size from 4x4), "logreg" (no hidden layer; ``hidden``, ``dropout`` and
    ``batch_norm`` do not apply) or, for sequence and time-series datasets, "rnn", "lstm" or "gru" (a
    SimpleRNN, LSTM or GRU layer of ``hidden[0]`` units reading the steps, then the other ``hidden`` dense
    layers). Token ids first go through an ``embedding`` layer; "mlp" and "logreg" then average the
    tokens' vectors (a bag of words), time series are flattened.
    ``dropout`` follows each dense hidden layer, ``batch_norm`` goes between each hidden layer and
    its activation, ``l1``/``l2`` penalise every kernel. The output follows the task: one sigmoid unit
    with binary cross-entropy for two classes, a softmax with sparse categorical cross-entropy for more
    (metric accuracy), one sigmoid per label with binary cross-entropy for multilabel (metric accuracy),
    one linear unit per target with mean squared error for regression (metric mae).
    ``initializer`` (one of `INITIALIZERS`, see `make_initializer`) draws every kernel; biases start at zero.
    The same arguments and ``seed`` give the same initial weights. Raises `ModelError` for bad arguments.
    """
    if kind not in KINDS:
        raise ModelError(f"Unknown model kind {kind!r}.", f"Use one of: {', '.join(KINDS)}.")
    if not isinstance(dataset, Dataset):
        raise ModelError(
            f"build() needs a dlviz Dataset; got {type(dataset).__name__}.",
            "Load one with dlviz.datasets.load(...) or wrap arrays with Dataset.from_arrays(x, y).",
        )
    if kind == "cnn":
        _check_cnn_input(dataset)
    if kind in RECURRENT and dataset.kind not in ("sequence", "timeseries"):
        raise ModelError(
            f"A {kind} model reads sequences; dataset {dataset.name!r} is {dataset.kind}.",
            "Use kind='mlp' for it, or a sequence or time-series dataset such as 'sentiment' or 'sines'.",
        )
    if activation not in ACTIVATIONS:
        raise ModelError(f"Unknown activation {activation!r}.", f"Use one of: {', '.join(ACTIVATIONS)}.")
    if optimizer not in OPTIMIZERS:
        raise ModelError(f"Unknown optimizer {optimizer!r}.", f"Use one of: {', '.join(OPTIMIZERS)}.")
    if initializer not in INITIALIZERS:
        raise ModelError(f"Unknown initializer {initializer!r}.", f"Use one of: {', '.join(INITIALIZERS)}.")
    units = _hidden_units(hidden)
    _check_rate("learning_rate", learning_rate, low=0.0, low_inclusive=False)
    _check_rate("dropout", dropout, high=1.0)
    _check_rate("l1", l1)
    _check_rate("l2", l2)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ModelError(f"seed must be a non-negative integer; got {seed!r}.", "Use e.g. seed=0.")

    # One independent seed per random layer (kernels, dropout masks); enough for any depth.
    seeds = iter(np.random.SeedSequence(int(seed)).generate_state(2 * len(units) + 6) & 0x7FFFFFFF)
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if l1 or l2 else None
    token_ids = dataset.kind == "sequence"
    layers: list[keras.layers.Layer] = [
        keras.Input(shape=dataset.input_shape, dtype="int32" if token_ids else "float32", name="input")
    ]
    if token_ids:
        layers.append(
            keras.layers.Embedding(
                dataset.vocabulary_size,
                EMBEDDING_SIZE,
                embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=int(next(seeds))),
                name="embedding",
            )
        )
    if kind == "cnn":
        layers += _conv_blocks(dataset.input_shape, activation, batch_norm, regularizer, initializer, seeds)
    elif kind in RECURRENT:
        layers.append(
            RECURRENT[kind](
                units[0] if units else EMBEDDING_SIZE,
                kernel_initializer=make_initializer(initializer, int(next(seeds))),
                recurrent_initializer=keras.initializers.Orthogonal(seed=int(next(seeds))),
                kernel_regularizer=regularizer,
                name=kind,
            )
        )
        units = units[1:]
    elif token_ids:
        layers.append(keras.layers.GlobalAveragePooling1D(name="bag_of_words"))
    elif len(dataset.input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    if kind != "logreg":
        for index, width in enumerate(units, start=1):
            layers += _dense_block(
                index, width, activation, batch_norm, dropout, regularizer, initializer, seeds
            )

    output_activation, loss, metric = _head(dataset)
    layers.append(
        keras.layers.Dense(
            dataset.n_targets,
            activation=output_activation,
            kernel_initializer=make_initializer(initializer, int(next(seeds))),
            kernel_regularizer=regularizer,
            name="output",
        )
    )
    try:
        model = keras.Sequential(layers, name=_model_name(kind, dataset.name))
        model.compile(optimizer=make_optimizer(optimizer, learning_rate), loss=loss, metrics=[metric])
    except (ValueError, TypeError) as exc:
        raise ModelError(
            f"Keras could not build the {kind} model: {exc}", "Check the arguments to build()."
        ) from exc
    return model


def _head(dataset: Dataset) -> tuple[str, str, Any]:
    """The output activation, loss and metric for the dataset's task."""
    if dataset.task == "regression":
        return "linear", "mean_squared_error", keras.metrics.MeanAbsoluteError(name="mae")
    if dataset.task == "multilabel":
        return "sigmoid", "binary_crossentropy", keras.metrics.BinaryAccuracy(name="accuracy")
    if dataset.is_binary:
        return "sigmoid", "binary_crossentropy", "accuracy"
    return "softmax", "sparse_categorical_crossentropy", "accuracy"


def _conv_blocks(
    input_shape: tuple[int, ...],
    activation: str,
    batch_norm: bool,
    regularizer: keras.regularizers.Regularizer | None,
    initializer: str,
    seeds: Any,
) -> list[keras.layers.Layer]:
    """Conv(8) -> pool -> Conv(16) [-> pool when the maps are still large] -> flatten."""
    layers: list[keras.layers.Layer] = []
    side = min(input_shape[:2])
    for index, filters in enumerate((8, 16), start=1):
        layers.append(
            keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                activation=None if batch_norm else activation,
                use_bias=not batch_norm,
                kernel_initializer=make_initializer(initializer, int(next(seeds))),
                kernel_regularizer=regularizer,
                name=f"conv_{index}",
            )
        )
        if batch_norm:
            layers += [
                keras.layers.BatchNormalization(name=f"conv_bn_{index}"),
                keras.layers.Activation(activation, name=f"conv_act_{index}"),
            ]
        if index == 1 or side >= 8:
            layers.append(keras.layers.MaxPooling2D(2, name=f"pool_{index}"))
            side //= 2
    layers.append(keras.layers.Flatten(name="flatten"))
    return layers


def _dense_block(
    index: int,
    width: int,
    activation: str,
    batch_norm: bool,
    dropout: float,
    regularizer: keras.regularizers.Regularizer | None,
    initializer: str,
    seeds: Any,
) -> list[keras.layers.Layer]:
    layers: list[keras.layers.Layer] = [
        keras.layers.Dense(
            width,
            activation=None if batch_norm else activation,
            use_bias=not batch_norm,  # batch norm's own shift replaces the bias
            kernel_initializer=make_initializer(initializer, int(next(seeds))),
            kernel_regularizer=regularizer,
            name=f"hidden_{index}",
        )
    ]
    if batch_norm:
        layers += [
            keras.layers.BatchNormalization(name=f"bn_{index}"),
            keras.layers.Activation(activation, name=f"act_{index}"),
        ]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=int(next(seeds)), name=f"dropout_{index}"))
    return layers


def _check_cnn_input(dataset: Dataset) -> None:
    if dataset.kind != "image":
        raise ModelError(
            f"A cnn needs image data; dataset {dataset.name!r} is {dataset.kind}.",
            "Use kind='mlp' or 'logreg' for tabular and 2-D data, or an image dataset such as 'digits'.",
        )
    if min(dataset.input_shape[:2]) < 4:
        raise ModelError(
            f"A cnn needs images of at least 4x4 pixels; these are {dataset.input_shape[0]}x{dataset.input_shape[1]}.",
            "Use kind='mlp' for such small inputs.",
        )


def _hidden_units(hidden: Sequence[int] | int) -> tuple[int, ...]:
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, str | bytes) or not isinstance(hidden, Sequence):
        raise ModelError(
            f"hidden must be a sequence of layer widths; got {hidden!r}.",
            "Use e.g. hidden=(32, 16) or hidden=().",
        )
    bad = [h for h in hidden if isinstance(h, bool) or not isinstance(h, numbers.Integral) or h <= 0]
    if bad:
        raise ModelError(
            f"hidden layer widths must be positive integers; got {', '.join(map(repr, bad))} in {tuple(hidden)!r}.",
            "Use e.g. hidden=(32, 16).",
        )
    return tuple(int(h) for h in hidden)


def _check_rate(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_inclusive: bool = True,
) -> None:
    number = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    above_low = number and (value >= low if low_inclusive else value > low)
    if not (above_low and value < high):
        lower = f">= {low:g}" if low_inclusive else f"> {low:g}"
        bound = f"{lower} and < {high:g}" if math.isfinite(high) else lower
        raise ModelError(f"{name} must be a number {bound}; got {value!r}.", f"Pass a {name} {bound}.")


def _model_name(kind: str, dataset_name: str) -> str:
    return re.sub(r"\W", "_", f"{kind}_{dataset_name}")
