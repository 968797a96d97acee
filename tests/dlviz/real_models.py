"""A zoo of tiny models shaped like the ones users bring: recurrent, attention, several inputs or
outputs, a Keras application, mixed precision and masking. Each builder returns a `ZooModel`: the
compiled model with a few samples that fit it (x and y as `model.fit` takes them).

Builders take `dtype`: float64 makes central finite differences exact enough to compare with the
analytic gradients (losses are built with that dtype too, since Keras computes a loss named by a string
in float32). Widths are tiny so that the whole zoo runs on a 2-core CI machine.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

layers = keras.layers
N_SAMPLES = 6


@dataclass
class ZooModel:
    name: str
    model: keras.Model
    x: Any
    y: Any
    recurrent: tuple[str, ...] = ()  # names of the recurrent leaf layers, whose variables get checked


@contextlib.contextmanager
def floatx(dtype: str):
    """Build under `dtype` as Keras' default float (layers, inputs and applications follow it).

    The global dtype policy is set and restored too: Keras caches one made from floatx on first use.
    """
    previous, previous_policy = keras.backend.floatx(), keras.mixed_precision.global_policy()
    keras.backend.set_floatx(dtype)
    keras.mixed_precision.set_global_policy(dtype)
    try:
        yield
    finally:
        keras.backend.set_floatx(previous)
        keras.mixed_precision.set_global_policy(previous_policy)


def _classes(rng, n_classes=2):
    return rng.integers(0, n_classes, N_SAMPLES)


def _sparse_ce(dtype):
    return keras.losses.SparseCategoricalCrossentropy(dtype=dtype)


def embedding_bidirectional_lstm(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(10)
    rng = np.random.default_rng(10)
    with floatx(dtype):
        tokens = keras.Input((6,), dtype="int32", name="tokens")
        hidden = layers.Embedding(12, 4, name="embed")(tokens)
        hidden = layers.Bidirectional(layers.LSTM(3), name="bilstm")(hidden)
        outputs = layers.Dense(2, activation="softmax", name="probs")(hidden)
        model = keras.Model(tokens, outputs, name="bilstm_classifier")
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    return ZooModel("bilstm", model, rng.integers(1, 12, (N_SAMPLES, 6)), _classes(rng), ("bilstm",))


def gru_stack(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    with floatx(dtype):
        model = keras.Sequential(
            [
                keras.Input((5, 3)),
                layers.GRU(4, return_sequences=True, name="gru_seq"),
                layers.TimeDistributed(layers.Dense(3, activation="tanh"), name="per_step"),
                layers.GRU(3, name="gru_last"),
                layers.Dense(1, activation="sigmoid", name="head"),
            ],
            name="gru_stack",
        )
        model.compile(loss=keras.losses.BinaryCrossentropy(dtype=dtype), optimizer="adam")
    return ZooModel(
        "gru_stack", model, rng.normal(size=(N_SAMPLES, 5, 3)), _classes(rng), ("gru_seq", "gru_last")
    )


def simple_rnn(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(12)
    rng = np.random.default_rng(12)
    with floatx(dtype):
        model = keras.Sequential(
            [keras.Input((4, 2)), layers.SimpleRNN(3, name="rnn"), layers.Dense(3, activation="softmax")],
            name="simple_rnn",
        )
        model.compile(loss=_sparse_ce(dtype), optimizer="sgd")
    return ZooModel("simple_rnn", model, rng.normal(size=(N_SAMPLES, 4, 2)), _classes(rng, 3), ("rnn",))


@keras.saving.register_keras_serializable(package="dlviz_tests")
class MinimalCell(layers.Layer):
    """A custom recurrent cell (the one of Keras' RNN guide): h_t = tanh(x_t W + h_{t-1} U)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        output = keras.ops.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def custom_cell_rnn(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(13)
    with floatx(dtype):
        model = keras.Sequential(
            [keras.Input((4, 2)), layers.RNN(MinimalCell(3), name="custom_rnn"), layers.Dense(1)],
            name="custom_cell",
        )
        model.compile(loss=keras.losses.MeanSquaredError(dtype=dtype), optimizer="sgd")
    y = rng.normal(size=(N_SAMPLES, 1))
    return ZooModel("custom_cell", model, rng.normal(size=(N_SAMPLES, 4, 2)), y, ("custom_rnn",))


def conv_lstm(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(14)
    rng = np.random.default_rng(14)
    with floatx(dtype):
        model = keras.Sequential(
            [
                keras.Input((3, 6, 2)),  # time, width, channels
                layers.ConvLSTM1D(2, 3, name="conv_lstm"),
                layers.Flatten(),
                layers.Dense(2, activation="softmax"),
            ],
            name="conv_lstm",
        )
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    return ZooModel("conv_lstm", model, rng.normal(size=(N_SAMPLES, 3, 6, 2)), _classes(rng), ("conv_lstm",))


def attention_block(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(15)
    rng = np.random.default_rng(15)
    with floatx(dtype):
        sequence = keras.Input((5, 4))
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=2, name="attention")(sequence, sequence)
        hidden = layers.LayerNormalization(name="norm")(layers.Add()([sequence, attended]))
        hidden = layers.GlobalAveragePooling1D()(hidden)
        model = keras.Model(sequence, layers.Dense(2, activation="softmax")(hidden), name="attention")
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    return ZooModel("attention", model, rng.normal(size=(N_SAMPLES, 5, 4)), _classes(rng))


def two_inputs(dtype="float64", as_dict=False) -> ZooModel:
    keras.utils.set_random_seed(16)
    rng = np.random.default_rng(16)
    with floatx(dtype):
        left, right = keras.Input((3,), name="left"), keras.Input((2,), name="right")
        hidden = layers.Concatenate()(
            [layers.Dense(3, activation="tanh")(left), layers.Dense(2, activation="tanh")(right)]
        )
        outputs = layers.Dense(2, activation="softmax")(hidden)
        inputs = {"left": left, "right": right} if as_dict else [left, right]
        model = keras.Model(inputs, outputs, name="two_inputs_dict" if as_dict else "two_inputs_list")
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    x_left, x_right = rng.normal(size=(N_SAMPLES, 3)), rng.normal(size=(N_SAMPLES, 2))
    x = {"left": x_left, "right": x_right} if as_dict else [x_left, x_right]
    return ZooModel(model.name, model, x, _classes(rng))


def two_outputs(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(17)
    rng = np.random.default_rng(17)
    with floatx(dtype):
        features = keras.Input((4,))
        hidden = layers.Dense(5, activation="tanh", name="trunk")(features)
        kind = layers.Dense(3, activation="softmax", name="kind")(hidden)
        size = layers.Dense(1, name="size")(hidden)
        model = keras.Model(features, [kind, size], name="two_outputs")
        model.compile(
            loss=[_sparse_ce(dtype), keras.losses.MeanSquaredError(dtype=dtype)],
            loss_weights=[1.0, 0.3],
            optimizer="adam",
        )
    y = [_classes(rng, 3), rng.normal(size=(N_SAMPLES, 1))]
    return ZooModel("two_outputs", model, rng.normal(size=(N_SAMPLES, 4)), y)


def masked_lstm(dtype="float64") -> ZooModel:
    """Token sequences padded with 0, which the Embedding masks: the LSTM and pooling skip them."""
    keras.utils.set_random_seed(18)
    rng = np.random.default_rng(18)
    with floatx(dtype):
        tokens = keras.Input((6,), dtype="int32")
        hidden = layers.Embedding(10, 3, mask_zero=True, name="embed")(tokens)
        hidden = layers.LSTM(3, return_sequences=True, name="lstm")(hidden)
        hidden = layers.GlobalAveragePooling1D(name="pool")(hidden)
        model = keras.Model(tokens, layers.Dense(2, activation="softmax")(hidden), name="masked")
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    x = rng.integers(1, 10, (N_SAMPLES, 6))
    x[:, 4:] = 0  # the last two steps are padding
    x[0, 2:] = 0
    return ZooModel("masked", model, x, _classes(rng), ("lstm",))


def mixed_precision_gru() -> ZooModel:
    """Built under the mixed_float16 policy (restored after): float16 compute, float32 variables and head."""
    keras.utils.set_random_seed(19)
    rng = np.random.default_rng(19)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras.Sequential(
            [
                keras.Input((5, 3)),
                layers.GRU(4, return_sequences=True, name="gru"),
                layers.Conv1D(3, 2, activation="relu", name="conv"),
                layers.GlobalAveragePooling1D(),
                layers.Dense(2, activation="softmax", dtype="float32", name="probs"),
            ],
            name="mixed_precision",
        )
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    finally:
        keras.mixed_precision.set_global_policy(previous)
    x = rng.normal(size=(N_SAMPLES, 5, 3)).astype("float32")
    return ZooModel("mixed_precision", model, x, _classes(rng), ("gru",))


def mobilenet_v2(dtype="float64") -> ZooModel:
    keras.utils.set_random_seed(20)
    rng = np.random.default_rng(20)
    with floatx(dtype):
        model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=3)
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    return ZooModel("mobilenet_v2", model, rng.uniform(size=(2, 32, 32, 3)), _classes(rng, 3)[:2])


FAST_ZOO = {
    "bilstm": embedding_bidirectional_lstm,
    "gru_stack": gru_stack,
    "simple_rnn": simple_rnn,
    "custom_cell": custom_cell_rnn,
    "conv_lstm": conv_lstm,
    "attention": attention_block,
    "two_inputs_list": two_inputs,
    "two_inputs_dict": lambda dtype="float64": two_inputs(dtype, as_dict=True),
    "two_outputs": two_outputs,
    "masked": masked_lstm,
}


class TwoInputSubclass(keras.Model):
    """A subclassed model called on a list (or, with keyed=True, a dict) of two inputs."""

    def __init__(self, keyed=False, **kwargs):
        super().__init__(**kwargs)
        self.keyed = keyed
        self.hidden = layers.Dense(3, activation="tanh", name="hidden")
        self.out = layers.Dense(2, activation="softmax", name="out")

    def call(self, inputs):
        left, right = (inputs["left"], inputs["right"]) if self.keyed else inputs
        return self.out(self.hidden(keras.ops.concatenate([left, right], axis=-1)))


def subclassed_two_inputs(dtype="float64", keyed=False) -> ZooModel:
    keras.utils.set_random_seed(21)
    rng = np.random.default_rng(21)
    x_left, x_right = rng.normal(size=(N_SAMPLES, 3)), rng.normal(size=(N_SAMPLES, 2))
    x = {"left": x_left, "right": x_right} if keyed else [x_left, x_right]
    with floatx(dtype):
        model = TwoInputSubclass(keyed=keyed, name="subclassed_two_inputs")
        model(x)  # builds it
        model.compile(loss=_sparse_ce(dtype), optimizer="adam")
    return ZooModel(model.name, model, x, _classes(rng))
