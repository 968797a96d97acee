"""The Recorder's gradients of the training batches: equal to a tape's on the same batch, from Keras' step,
a train_step override, a LossScaleOptimizer under XLA and a custom loop; the fallback to the probe; the
optimizer given back; the final record of every fit. (MirroredStrategy: tests/dlviz/test_recorder.py.)"""

from __future__ import annotations

import copy
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlviz.errors import RunError
from dlviz.handle import wrap
from dlviz.recorder import Recorder

RNG = np.random.default_rng(1)
X = RNG.normal(size=(60, 4)).astype("float32")
Y = np.argmax(X @ RNG.normal(size=(4, 3)), axis=1).astype("int64")
PROBE = (X[:16], Y[:16])
BATCH = 12  # 5 steps per epoch


def build(cls=keras.Sequential, optimizer=None, **compile_args) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = cls(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="tanh", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer or keras.optimizers.SGD(0.2), "sparse_categorical_crossentropy", **compile_args)
    return model


def fit(model, recorder=None, epochs=1):
    callbacks = [] if recorder is None else [recorder]
    model.fit(X, Y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)


def batch_of(step: int):
    start = (step % 5) * BATCH
    return X[start : start + BATCH], Y[start : start + BATCH]


def tape_gradients(run, vector, x, y) -> dict[str, np.ndarray]:
    """Per layer, the flattened gradient of the mean loss on (x, y) at the weights ``vector``."""
    model = build()
    for variable, value in zip(model.trainable_variables, run.unflatten(vector), strict=True):
        variable.assign(value)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    layer_of = [v["layer"] for v in run.meta["variables"]]
    return {
        layer: np.concatenate(
            [g.numpy().ravel() for g, owner in zip(gradients, layer_of, strict=True) if owner == layer]
        )
        for layer in run.layers
    }


def assert_norms_at(run, step: int, norms: dict[str, float], record: int | None = None) -> None:
    for i, layer in enumerate(run.meta["record_layers"]["grad"]):
        np.testing.assert_allclose(run.steps["grad_norm"][step, i], norms[layer], rtol=1e-5, err_msg=layer)
        if record is not None:
            np.testing.assert_allclose(run.series("grad_norm")[layer][record], norms[layer], rtol=1e-5)


@pytest.fixture(scope="module")
def two_fits():
    """Default Recorder, every=2: a fit of 2 epochs (steps 0-9), then a second fit of 1 epoch (10-14)."""
    model = build()
    recorder = Recorder(every=2, probe=PROBE)
    fit(model, recorder, epochs=2)
    first = (recorder.run.record_steps.copy(), recorder.run.snapshot_steps.copy())
    fit(model, recorder, epochs=1)
    return model, recorder.run, first


def test_step_gradients_equal_a_tapes_on_the_batch_trained_at_that_step(two_fits):
    _, run, _ = two_fits
    assert run.meta["recorder"]["gradients"] == "step"
    np.testing.assert_array_equal(run.steps["step"], np.arange(15))
    assert run.steps["grad_norm"].shape == (15, 2) and np.all(np.isfinite(run.steps["grad_norm"]))
    records = list(run.record_steps)
    for step, vector in zip(run.snapshot_steps, run.snapshots, strict=True):
        if step == 15:
            continue  # the end of training: no batch was trained on at these weights
        gradients = tape_gradients(run, vector, *batch_of(step))
        assert_norms_at(run, step, {k: np.linalg.norm(g) for k, g in gradients.items()}, records.index(step))
        for layer, values in gradients.items():
            counts, edges = (h[records.index(step)] for h in run.histograms("grad")[layer])
            assert counts.sum() == values.size
            np.testing.assert_allclose(edges[[0, -1]], [values.min(), values.max()], rtol=1e-5)
            assert np.abs(counts - np.histogram(values, bins=edges)[0]).sum() <= 2


