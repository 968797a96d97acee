"""Models nobody here wrote, in the shapes of Keras' own examples: recurrent text and time-series models,
a model of two inputs and one of two outputs. Each trains one short recorded epoch, then every plugin
that reads the model draws figures or refuses through `is_compatible` with a reason naming what it
cannot read and what works; none raises anything else. Widths are tiny (the CI has 2 cores)."""

import types

import keras
import numpy as np
import pytest
from plugin_sweep import MODEL_PLUGINS, sweep

import dlviz
from dlviz.datasets import Dataset
from dlviz.registry import make_context

L = keras.layers
# Cheap settings for the explanation plugins (their defaults explain 32 samples with 50-step paths).
LIGHT = {
    "attributions": {"n_samples": 4, "steps": 8, "smoothgrad_samples": 2},
    "shap": {"n_samples": 4},
    "explanation_methods": {"n_samples": 2},
    "lr_finder": {"steps": 20},
}
# The plugins that draw on every model wrap accepts, whatever its inputs and outputs.
EVERY_MODEL = {"activations", "gradients", "model_graph", "model_summary"}
# The plugins that read the dataset's one array of inputs and one of labels with the model.
ONE_INPUT_ONE_OUTPUT = {
    "attributions", "embeddings", "evaluation", "explanation_methods", "landscape", "lr_finder", "shap"
}


def subset(dataset: Dataset, n_train: int, n_test: int) -> Dataset:
    return Dataset.from_arrays(
        dataset.x_train[:n_train],
        dataset.y_train[:n_train],
        x_test=dataset.x_test[:n_test],
        y_test=dataset.y_test[:n_test],
        name=dataset.name,
        kind=dataset.kind,
        class_names=dataset.class_names,
        standardize=False,
    )


def recorded(model, dataset=None, x=None, y=None, language="en"):
    """The context of `model` after one recorded epoch on `dataset` (or on x, y as model.fit takes them)."""
    if dataset is not None:
        x, y = dataset.x_train, dataset.y_train
        recorder = dlviz.Recorder.for_dataset(dataset, every=2)
    else:
        recorder = dlviz.Recorder(every=2, probe=(x, y))
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[recorder])
    return make_context(model=model, dataset=dataset, run=recorder.run, seed=0, language=language)


@pytest.fixture(scope="module")
def text_bilstm():
    """Embedding(mask_zero) + Bidirectional(LSTM) on the bundled sentiment token ids."""
    dataset = subset(dlviz.datasets.load("sentiment", seed=0), 128, 32)
    keras.utils.set_random_seed(0)
    vocabulary = int(dataset.x_train.max()) + 1
    model = keras.Sequential(
        [
            keras.Input(dataset.input_shape, dtype="int32"),
            L.Embedding(vocabulary, 4, mask_zero=True),
            L.Bidirectional(L.LSTM(3)),
            L.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return recorded(model, dataset)


@pytest.fixture(scope="module")
def gru_stack():
    """GRU(return_sequences) + SimpleRNN on the bundled sines time series (3 classes)."""
    dataset = subset(dlviz.datasets.load("sines", seed=0), 96, 24)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(dataset.input_shape),
            L.GRU(3, return_sequences=True),
            L.SimpleRNN(3),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return recorded(model, dataset)


def two_input_model():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    joined = L.Concatenate()([L.Dense(4, activation="relu")(a), L.Dense(4, activation="relu")(b)])
    model = keras.Model([a, b], L.Dense(2, activation="softmax")(joined))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def two_output_model(dataset):
    inputs = keras.Input(dataset.input_shape)
    hidden = L.Dense(6, activation="relu")(inputs)
    outputs = [L.Dense(3, activation="softmax", name="species")(hidden), L.Dense(1, name="size")(hidden)]
    model = keras.Model(inputs, outputs)
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    return model


@pytest.mark.slow
def test_text_bilstm_through_every_model_plugin(text_bilstm):
    drawn, refused = sweep(text_bilstm, **LIGHT)
    # Attributions explain token ids through the Embedding (per token); SHAP and LIME still refuse them.
    assert set(drawn) | set(refused) == set(MODEL_PLUGINS)
    assert EVERY_MODEL | {"attributions", "embeddings", "evaluation", "landscape", "lr_finder"} <= set(drawn)
    for name in ("shap", "explanation_methods"):
        assert "token ids" in refused[name] and "embeddings" in refused[name]
    bidirectional = [info.name for info in text_bilstm.model.layers if info.kind == "Bidirectional"]
    assert bidirectional  # one leaf: its output is an activation like any other layer's
    assert any(bidirectional[0] in (trace.name or "") for trace in drawn["activations"][0].data)


@pytest.mark.slow
def test_gru_stack_through_every_model_plugin(gru_stack):
    drawn, refused = sweep(gru_stack, **LIGHT)
    assert set(drawn) | set(refused) == set(MODEL_PLUGINS)
    assert EVERY_MODEL | {"attributions", "embeddings", "evaluation", "landscape", "lr_finder"} <= set(drawn)
    recurrent = {info.name for info in gru_stack.model.layers if info.kind in ("GRU", "SimpleRNN")}
    assert len(recurrent) == 2 and recurrent <= set(run_gradient_layers(gru_stack))


def run_gradient_layers(ctx) -> list[str]:
    return list(ctx.run.series("grad_norm"))


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "zh"])
def test_two_inputs_run_views_draw_and_explanations_need_a_dataset(language):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = [rng.random((64, 3), "float32"), rng.random((64, 2), "float32")]
    ctx = recorded(two_input_model(), x=x, y=rng.integers(0, 2, 64), language=language)
    assert ctx.model.input_names == ("a", "b")
    drawn, refused = sweep(ctx, **LIGHT)
    assert set(drawn) == EVERY_MODEL and set(refused) == ONE_INPUT_ONE_OUTPUT  # these need a dataset


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "zh"])
def test_two_outputs_refuse_where_one_output_is_read(language):
    dataset = dlviz.datasets.load("iris", seed=0)
    keras.utils.set_random_seed(0)
    model = two_output_model(dataset)
    targets = [dataset.y_train, dataset.x_train[:, :1]]
    recorder = dlviz.Recorder(every=2, probe=(dataset.x_train[:32], [t[:32] for t in targets]))
    model.fit(dataset.x_train, targets, epochs=1, batch_size=32, verbose=0, callbacks=[recorder])
    ctx = make_context(model=model, dataset=dataset, run=recorder.run, seed=0, language=language)
    drawn, refused = sweep(ctx, **LIGHT)
    assert set(drawn) == EVERY_MODEL and set(refused) == ONE_INPUT_ONE_OUTPUT
    for reason in refused.values():
        assert "species, size" in reason and ("2 outputs" in reason if language == "en" else "2 个输出" in reason)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_token_ids_refuse_the_gradient_explanations(language):
    dataset = subset(dlviz.datasets.load("sentiment", seed=0), 16, 4)
    ctx = dlviz.Context(model=types.SimpleNamespace(), dataset=dataset, language=language)
    for name in ("attributions", "shap", "explanation_methods"):
        reason = dlviz.get_plugin(name).is_compatible(ctx)
        assert "token ids" in reason and ("Embedding" in reason)
