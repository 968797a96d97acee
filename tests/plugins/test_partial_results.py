"""The imbalance page reports valid partial results and makes a class rare on balanced data; lessons say
when sessions may share their results. (The regularization and playground partials: their own tests.)"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dlviz
from dlviz.registry import make_context, run_plugin
from plugins.imbalance import Imbalance
from plugins.imbalance import plugin as imbalance_plugin
from plugins.imbalance.data import Targets
from plugins.regularization.data import lesson_data
from plugins.regularization.plugin import Params as RegularizationParams


def partials_of(name: str, dataset=None, **values):
    """The complete result and every partial result (with its progress fraction) of plugin `name`."""
    plugin = dlviz.get_plugin(name)
    fractions, partials = [], []
    ctx = dataclasses.replace(
        make_context(dataset=dataset, progress=lambda fraction, message: fractions.append(fraction)),
        partial=lambda result: partials.append((fractions[-1], result)),
    )
    result = run_plugin(plugin, ctx, dlviz.plugin.make_params(plugin.Params, values))
    for _, partial in partials:
        assert type(partial) is type(result)
        assert plugin.figures(partial), "a partial result draws like a complete one"
    return result, partials


@pytest.fixture(scope="module")
def balanced():
    return dlviz.datasets.load("moons", seed=0, n_samples=240)


@pytest.fixture(scope="module")
def imbalance_run(balanced):
    return partials_of("imbalance", balanced, strategies=("none", "class_weight"), epochs=1)


def test_imbalance_shows_the_data_then_each_strategy_as_it_is_scored(imbalance_run):
    result, partials = imbalance_run
    assert [len(partial.outcomes) for _, partial in partials] == [0, 1]
    assert [fraction for fraction, _ in partials] == [0.0, 0.5]
    first_strategy = partials[1][1].outcomes[0]
    assert first_strategy.strategy == "none"
    np.testing.assert_array_equal(first_strategy.probabilities, result.outcome("none").probabilities)
    np.testing.assert_array_equal(partials[0][1].train_counts, result.train_counts)


def test_imbalance_makes_the_last_class_of_balanced_data_rare_and_says_so(imbalance_run, balanced):
    made_rare = imbalance_run[0]
    full = np.bincount(balanced.y_train)
    assert made_rare.reduced_classes == (1,)
    assert made_rare.train_counts[1] == round(0.1 * full[1]) and made_rare.train_counts[0] == full[0]
    np.testing.assert_array_equal(made_rare.test_counts, np.bincount(balanced.y_test))
    assert made_rare.minority_classes == (1,)
    english, chinese = made_rare.page.notes_in("en")[0], made_rare.page.notes_in("zh")[0]
    assert "moons is balanced" in english and "10%" in english
    assert "是平衡的" in chinese and "10%" in chinese

    def made_rare_by_default(dataset, **values):
        params = dlviz.plugin.make_params(Imbalance.Params, values)
        chosen, notes = imbalance_plugin.made_rare_if_balanced(params, Targets.of(dataset), dataset)
        return chosen.reduce_classes, len(notes)

    assert made_rare_by_default(balanced) == ((1,), 1)
    assert made_rare_by_default(balanced, rare_if_balanced=False) == ((), 0), "unticked: the data as it is"
    assert made_rare_by_default(balanced, reduce_classes=(0,)) == ((0,), 0), "the user's choice wins"
    already_rare = dlviz.datasets.load("imbalanced", seed=0, n_samples=300, minority=0.1)
    assert made_rare_by_default(already_rare) == ((), 0)


def test_results_that_ignore_the_session_say_so():
    digits = dlviz.datasets.load("digits", seed=0)
    moons = dlviz.datasets.load("moons", seed=0, n_samples=100)

    def key(name, dataset=None, **values):
        plugin = dlviz.get_plugin(name)
        return plugin.shared_result_key(make_context(dataset=dataset), plugin.Params(**values))

    for name in ("optimizers", "activation_functions", "backprop", "loss_functions"):
        assert key(name, digits) == "", name
    for name in ("initialization", "minibatch", "normalization"):  # their own bundled data by default
        assert key(name, digits) == key(name, digits, data="auto") == "", name
    assert key("initialization", moons, data="auto") is None and key("minibatch", moons, data="auto") is None
    assert key("normalization", dlviz.datasets.load("breast_cancer", seed=0), data="auto") is None
    for name in ("imbalance", "gradients", "evaluation"):
        assert key(name, digits) is None, name
    assert key("playground", digits) == ""
    assert key("playground", moons, data="context") is None
    assert key("regularization", None) == key("regularization", moons, data="moons") == ""
    assert key("regularization", moons) is None, "'auto' trains on a loaded table or 2-D points"
    assert key("regularization", digits) == "digits|image|classification", "its note names the image set"
    _, notes = lesson_data(make_context(dataset=digits), RegularizationParams())
    assert notes == [
        (
            "digits holds image data; this lesson's small networks take 2-D points or tables, so it trains on moons.",
            "digits 是图像数据；本课的小网络只接受二维点或表格数据，因此在 moons 数据集上训练。",
        )
    ]


def test_lessons_that_train_one_model_per_choice_show_each_as_it_is_trained():
    normalization, partials = partials_of("normalization", variants=("raw", "standard", "batch_norm"), epochs=2)
    assert [partial.variants for _, partial in partials] == [("raw",), ("raw", "standard")]
    assert [fraction for fraction, _ in partials] == pytest.approx([1 / 3, 2 / 3])
    np.testing.assert_array_equal(partials[1][1].train_loss["standard"], normalization.train_loss["standard"])
    assert set(partials[0][1].surfaces) == {"raw"}

    initialization, partials = partials_of(
        "initialization", initializers=("zeros", "he_normal"), depth=2, width=8, samples=200, epochs=1
    )
    first_trained = initialization.initializers[0]  # in the order of dlviz.models.INITIALIZERS
    assert [partial.initializers for _, partial in partials] == [(first_trained,)]
    first = partials[0][1]
    assert first.activation_std.shape == (1, len(initialization.layers))
    np.testing.assert_array_equal(first.val_loss[first_trained], initialization.val_loss[first_trained])
    np.testing.assert_array_equal(first.distinct_units[0], initialization.distinct_units[0])
