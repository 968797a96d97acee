"""The Recorder callback: what it records, how it agrees with the handle, durability, bad inputs."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlviz.errors import DataError, ModelError, RunError
from dlviz.handle import wrap
from dlviz.recorder import Recorder
from dlviz.runs import FORMAT_VERSION, Run

REPO = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 4)).astype("float32")
Y = np.argmax(X @ RNG.normal(size=(4, 3)), axis=1).astype("int64")
PROBE = (X[:32], Y[:32])


def tiny_model(seed: int = 0, optimizer="adam") -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh", name="hidden_tanh"),
            keras.layers.Dense(6, activation="sigmoid", name="hidden_sigmoid"),
            keras.layers.Dense(5, activation="relu", name="hidden_relu"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit(model, recorder, epochs=2, **kwargs):
    return model.fit(X, Y, batch_size=20, epochs=epochs, verbose=0, callbacks=[recorder], **kwargs)


@pytest.fixture(scope="module")
def trained():
    """One recorded fit shared by the read-only tests: 6 steps per epoch, 2 epochs, a record every 5 steps,
    gradients of the probe batch (tests/dlviz/test_recorder_step_gradients.py has the training step's)."""
    model = tiny_model()
    recorder = Recorder(every=5, probe=PROBE, gradients="probe")
    history = fit(model, recorder, validation_data=(X[:40], Y[:40]))
    return model, recorder, history


def test_metrics_are_recorded_every_step_and_every_epoch(trained):
    _, recorder, history = trained
    run = recorder.run
    np.testing.assert_array_equal(run.steps["step"], np.arange(12))
    np.testing.assert_array_equal(run.steps["epoch"], np.repeat([0, 1], 6))
    assert {"loss", "accuracy"} <= set(run.steps)
    np.testing.assert_array_equal(run.epochs["epoch"], [0, 1])
    np.testing.assert_array_equal(run.epochs["step"], [6, 12])
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(run.epochs[name], history.history[name], rtol=1e-6)
    # Keras reports the running epoch mean to callbacks: the last step of an epoch is the epoch's value.
    np.testing.assert_allclose(run.steps["loss"][[5, 11]], history.history["loss"], rtol=1e-6)


def test_meta_describes_model_optimizer_and_settings(trained):
    run = trained[1].run
    assert run.layers == ["hidden_tanh", "hidden_sigmoid", "hidden_relu", "out"]
    assert run.layer_kinds["out"] == "Dense" and run.layer_activations["hidden_tanh"] == "tanh"
    assert run.meta["optimizer"]["class"] == "Adam" and run.meta["optimizer"]["learning_rate"] > 0
    assert run.meta["recorder"]["every"] == 5 and run.meta["recorder"]["probe_size"] == 32
    assert run.meta["recorder"]["gradients"] == "probe"
    assert run.meta["created"].startswith("20") and "T" in run.meta["created"]
    assert run.meta["dlviz_version"]
    assert [v["shape"] for v in run.meta["variables"]][:2] == [[4, 8], [8]]
    layer_info = run.meta["layers"][0]
    assert layer_info["params"] == 40 and layer_info["output_shape"] == [None, 8]
    json.dumps(run.meta)


def test_records_agree_with_the_handle_on_the_snapshot_weights(trained):
    model, recorder, _ = trained
    run = recorder.run
    # The end of the fit (step 12) is recorded too, so that paths end at the trained weights.
    np.testing.assert_array_equal(run.record_steps, [0, 5, 10, 12])
    np.testing.assert_array_equal(run.snapshot_steps, [0, 5, 10, 12])
    final = run.unflatten(run.snapshots[-1])
    for variable, value in zip(model.trainable_variables, final, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)
    clone = tiny_model(seed=1)
    handle = wrap(clone)
    for i, vector in enumerate(run.snapshots):
        for variable, value in zip(clone.trainable_variables, run.unflatten(vector), strict=True):
            variable.assign(value)
        gradients = handle.gradients(*PROBE)
        for layer in run.layers:
            expected = np.sqrt(
                sum(np.sum(g.astype(np.float64) ** 2) for p, g in gradients.items() if layer in p)
            )
            np.testing.assert_allclose(run.series("grad_norm")[layer][i], expected, rtol=1e-5)
        activations = handle.activations(PROBE[0])
        for layer, values in activations.items():
            values = values.ravel()
            np.testing.assert_allclose(run.series("act_mean")[layer][i], values.mean(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(run.series("act_std")[layer][i], values.std(), rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(run.series("act_zero_frac")[layer][i], np.mean(values == 0))
            counts, edges = run.histograms("act")[layer]
            assert edges[i][0] == pytest.approx(values.min()) and edges[i][-1] == pytest.approx(values.max())
            reference, _ = np.histogram(values, bins=edges[i])
            assert counts[i].sum() == values.size and np.abs(counts[i] - reference).sum() <= 2
        sat = run.series("act_sat_frac")
        sigmoid = activations["hidden_sigmoid"]
        np.testing.assert_allclose(sat["hidden_sigmoid"][i], np.mean((sigmoid < 0.01) | (sigmoid > 0.99)))
        np.testing.assert_allclose(sat["hidden_tanh"][i], np.mean(np.abs(activations["hidden_tanh"]) > 0.99))
        assert np.isnan(sat["hidden_relu"][i]) and np.isnan(sat["out"][i])
    counts, edges = run.histograms("grad")["out"]
    assert counts.shape == (4, 30) and edges.shape == (4, 31)
    assert np.all(counts.sum(axis=1) == 5 * 3 + 3)
    # No update follows the final record of a fit.
    ratios = run.series("update_ratio")["out"]
    assert np.all(np.isfinite(ratios[:-1])) and np.isnan(ratios[-1])


def test_update_ratio_is_the_relative_weight_change_of_that_step():
    model = tiny_model(optimizer=keras.optimizers.SGD(0.5))
    recorder = Recorder(every=1, probe=PROBE, max_snapshots=1000)
    fit(model, recorder, epochs=1)
    run = recorder.run
    np.testing.assert_array_equal(run.snapshot_steps, np.arange(7))
    layer_of = [v["layer"] for v in run.meta["variables"]]
    for i in range(6):
        before, after = run.unflatten(run.snapshots[i]), run.unflatten(run.snapshots[i + 1])
        for layer, ratios in run.series("update_ratio").items():
            parts = [k for k, owner in enumerate(layer_of) if owner == layer]
            change = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in parts))
            size = np.sqrt(sum(np.sum(before[k] ** 2) for k in parts))
            np.testing.assert_allclose(ratios[i], change / size, rtol=1e-4)
    # The final record (step 6) has no update after it.
    ratios = run.series("update_ratio")["out"]
    assert np.all(np.isfinite(ratios[:-1])) and np.isnan(ratios[-1])


def test_probe_without_labels_records_activations_only_and_says_so_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recorder = Recorder(every=3, probe=PROBE[0], gradients="probe")
        fit(tiny_model(), recorder, epochs=1)
    assert sum("no labels" in str(w.message) for w in caught) == 1
    run = recorder.run
    assert run.meta["recorder"]["gradients"] is None
    assert run.series("grad_norm") == {} and run.histograms("grad") == {}
    assert set(run.series("act_mean")) == set(run.layers)
    assert set(run.series("update_ratio")) == set(run.layers)


def test_logdir_run_loads_equal_to_the_in_memory_run_and_snapshots_are_bounded(tmp_path):
    logdir = tmp_path / "run"
    recorder = Recorder(every=1, probe=PROBE, logdir=logdir, max_snapshots=5)
    model = tiny_model()
    fit(model, recorder, epochs=3)
    fit(model, recorder, epochs=1)  # a second fit continues the same run
    run = recorder.run
    np.testing.assert_array_equal(run.steps["step"], np.arange(24))
    np.testing.assert_array_equal(run.epochs["epoch"], np.arange(4))
    steps = run.snapshot_steps
    # Evenly spaced, then the weights training ended with (the first fit's end was replaced).
    assert steps[0] == 0 and steps[-1] == 24 and 3 <= len(steps) <= 6, steps
    assert len(set(np.diff(steps[:-1]))) == 1 and 18 not in steps, steps
    assert len(list((logdir / "snapshots").iterdir())) == len(steps)
    loaded = Run.load(logdir)
    assert loaded.problems == [] and loaded.meta["status"] == "finished"
    assert loaded.layers == run.layers and loaded.meta["variables"] == run.meta["variables"]
    for name, values in run.steps.items():
        np.testing.assert_array_equal(loaded.steps[name], values)
    for quantity in ("grad_norm", "update_ratio", "act_std", "act_sat_frac"):
        for layer, values in run.series(quantity).items():
            np.testing.assert_array_equal(loaded.series(quantity)[layer], values)
    np.testing.assert_array_equal(loaded.snapshot_steps, steps)
    np.testing.assert_array_equal(loaded.snapshots, run.snapshots)
    clone = pickle.loads(pickle.dumps(run))
    np.testing.assert_array_equal(clone.histograms("grad")["out"][0], run.histograms("grad")["out"][0])
    with pytest.raises(RunError, match="one Recorder per model"):
        fit(tiny_model(), recorder, epochs=1)


def test_for_dataset_takes_the_first_training_samples():
    datasets = pytest.importorskip("dlviz.datasets")
    dataset = datasets.load("iris")
    recorder = Recorder.for_dataset(dataset, n=16, every=2)
    np.testing.assert_array_equal(recorder.probe_x, dataset.x_train[:16])
    assert recorder.dataset_name == "iris"
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(dataset.x_train, dataset.y_train, epochs=1, batch_size=32, verbose=0, callbacks=[recorder])
    assert recorder.run.meta["dataset"] == "iris" and len(recorder.run.record_steps) > 0
    with pytest.raises(RunError, match="probe"):
        Recorder.for_dataset(dataset, probe=PROBE)


@pytest.mark.slow
@pytest.mark.parametrize("gradients", ["step", "probe"])
def test_tensorboard_histograms_are_written(tmp_path, gradients):
    recorder = Recorder(every=2, probe=PROBE, logdir=tmp_path / "run", tensorboard=True, gradients=gradients)
    fit(tiny_model(), recorder, epochs=1)
    events = list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    assert events
    steps = {}
    for event in tf.compat.v1.train.summary_iterator(str(events[0])):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == "histograms":
                steps.setdefault(value.tag, set()).add(event.step)
    assert {"gradients/out", "activations/hidden_tanh"} <= set(steps)
    assert {0, 2, 4} <= steps["gradients/out"]
    assert Run.load(tmp_path / "run").problems == []


def test_recorder_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(RunError, match="every must be an integer >= 1"):
        Recorder(every=0)
    with pytest.raises(RunError, match="every"):
        Recorder(every=2.5)
    with pytest.raises(RunError, match="max_snapshots"):
        Recorder(max_snapshots=1)
    with pytest.raises(RunError, match="gradients must be 'step', 'probe', True or False; got 'batch'"):
        Recorder(gradients="batch")
    with pytest.raises(RunError, match="needs a probe batch with labels"):
        Recorder(gradients="probe")
    with pytest.raises(DataError, match="32 inputs but 10 labels"):
        Recorder(probe=(X[:32], Y[:10]))
    bad = X[:8].copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        Recorder(probe=(bad, Y[:8]))
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="existing file"):
        Recorder(logdir=tmp_path / "file")
    with pytest.raises(RunError, match="needs a logdir"):
        Recorder(tensorboard=True)
    with pytest.raises(RunError, match="Nothing has been recorded"):
        _ = Recorder().run
    with pytest.raises(DataError, match=r"expects \(None, 4\)"):
        fit(tiny_model(), Recorder(probe=(np.zeros((8, 5), "float32"), Y[:8])), epochs=1)
    labels = Y[:8].copy()
    labels[0] = 7
    with pytest.raises(DataError, match="class id"):
        fit(tiny_model(), Recorder(probe=(X[:8], labels)), epochs=1)


def _run_script(tmp_path: Path, body: str, *args: str, **popen) -> subprocess.Popen:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(script), *args], env=env, cwd=REPO, text=True, stdout=subprocess.PIPE, **popen
    )