def test_every_fit_ends_with_a_record_of_its_final_weights_and_the_next_fit_continues(two_fits):
    model, run, (first_records, first_snapshots) = two_fits
    np.testing.assert_array_equal(first_records, [0, 2, 4, 6, 8, 10])
    np.testing.assert_array_equal(first_snapshots, [0, 2, 4, 6, 8, 10])
    np.testing.assert_array_equal(run.record_steps, [0, 2, 4, 6, 8, 10, 12, 14, 15])
    assert run.snapshot_steps[-1] == 15 == run.steps["step"][-1] + 1
    for variable, value in zip(model.trainable_variables, run.unflatten(run.snapshots[-1]), strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)
    # No training batch exists for the final weights: that record holds the probe's gradients.
    probe = wrap(model).gradients(*PROBE)
    for layer, norms in run.series("grad_norm").items():
        expected = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for p, g in probe.items() if layer in p))
        np.testing.assert_allclose(norms[-1], expected, rtol=1e-5)
    assert np.isnan(run.series("update_ratio")["out"][-1])


class OwnStep(keras.Sequential):
    """A train_step override that hands the optimizer its gradients through apply(), not apply_gradients()."""

    failing_from = None  # a step from which the step fails (read when the step is traced)

    def train_step(self, data):
        x, y = data
        if self.failing_from is not None:
            tf.debugging.assert_less(self.optimizer.iterations, tf.constant(self.failing_from, tf.int64))
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            scaled = self.optimizer.scale_loss(loss)
        self.optimizer.apply(tape.gradient(scaled, self.trainable_variables), self.trainable_variables)
        return {"loss": loss}


