"""What do the lessons cost beyond their training? Each lesson's compute at its defaults against a plain
`model.fit` of the same training.

For every lesson the baseline builds the same models and fits them for the same epochs on the same data
and batches, with nothing else: initialization (7 initialisers, with validation), minibatch (one run per
default batch size), normalization (5 variants, with validation), augmentation (the CNN with and without
its layers), activation_functions (the PReLU network; the lesson's other parts train nothing). The lesson adds what it shows: step-0 statistics and unit counts
(initialization), weight records, full-data losses, gradient noise and the PCA-plane surface (minibatch),
Hessians and loss surfaces (normalization), activations, derivatives, gradient norms and softmax
(activation_functions), the augmented image grid and the imbalance strategy's images (augmentation; the
baseline fits both of its CNNs). The convolution lesson trains nothing: its baseline calls the Keras layers it
shows once each (Conv2D, both poolings, Flatten, the default CNN's first layer, one unit's input gradient); the
lesson adds each window's products, the receptive field and its layer chain. The generative lesson runs its VAE
and its GAN at their defaults (one compute each) against fitting the same two models on the same batches; it
adds the snapshots of the generated points and of D(x), the latent codes, the decoded grid and one draw.
Both sides include building and tracing; they alternate, compared by medians.
The recurrent lesson trains one three-branch model (SimpleRNN, LSTM, GRU) per default dependency length;
its baseline fits the same models on the same batches, and the lesson adds the test accuracies, the BPTT
gradient norms before and after training and the unrolled sequence checked against the layers.
Usage: python bench/lessons.py [--repeats 1] [--lessons initialization,minibatch,...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import dlviz  # noqa: E402
from dlviz import datasets, models  # noqa: E402
from plugins.activation_functions import (
    ActivationFunctions,  # noqa: E402
    prelu,  # noqa: E402
)
from plugins.activation_functions import compute as activation_compute  # noqa: E402
from plugins.activation_functions.plugin import Params as ActivationParams  # noqa: E402
from plugins.augmentation import Augmentation  # noqa: E402
from plugins.augmentation import compute as augmentation  # noqa: E402
from plugins.augmentation.plugin import Params as AugmentationParams  # noqa: E402
from plugins.convolution import Convolution  # noqa: E402
from plugins.convolution.plugin import LESSON_DATASET as CONVOLUTION_DATASET  # noqa: E402
from plugins.convolution.plugin import Params as ConvolutionParams  # noqa: E402
from plugins.convolution.sliding import PRESET_KERNELS  # noqa: E402
from plugins.generative import Generative  # noqa: E402
from plugins.generative import gan as generative_gan  # noqa: E402
from plugins.generative import plugin as generative_plugin  # noqa: E402
from plugins.generative import vae as generative_vae  # noqa: E402
from plugins.initialization import Initialization  # noqa: E402
from plugins.initialization import compute as initialization  # noqa: E402
from plugins.initialization.plugin import Params as InitializationParams  # noqa: E402
from plugins.minibatch import Minibatch  # noqa: E402
from plugins.minibatch import training as minibatch  # noqa: E402
from plugins.minibatch.plugin import Params as MinibatchParams  # noqa: E402
from plugins.normalization import Normalization  # noqa: E402
from plugins.normalization import training as normalization  # noqa: E402
from plugins.normalization.plugin import Params as NormalizationParams  # noqa: E402
from plugins.recurrent import Recurrent  # noqa: E402
from plugins.recurrent import task as recurrent_task  # noqa: E402
from plugins.recurrent import training as recurrent_training  # noqa: E402
from plugins.recurrent.plugin import Params as RecurrentParams  # noqa: E402

SEED = 0


def seeded_batches(x, y, batch_size: int) -> tf.data.Dataset:
    return (
        tf.data.Dataset.from_tensor_slices((np.asarray(x, np.float32), y))
        .shuffle(len(x), seed=SEED, reshuffle_each_iteration=True)
        .batch(batch_size)
    )


def plain_initialization() -> None:
    params = InitializationParams()
    data = initialization.lesson_data(dlviz.registry.make_context(seed=SEED), params)
    for name in params.initializers:
        model = initialization.build_model(data, params, name, SEED)
        model.fit(
            initialization.batches(data, params.batch_size, SEED),
            validation_data=(data.x_test, data.y_test),
            epochs=params.epochs,
            shuffle=False,
            verbose=0,
        )


def plain_minibatch() -> None:
    params = MinibatchParams()
    data = minibatch.lesson_data(dlviz.registry.make_context(seed=SEED), params)
    n = len(data.x_train)
    for size in sorted({n if size == 0 else size for size in params.batch_sizes}):
        model = minibatch.build_model(data, params, SEED)
        model.fit(
            seeded_batches(data.x_train, data.y_train, size), epochs=params.epochs, shuffle=False, verbose=0
        )


def plain_normalization() -> None:
    params = NormalizationParams()
    data = normalization.raw_features(dlviz.registry.make_context(seed=SEED), params)
    for variant in params.variants:
        x_train, x_test = normalization.features(variant, data)
        model = normalization.build_model(variant, data, params, SEED)
        model.fit(
            x_train,
            data.y_train,
            validation_data=(x_test, data.y_test),
            epochs=params.epochs,
            batch_size=params.batch_size,
            shuffle=False,
            verbose=0,
        )


def plain_recurrent() -> None:
    """The recurrent lesson's three-branch model (SimpleRNN, LSTM, GRU) per default length, fitted, nothing else."""
    params = RecurrentParams()
    for length in sorted({*params.lengths, params.unrolled_length}):
        task = recurrent_task.memory_task(
            SEED, length, params.noise, params.n_samples, recurrent_training.held_out_count(params)
        )
        recurrent_training.fit(recurrent_training.build_model(task, params, SEED), task, params)