TRAIN_FOREVER = """
    import sys, time
    import numpy as np, keras
    from dlviz.recorder import Recorder

    class Announce(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch} flushed", flush=True)
            time.sleep(0.05)

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = Recorder(every=2, probe=(x[:16], y[:16]), logdir=sys.argv[1], max_snapshots=6)
    model.fit(x, y, batch_size=8, epochs=100000, verbose=0, callbacks=[recorder, Announce()])
"""


@pytest.mark.slow
def test_a_killed_training_leaves_a_run_with_everything_flushed(tmp_path):
    logdir = tmp_path / "run"
    process = _run_script(tmp_path, TRAIN_FOREVER, str(logdir))
    announced = -1
    try:
        for line in process.stdout:
            if line.startswith("epoch "):
                announced = int(line.split()[1])
                # A reader while the run is being written sees a consistent prefix, never an error.
                live = Run.load(logdir)
                assert live.problems == [] and len(live.epochs["epoch"]) >= announced + 1
                np.testing.assert_array_equal(live.steps["step"], np.arange(len(live.steps["step"])))
                if announced >= 3:
                    process.send_signal(signal.SIGKILL)
                    break
    finally:
        process.kill()
        process.wait(timeout=60)
    assert announced >= 3, "the training script ended before announcing 4 epochs"
    assert process.returncode == -signal.SIGKILL
    run = Run.load(logdir)
    assert run.problems == [] and run.meta["status"] == "recording"
    n_epochs = len(run.epochs["epoch"])
    assert n_epochs >= announced + 1
    np.testing.assert_array_equal(run.epochs["epoch"], np.arange(n_epochs))
    np.testing.assert_array_equal(run.steps["step"], np.arange(8 * n_epochs))
    assert np.all(run.record_steps % 2 == 0) and len(run.record_steps) == 4 * n_epochs
    assert 0 < len(run.snapshot_steps) <= 6 and run.snapshot_steps[0] == 0


