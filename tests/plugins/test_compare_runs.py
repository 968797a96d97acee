"""compare_runs: settings read from the runs' metadata, differing columns, ranking, the figures' traces."""

import dataclasses
import pickle

import numpy as np
import pytest

import dlviz
from dlviz import datasets, models
from dlviz.registry import make_context, run_plugin
from plugins.compare_runs import CompareRuns
from plugins.compare_runs.compute import lower_is_better


def record(dataset, optimizer, learning_rate, **kwargs):
    model = models.build(
        "mlp", dataset, hidden=(6,), optimizer=optimizer, learning_rate=learning_rate, **kwargs
    )
    recorder = dlviz.Recorder.for_dataset(dataset, every=5)
    model.fit(
        dataset.x_train,
        dataset.y_train,
        validation_data=(dataset.x_test, dataset.y_test),
        epochs=2,
        batch_size=32,
        verbose=0,
        callbacks=[recorder],
    )
    return recorder.run


@pytest.fixture(scope="module")
def runs():
    dataset = datasets.load("xor", seed=0, n_samples=160)
    return record(dataset, "adam", 1e-2, l2=1e-3), record(dataset, "sgd", 1e-1, dropout=0.2)


@pytest.fixture(scope="module")
def comparison(runs):
    return run_plugin(CompareRuns(), make_context(run=runs[0], runs=(runs[1],)))


def test_the_recorder_keeps_what_a_comparison_needs(runs):
    meta = runs[0].meta
    assert meta["param_count"] == (2 * 6 + 6) + (6 * 1 + 1)
    assert meta["regularization"] == {"dropout": 0.0, "l1": 0.0, "l2": pytest.approx(1e-3), "batch_norm": 0}
    assert runs[1].meta["regularization"]["dropout"] == pytest.approx(0.2)


def test_settings_that_differ_are_found(comparison):
    adam, sgd = comparison.runs
    assert (adam.settings["optimizer"], sgd.settings["optimizer"]) == ("Adam", "SGD")
    assert adam.settings["learning_rate"] == pytest.approx(1e-2)
    assert {"optimizer", "learning_rate", "dropout", "l2"} <= set(comparison.differing)
    assert "dataset" in comparison.setting_keys and "dataset" not in comparison.differing
    assert "parameters" not in comparison.differing and "layers" in comparison.differing  # the dropout layer


def test_ranking_follows_the_final_metric(comparison):
    assert comparison.rank_metric == "val_loss" and comparison.lower_is_better
    finals = [run.final["val_loss"] for run in comparison.runs]
    assert list(comparison.ranking) == list(np.argsort(finals))
    accuracy = dataclasses.replace(comparison, rank_metric="val_accuracy", lower_is_better=False)
    values = [run.final["val_accuracy"] for run in comparison.runs]
    assert accuracy.runs[accuracy.ranking[0]].final["val_accuracy"] == max(values)
    assert lower_is_better("mae") and not lower_is_better("auc")


def test_figures_overlay_every_run_and_highlight_differences(comparison):
    curves, table, parallel = CompareRuns().figures(pickle.loads(pickle.dumps(comparison)), "en")
    solid = [trace for trace in curves.data if trace.line.dash == "solid" and trace.xaxis == "x"]
    assert [trace.name for trace in solid] == ["run 1", "run 2"]
    assert len(curves.data) == 2 * 4  # loss, val_loss, accuracy, val_accuracy per run
    header = list(table.data[0].header["values"])
    fills = list(table.data[0].header["fill_color"])
    assert fills[header.index("learning rate")] != fills[header.index("dataset")]
    best = comparison.runs[comparison.ranking[0]]
    assert table.data[0].cells["values"][0][0] == best.label
    labels = [dimension.label for dimension in parallel.data[0].dimensions]
    assert labels[-1] == "val_loss" and "learning rate (log)" in labels and "dataset" not in labels


def test_only_differing_columns_and_chinese(runs):
    params = dlviz.plugin.make_params(CompareRuns.Params, {"only_differing": True, "x_axis": "step"})
    result = run_plugin(CompareRuns(), make_context(run=runs[0], runs=(runs[1],)), params)
    table = CompareRuns().figures(result, "zh")[1]
    header = list(table.data[0].header["values"])
    assert "学习率" in header and "数据集" not in header and header[0] == "训练记录"
    assert table.data[0].cells["values"][0][0].startswith("训练记录")
    finding = CompareRuns().diagnose(result)[0]
    assert "学习率" in finding.text("zh")[1]


def test_an_unknown_metric_and_no_runs_are_refused(runs):
    params = dlviz.plugin.make_params(CompareRuns.Params, {"rank_metric": "f1"})
    with pytest.raises(dlviz.ParamsError, match="f1"):
        run_plugin(CompareRuns(), make_context(run=runs[0]), params)
    assert "训练记录" in CompareRuns().is_compatible(make_context(language="zh"))


def test_runs_recorded_before_the_new_metadata_still_compare(runs):
    older = pickle.loads(pickle.dumps(runs[0]))
    for key in ("param_count", "regularization"):
        older.meta.pop(key)
    result = run_plugin(CompareRuns(), make_context(run=older))
    (summary,) = result.runs
    assert summary.settings["parameters"] == runs[0].meta["param_count"]  # summed over the layers instead
    assert "dropout" not in result.setting_keys and result.differing == ()
    assert len(CompareRuns().figures(result, "en")[2].data[0].dimensions) == len(result.setting_keys) + 1
