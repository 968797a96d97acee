"""The run store on any storage: URLs through tf.io.gfile (TensorFlow's in-memory ``ram://`` file system
stands in for gs:// and s3://), half-written files, snapshots read on first use, the dashboard's logdir."""

from __future__ import annotations

import json
import uuid
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps import logdir as app_logdir
from dlviz._recorder_inputs import check_logdir
from dlviz._run_storage import RemotePath, location
from dlviz.errors import RunError
from dlviz.recorder import Recorder
from dlviz.runs import Run, RunWriter
from tests.dlviz.test_runs import META, make_chunk, make_run


def ram_url(name: str) -> str:
    """A fresh folder URL: the ram:// file system lives as long as the process."""
    return f"ram://dlviz-tests/{uuid.uuid4().hex[:8]}/{name}"


def test_a_run_saved_to_a_url_loads_back_equal():
    run = make_run()
    url = ram_url("run")
    folder = run.save(url)
    assert isinstance(folder, RemotePath) and str(folder) == url
    assert sorted(tf.io.gfile.listdir(f"{url}/chunks")) == ["000000.npz", "000001.npz", "000002.npz"]
    loaded = Run.load(url)
    assert loaded.problems == [] and loaded.path == folder
    for name, values in run.steps.items():
        np.testing.assert_array_equal(loaded.steps[name], values)
    np.testing.assert_array_equal(loaded.series("grad_norm")["out"], run.series("grad_norm")["out"])
    np.testing.assert_array_equal(loaded.snapshot_steps, [0, 2, 4])
    np.testing.assert_array_equal(loaded.snapshots, run.snapshots)
    with pytest.raises(RunError, match="already holds a run"):
        run.save(url)
    with pytest.raises(RunError, match="does not exist"):
        Run.load(ram_url("missing"))


def test_a_half_written_chunk_on_a_url_is_skipped_and_the_flushed_ones_kept():
    url = ram_url("killed")
    writer = RunWriter(url)
    writer.write_meta(META)
    for epoch in range(3):
        writer.append_chunk(make_chunk(epoch))
    # What a store without atomic rename shows of a process killed while writing its fourth chunk.
    whole = tf.io.gfile.GFile(f"{url}/chunks/000000.npz", "rb").read()
    with tf.io.gfile.GFile(f"{url}/chunks/000003.npz", "wb") as handle:
        handle.write(whole[: len(whole) // 2])
    with pytest.warns(UserWarning, match="damaged"):
        run = Run.load(url)
    assert len(run.problems) == 1 and "000003" in run.problems[0]
    np.testing.assert_array_equal(run.steps["step"], np.arange(12))
    np.testing.assert_array_equal(run.epochs["epoch"], [0, 1, 2])


def test_the_recorder_writes_its_run_to_a_url_while_training():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
    url = ram_url("recorded")
    recorder = Recorder(every=2, probe=(x[:8], y[:8]), logdir=url)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[recorder])
    loaded = Run.load(url)
    assert loaded.problems == [] and loaded.meta["status"] == "finished"
    assert sorted(tf.io.gfile.listdir(f"{url}/chunks"))[:2] == ["000000.npz", "000001.npz"]
    np.testing.assert_array_equal(loaded.steps["step"], recorder.run.steps["step"])
    np.testing.assert_array_equal(loaded.record_steps, recorder.run.record_steps)
    np.testing.assert_array_equal(loaded.snapshot_steps, recorder.run.snapshot_steps)
    np.testing.assert_array_equal(loaded.snapshots, recorder.run.snapshots)
    np.testing.assert_array_equal(
        loaded.series("grad_norm")[model.layers[0].name], recorder.run.series("grad_norm")[model.layers[0].name]
    )
    with pytest.raises(RunError, match="not empty"):
        Recorder(logdir=url)


def test_snapshots_are_checked_at_open_and_read_on_first_use(tmp_path):
    folder = make_run().save(tmp_path / "run")
    vector_file = folder / "snapshots" / "000000000002.npz"
    data = bytearray(vector_file.read_bytes())
    offset = data.index(np.full(13, 2, np.float32).tobytes())
    data[offset] ^= 0xFF  # a flipped bit in the values: the zip and its header still look right
    vector_file.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = Run.load(folder)
    assert run.problems == [] and len(run._snapshots) == 3  # listed, values not read yet
    with pytest.warns(UserWarning, match="000000000002"):
        steps = run.snapshot_steps
    assert steps.tolist() == [0, 4] and run.snapshots.shape == (2, 13)
    assert len(run.problems) == 1 and "snapshots/000000000002.npz skipped" in run.problems[0]
    np.testing.assert_array_equal(run.snapshots[1], np.full(13, 4, np.float32))
    # A snapshot of the wrong length is refused when the run opens, before any value is read.
    RunWriter(tmp_path / "other").write_snapshot(4, np.zeros(7))
    (folder / "snapshots" / "000000000004.npz").write_bytes(
        (tmp_path / "other/snapshots/000000000004.npz").read_bytes()
    )
    with pytest.warns(UserWarning, match="000000000004"):
        reopened = Run.load(folder)
    assert "000000000004" in reopened.problems[0]


def test_remote_paths_behave_like_paths_and_unreachable_ones_are_clear_errors():
    root = RemotePath("ram://bucket/runs/")
    run = root / "exp1"
    assert str(run) == "ram://bucket/runs/exp1" and run.name == "exp1" and run.parent == root
    assert str(run.relative_to(root)) == "exp1" and location("ram://bucket/runs") == root
    assert location("runs/exp1").as_posix() == "runs/exp1"
    assert sorted([root / "b", root / "a"]) == [root / "a", root / "b"]
    with pytest.raises(RunError, match="Cannot create the run folder nosuchfs://x"):
        RunWriter("nosuchfs://x/run")
    with pytest.raises(RunError, match="Cannot read nosuchfs://x"):
        Run.load("nosuchfs://x/run")
    with pytest.raises(RunError, match="cannot be reached"):
        check_logdir("nosuchfs://x/run")


def test_only_the_chief_of_a_tf_config_cluster_checks_its_logdir(tmp_path, monkeypatch):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "meta.json").write_text("{}")
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert check_logdir(busy) == busy  # a non-chief worker writes nothing: the chief created the folder
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    with pytest.raises(RunError, match="holds a run already"):
        check_logdir(busy)
    with_chief = {**cluster, "chief": ["localhost:3"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": with_chief, "task": {"type": "worker", "index": 0}})
    )
    assert check_logdir(busy) == busy


def test_the_dashboard_logdir_lists_and_watches_runs_at_a_url(monkeypatch):
    root = ram_url("logdir")
    make_run().save(f"{root}/group/exp1")
    writer = RunWriter(f"{root}/exp2")
    writer.write_meta(META)
    tf.io.gfile.makedirs(f"{root}/empty/deeper")
    monkeypatch.setenv(app_logdir.LOGDIR_ENV, root)
    parsed = app_logdir.parse_logdir([])
    assert parsed == RemotePath(root) and app_logdir.runs_root(parsed) == parsed
    found = app_logdir.find_runs(parsed)
    assert [str(path.relative_to(parsed)) for path in found] == ["exp2", "group/exp1"]
    before = app_logdir.signature(found[0])
    writer.append_chunk(make_chunk(0))
    assert app_logdir.signature(found[0]) != before
    assert len(app_logdir.load_run(str(found[1]), app_logdir.signature(found[1])).steps["step"]) == 12
    assert app_logdir.find_runs(RemotePath("nosuchfs://x")) == []
