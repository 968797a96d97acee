import logging
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlviz.errors import DataError, DlvizError, ModelError
from dlviz.handle import BATCH_SIZE, Capture, LayerInfo, ModelHandle, wrap

layers = keras.layers
F64 = "float64"


# ------------------------------------------------------------------ tiny models, float64 so that
# central finite differences are exact enough to compare with the analytic gradients


def sequential_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((3,), dtype=F64),
            layers.Dense(4, activation="tanh", dtype=F64, kernel_regularizer=keras.regularizers.l2(0.05)),
            layers.Dense(3, activation="softmax", dtype=F64),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy")
    return model


def functional_model():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((3,), dtype=F64)
    hidden = layers.Dense(4, dtype=F64, name="hidden")(inputs)
    hidden = layers.Activation("tanh", dtype=F64, name="squash")(hidden)
    outputs = layers.Dense(3, activation="softmax", dtype=F64, name="probs")(hidden)
    return keras.Model(inputs, outputs)  # uncompiled: softmax -> inferred cross-entropy


def nested_model():
    keras.utils.set_random_seed(3)
    inner = keras.Sequential(
        [keras.Input((4,), dtype=F64), layers.Dense(3, activation="tanh", dtype=F64, name="inner_dense")],
        name="inner",
    )
    inputs = keras.Input((3,), dtype=F64)
    hidden = layers.Dense(4, activation="tanh", dtype=F64, name="first")(inputs)
    outputs = layers.Dense(1, activation="sigmoid", dtype=F64, name="head")(inner(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(loss="binary_crossentropy")
    return model


class TwoLayerRegressor(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(4, activation="tanh", dtype=F64, name="sub_hidden")
        self.out = layers.Dense(2, dtype=F64, name="sub_out")

    def call(self, x, training=False):
        return self.out(self.hidden(x))


def subclassed_model():
    keras.utils.set_random_seed(4)
    model = TwoLayerRegressor()
    model(np.zeros((1, 3)))
    model.compile(loss="mse")
    return model


MODELS = {
    "sequential": (sequential_model, None),
    "functional": (functional_model, None),
    "nested": (nested_model, None),
    "subclassed": (subclassed_model, None),
}

EXPECTED_CALL_ORDER = {
    "sequential": None,  # auto-generated names, checked by kind below
    "functional": ["hidden", "squash", "probs"],
    "nested": ["first", "inner_dense", "head"],
    "subclassed": ["sub_hidden", "sub_out"],
}


def data_for(kind, n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    if kind in ("sequential", "functional"):
        y = rng.integers(0, 3, n)
    elif kind == "nested":
        y = rng.integers(0, 2, n)
    else:
        y = rng.normal(size=(n, 2))
    return x, y


def central_difference(handle, variable, index, x, y, eps=1e-2):
    original = variable.numpy()
    values = []
    for sign in (1, -1):
        moved = original.copy()
        moved[index] += sign * eps
        variable.assign(moved)
        values.append(handle.loss(x, y))
    variable.assign(original)
    return (values[0] - values[1]) / (2 * eps)


@pytest.mark.parametrize("kind", list(MODELS))
def test_gradients_match_central_finite_differences(kind):
    handle = wrap(MODELS[kind][0]())
    x, y = data_for(kind)
    gradients = handle.gradients(x, y)
    assert list(gradients) == handle.variable_paths
    rng = np.random.default_rng(0)
    for variable, path in zip(handle.model.trainable_variables, handle.variable_paths, strict=True):
        assert gradients[path].shape == tuple(variable.shape)
        for flat in rng.choice(
            int(np.prod(variable.shape)), size=min(3, int(np.prod(variable.shape))), replace=False
        ):
            index = np.unravel_index(flat, variable.shape)
            numeric = central_difference(handle, variable, index, x, y)
            # Compiled Keras losses are cast to float32: a large step keeps round-off below truncation error.
            assert gradients[path][index] == pytest.approx(numeric, rel=1e-3, abs=1e-5), (path, index)


def test_gradients_include_regularisation_losses():
    handle = wrap(sequential_model())
    x, y = data_for("sequential")
    with_penalty = handle.gradients(x, y)
    unregularised = sequential_model()
    unregularised.layers[0].kernel.regularizer = None
    without_penalty = wrap(unregularised).gradients(x, y)
    kernel_with, bias_with = list(with_penalty.values())[:2]
    kernel_without, bias_without = list(without_penalty.values())[:2]
    kernel = handle.model.layers[0].kernel.numpy()
    np.testing.assert_allclose(kernel_with - kernel_without, 2 * 0.05 * kernel, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bias_with, bias_without, rtol=1e-6)


@pytest.mark.parametrize("kind", list(MODELS))
def test_activations_in_call_order_and_last_equals_predict(kind):
    model = MODELS[kind][0]()
    handle = wrap(model)
    x, _ = data_for(kind, n=5)
    activations = handle.activations(x)
    names = [info.name for info in handle.layers]
    assert list(activations) == names
    if EXPECTED_CALL_ORDER[kind] is not None:
        assert names == EXPECTED_CALL_ORDER[kind]
    else:
        assert [info.kind for info in handle.layers] == ["Dense", "Dense"]
    np.testing.assert_allclose(activations[names[-1]], handle.predict(x), rtol=1e-12)
    np.testing.assert_allclose(handle.predict(x), keras.ops.convert_to_numpy(model(x)), rtol=1e-12)
    for info in handle.layers:
        assert activations[info.name].shape[1:] == info.output_shape[1:]
        assert info.output_shape[0] is None


def test_activations_selects_layers_and_rejects_unknown_names():
    handle = wrap(functional_model())
    x, _ = data_for("functional")
    assert list(handle.activations(x, layers=["probs", "hidden"])) == ["probs", "hidden"]
    assert list(handle.activations(x, layers="squash")) == ["squash"]
    with pytest.raises(ModelError, match="hidden.*squash.*probs"):
        handle.activations(x, layers=["nope"])


def test_shared_layer_gets_one_key_per_call():
    shared = layers.Dense(3, name="shared")
    inputs = keras.Input((3,))
    hidden = shared(layers.ReLU(name="rectify")(shared(inputs)))
    outputs = layers.Dense(2, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs)
    handle = wrap(model)
    assert [info.name for info in handle.layers] == ["shared", "rectify", "shared#2", "out"]
    assert sum(info.params for info in handle.layers) == model.count_params()
    assert handle.layers[2].trainable_paths == ()
    assert handle.layers[1].activation == "relu"
    activations = handle.activations(np.ones((2, 3), dtype="float32"))
    assert not np.allclose(activations["shared"], activations["shared#2"])


def test_layer_infos_describe_the_model():
    handle = wrap(sequential_model())
    first, last = handle.layers
    assert isinstance(first, LayerInfo)
    assert (first.kind, first.output_shape, first.params, first.activation) == (
        "Dense",
        (None, 4),
        16,
        "tanh",
    )
    assert last.activation == "softmax"
    assert handle.variable_paths == [v.path for v in handle.model.trainable_variables]
    assert first.trainable_paths == tuple(handle.variable_paths[:2])
    assert handle.layer_of_path == {
        **dict.fromkeys(first.trainable_paths, first.name),
        **dict.fromkeys(last.trainable_paths, last.name),
    }
    functional = wrap(functional_model())
    assert [info.activation for info in functional.layers] == ["linear", "tanh", "softmax"]


def test_repeated_calls_with_new_batch_sizes_do_not_retrace(caplog):
    handle = wrap(functional_model())
    rng = np.random.default_rng(0)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for n in (1, 7, BATCH_SIZE + 44, 3):
            x = rng.normal(size=(n, 3))
            y = rng.integers(0, 3, n)
            handle.predict(x)
            handle.activations(x)
            handle.gradients(x, y)
            handle.loss(x, y)
            handle.input_gradients(x)
    functions = [handle._predict_fn, handle._activations_fn, *handle._input_gradients_fns.values()]
    functions += [*handle._gradient_fns.values(), *handle._loss_fns.values()]
    assert all(fn.experimental_get_tracing_count() == 1 for fn in functions)
    assert "retracing" not in caplog.text


def test_many_handles_do_not_trigger_retracing_warnings(caplog):
    x, y = data_for("nested")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for _ in range(6):
            handle = wrap(nested_model())
            handle.loss(x, y)
            handle.predict(x)
    assert "retracing" not in caplog.text


def test_batched_loss_and_predict_equal_full_batch_values():
    model = nested_model()
    handle = wrap(model)
    x, y = data_for("nested", n=2 * BATCH_SIZE + 10)
    y_pred = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(handle.predict(x), y_pred, rtol=1e-12)
    full = keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(y[:, None].astype(F64), y_pred))
    assert handle.loss(x, y) == pytest.approx(float(np.mean(full)), rel=1e-6)


def saturated_sigmoid(compiled):
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[40.0]]), np.array([0.0])])
    if compiled:
        model.compile(loss="binary_crossentropy")
    return model


