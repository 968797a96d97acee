"""The loss landscape: filter normalisation, exact losses against model.evaluate, PCA trajectories."""

import keras
import numpy as np
import pytest

import dlviz
from dlviz import datasets, models
from dlviz.errors import ParamsError, PluginError
from dlviz.plugin import make_params
from dlviz.recorder import Recorder
from dlviz.registry import make_context
from dlviz.testing import tiny_context
from plugins.landscape import Landscape
from plugins.landscape import compute as landscape_compute
from plugins.landscape.directions import filter_normalized_direction, filter_norms, flat_weights, pca_plane
from plugins.landscape.evaluation import BatchedLoss

PLUGIN = Landscape()


def compute(ctx, **values):
    return PLUGIN.compute(ctx, make_params(Landscape.Params, values))


def evaluate_at(model, flat, x, y):
    """The slow, obvious way: assign the weights, then model.evaluate on the whole set at once."""
    saved = [v.numpy() for v in model.trainable_variables]
    offset = 0
    for variable in model.trainable_variables:
        size = int(np.prod(variable.shape))
        variable.assign(flat[offset : offset + size].reshape(variable.shape))
        offset += size
    try:
        return model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)["loss"]
    finally:
        for variable, value in zip(model.trainable_variables, saved, strict=True):
            variable.assign(value)


@pytest.fixture(scope="module")
def breast_cancer():
    """Sigmoid output + binary cross-entropy + L2 penalty, trained a little."""
    dataset = datasets.load("breast_cancer", seed=0)
    model = models.build("mlp", dataset, hidden=(16,), l2=1e-3, seed=0)
    model.fit(dataset.x_train, dataset.y_train, epochs=3, batch_size=32, verbose=0)
    return model, dataset


@pytest.fixture(scope="module")
def wine_bn_dropout():
    """Softmax output, batch norm (moving statistics moved by training) and dropout."""
    dataset = datasets.load("wine", seed=0)
    model = models.build("mlp", dataset, hidden=(16, 8), batch_norm=True, dropout=0.3, seed=0)
    model.fit(dataset.x_train, dataset.y_train, epochs=5, batch_size=16, verbose=0)
    return model, dataset


@pytest.fixture(scope="module")
def compared_runs():
    """The same model and start weights trained with SGD and with Adam, each with a Recorder."""
    dataset = datasets.load("xor", seed=0, n_samples=200)
    runs, trained = [], []
    for optimizer, rate in (("sgd", 0.1), ("adam", 0.01)):
        model = models.build("mlp", dataset, hidden=(8,), optimizer=optimizer, learning_rate=rate, seed=0)
        recorder = Recorder.for_dataset(dataset, every=2, max_snapshots=40)
        model.fit(dataset.x_train, dataset.y_train, epochs=3, batch_size=32, verbose=0, callbacks=[recorder])
        runs.append(recorder.run)
        trained.append(model)
    return trained, runs, dataset


class FakeRun:
    """Just what the landscape reads from a Run: metadata, snapshot steps and snapshots."""

    def __init__(self, model, snapshots, label="SGD"):
        self.meta = {
            "variables": [{"shape": list(v.shape)} for v in model.trainable_variables],
            "optimizer": {"class": label, "learning_rate": 0.01},
        }
        self.snapshots = np.asarray(snapshots, np.float32)
        self.snapshot_steps = np.arange(len(snapshots)) * 10


def test_filter_normalised_direction_has_the_weights_filter_norms_and_ignores_bias_and_batchnorm():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(3, 3),
            keras.layers.BatchNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    direction = filter_normalized_direction(model, np.random.default_rng(3))
    weight_norms = filter_norms(model, flat_weights(model))
    direction_norms = filter_norms(model, direction)
    checked = 0
    for variable, weights, found in zip(
        model.trainable_variables, weight_norms, direction_norms, strict=True
    ):
        if len(variable.shape) > 1:
            assert found.shape == (variable.shape[-1],)  # one norm per output filter / unit
            np.testing.assert_allclose(found, weights, rtol=1e-5)
            checked += 1
        else:
            np.testing.assert_array_equal(found, 0.0)  # bias, gamma, beta: zero direction
    assert checked == 3
    assert not np.allclose(direction, flat_weights(model))


@pytest.mark.parametrize("fixture", ["breast_cancer", "wine_bn_dropout"])
def test_batched_losses_equal_model_evaluate_at_sampled_weight_settings(fixture, request):
    model, dataset = request.getfixturevalue(fixture)
    handle = dlviz.wrap(model)
    x, y = dataset.x_train[:200], dataset.y_train[:200]
    evaluator = BatchedLoss(handle, x, y)
    rng = np.random.default_rng(0)
    base = flat_weights(model)
    directions = np.stack([filter_normalized_direction(model, rng) for _ in range(2)])
    coefficients = np.array([[0.0, 0.0], [0.5, -0.25], [-1.0, 1.0], [0.1, 0.9]], np.float32)
    found = evaluator.losses(base, directions, coefficients)
    for c, loss in zip(coefficients, found, strict=True):
        assert loss == pytest.approx(evaluate_at(model, base + c @ directions, x, y), abs=1e-5)