MIRRORED = """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np, keras
    from dlviz.recorder import Recorder

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = np.argmax(x @ rng.normal(size=(4, 3)), axis=1).astype("int64")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh", name="hidden"),
                                  keras.layers.Dense(3, activation="softmax", name="out")])
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        return model

    def record(model, logdir, gradients):
        recorder = Recorder(every=2, probe=(x[:16], y[:16]), logdir=logdir, gradients=gradients)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[recorder])
        return recorder.run

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    differences = {}
    for gradients in ("step", "probe"):
        folder = f"{sys.argv[1]}/{gradients}"
        runs = {"single": record(build(), folder + "/single", gradients)}
        with strategy.scope():
            mirrored = build()
        runs["mirrored"] = record(mirrored, folder + "/mirrored", gradients)
        with strategy.scope():
            runs["mirrored_in_scope"] = record(build(), folder + "/in_scope", gradients)
        reference = runs.pop("single")
        for name, run in runs.items():
            diffs = [float(np.max(np.abs(run.steps["loss"] - reference.steps["loss"])))]
            if gradients == "step":  # the replicas' halves of each batch, summed: the whole batch's gradient
                diffs.append(float(np.max(np.abs(run.steps["grad_norm"] - reference.steps["grad_norm"]))))
            for quantity in ("grad_norm", "update_ratio", "act_mean", "act_std"):
                for layer, values in reference.series(quantity).items():
                    diffs.append(float(np.nanmax(np.abs(run.series(quantity)[layer] - values))))
            for layer, (counts, edges) in reference.histograms("grad").items():
                diffs.append(float(np.max(np.abs(run.histograms("grad")[layer][1] - edges))))
            diffs.append(float(np.max(np.abs(run.snapshots - reference.snapshots))))
            differences[f"{gradients}/{name}"] = {
                "max": max(diffs), "records": run.record_steps.tolist(), "source": run.meta["recorder"]["gradients"],
                "snapshots": run.snapshot_steps.tolist(), "replicas": mirrored.distribute_strategy.num_replicas_in_sync,
                "grad_norm": float(np.mean(run.series("grad_norm")["hidden"])),
            }
    print(json.dumps(differences))
"""


