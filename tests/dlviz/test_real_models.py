"""Every kind of model users bring goes through wrap, activations, gradients and a recorded fit.

The zoo is in real_models.py: recurrent layers (LSTM, GRU, SimpleRNN, ConvLSTM1D, a custom cell,
Bidirectional, TimeDistributed), attention, two inputs (list and dict), two outputs with two losses,
masking, mixed precision and MobileNetV2.
"""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from real_models import FAST_ZOO, mixed_precision_gru, mobilenet_v2, subclassed_two_inputs

import dlviz
from dlviz import Recorder, Run, wrap
from dlviz.errors import DataError, UnsafeModelError


@functools.cache
def zoo(name):
    return FAST_ZOO[name]()


@functools.cache
def handle_of(name):
    return wrap(zoo(name).model)


def _n_samples(x):
    return len(x[0] if isinstance(x, list) else next(iter(x.values())) if isinstance(x, dict) else x)


def assert_gradients_match_finite_differences(handle, model, x, y, paths, per_variable=2, eps=1e-6):
    """Central differences of handle.loss on `per_variable` random entries of each variable in `paths`."""
    analytic = handle.gradients(x, y)
    variables = dict(zip(handle.variable_paths, model.trainable_variables, strict=True))
    rng = np.random.default_rng(0)
    for path in paths:
        variable = variables[path]
        original = variable.numpy()
        for index in rng.choice(original.size, size=min(per_variable, original.size), replace=False):
            losses = []
            for step in (eps, -eps):
                moved = original.copy()
                moved.flat[index] += step
                variable.assign(moved)
                losses.append(handle.loss(x, y))
            variable.assign(original)
            numeric = (losses[0] - losses[1]) / (2 * eps)
            assert analytic[path].flat[index] == pytest.approx(numeric, rel=1e-4, abs=1e-7), (path, index)


def paths_to_check(handle, recurrent):
    """Every variable of the recurrent layers, plus the first and last variable of the model."""
    paths = [path for path in handle.variable_paths if handle.layer_of_path[path] in recurrent]
    return list(dict.fromkeys([handle.variable_paths[0], *paths, handle.variable_paths[-1]]))


# ------------------------------------------------------------------ every model of the fast zoo


@pytest.mark.parametrize("name", FAST_ZOO)
def test_recurrent_layers_are_leaves_and_params_add_up(name):
    handle, model = handle_of(name), zoo(name).model
    kinds = [info.kind for info in handle.layers]
    assert not [kind for kind in kinds if kind.endswith("Cell")], kinds
    assert set(zoo(name).recurrent) <= {info.name for info in handle.layers}
    assert sum(info.params for info in handle.layers) == model.count_params()
    assert len(handle.variable_paths) == len(model.trainable_variables)


@pytest.mark.parametrize("name", FAST_ZOO)
def test_activations_have_the_shapes_the_layers_report(name):
    handle, entry = handle_of(name), zoo(name)
    activations = handle.activations(entry.x)
    assert list(activations) == [info.name for info in handle.layers]
    for info in handle.layers:
        assert activations[info.name].shape == (_n_samples(entry.x), *info.output_shape[1:]), info.name
        assert np.all(np.isfinite(activations[info.name])), info.name


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST_ZOO)
def test_loss_is_what_keras_fit_computes(name):
    entry = zoo(name)
    keras_loss = entry.model.evaluate(entry.x, entry.y, batch_size=64, verbose=0, return_dict=True)["loss"]
    assert handle_of(name).loss(entry.x, entry.y) == pytest.approx(keras_loss, rel=1e-6)


@pytest.mark.parametrize("name", FAST_ZOO)
def test_gradients_through_time_match_central_finite_differences(name):
    handle, entry = handle_of(name), zoo(name)
    paths = paths_to_check(handle, entry.recurrent)
    assert_gradients_match_finite_differences(handle, entry.model, entry.x, entry.y, paths)