@pytest.mark.parametrize("compiled", [True, False])
def test_saturated_sigmoid_loss_uses_the_logits(compiled):
    model = saturated_sigmoid(compiled)
    x = np.array([[0.5], [1.0], [-1.0]], dtype="float32")
    y = np.array([0, 0, 1])
    logits = 40.0 * x[:, 0]
    from_logits = float(np.mean(np.logaddexp(0.0, np.where(y == 1, -logits, logits))))
    handle = wrap(model)
    assert handle.loss(x, y) == pytest.approx(from_logits, rel=1e-5)
    if compiled:
        assert handle.loss(x, y) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    from_probabilities = keras.losses.binary_crossentropy(y[:, None].astype("float32"), handle.predict(x))
    assert abs(float(np.mean(from_probabilities)) - from_logits) > 1.0
    # d loss / d w = mean((sigmoid(w x) - y) * x), finite and exact even where sigmoid saturates.
    expected_grad = np.mean((1 / (1 + np.exp(-logits)) - y) * x[:, 0])
    kernel_path = handle.variable_paths[0]
    assert handle.gradients(x, y)[kernel_path].item() == pytest.approx(expected_grad, rel=1e-5)


def test_capture_inside_a_user_tf_function():
    model = nested_model()
    handle = wrap(model)
    x, y = data_for("nested")

    @tf.function
    def step(x, y):
        return handle.capture(x, y)

    captured = step(tf.constant(x), tf.constant(y[:, None].astype(F64)))
    assert isinstance(captured, Capture)
    assert list(captured.activations) == ["first", "inner_dense", "head"]
    assert float(captured.loss) == pytest.approx(handle.loss(x, y), rel=1e-6)
    expected = handle.gradients(x, y)
    assert list(captured.gradients) == list(expected)
    for path, value in captured.gradients.items():
        np.testing.assert_allclose(value.numpy(), expected[path], rtol=1e-6)
    assert all("call" not in layer.__dict__ for layer in model._flatten_layers())
    without_labels = handle.capture(tf.constant(x))
    assert without_labels.loss is None and without_labels.gradients is None
    np.testing.assert_allclose(without_labels.outputs.numpy(), handle.predict(x))