@pytest.mark.slow
def test_mirrored_strategy_records_the_same_numbers_once(tmp_path):
    """On 2 logical CPUs, step gradients (summed over replicas) and probe gradients equal one device's."""
    process = _run_script(tmp_path, MIRRORED, str(tmp_path), stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    differences = json.loads(out.strip().splitlines()[-1])
    assert len(differences) == 4
    for name, result in differences.items():
        source = name.split("/")[0]
        assert result["replicas"] == 2 and result["source"] == source, (name, result)
        # 8 steps, a record every 2, and the end of the fit.
        assert result["records"] == [0, 2, 4, 6, 8], (name, result)
        assert result["snapshots"] == [0, 2, 4, 6, 8], (name, result)
        assert result["max"] < 1e-5, (name, result)
    # The training batches' gradients differ from the probe's: the two sources were not mixed up.
    assert abs(differences["step/mirrored"]["grad_norm"] - differences["probe/mirrored"]["grad_norm"]) > 1e-4
    for source in ("step", "probe"):
        for folder in ("single", "mirrored", "in_scope"):
            chunks = sorted(p.name for p in (tmp_path / source / folder / "chunks").iterdir())
            assert chunks == ["000000.npz", "000001.npz", "000002.npz"], (source, folder, chunks)


def test_histograms_leave_out_non_finite_values_and_widen_constant_tensors():
    from dlviz._record_statistics import histograms

    values = np.array([0.0, 1.0, 2.0, np.nan, 3.0, np.inf, 4.0], np.float32)
    constant = np.full(5, 2.5, np.float32)
    empty_of_finite = np.array([np.nan, -np.inf], np.float32)
    tensors = [tf.constant(values), tf.constant(constant), tf.constant(empty_of_finite)]
    counts, edges = (t.numpy() for t in histograms(tensors, 4, all_finite=tf.constant(False)))
    np.testing.assert_array_equal(counts[0], np.histogram(values[np.isfinite(values)], bins=4)[0])
    np.testing.assert_allclose(edges[0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(counts[1], [5, 0, 0, 0])
    np.testing.assert_allclose(edges[1][[0, -1]], [2.5, 3.5])
    np.testing.assert_array_equal(counts[2], [0, 0, 0, 0])
    fast_counts, fast_edges = (t.numpy() for t in histograms(tensors[1:2], 4, all_finite=tf.constant(True)))
    np.testing.assert_array_equal(fast_counts[0], counts[1])
    np.testing.assert_allclose(fast_edges[0], edges[1])


def test_a_diverging_model_is_recorded_without_crashing():
    model = tiny_model(optimizer=keras.optimizers.SGD(1e30))
    recorder = Recorder(every=1, probe=PROBE)
    fit(model, recorder, epochs=1)
    norms = recorder.run.series("grad_norm")["out"]
    assert not np.all(np.isfinite(norms))
    counts, _ = recorder.run.histograms("act")["hidden_tanh"]
    assert counts.shape == (7, 30)


class TwoLayers(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(8, activation="tanh")
        self.out = keras.layers.Dense(3, activation="softmax")

    def call(self, x):
        return self.out(self.hidden(x))


def test_subclassed_and_nested_models_are_recorded():
    keras.utils.set_random_seed(0)
    subclassed = TwoLayers()
    subclassed(X[:1])
    inputs = keras.Input((4,))
    inner = keras.Sequential([keras.layers.Dense(5, activation="sigmoid", name="inner_dense")], name="inner")
    nested = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(inner(inputs)))
    for model in (subclassed, nested):
        model.compile("sgd", "sparse_categorical_crossentropy")
        recorder = Recorder(every=3, probe=PROBE)
        fit(model, recorder, epochs=1)
        run = recorder.run
        assert len(run.layers) == 2 and set(run.series("grad_norm")) == set(run.layers)
        assert run.snapshots.shape == (3, run.n_params)
        np.testing.assert_array_equal(run.snapshot_steps, [0, 3, 6])
        np.testing.assert_array_equal(run.record_steps, [0, 3, 6])
    assert run.layer_activations["inner_dense"] == "sigmoid"
    assert np.all(np.isfinite(run.series("act_sat_frac")["inner_dense"]))


def test_a_model_marked_built_without_weights_gets_a_clear_error():
    model = TwoLayers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build((None, 4))
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ModelError, match=r"model\(x_train\[:1\]\)"):
        fit(model, Recorder(every=3, probe=PROBE), epochs=1)


def test_a_recorded_run_saved_and_loaded_back_is_the_same_run_field_by_field(trained, tmp_path):
    _, recorder, _ = trained
    run = recorder.run
    assert run.meta["format_version"] == FORMAT_VERSION, "the version is there before any save"
    loaded = Run.load(run.save(tmp_path / "run"))
    assert loaded.meta == run.meta
    assert loaded.problems == run.problems == []
    for table in ("steps", "epochs"):
        original, read = getattr(run, table), getattr(loaded, table)
        assert sorted(read) == sorted(original), table
        for column, values in original.items():
            np.testing.assert_array_equal(read[column], values, err_msg=f"{table}/{column}")
    np.testing.assert_array_equal(loaded.record_steps, run.record_steps)
    np.testing.assert_array_equal(loaded.snapshot_steps, run.snapshot_steps)
    np.testing.assert_array_equal(loaded.snapshots, run.snapshots)
    for quantity in ("grad", "act"):
        for layer, (counts, edges) in run.histograms(quantity).items():
            np.testing.assert_array_equal(loaded.histograms(quantity)[layer][0], counts)
            np.testing.assert_array_equal(loaded.histograms(quantity)[layer][1], edges)