@pytest.mark.parametrize("name", FAST_ZOO)
def test_model_summary_draws_every_model(name):
    table, bars = dlviz.figures("model_summary", model=zoo(name).model)
    assert list(table.data[0].cells.values[0]) == [info.name for info in handle_of(name).layers]
    assert sum(bars.data[0].y) == zoo(name).model.count_params()


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST_ZOO)
def test_recorded_fit_saves_and_loads(name, tmp_path):
    entry = FAST_ZOO[name]()  # a fresh model: training changes the weights
    recorder = Recorder(every=1, probe=(entry.x, entry.y), logdir=tmp_path / "run")
    entry.model.fit(entry.x, entry.y, epochs=2, batch_size=3, callbacks=[recorder], verbose=0)
    run = Run.load(tmp_path / "run")
    layers = [info.name for info in wrap(entry.model).layers]
    assert run.meta["record_layers"]["act"] == layers
    assert set(entry.recurrent) <= set(run.meta["record_layers"]["grad"])
    assert run.record_steps.tolist() == [0, 1, 2, 3, 4]  # every step of 2 epochs x 2 batches, and the end
    for layer, norms in run.series("grad_norm").items():
        assert np.all(np.isfinite(norms)) and np.allclose(norms, recorder.run.series("grad_norm")[layer])
    for layer, means in run.series("act_mean").items():
        assert np.all(np.isfinite(means)), layer
    assert np.array_equal(run.snapshots, recorder.run.snapshots)


# ------------------------------------------------------------------ several inputs and outputs


def test_two_inputs_take_a_list_or_a_dict_and_give_one_input_gradient_each():
    listed, keyed = zoo("two_inputs_list"), zoo("two_inputs_dict")
    handle = handle_of("two_inputs_list")
    assert handle.input_names == ("left", "right") and handle.input_shapes == ((3,), (2,))
    assert handle.input_shape is None
    as_dict = dict(zip(handle.input_names, listed.x, strict=True))
    assert np.allclose(handle.predict(listed.x), handle.predict(as_dict))
    gradients = handle.input_gradients(listed.x)
    assert [g.shape for g in gradients] == [(6, 3), (6, 2)]
    by_name = handle_of("two_inputs_dict").input_gradients(keyed.x, target=1)
    assert set(by_name) == {"left", "right"} and by_name["right"].shape == (6, 2)
    # d p1 / d x_right through the right branch only: compare with a tape on the Keras model.
    x = {name: tf.constant(value) for name, value in keyed.x.items()}
    with tf.GradientTape() as tape:
        tape.watch(x["right"])
        total = tf.reduce_sum(keyed.model(x)[:, 1])
    assert np.allclose(by_name["right"], tape.gradient(total, x["right"]).numpy())


@pytest.mark.parametrize("keyed", [False, True])
def test_subclassed_model_with_two_inputs(keyed):
    entry = subclassed_two_inputs(keyed=keyed)
    handle = wrap(entry.model)
    assert handle.input_names == (("left", "right") if keyed else ("input_0", "input_1"))
    assert handle.input_shapes == ((3,), (2,)) and handle.input_shape is None
    assert np.allclose(handle.predict(entry.x), entry.model(entry.x).numpy())
    keras_loss = entry.model.evaluate(entry.x, entry.y, batch_size=64, verbose=0, return_dict=True)["loss"]
    assert handle.loss(entry.x, entry.y) == pytest.approx(keras_loss, rel=1e-6)
    assert_gradients_match_finite_differences(handle, entry.model, entry.x, entry.y, handle.variable_paths)


def test_two_outputs_predict_like_keras_and_check_each_label():
    entry, handle = zoo("two_outputs"), handle_of("two_outputs")
    assert handle.output_names == ("kind", "size")
    kind, size = handle.predict(entry.x)
    expected = entry.model.predict(entry.x, verbose=0)
    assert np.allclose(kind, expected[0]) and np.allclose(size, expected[1])
    assert handle.input_gradients(entry.x, output="size").shape == (6, 4)
    with pytest.raises(DataError, match="Output 'kind'.*class id"):
        handle.loss(entry.x, [entry.y[0] + 5, entry.y[1]])
    with pytest.raises(DataError, match=r"2 outputs \(kind, size\), but y is one array"):
        handle.gradients(entry.x, entry.y[0])


@pytest.mark.slow
def test_recorder_probe_takes_a_dict_of_inputs(tmp_path):
    entry = FAST_ZOO["two_inputs_dict"]()
    recorder = Recorder(every=1, probe=(entry.x, entry.y))
    entry.model.fit(entry.x, entry.y, epochs=1, batch_size=3, verbose=0, callbacks=[recorder])
    assert recorder.run.meta["recorder"]["probe_size"] == 6
    with pytest.raises(DataError, match="different numbers of samples"):
        Recorder(probe=([entry.x["left"], entry.x["right"][:4]], entry.y))


# ------------------------------------------------------------------ masking and mixed precision