def plain_prelu() -> None:
    """The PReLU network of the activation lesson, built and fitted the same way, nothing else."""
    params = ActivationParams()
    data = datasets.load(prelu.PRELU_DATASET, seed=SEED, n_samples=400, noise=0.2)
    layers = [keras.Input(shape=data.input_shape)]
    for _ in range(prelu.PRELU_LAYERS):
        layers += [keras.layers.Dense(prelu.PRELU_WIDTH), keras.layers.PReLU()]
    model = keras.Sequential([*layers, keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(prelu.PRELU_LEARNING_RATE), loss="binary_crossentropy")
    model.fit(
        seeded_batches(data.x_train, data.y_train, prelu.PRELU_BATCH), epochs=params.prelu_epochs, verbose=0
    )


def plain_augmentation() -> None:
    """The two CNNs of the augmentation lesson (without and with the layers in front), fitted, nothing else."""
    params = AugmentationParams()
    full = augmentation.image_data(dlviz.registry.make_context(seed=SEED))
    subset = datasets.Dataset.from_arrays(
        full.x_train[: params.n_train],
        full.y_train[: params.n_train],
        x_test=full.x_test[: augmentation.VALIDATION_IMAGES],
        y_test=full.y_test[: augmentation.VALIDATION_IMAGES],
        name=full.name,
        kind="image",
        class_names=full.class_names,
        standardize=False,
    )
    for layers in ([], augmentation.augmentation_layers(params, SEED)):
        augmentation.fit_cnn(subset, params, layers, SEED)


def plain_convolution() -> None:
    """The Keras layers the convolution lesson shows, each called once on its digit, nothing else: the one-filter
    Conv2D, both poolings and Flatten, the default CNN's first layer and one unit's input gradient."""
    params = ConvolutionParams()
    data = datasets.load(CONVOLUTION_DATASET, seed=SEED)
    digit = data.x_test[int(np.flatnonzero(data.y_test == params.digit)[0])][None]
    conv = keras.layers.Conv2D(
        1, 3, strides=params.stride, padding=params.padding, dilation_rate=params.dilation
    )
    conv.build(digit.shape)
    conv.set_weights([PRESET_KERNELS[params.kernel][:, :, None, None], np.zeros(1)])
    feature = conv(digit)
    for pooling in (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D):
        pooled = pooling(params.pool_size, padding=params.pool_padding)(feature)
    keras.layers.Flatten()(pooled)
    cnn = models.build("cnn", data, seed=SEED)
    keras.Model(cnn.inputs[0], cnn.get_layer("conv_1").output)(digit)
    x = tf.constant(digit)
    with tf.GradientTape() as tape:
        tape.watch(x)
        unit = tf.reduce_sum(keras.Model(cnn.inputs[0], cnn.get_layer("conv_2").output)(x)[0, 1, 1])
    tape.gradient(unit, x)


def plain_generative() -> None:
    """The generative lesson's VAE and GAN at the defaults, built and fitted on the same batches, nothing else."""
    params = generative_plugin.Params()
    seconds = {}
    start = time.perf_counter()
    data = datasets.load("digits", seed=SEED)
    vae = generative_vae.build_vae(data.input_shape, params, SEED)
    vae.fit(
        generative_vae.image_batches(np.asarray(data.x_train, np.float32), SEED),
        epochs=params.vae_epochs,
        validation_data=np.asarray(data.x_test, np.float32),
        shuffle=False,
        verbose=0,
    )
    seconds["VAE"], start = time.perf_counter() - start, time.perf_counter()
    intervals, per_interval = generative_gan.schedule(params.gan_steps)
    real = generative_gan.real_points(params.gan_data, generative_gan.REAL_SAMPLES, SEED)
    generative_gan.build_gan(params, SEED).fit(
        generative_gan.real_batches(real, SEED),
        epochs=intervals,
        steps_per_epoch=per_interval,
        shuffle=False,
        verbose=0,
    )
    seconds["GAN"] = time.perf_counter() - start
    print("  generative plain fit: " + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()))