def test_a_train_step_override_with_loss_scaling_under_xla_records_unscaled_gradients():
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.2), initial_scale=2.0**10)
    model = build(OwnStep, optimizer, jit_compile=True)
    recorder = Recorder(every=3, probe=PROBE, activations=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        fit(model, recorder)
    run = recorder.run
    assert model.jit_compile and run.meta["recorder"]["gradients"] == "step"
    for step, vector in zip(run.snapshot_steps[:-1], run.snapshots[:-1], strict=True):
        gradients = tape_gradients(run, vector, *batch_of(step))
        assert_norms_at(run, step, {k: np.linalg.norm(g) for k, g in gradients.items()})
    assert "apply" not in vars(optimizer.inner_optimizer) and "apply" not in vars(optimizer)


def test_the_optimizer_is_given_back_when_fit_fails_inside_the_step():
    model = build(OwnStep)
    model.failing_from = 2
    recorder = Recorder(every=1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        fit(model, recorder)
    assert "apply" not in vars(model.optimizer)
    model.failing_from = None
    fit(model)  # without the Recorder: traced afresh, without it
    assert not hasattr(model.train_function, "_dlviz_step_gradients")
    assert recorder.run.steps == {} and len(recorder.run.record_steps) == 0


def test_a_custom_loop_hands_its_gradients_over_with_record_gradients():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu", name="dense")])
    optimizer = keras.optimizers.Adam(0.01)
    recorder = Recorder(every=2)
    with pytest.raises(RunError, match="before the Recorder started"):
        recorder.record_gradients([], [])
    callbacks = keras.callbacks.CallbackList([recorder], model=model)
    handed_over = []

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        gradients = tape.gradient(loss, model.trainable_variables)
        recorder.record_gradients(gradients, model.trainable_variables)
        optimizer.apply(gradients, model.trainable_variables)
        return loss, tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in gradients]))

    targets = np.tanh(X[:, :1] + X[:, 1:2] * np.ones((1, 5), "float32"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        callbacks.on_train_begin()
        for epoch in range(2):
            callbacks.on_epoch_begin(epoch)
            for batch in range(3):
                callbacks.on_train_batch_begin(batch)
                loss, norm = train_step(X[batch * 8 : batch * 8 + 8], targets[batch * 8 : batch * 8 + 8])
                handed_over.append(float(norm))
                callbacks.on_train_batch_end(batch, {"loss": float(loss)})
            callbacks.on_epoch_end(epoch, {"loss": float(loss)})
        callbacks.on_train_end()
    run = recorder.run
    assert run.meta["recorder"]["gradients"] == "step"
    np.testing.assert_allclose(run.steps["grad_norm"][:, 0], handed_over, rtol=1e-6)
    np.testing.assert_array_equal(run.record_steps, [0, 2, 4])
    np.testing.assert_allclose(run.series("grad_norm")["dense"], np.array(handed_over)[[0, 2, 4]], rtol=1e-6)
    # Without a labelled probe the end of training is a snapshot only.
    np.testing.assert_array_equal(run.snapshot_steps, [0, 2, 4, 6])
    with pytest.raises(RunError, match="in the same order"):
        recorder.record_gradients([None], model.trainable_variables)


class ManualStep(keras.Sequential):
    """A train_step that updates the weights itself, past the optimizer: no gradients reach the Recorder."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
        gradients = tape.gradient(loss, self.trainable_variables)
        for variable, gradient in zip(self.trainable_variables, gradients, strict=True):
            variable.assign_sub(0.2 * gradient)
        return {"loss": loss}


@pytest.mark.parametrize("probe", [PROBE, None], ids=["labelled_probe", "no_probe"])
def test_without_gradients_from_the_step_the_recorder_warns_and_falls_back_to_the_probe(probe):
    model = build(ManualStep)
    recorder = Recorder(every=2, probe=probe, activations=False)
    with pytest.warns(UserWarning, match="no gradients reached the model's optimizer") as caught:
        fit(model, recorder)
    run = recorder.run
    assert "steps/grad_norm" not in run.steps and "apply" not in vars(model.optimizer)
    if probe is None:
        assert "No gradients are recorded" in str(caught[0].message)
        assert run.meta["recorder"]["gradients"] is None and run.series("grad_norm") == {}
        return
    assert run.meta["recorder"]["gradients"] == "probe"
    np.testing.assert_array_equal(run.record_steps, [0, 2, 4, 5])
    clone = build()
    handle = wrap(clone)
    for i, vector in enumerate(run.snapshots):
        for variable, value in zip(clone.trainable_variables, run.unflatten(vector), strict=True):
            variable.assign(value)
        gradients = handle.gradients(*PROBE)
        for layer, norms in run.series("grad_norm").items():
            expected = np.sqrt(
                sum(np.sum(g.astype(np.float64) ** 2) for p, g in gradients.items() if layer in p)
            )
            np.testing.assert_allclose(norms[i], expected, rtol=1e-5)


def test_the_gradients_plugin_says_which_batches_its_figures_show(two_fits):
    import dlviz

    _, run, _ = two_fits
    for language, words in (("en", "batches trained on"), ("zh", "训练所用批次")):
        titles = [
            figure.layout.title.text for figure in dlviz.figures("gradients", run=run, language=language)
        ]
        assert sum(words in title for title in titles) == 3, titles
    probe_run = copy.copy(run)
    probe_run.meta = {**run.meta, "recorder": {**run.meta["recorder"], "gradients": "probe"}}
    titles = [figure.layout.title.text for figure in dlviz.figures("gradients", run=probe_run)]
    assert any("fixed probe batch" in title for title in titles) and not any(
        "trained on" in t for t in titles
    )


def test_several_steps_per_execution_still_record_each_steps_gradients():
    model = build(steps_per_execution=5)  # one call per epoch: the steps count on inside it
    recorder = Recorder(every=2, probe=PROBE, activations=False)
    fit(model, recorder, epochs=2)
    run = recorder.run
    np.testing.assert_array_equal(run.steps["step"], [4, 9])  # Keras reports once per call
    assert np.all(np.isfinite(run.steps["grad_norm"]))
    np.testing.assert_array_equal(run.record_steps, [0, 5, 10])
    for record, step in enumerate((0, 5)):
        gradients = tape_gradients(run, run.snapshots[record], *batch_of(step))
        for layer, values in gradients.items():
            np.testing.assert_allclose(
                run.series("grad_norm")[layer][record], np.linalg.norm(values), rtol=1e-5
            )
            counts, edges = (h[record] for h in run.histograms("grad")[layer])
            assert counts.sum() == values.size and edges[0] == pytest.approx(values.min(), rel=1e-5)