@pytest.mark.slow
def test_masks_are_reported_and_left_out_of_recorded_statistics():
    entry = FAST_ZOO["masked"]()
    handle = wrap(entry.model)
    masks = handle.activation_masks(entry.x)
    assert set(masks) >= {"embed", "lstm"}
    assert np.array_equal(masks["lstm"], entry.x != 0)
    recorder = Recorder(every=1, probe=(entry.x, entry.y), weights=False)
    before = handle.activations(entry.x)["lstm"]
    entry.model.fit(entry.x, entry.y, epochs=1, batch_size=6, verbose=0, callbacks=[recorder])
    recorded_mean = recorder.run.series("act_mean")["lstm"][0]
    assert recorded_mean == pytest.approx(before[entry.x != 0].mean(), rel=1e-5)
    assert recorded_mean != pytest.approx(before.mean(), rel=1e-3)  # padded steps would change it


@pytest.mark.slow
def test_mixed_precision_model_is_wrapped_and_recorded_in_float32():
    entry = mixed_precision_gru()
    assert keras.mixed_precision.global_policy().name == "float32"
    handle = wrap(entry.model)
    activations = handle.activations(entry.x)
    assert activations["gru"].dtype == np.float16 and activations["probs"].dtype == np.float32
    gradients = handle.gradients(entry.x, entry.y)
    assert all(g.dtype == np.float32 and np.all(np.isfinite(g)) for g in gradients.values())
    with tf.GradientTape() as tape:
        y_pred = entry.model(entry.x, training=False)
        loss = entry.model.compute_loss(x=entry.x, y=entry.y, y_pred=y_pred, training=False)
    expected = tape.gradient(loss, entry.model.trainable_variables)
    for path, keras_gradient in zip(handle.variable_paths, expected, strict=True):
        # float16 compute: the two graphs round differently.
        assert np.allclose(gradients[path], keras_gradient.numpy(), rtol=1e-2, atol=1e-4), path
    recorder = Recorder(every=1, probe=(entry.x, entry.y))
    entry.model.fit(entry.x, entry.y, epochs=1, batch_size=3, verbose=0, callbacks=[recorder])
    for quantity in ("act_mean", "act_std", "grad_norm"):
        for layer, values in recorder.run.series(quantity).items():
            assert values.dtype == np.float32 and np.all(np.isfinite(values)), (quantity, layer)


# ------------------------------------------------------------------ a 150-layer Keras application


@pytest.mark.slow
def test_mobilenet_v2_wraps_records_and_its_gradients_match_finite_differences(tmp_path):
    entry = mobilenet_v2()
    handle = wrap(entry.model)
    assert len(handle.layers) > 100
    assert sum(info.params for info in handle.layers) == entry.model.count_params()
    first, last = handle.layers[1].name, handle.layers[-1].name
    activations = handle.activations(entry.x, layers=[first, last])
    assert activations[last].shape == (2, 3)
    paths = [handle.variable_paths[0], handle.variable_paths[len(handle.variable_paths) // 2]]
    assert_gradients_match_finite_differences(
        handle, entry.model, entry.x, entry.y, [*paths, handle.variable_paths[-1]], per_variable=1
    )
    recorder = Recorder(every=1, probe=(entry.x, entry.y), logdir=tmp_path / "run", max_snapshots=2)
    entry.model.fit(entry.x, entry.y, epochs=1, batch_size=2, verbose=0, callbacks=[recorder])
    run = Run.load(tmp_path / "run")
    assert len(run.meta["record_layers"]["act"]) == len(handle.layers)
    assert all(np.all(np.isfinite(norms)) for norms in run.series("grad_norm").values())


# ------------------------------------------------------------------ uploaded through the safe loader


@pytest.mark.parametrize(
    "name", ["bilstm", "gru_stack", "conv_lstm", "attention", "two_inputs_dict", "masked"]
)
def test_saved_models_load_through_the_safe_loader(name, tmp_path):
    entry = zoo(name)
    path = tmp_path / f"{name}.keras"
    entry.model.save(path)
    loaded = dlviz.load_model(path, compile=False)
    assert np.allclose(wrap(loaded).predict(entry.x), handle_of(name).predict(entry.x))


def test_a_custom_cell_is_refused_by_the_safe_loader(tmp_path):
    path = tmp_path / "custom.keras"
    zoo("custom_cell").model.save(path)
    with pytest.raises(UnsafeModelError, match="custom object 'dlviz_tests>MinimalCell'"):
        dlviz.load_model(path)