def test_sigmoid_loss_uses_the_logits_like_model_evaluate():
    """Saturated sigmoid outputs: from probabilities the loss would be clipped; Keras uses the logits."""
    dataset = datasets.load("breast_cancer", seed=0)
    model = models.build("logreg", dataset, seed=0)
    base = flat_weights(model) * 60.0
    x, y = dataset.x_train[:128], dataset.y_train[:128]
    expected = evaluate_at(model, base, x, y)
    found = BatchedLoss(dlviz.wrap(model), x, y).at(base[None])[0]
    assert expected > 20  # beyond what clipped probabilities (at most -log(1e-7) per sample) would give
    assert found == pytest.approx(expected, rel=1e-5)


def test_grid_centre_and_sampled_points_equal_model_evaluate(breast_cancer):
    model, dataset = breast_cancer
    ctx = make_context(model=model, dataset=dataset, seed=4)
    result = compute(ctx, directions="random", resolution=7, span=0.6, eval_samples=5000)
    x, y = dataset.x_train, dataset.y_train  # eval_samples covers the whole training split
    assert result.eval_samples == len(x)
    expected_centre = model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)["loss"]
    assert result.centre_loss == pytest.approx(expected_centre, abs=1e-5)
    assert result.losses[3, 3] == pytest.approx(expected_centre, abs=1e-5)
    assert result.alphas[3] == 0 and result.betas[3] == 0
    rng = np.random.default_rng(4)  # the plugin's directions: two draws from the context's seed
    directions = np.stack([filter_normalized_direction(model, rng) for _ in range(2)])
    base = flat_weights(model)
    for row, column in ((0, 0), (2, 5), (6, 1)):
        weights = base + result.alphas[column] * directions[0] + result.betas[row] * directions[1]
        assert result.losses[row, column] == pytest.approx(evaluate_at(model, weights, x, y), abs=1e-5)


def test_model_with_batchnorm_dropout_and_convolutions_in_inference_mode():
    ctx = tiny_context("image")
    model = ctx.model.model
    x, y = ctx.dataset.x_train[:64], ctx.dataset.y_train[:64]
    evaluator = BatchedLoss(ctx.model, x, y)
    assert not evaluator.vectorised  # convolutions go through tf.map_fn
    weights = flat_weights(model) + 0.05 * filter_normalized_direction(model, np.random.default_rng(1))
    assert evaluator.at(weights[None])[0] == pytest.approx(evaluate_at(model, weights, x, y), abs=1e-5)


def test_results_are_deterministic_for_a_seed(breast_cancer):
    model, dataset = breast_cancer
    first = compute(make_context(model=model, dataset=dataset, seed=1), directions="random", resolution=5)
    second = compute(make_context(model=model, dataset=dataset, seed=1), directions="random", resolution=5)
    other = compute(make_context(model=model, dataset=dataset, seed=2), directions="random", resolution=5)
    np.testing.assert_array_equal(first.losses, second.losses)
    assert not np.array_equal(first.losses, other.losses)


def test_pca_of_a_straight_line_trajectory_is_a_straight_line(breast_cancer):
    model, dataset = breast_cancer
    centre = flat_weights(model)
    direction = filter_normalized_direction(model, np.random.default_rng(5))
    t = np.array([1.0, 0.8, 0.55, 0.3, 0.1, 0.0])
    snapshots = centre + t[:, None] * direction
    _, explained, (coordinates,) = pca_plane([snapshots], centre)
    assert explained[0] == pytest.approx(1.0, abs=1e-6)
    # Collinear: every point is a multiple of the first one, and distances scale like t.
    np.testing.assert_allclose(np.abs(coordinates[:, 1]), 0.0, atol=1e-4 * np.abs(coordinates).max())
    np.testing.assert_allclose(np.abs(coordinates[:, 0]), t * np.linalg.norm(direction), rtol=1e-4)

    ctx = make_context(model=model, dataset=dataset, run=FakeRun(model, snapshots))
    result = compute(ctx, directions="pca", resolution=7)
    path = result.trajectories[0].coordinates
    spread = np.linalg.svd(path - path.mean(axis=0), compute_uv=False)
    assert spread[1] < 1e-4 * spread[0]
    assert result.explained_variance[0] > 0.999
    assert np.any(result.alphas == 0) and np.any(result.betas == 0)
    for axis, values in ((0, result.alphas), (1, result.betas)):  # the grid covers the whole path
        assert values.min() <= path[:, axis].min() and values.max() >= path[:, axis].max()


