"""A custom training loop recorded by a dlviz Recorder, on one worker or on several.

``python tests/dlviz/multiworker_training.py LOGDIR [--modes step probe plain ...] [--epochs N] [--steps N]``
(with ``CUDA_VISIBLE_DEVICES=""`` when the workers share one machine, as the test runs them: CPU only)

With ``TF_CONFIG`` set (the cluster and this process' task) it trains under
`tf.distribute.MultiWorkerMirroredStrategy`; without it, in one process, on the same global batches.
Keras 3's ``fit`` does not run under that strategy (keras-team/keras#20585), so the loop is written out
as in Keras' guide to training loops from scratch: ``strategy.run`` per step, the callbacks driven
through ``keras.callbacks.CallbackList``, each step's gradients handed to the Recorder with
``recorder.record_gradients`` inside the replica function (mode "step", the README's recipe) or the
probe's gradients recorded (mode "probe"). Every worker runs the Recorder; only the chief writes the run.

The last line printed is JSON: this process' task, whether it is the chief, and each training's epoch
times.
tests/dlviz/test_multiworker.py runs it; bench/two_workers.py times it with and without the Recorder.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import time

import keras
import numpy as np
import tensorflow as tf

from dlviz.recorder import Recorder

FEATURES = 6


def training_data(global_batch: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The same samples in every process: ``steps`` global batches of a 3-class problem."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(global_batch * steps, FEATURES)).astype("float32")
    y = np.argmax(x @ rng.normal(size=(FEATURES, 3)), axis=1).astype("int64")
    return x, y


def build_model(width: int) -> keras.Model:
    keras.utils.set_random_seed(0)  # the same initial weights in every process
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(width, activation="tanh", name="hidden"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    # Compiled for its loss only: the Recorder's probe gradients use the model's compiled loss.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def worker_batches(strategy, x, y, global_batch: int):
    """Each worker's share of every global batch: worker i takes the i-th contiguous slice of it."""

    def dataset(context: tf.distribute.InputContext):
        per_replica = context.get_per_replica_batch_size(global_batch)
        first = context.input_pipeline_id * per_replica
        batches = [
            (x[start + first : start + first + per_replica], y[start + first : start + first + per_replica])
            for start in range(0, len(x), global_batch)
        ]
        xs, ys = (np.stack(parts) for parts in zip(*batches, strict=True))
        return tf.data.Dataset.from_tensor_slices((xs, ys))

    return strategy.distribute_datasets_from_function(dataset)


def local_cluster(workers: int) -> dict:
    """A ``TF_CONFIG`` cluster of `workers` workers on localhost, each on a port free right now."""
    sockets = [socket.socket() for _ in range(workers)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return {"worker": [f"localhost:{sock.getsockname()[1]}" for sock in sockets]}
    finally:
        for sock in sockets:
            sock.close()


def make_strategy():
    """MultiWorkerMirroredStrategy when TF_CONFIG describes a cluster, else the default (one worker).
    Create it once per process, before anything else touches TensorFlow's devices."""
    if "TF_CONFIG" not in os.environ:
        return tf.distribute.get_strategy()
    # The peers' health check gives up on a worker that does not answer within 10 s, 3 times in a row,
    # and aborts training; on a loaded CI machine a worker busy tracing can be that slow to answer.
    extended = tf.distribute.MultiWorkerMirroredStrategy.__init__.__globals__.get(
        "CollectiveAllReduceExtended"
    )
    if extended is not None and hasattr(extended, "_check_health_timeout"):
        extended._check_health_timeout = 120
    return tf.distribute.MultiWorkerMirroredStrategy()


def train(
    strategy, logdir: str, *, mode="step", epochs=2, steps=4, global_batch=16, width=8, every=2
) -> dict:
    """One training; `mode` "step" records it handing the Recorder each step's gradients, "probe" records
    the probe's gradients, "plain" does not record. Returns the training's time, per epoch too."""
    x, y = training_data(global_batch, steps)
    with strategy.scope():
        model = build_model(width)
    loss_of_sample = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    recorder = None
    if mode != "plain":
        recorder = Recorder(every=every, probe=(x[:32], y[:32]), gradients=mode, logdir=logdir)

    @tf.function
    def train_step(batch):
        def replica_step(xb, yb):
            with tf.GradientTape() as tape:
                # The mean over the global batch: the optimizer sums the replicas' gradients.
                loss = tf.nn.compute_average_loss(
                    loss_of_sample(yb, model(xb, training=True)), global_batch_size=global_batch
                )
            gradients = tape.gradient(loss, model.trainable_variables)
            if mode == "step":
                recorder.record_gradients(gradients, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            return loss

        losses = strategy.run(replica_step, args=batch)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    callbacks = keras.callbacks.CallbackList([recorder] if recorder else [], model=model)
    batches = worker_batches(strategy, x, y, global_batch)
    epoch_seconds = []
    callbacks.on_train_begin()
    for epoch in range(epochs):
        started = time.perf_counter()
        callbacks.on_epoch_begin(epoch)
        total = 0.0
        for step, batch in enumerate(batches):
            callbacks.on_train_batch_begin(step)
            loss = float(train_step(batch))
            total += loss
            callbacks.on_train_batch_end(step, {"loss": loss})
        callbacks.on_epoch_end(epoch, {"loss": total / steps})
        epoch_seconds.append(time.perf_counter() - started)
    callbacks.on_train_end()
    return {"mode": mode, "epoch_seconds": epoch_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir", help="each training records into LOGDIR/<index>-<mode>")
    parser.add_argument("--modes", nargs="+", default=["step"], choices=["step", "probe", "plain"])
    defaults = train.__kwdefaults__
    for name in ("epochs", "steps", "global_batch", "width", "every"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=defaults[name])
    args = vars(parser.parse_args())
    root, modes = args.pop("logdir"), args.pop("modes")
    strategy = make_strategy()
    trainings = [
        train(strategy, f"{root}/{index}-{mode}", mode=mode, **args) for index, mode in enumerate(modes)
    ]
    resolver = getattr(strategy, "cluster_resolver", None)
    summary = {
        "task": f"{getattr(resolver, 'task_type', None)}:{getattr(resolver, 'task_id', None)}",
        "chief": bool(getattr(strategy.extended, "should_checkpoint", True)),
        "trainings": trainings,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