def test_capture_in_training_mode_uses_dropout():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((50,)), layers.Dropout(0.5, name="drop"), layers.Dense(1)])
    handle = wrap(model)
    x = tf.ones((4, 50))
    assert np.all(handle.capture(x, training=False).activations["drop"].numpy() == 1.0)
    assert np.any(handle.capture(x, training=True).activations["drop"].numpy() == 0.0)


def test_input_gradients_match_finite_differences_on_one_sample():
    handle = wrap(functional_model())
    x, _ = data_for("functional", n=1)
    predicted = int(np.argmax(handle.predict(x)[0]))
    for target, chosen in ((None, predicted), (2, 2), ([0], 0)):
        gradient = handle.input_gradients(x, target=target)
        assert gradient.shape == x.shape
        for feature in range(3):
            step = np.zeros_like(x)
            step[0, feature] = 1e-6
            numeric = (handle.predict(x + step)[0, chosen] - handle.predict(x - step)[0, chosen]) / 2e-6
            assert gradient[0, feature] == pytest.approx(numeric, rel=1e-5, abs=1e-9)


def test_input_gradients_of_a_single_sigmoid_unit_use_its_output():
    handle = wrap(nested_model())
    x, _ = data_for("nested", n=1)
    step = np.array([[0.0, 1e-6, 0.0]])
    numeric = (handle.predict(x + step)[0, 0] - handle.predict(x - step)[0, 0]) / 2e-6
    assert handle.input_gradients(x)[0, 1] == pytest.approx(numeric, rel=1e-5)
    with pytest.raises(DataError):
        handle.input_gradients(x, target=1)


def test_unbuilt_sequential_is_built_from_the_dataset_or_refused():
    def unbuilt():
        return keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1, activation="sigmoid")])

    with pytest.raises(ModelError, match=r"call model.build\(input_shape\) or pass dataset="):
        wrap(unbuilt())
    handle = wrap(unbuilt(), dataset=types.SimpleNamespace(input_shape=(5,)))
    assert handle.input_shape == (5,)
    assert handle.predict(np.zeros((2, 5))).shape == (2, 1)