def generative_compute() -> None:
    """The generative lesson at its defaults once per network (VAE, then GAN), its kept results dropped first."""
    seconds = {}
    for network in ("vae", "gan"):
        generative_plugin.RESULTS.clear()
        start = time.perf_counter()
        params = dlviz.plugin.make_params(generative_plugin.Params, {"network": network})
        dlviz.registry.run_plugin(Generative(), dlviz.registry.make_context(seed=SEED), params)
        seconds[network.upper()] = time.perf_counter() - start
    print("  generative lesson: " + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()))


# Lessons whose compute at the defaults is not one run of the plugin with its default Params.
LESSON_RUNS = {"generative": generative_compute}


def lesson_compute(plugin_class) -> callable:
    def run() -> None:
        prelu.train_prelu.cache_clear()
        activation_compute.network_gradient_norms.cache_clear()
        recurrent_training.forget_results()
        dlviz.registry.run_plugin(plugin_class(), dlviz.registry.make_context(seed=SEED))

    return run


LESSONS = {
    "initialization": (Initialization, plain_initialization),
    "minibatch": (Minibatch, plain_minibatch),
    "recurrent": (Recurrent, plain_recurrent),
    "normalization": (Normalization, plain_normalization),
    "activation_functions": (ActivationFunctions, plain_prelu),
    "augmentation": (Augmentation, plain_augmentation),
    "convolution": (Convolution, plain_convolution),
    "generative": (Generative, plain_generative),
}


def timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--lessons", default=",".join(LESSONS))
    args = parser.parse_args()
    chosen = [name for name in args.lessons.split(",") if name]
    print(
        f"models.INITIALIZERS: {len(models.INITIALIZERS)}; repeats: {args.repeats}; load: {os.getloadavg()}"
    )
    ratios = {}
    for name in chosen:
        plugin_class, plain = LESSONS[name]
        lesson, baseline = [], []
        for repeat in range(args.repeats):
            order = [("lesson", LESSON_RUNS.get(name) or lesson_compute(plugin_class)), ("plain", plain)]
            for kind, function in order if repeat % 2 == 0 else order[::-1]:
                (lesson if kind == "lesson" else baseline).append(timed(function))
        wall = statistics.median(t for t, _ in lesson) / statistics.median(t for t, _ in baseline)
        cpu = statistics.median(c for _, c in lesson) / statistics.median(c for _, c in baseline)
        ratios[name] = wall
        print(
            f"{name}: compute {statistics.median(t for t, _ in lesson):.1f} s against plain fit "
            f"{statistics.median(t for t, _ in baseline):.1f} s: {wall:.2f}x wall, {cpu:.2f}x CPU"
        )
    worst = max(ratios, key=ratios.get)
    detail = ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
    print(f"lessons: {ratios[worst]:.2f}x (worst: {worst}; {detail}; goal <= 1.2x)")


if __name__ == "__main__":
    main()
