"""The minibatch lesson: same start for every run, the gradient noise shrinking with the batch size, losses
evaluated by the landscape's BatchedLoss, plotted values and refusals."""

import numpy as np
import pytest

import dlviz
from dlviz.errors import ParamsError
from plugins.minibatch import Minibatch
from plugins.minibatch.plugin import Params
from plugins.minibatch.training import build_model, gradient_noise, lesson_data


@pytest.fixture(scope="module")
def lesson():
    plugin = Minibatch()
    params = dlviz.plugin.make_params(
        Params, {"batch_sizes": (1, 16, 0), "epochs": 3, "samples": 100, "noise_batches": 20}
    )
    return plugin, dlviz.registry.run_plugin(plugin, dlviz.registry.make_context(seed=0), params)


def test_gradient_noise_shrinks_as_the_batch_grows():
    ctx = dlviz.registry.make_context(seed=0)
    params = Params(samples=200)
    data = lesson_data(ctx, params)
    handle = dlviz.wrap(build_model(data, params, seed=0), data)
    sizes = [1, 4, 16, 64, len(data.x_train)]
    mean, spread, full = gradient_noise(handle, data, sizes, draws=40, seed=0)
    assert np.all(np.diff(mean) < 0), mean
    assert mean[-1] < 1e-5 * full  # the whole training set is the full gradient itself
    assert spread[-1] == 0.0


@pytest.mark.slow
def test_every_run_starts_from_the_same_weights_and_sees_the_same_examples(lesson):
    _, result = lesson
    starts = [run.losses[0] for run in result.runs]
    np.testing.assert_allclose(starts, starts[0], rtol=1e-6)
    for run in result.runs:
        assert run.examples_seen[-1] == result.epochs * result.n_train
        assert run.updates[-1] == result.epochs * int(np.ceil(result.n_train / run.batch_size))
        np.testing.assert_allclose(run.coordinates[0], result.runs[0].coordinates[0], atol=1e-4)
    full = result.runs[-1]
    assert full.full_batch and full.updates[-1] == result.epochs
    # Per epoch, single-sample SGD makes n updates and gets further than one step of gradient descent.
    assert result.runs[0].epoch_losses[1] < full.epoch_losses[1]


@pytest.mark.slow
def test_losses_are_the_landscape_evaluators_and_the_plane_is_centred_on_the_full_batch_end(lesson):
    _, result = lesson
    full = result.runs[-1]
    np.testing.assert_allclose(full.coordinates[-1], 0.0, atol=1e-4)
    centre = np.argmin(np.abs(result.alphas)), np.argmin(np.abs(result.betas))
    assert result.plane_losses[centre[1], centre[0]] == pytest.approx(full.losses[-1], rel=1e-4)
    assert sum(result.explained_variance) <= 1.0 + 1e-9


@pytest.mark.slow
def test_figures_plot_the_runs_and_the_noise(lesson):
    plugin, result = lesson
    curves, noise, plane = plugin.figures(result, "zh")
    np.testing.assert_allclose(curves.data[0].y, result.runs[0].epoch_losses)
    partial = result.noise_batch_sizes < result.n_train
    np.testing.assert_allclose(noise.data[0].y, result.noise_mean[partial])
    assert len(plane.data) == 1 + len(result.runs) + 1
    assert "小批量" in plugin.diagnose(result)[0].headline_zh


def test_refusals_say_what_to_change():
    ctx = dlviz.registry.make_context(seed=0)
    with pytest.raises(ParamsError, match="at least one"):
        Minibatch().compute(ctx, Params(batch_sizes=()))
    with pytest.raises(ParamsError, match="exceeds"):
        Minibatch().compute(ctx, Params(batch_sizes=(64,), samples=50))