def test_unbuilt_subclassed_model_is_built_from_the_dataset():
    handle = wrap(TwoLayerRegressor(), dataset=types.SimpleNamespace(input_shape=(3,)))
    assert [info.name for info in handle.layers] == ["sub_hidden", "sub_out"]
    with pytest.raises(ModelError):
        wrap(TwoLayerRegressor())


def test_a_handle_passes_through_wrap():
    handle = wrap(nested_model())
    assert wrap(handle) is handle
    assert isinstance(handle, ModelHandle)


@pytest.mark.parametrize(
    "thing", ["a string", 42, keras.layers.Dense(3), pytest.param("sklearn", id="sklearn-estimator")]
)
def test_wrap_refuses_what_is_not_a_keras_model(thing):
    if thing == "sklearn":
        from sklearn.linear_model import LogisticRegression

        thing = LogisticRegression()
    with pytest.raises(ModelError, match="Expected a Keras model"):
        wrap(thing)


def test_several_inputs_must_be_passed_as_a_list_or_dict():
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    handle = wrap(keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b]))))
    assert handle.input_names == ("a", "b") and handle.input_shapes == ((2,), (3,))
    assert handle.input_shape is None
    with pytest.raises(DataError, match=r"2 inputs \(a, b\), but x is one array"):
        handle.predict(np.zeros((4, 2)))
    with pytest.raises(DataError, match=r"missing: \['b'\]"):
        handle.predict({"a": np.zeros((4, 2))})
    with pytest.raises(DataError, match=r"Input 'b': x has shape \(4, 2\)"):
        handle.predict([np.zeros((4, 2)), np.zeros((4, 2))])
    with pytest.raises(DataError, match="different numbers of samples"):
        handle.predict([np.zeros((4, 2)), np.zeros((5, 3))])


def test_uncompiled_model_with_an_unknown_head_asks_for_a_loss():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="relu")])
    handle = wrap(model)
    with pytest.raises(ModelError, match="compile the model with a loss"):
        handle.gradients(np.zeros((2, 3)), np.zeros((2, 2)))


SOFTMAX_X = np.zeros((4, 3))


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((4, 5)), None, r"shape \(4, 5\).*expects \(None, 3\)"),
        (np.zeros(3), None, r"x\[None\]"),
        (np.zeros((4, 3, 1)), None, "expects"),
        (np.full((4, 3), np.nan), None, "NaN"),
        (np.array([[0, 0, np.inf]] * 4), None, "NaN or infinite"),
        (np.zeros((0, 3)), None, "empty"),
        (np.array([["a", "b", "c"]]), None, "numbers"),
        (SOFTMAX_X, np.array([0, 1, 2]), "3 labels for 4 samples"),
        (SOFTMAX_X, np.array([0, 1, 2, 5]), r"class id\(s\) \[5\].*3 unit"),
        (SOFTMAX_X, np.array([0, 1, 2, -1]), r"\[-1\]"),
        (SOFTMAX_X, np.array([0, 1.5, 2, 0]), "non-integer"),
        (SOFTMAX_X, np.eye(4), r"one-hot labels of shape \(n, 3\)"),
        (SOFTMAX_X, np.array([0, 1, np.nan, 0]), "NaN"),
    ],
)
def test_bad_inputs_raise_data_errors(x, y, message):
    handle = wrap(functional_model())
    with pytest.raises(DataError, match=message):
        if y is None:
            handle.predict(x)
        else:
            handle.gradients(x, y)


def test_label_checks_follow_the_output_and_the_loss():
    sigmoid = wrap(nested_model())
    x = np.zeros((3, 3))
    with pytest.raises(DataError, match=r"\[2\].*labels 0 or 1"):
        sigmoid.loss(x, np.array([0, 1, 2]))
    sparse = wrap(sequential_model())
    with pytest.raises(DataError, match=r"class ids of shape \(n,\)"):
        sparse.loss(x, np.eye(3))
    categorical = sequential_model()
    categorical.compile(loss="categorical_crossentropy")
    with pytest.raises(DataError, match="to_categorical"):
        wrap(categorical).loss(x, np.array([0, 1, 2]))
    regression = wrap(subclassed_model())
    with pytest.raises(DataError, match=r"output has shape \(None, 2\)"):
        regression.loss(x, np.zeros((3, 3)))