@pytest.mark.slow
def test_several_runs_share_one_pca_landscape(compared_runs):
    (sgd_model, _), (sgd_run, adam_run), dataset = compared_runs
    ctx = make_context(model=sgd_model, dataset=dataset, run=sgd_run, runs=(adam_run,))
    reports = []
    ctx = ctx.__class__(**{**ctx.__dict__, "progress": lambda fraction, message: reports.append(fraction)})
    result = compute(ctx, resolution=9)
    assert result.directions == "pca"  # auto picks PCA when runs have snapshots
    assert [t.label for t in result.trajectories] == ["1: SGD (lr=0.1)", "2: Adam (lr=0.01)"]
    assert len(result.explained_variance) == 2 and 0 < sum(result.explained_variance) <= 1 + 1e-9
    for trajectory, run in zip(result.trajectories, (sgd_run, adam_run), strict=True):
        np.testing.assert_array_equal(trajectory.steps, run.snapshot_steps)
        assert trajectory.coordinates.shape == (len(run.snapshots), 2)
    evaluator = BatchedLoss(ctx.model, *landscape_compute.evaluation_subset(ctx, Landscape.Params()))
    np.testing.assert_allclose(result.trajectories[1].losses, evaluator.at(adam_run.snapshots), rtol=1e-5)
    # The 1-D lines run from each run's first to its last snapshot.
    for line, trajectory in zip(result.lines, result.trajectories, strict=True):
        start, end = np.argmin(np.abs(line.t)), np.argmin(np.abs(line.t - 1))
        assert line.losses[start] == pytest.approx(trajectory.losses[0], abs=1e-5)
        assert line.losses[end] == pytest.approx(trajectory.losses[-1], abs=1e-5)
    assert reports == sorted(reports) and reports[-1] == 1.0 and len(reports) > 3

    contour, surface, line = PLUGIN.figures(result)
    paths = [trace for trace in contour.data[1:] if trace.mode == "lines+markers"]
    assert [trace.name for trace in paths] == [t.label for t in result.trajectories]
    for trace, trajectory in zip(paths, result.trajectories, strict=True):
        np.testing.assert_allclose(np.c_[trace.x, trace.y], trajectory.coordinates, rtol=1e-4, atol=1e-7)
    assert "% of the trajectory's variance" in contour.layout.xaxis.title.text
    np.testing.assert_allclose(np.array(contour.data[0].z, float), np.log10(result.losses), atol=1e-4)
    assert [trace.name for trace in line.data] == [t.label for t in result.trajectories]
    assert type(surface.data[0]).__name__ == "Surface"


def test_random_plane_figures_and_chinese(breast_cancer):
    model, dataset = breast_cancer
    result = compute(
        make_context(model=model, dataset=dataset), directions="random", resolution=5, log_scale=False
    )
    contour, surface, line = PLUGIN.figures(result, language="zh")
    assert contour.layout.title.text.startswith("损失曲面")
    assert "随机方向" in contour.layout.xaxis.title.text
    np.testing.assert_allclose(np.array(contour.data[0].z, float), result.losses, rtol=1e-4)
    assert result.line_kind == "direction"
    np.testing.assert_allclose(line.data[0].y[len(line.data[0].y) // 2], result.centre_loss, rtol=1e-4)


def test_refusals_and_caps(breast_cancer, monkeypatch):
    model, dataset = breast_cancer
    ctx = make_context(model=model, dataset=dataset)
    with pytest.raises(PluginError, match="needs a run"):
        compute(ctx, directions="pca")
    with pytest.raises(ParamsError, match="odd"):
        compute(ctx, resolution=20)
    with pytest.raises(PluginError, match="MB"):
        BatchedLoss(ctx.model, dataset.x_train, dataset.y_train, memory_budget=10_000)
    monkeypatch.setattr(landscape_compute, "MAX_MULTIPLY_ADDS", 1e6)
    with pytest.raises(ParamsError, match="multiply-adds"):
        compute(ctx, resolution=5)
    other = keras.Sequential(
        [keras.Input((30,)), keras.layers.Dense(3), keras.layers.Dense(1, activation="sigmoid")]
    )
    with pytest.raises(PluginError, match="do not fit"):
        compute(make_context(model=model, dataset=dataset, run=FakeRun(other, np.zeros((4, 96)))))
    uncompiled = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation="sigmoid")])
    verdict = PLUGIN.is_compatible(make_context(model=uncompiled, dataset=dataset))
    assert isinstance(verdict, str) and "compile" in verdict
    assert "needs" in PLUGIN.is_compatible(make_context(dataset=dataset))
