"""The logdir workflow: runs recorded by scripts are listed, re-read while written, compared, saved."""

from __future__ import annotations

import shutil

import pytest
from dashboard_helpers import (
    EchoResult,
    assert_no_exception,
    chart_specs,
    echo_figure,
    finish_training,
    new_app,
    open_page,
    workspace,
)

import dlviz
from apps import logdir


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A script's run: a tiny xor MLP trained for two epochs with Recorder(logdir=...)."""
    root = tmp_path_factory.mktemp("recorded")
    dataset = dlviz.datasets.load("xor", n_samples=100)
    model = dlviz.models.build("mlp", dataset, hidden=(4,))
    recorder = dlviz.Recorder.for_dataset(dataset, every=2, logdir=root / "script_run")
    model.fit(dataset.x_train, dataset.y_train, epochs=2, verbose=0, callbacks=[recorder])
    return root / "script_run"


def copy_partial(source, target, chunks):
    """A run folder as a writer leaves it after `chunks` chunks (files appear one by one)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "meta.json", target / "meta.json")
    for folder in ("chunks", "snapshots"):
        (target / folder).mkdir(exist_ok=True)
    for path in sorted((source / "chunks").iterdir())[:chunks]:
        shutil.copy2(path, target / "chunks" / path.name)
    for path in (source / "snapshots").iterdir():
        shutil.copy2(path, target / "snapshots" / path.name)


class CountRuns(dlviz.Plugin):
    """Counts the runs it is given.

    简介：计数。

    What to look for: the count.

    观察要点：数量。
    """

    name = "zz_count_runs"
    title = "Count runs"
    section = "Training dynamics"
    requires = frozenset({"run"})
    compares_runs = True

    def compute(self, ctx, params):
        return EchoResult(f"{len(ctx.run.epochs['epoch'])} epochs + {len(ctx.runs)} compared")

    def figures(self, result, language="en"):
        return [echo_figure(result.text)]


def test_parse_logdir_reads_the_argument_after_the_double_dash(monkeypatch):
    monkeypatch.delenv(logdir.LOGDIR_ENV, raising=False)
    assert str(logdir.parse_logdir(["--logdir", "runs/"])) == "runs"
    assert logdir.parse_logdir(["-q", "--other", "x"]) is None
    assert logdir.safe_folder_name("../../etc/passwd") == "etc-passwd"


@pytest.mark.slow
def test_runs_in_the_logdir_are_listed_refreshed_while_written_and_compared(
    recorded, tmp_path, monkeypatch, registered
):
    registered(CountRuns)
    live = tmp_path / "logs" / "live"
    copy_partial(recorded, live, chunks=1)
    monkeypatch.setenv(logdir.LOGDIR_ENV, str(tmp_path / "logs"))
    at = new_app().run()
    assert_no_exception(at)
    assert "live (1 epochs, 3 steps)" in at.selectbox(key="runs.current").options
    at.selectbox(key="runs.current").set_value("logdir:live").run()
    assert workspace(at).current_run == "logdir:live"
    open_page(at, "zz_count_runs").run()
    assert chart_specs(at)[0]["layout"]["title"]["text"] == "1 epochs + 0 compared"

    copy_partial(recorded, live, chunks=2)
    shutil.copytree(recorded, tmp_path / "logs" / "second")
    at.button(key="runs.refresh").click().run()
    assert_no_exception(at)
    assert chart_specs(at)[0]["layout"]["title"]["text"] == "2 epochs + 0 compared", "the new chunk was read"
    assert "live (2 epochs, 6 steps)" in at.selectbox(key="runs.current").options
    assert "second (2 epochs, 6 steps)" in at.multiselect(key="runs.compare").options
    at.multiselect(key="runs.compare").set_value(["logdir:second"]).run()
    assert chart_specs(at)[0]["layout"]["title"]["text"] == "2 epochs + 1 compared"


@pytest.mark.slow
def test_a_trained_run_is_saved_into_the_logdir_and_listed(tmp_path, monkeypatch):
    monkeypatch.setenv(logdir.LOGDIR_ENV, str(tmp_path))
    at = new_app().run()
    at.number_input(key="train.epochs").set_value(1)
    finish_training(at.button(key="train.go").click().run())
    at.text_input(key="runs.save_name").set_value("../my run")
    at.button(key="runs.save").click().run()
    assert_no_exception(at)
    assert (tmp_path / "my-run" / "meta.json").exists(), "the name cannot leave the runs folder"
    assert "my-run (1 epochs, 45 steps)" in at.selectbox(key="runs.current").options
    saved = dlviz.Run.load(tmp_path / "my-run")
    assert len(saved.epochs["epoch"]) == 1
    at.button(key="runs.save").click().run()
    assert any("exists already" in error.value for error in at.error)