def test_one_hot_and_class_ids_give_the_same_inferred_loss():
    handle = wrap(functional_model())
    x, y = data_for("functional")
    assert handle.loss(x, np.eye(3)[y]) == pytest.approx(handle.loss(x, y), rel=1e-12)


def test_input_gradient_targets_are_checked():
    handle = wrap(functional_model())
    x = np.zeros((2, 3))
    with pytest.raises(DataError, match=r"class id\(s\) \[3\]"):
        handle.input_gradients(x, target=3)
    with pytest.raises(DataError, match="one int per sample"):
        handle.input_gradients(x, target=[0, 1, 2])


class Fussy(keras.Model):
    """Fails at run time with a TensorFlow error for inputs above 10."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)

    def call(self, x):
        tf.debugging.assert_less(x, tf.constant(10.0, x.dtype), message="input too large")
        return self.dense(x)


def test_tensorflow_errors_are_wrapped_in_model_errors():
    model = Fussy()
    model(np.zeros((1, 2), dtype="float32"))
    handle = wrap(model)
    with pytest.raises(ModelError, match="input too large") as caught:
        handle.predict(np.full((2, 2), 100.0))
    assert isinstance(caught.value.__cause__, tf.errors.InvalidArgumentError)
    assert isinstance(caught.value, DlvizError)


def test_prepare_returns_checked_arrays_for_capture():
    handle = wrap(nested_model())
    x, y = handle.prepare([[0, 1, 2], [3, 4, 5]], [1, 0])
    assert x.dtype == np.float64 and x.shape == (2, 3)
    assert y.shape == (2, 1)
    assert float(handle.capture(x, y).loss) == pytest.approx(handle.loss(x, y), rel=1e-6)
    with pytest.raises(DataError, match=r"4 features per sample where the model takes 3"):
        handle.prepare(np.zeros((2, 4)))


def test_a_dataset_of_another_shape_is_refused():
    with pytest.raises(ModelError, match=r"dataset's samples have shape \(8, 8, 1\)"):
        wrap(nested_model(), dataset=types.SimpleNamespace(input_shape=(8, 8, 1)))


def test_compiling_again_after_wrapping_uses_the_new_loss():
    model = subclassed_model()
    handle = wrap(model)
    x, y = data_for("subclassed")
    mse = handle.loss(x, y)
    model.compile(loss="mae")
    mae = handle.loss(x, y)
    expected = np.mean(np.abs(handle.predict(x) - y))
    assert mae == pytest.approx(expected, rel=1e-6) and mae != pytest.approx(mse)


MIRRORED_SCRIPT = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
from dlviz.handle import wrap

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", kernel_regularizer="l2"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
handle = wrap(model)
x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
y = np.random.default_rng(1).integers(0, 2, (8, 1)).astype("float32")

names = []

@tf.function
def step(x, y):
    captured = strategy.run(lambda x, y: handle.capture(x, y), args=(x, y))
    names[:] = list(captured.activations)
    return (strategy.reduce("SUM", captured.loss, axis=None),
            [strategy.reduce("SUM", g, axis=None) for g in captured.gradients.values()])

batch = next(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((x, y)).batch(8))))
loss, gradients = step(*batch)
expected = handle.gradients(x, y)
print(json.dumps({"loss": float(loss), "expected_loss": handle.loss(x, y), "names": names,
                  "grad_error": max(float(np.max(np.abs(g.numpy() - e))) for g, e in zip(gradients, expected.values()))}))
"""


@pytest.mark.slow
def test_capture_under_mirrored_strategy_matches_a_single_device():
    """Replicas trace in concurrent threads: each must record its own calls, none may see the others'."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["names"] == ["dense", "dense_1"]
    assert result["loss"] == pytest.approx(result["expected_loss"], abs=1e-5)
    assert result["grad_error"] < 1e-5


def test_layers_of_nested_models_that_share_a_name_get_distinct_keys():
    def block(name):
        return keras.Sequential(
            [keras.Input((3,)), layers.Dense(3, activation="tanh", name="dense")], name=name
        )

    inputs = keras.Input((3,))
    outputs = layers.Dense(1, name="out")(block("second")(block("first")(inputs)))
    handle = wrap(keras.Model(inputs, outputs))
    assert [info.name for info in handle.layers] == ["dense", "dense#2", "out"]
    assert handle.layers[1].params == 12
    activations = handle.activations(np.ones((2, 3)))
    assert not np.allclose(activations["dense"], activations["dense#2"])
