"""dlviz.models.build: every kind trains, a seed fixes the weights, bad arguments get a ModelError."""

import random

import keras
import numpy as np
import pytest

from dlviz import datasets, models
from dlviz.datasets import Dataset
from dlviz.errors import ModelError


@pytest.fixture(scope="module")
def tiny_digits():
    full = datasets.load("digits")
    return Dataset.from_arrays(
        full.x_train[:150], full.y_train[:150], class_names=full.class_names, name="digits"
    )


@pytest.fixture(scope="module")
def xor():
    return datasets.load("xor", n_samples=100)


@pytest.fixture(scope="module")
def iris():
    return datasets.load("iris")


@pytest.mark.parametrize(
    ("kind", "dataset", "layer_names"),
    [
        ("mlp", "xor", ["hidden_1", "hidden_2", "output"]),
        ("logreg", "iris", ["output"]),
        ("cnn", "tiny_digits", ["conv_1", "pool_1", "conv_2", "flatten", "hidden_1", "hidden_2", "output"]),
    ],
)
def test_each_kind_builds_compiled_and_trains_an_epoch(kind, dataset, layer_names, request):
    ds = request.getfixturevalue(dataset)
    model = models.build(kind, ds)
    assert [layer.name for layer in model.layers] == layer_names
    assert model.built and model.input_shape == (None, *ds.input_shape)
    history = model.fit(ds.x_train, ds.y_train, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "accuracy" in history.history


def test_binary_data_gets_one_sigmoid_unit_and_multiclass_a_softmax(xor, iris):
    binary, multiclass = models.build("mlp", xor), models.build("mlp", iris)
    assert binary.output_shape == (None, 1) and binary.loss == "binary_crossentropy"
    assert binary.layers[-1].activation is keras.activations.sigmoid
    assert multiclass.output_shape == (None, 3) and multiclass.loss == "sparse_categorical_crossentropy"
    assert multiclass.layers[-1].activation is keras.activations.softmax


def weights(model):
    return [np.asarray(v) for v in model.weights]


def test_a_seed_fixes_the_initial_weights_without_touching_global_random_state(tiny_digits):
    numpy_state, python_state = np.random.get_state()[1].copy(), random.getstate()
    first = models.build("cnn", tiny_digits, seed=7, dropout=0.1)
    again = models.build("cnn", tiny_digits, seed=7, dropout=0.1)
    other = models.build("cnn", tiny_digits, seed=8, dropout=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(weights(first), weights(again), strict=True))
    kernels = [(a, b) for a, b in zip(weights(first), weights(other), strict=True) if a.std() > 0]
    assert kernels and not any(np.array_equal(a, b) for a, b in kernels)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert random.getstate() == python_state


def test_layers_get_distinct_initial_weights(iris):
    model = models.build("mlp", iris, hidden=(4, 4, 4))
    first, second = model.get_layer("hidden_2").kernel, model.get_layer("hidden_3").kernel
    assert not np.array_equal(np.asarray(first), np.asarray(second))


def test_options_add_their_layers_and_penalties(iris):
    model = models.build(
        "mlp", iris, hidden=8, dropout=0.3, batch_norm=True, l1=1e-3, l2=1e-3, activation="tanh"
    )
    assert [layer.name for layer in model.layers] == ["hidden_1", "bn_1", "act_1", "dropout_1", "output"]
    assert model.get_layer("act_1").activation is keras.activations.tanh
    assert model.get_layer("dropout_1").rate == 0.3
    assert len(model.losses) == 2  # one penalty per kernel
    plain = models.build("mlp", iris, hidden=())
    assert [layer.name for layer in plain.layers] == ["output"] and not plain.losses


@pytest.mark.parametrize("name", models.OPTIMIZERS)
def test_every_optimizer_name_builds(iris, name):
    model = models.build("logreg", iris, optimizer=name, learning_rate=0.05)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    expected = {"momentum": (0.9, False), "nesterov": (0.9, True), "sgd": (0.0, False)}
    if name in expected:
        assert (model.optimizer.momentum, model.optimizer.nesterov) == expected[name]


@pytest.mark.parametrize("name", models.ACTIVATIONS)
def test_every_activation_builds(xor, name):
    model = models.build("mlp", xor, hidden=(3,), activation=name)
    assert model.get_layer("hidden_1").activation is keras.activations.get(name)


@pytest.mark.parametrize("name", models.INITIALIZERS)
def test_every_initializer_draws_every_kernel(xor, name):
    model = models.build("mlp", xor, hidden=(3, 3), initializer=name)
    expected = type(models.make_initializer(name, 0))
    for layer in model.layers:
        assert isinstance(layer.kernel_initializer, expected), layer.name
    if name == "zeros":
        assert all(not np.any(layer.kernel.numpy()) for layer in model.layers)


@pytest.fixture(scope="module")
def sentiment():
    return datasets.load("sentiment", n_samples=200, length=8)


@pytest.fixture(scope="module")
def sines():
    return datasets.load("sines", n_samples=60, length=20)


def test_regression_gets_linear_outputs_and_mean_squared_error():
    ds = datasets.load("friedman1", n_samples=200)
    model = models.build("mlp", ds, hidden=(8,))
    assert model.output_shape == (None, 1) and model.loss == "mean_squared_error"
    assert model.layers[-1].activation is keras.activations.linear
    history = model.fit(ds.x_train, ds.y_train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "mae" in history.history
    two = Dataset.from_arrays(ds.x_train, np.column_stack([ds.y_train, -ds.y_train]))
    assert models.build("logreg", two).output_shape == (None, 2)


def test_multilabel_gets_one_sigmoid_per_label():
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 3)) > 0.5).astype(int)
    labels[:, 0] = 1
    model = models.build("mlp", Dataset.from_arrays(rng.normal(size=(60, 4)), labels), hidden=(4,))
    assert model.output_shape == (None, 3) and model.loss == "binary_crossentropy"
    assert model.layers[-1].activation is keras.activations.sigmoid


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_recurrent_kinds_embed_tokens_then_read_them_in_order(kind, sentiment):
    model = models.build(kind, sentiment, hidden=(8, 4), seed=3)
    assert [layer.name for layer in model.layers] == ["embedding", kind, "hidden_1", "output"]
    assert type(model.get_layer(kind)) is models.RECURRENT[kind] and model.get_layer(kind).units == 8
    assert model.get_layer("embedding").input_dim == sentiment.vocabulary_size
    history = model.fit(sentiment.x_train, sentiment.y_train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    first, again = (weights(models.build(kind, sentiment, hidden=(8, 4), seed=3)) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_mlp_on_tokens_is_a_bag_of_words_and_on_series_reads_the_flat_steps(sentiment, sines):
    bag = models.build("mlp", sentiment, hidden=(4,))
    assert [layer.name for layer in bag.layers] == ["embedding", "bag_of_words", "hidden_1", "output"]
    flat = models.build("gru", sines, hidden=(4,))
    assert flat.input_shape == (None, 20, 2) and flat.output_shape == (None, 3)
    assert [layer.name for layer in models.build("mlp", sines, hidden=(4,)).layers][0] == "flatten"


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (12, 20, 3)])
def test_a_small_cnn_fits_any_image_size(shape):
    rng = np.random.default_rng(0)
    ds = Dataset.from_arrays(rng.random((20, *shape)), [0, 1] * 10)
    model = models.build("cnn", ds, hidden=(4,))
    assert model.input_shape == (None, *shape) and model.count_params() < 20_000
    assert np.isfinite(model.predict(ds.x_test, verbose=0)).all()


def test_kinds_for_lists_what_build_accepts(iris, tiny_digits, sentiment):
    assert models.kinds_for(iris) == ("mlp", "logreg")
    assert models.kinds_for(tiny_digits) == ("mlp", "cnn", "logreg")
    for kind in models.kinds_for(sentiment):
        models.build(kind, sentiment, hidden=(2,))


@pytest.mark.slow
def test_an_lstm_reads_word_order_that_a_bag_of_words_cannot():
    ds = datasets.load("sentiment", n_samples=1200, length=8)

    def test_accuracy(kind):
        model = models.build(kind, ds, hidden=(16,), learning_rate=1e-2, seed=0)
        model.fit(ds.x_train, ds.y_train, epochs=15, batch_size=32, verbose=0)
        return model.evaluate(ds.x_test, ds.y_test, verbose=0)[1]

    bag, lstm = test_accuracy("mlp"), test_accuracy("lstm")
    assert bag < 0.7 < 0.85 < lstm, (bag, lstm)


BAD_ARGUMENTS = {
    "lstm on tabular data": (("lstm", "iris"), {}, ["reads sequences", "'iris' is tabular", "'sentiment'"]),
    "cnn on tabular data": (("cnn", "iris"), {}, ["needs image data", "'iris' is tabular", "mlp"]),
    "cnn on 2-D points": (("cnn", "xor"), {}, ["needs image data"]),
    "unknown kind": (("resnet", "iris"), {}, ["'resnet'", "mlp, cnn, logreg"]),
    "unknown activation": (("mlp", "iris"), {"activation": "swishy"}, ["'swishy'", "relu, leaky_relu"]),
    "unknown optimizer": (("mlp", "iris"), {"optimizer": "lbfgs"}, ["'lbfgs'", "sgd, momentum, nesterov"]),
    "unknown initializer": (("mlp", "iris"), {"initializer": "orthogonal"}, ["'orthogonal'", "he_normal"]),
    "negative learning rate": (("mlp", "iris"), {"learning_rate": -0.1}, ["learning_rate", "> 0"]),
    "zero learning rate": (("mlp", "iris"), {"learning_rate": 0}, ["learning_rate"]),
    "negative dropout": (("mlp", "iris"), {"dropout": -0.5}, ["dropout", ">= 0 and < 1"]),
    "dropout of one": (("mlp", "iris"), {"dropout": 1.0}, ["dropout"]),
    "negative l1": (("mlp", "iris"), {"l1": -1e-3}, ["l1", ">= 0"]),
    "negative l2": (("mlp", "iris"), {"l2": -1e-3}, ["l2"]),
    "NaN l2": (("mlp", "iris"), {"l2": float("nan")}, ["l2"]),
    "zero-width layer": (("mlp", "iris"), {"hidden": (32, 0)}, ["positive integers", "0"]),
    "negative width": (("mlp", "iris"), {"hidden": (-4,)}, ["-4"]),
    "fractional width": (("mlp", "iris"), {"hidden": (8.5,)}, ["8.5"]),
    "width as text": (("mlp", "iris"), {"hidden": "32"}, ["sequence of layer widths"]),
    "negative seed": (("mlp", "iris"), {"seed": -1}, ["seed"]),
    "not a dataset": (("mlp", "arrays"), {}, ["needs a dlviz Dataset", "tuple", "from_arrays"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_arguments_raise_a_model_error_that_says_what_and_how(case, request):
    (kind, dataset), options, fragments = BAD_ARGUMENTS[case]
    ds = (np.ones((4, 2)), np.zeros(4)) if dataset == "arrays" else request.getfixturevalue(dataset)
    with pytest.raises(ModelError) as caught:
        models.build(kind, ds, **options)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert caught.value.fix
