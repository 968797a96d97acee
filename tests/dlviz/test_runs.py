"""The run store: in-memory Run, the run-folder format, damage handling, thinning."""

from __future__ import annotations

import json
import pickle
import threading
import warnings
import zipfile

import numpy as np
import pytest

from dlviz.errors import RunError
from dlviz.runs import FORMAT_VERSION, Run, RunWriter, SnapshotSchedule, decode_arrays, encode_arrays

LAYERS = [
    {"name": "dense", "kind": "Dense", "output_shape": [None, 3], "params": 9, "activation": "relu"},
    {"name": "out", "kind": "Dense", "output_shape": [None, 1], "params": 4, "activation": "sigmoid"},
]
VARIABLES = [
    {"path": "dense/kernel", "shape": [2, 3], "layer": "dense"},
    {"path": "dense/bias", "shape": [3], "layer": "dense"},
    {"path": "out/kernel", "shape": [3, 1], "layer": "out"},
    {"path": "out/bias", "shape": [1], "layer": "out"},
]
META = {
    "layers": LAYERS,
    "variables": VARIABLES,
    "record_layers": {"grad": ["dense", "out"], "act": ["dense", "out"]},
}


def make_chunk(epoch: int, steps_per_epoch: int = 4, every: int = 2, bins: int = 5) -> dict[str, np.ndarray]:
    steps = np.arange(epoch * steps_per_epoch, (epoch + 1) * steps_per_epoch)
    records = steps[steps % every == 0]
    n = len(records)
    return {
        "steps/step": steps,
        "steps/epoch": np.full(len(steps), epoch),
        "steps/loss": 1.0 / (1 + steps),
        "epochs/epoch": np.array([epoch]),
        "epochs/loss": np.array([1.0 / (1 + epoch)]),
        "epochs/val_loss": np.array([2.0 / (1 + epoch)]),
        "records/step": records,
        "records/grad_norm": np.stack([records * 0.5, records * 2.0], axis=1).astype(np.float32),
        "records/act_mean": np.ones((n, 2), np.float32),
        "records/grad_hist_counts": np.ones((n, 2, bins), np.int32),
        "records/grad_hist_edges": np.tile(np.linspace(0, 1, bins + 1, dtype=np.float32), (n, 2, 1)),
    }


def make_run(epochs: int = 3) -> Run:
    run = Run(META)
    for epoch in range(epochs):
        run._append_chunk(make_chunk(epoch))
    for step in (0, 2, 4):
        run._put_snapshot(step, np.full(13, step, np.float32))
    return run


def test_in_memory_run_exposes_the_public_shapes():
    run = make_run()
    assert run.layers == ["dense", "out"]
    assert run.layer_kinds == {"dense": "Dense", "out": "Dense"}
    assert run.layer_activations["out"] == "sigmoid"
    np.testing.assert_array_equal(run.steps["step"], np.arange(12))
    np.testing.assert_array_equal(run.epochs["epoch"], [0, 1, 2])
    np.testing.assert_array_equal(run.record_steps, np.arange(0, 12, 2))
    grad = run.series("grad_norm")
    assert set(grad) == {"dense", "out"}
    np.testing.assert_allclose(grad["out"], np.arange(0, 12, 2) * 2.0)
    assert run.series("update_ratio") == {}
    counts, edges = run.histograms("grad")["dense"]
    assert counts.shape == (6, 5) and edges.shape == (6, 6)
    assert run.snapshots.shape == (3, 13) and run.snapshots.dtype == np.float32
    parts = run.unflatten(run.snapshots[0])
    assert [p.shape for p in parts] == [(2, 3), (3,), (3, 1), (1,)]


def test_unknown_quantity_and_bad_vector_are_clear_errors():
    run = make_run()
    with pytest.raises(RunError, match="grad_norm"):
        run.series("gradnorm")
    with pytest.raises(RunError, match="Unknown histogram"):
        run.histograms("weights")
    with pytest.raises(RunError, match="13 parameters"):
        run.unflatten(np.zeros(5))


def test_a_column_missing_from_a_chunk_is_filled_with_nan():
    run = Run(META)
    first = make_chunk(0)
    first.pop("epochs/val_loss")
    run._append_chunk(first)
    run._append_chunk(make_chunk(1))
    assert np.isnan(run.epochs["val_loss"][0]) and run.epochs["val_loss"][1] == 1.0


def test_save_load_round_trip_and_pickle(tmp_path):
    run = make_run()
    run.save(tmp_path / "run")
    loaded = Run.load(tmp_path / "run")
    assert loaded.problems == []
    assert loaded.meta["format_version"] == FORMAT_VERSION
    for name, values in run.steps.items():
        np.testing.assert_array_equal(loaded.steps[name], values)
    np.testing.assert_array_equal(loaded.record_steps, run.record_steps)
    np.testing.assert_array_equal(loaded.snapshot_steps, [0, 2, 4])
    np.testing.assert_array_equal(loaded.snapshots, run.snapshots)
    np.testing.assert_array_equal(loaded.histograms("grad")["out"][1], run.histograms("grad")["out"][1])
    clone = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(clone.series("grad_norm")["dense"], run.series("grad_norm")["dense"])
    assert Run.open(tmp_path / "run").record_steps.tolist() == run.record_steps.tolist()


def test_load_reads_a_zip_of_a_run_folder(tmp_path):
    folder = make_run().save(tmp_path / "run")
    archive = tmp_path / "run.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in folder.rglob("*"):
            if file.is_file():
                zf.write(file, "myrun/" + file.relative_to(folder).as_posix())
    loaded = Run.load(archive)
    assert len(loaded.steps["step"]) == 12 and len(loaded.snapshots) == 3


def test_container_detects_damage():
    data = encode_arrays({"a": np.arange(10)})
    np.testing.assert_array_equal(decode_arrays(data)["a"], np.arange(10))
    with pytest.raises(ValueError, match="cannot be parsed"):
        decode_arrays(data[: len(data) // 2])
    with pytest.raises(ValueError):
        decode_arrays(b"garbage" * 50)
    flipped = bytearray(data)
    offset = data.index(np.arange(10).tobytes())
    flipped[offset] ^= 0xFF
    with pytest.raises(ValueError):
        decode_arrays(bytes(flipped))


def test_truncated_and_garbage_chunks_are_reported_and_skipped(tmp_path):
    folder = make_run(epochs=4).save(tmp_path / "run")
    chunk1 = folder / "chunks" / "000001.npz"
    chunk1.write_bytes(chunk1.read_bytes()[:-100])
    (folder / "chunks" / "000002.npz").write_bytes(b"\x00garbage" * 64)
    (folder / "chunks" / ".000004.npz.123.abcd.tmp").write_bytes(b"half written")
    with pytest.warns(UserWarning, match="damaged"):
        run = Run.load(folder)
    assert len(run.problems) == 2
    assert "000001" in run.problems[0] and "000002" in run.problems[1]
    np.testing.assert_array_equal(run.epochs["epoch"], [0, 3])
    np.testing.assert_array_equal(run.steps["step"], np.r_[0:4, 12:16])


def test_corrupt_snapshot_is_reported(tmp_path):
    folder = make_run().save(tmp_path / "run")
    (folder / "snapshots" / "000000000002.npz").write_bytes(b"nope")
    with pytest.warns(UserWarning):
        run = Run.load(folder)
    assert run.snapshot_steps.tolist() == [0, 4]
    assert any("000000000002" in p for p in run.problems)


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        Run.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match="meta.json, chunks"):
        Run.load(tmp_path / "empty")
    (tmp_path / "file.txt").write_text("hi")
    with pytest.raises(RunError, match="is a file"):
        Run.load(tmp_path / "file.txt")
    folder = make_run().save(tmp_path / "run")
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(RunError, match="not valid JSON"):
        Run.load(folder)
    (folder / "meta.json").write_text(
        json.dumps({"format": "dlviz-run", "format_version": FORMAT_VERSION + 1})
    )
    with pytest.raises(RunError, match="newer dlviz"):
        Run.load(folder)
    (folder / "meta.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(RunError, match="does not describe"):
        Run.load(folder)


def test_save_refuses_files_and_foreign_folders(tmp_path):
    run = make_run()
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="existing file"):
        run.save(tmp_path / "file")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not empty"):
        run.save(tmp_path / "busy")
    run.save(tmp_path / "run")
    with pytest.raises(RunError, match="overwrite=True"):
        run.save(tmp_path / "run")
    smaller = make_run(epochs=1)
    smaller.save(tmp_path / "run", overwrite=True)
    assert len(Run.load(tmp_path / "run").epochs["epoch"]) == 1


def test_snapshot_schedule_bounds_count_and_keeps_an_even_grid():
    schedule = SnapshotSchedule(interval=10, max_snapshots=8)
    alive: set[int] = set()
    for step in range(0, 5000, 10):
        if schedule.wants(step):
            alive.add(step)
            alive -= set(schedule.add(step))
        assert len(alive) <= 8 and sorted(alive) == schedule.kept
    steps = np.array(schedule.kept)
    assert steps[0] == 0 and len(steps) > 4
    assert np.all(np.diff(steps) == schedule.interval), steps
    with pytest.raises(RunError, match="max_snapshots"):
        SnapshotSchedule(10, 1)


def test_concurrent_reader_sees_a_prefix(tmp_path):
    writer = RunWriter(tmp_path / "live")
    writer.write_meta(META)
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def read_repeatedly():
        while not done.is_set():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    run = Run.load(tmp_path / "live")
                steps = run.steps.get("step", np.zeros(0))
                assert np.array_equal(steps, np.arange(len(steps))), "not a prefix"
                assert set(run.snapshot_steps) <= set(run.record_steps.tolist())
                seen.append(len(steps))
            except BaseException as exc:  # noqa: BLE001 - the test reports whatever the reader hit
                errors.append(exc)
                return

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for epoch in range(40):
            writer.append_chunk(make_chunk(epoch))
            writer.write_snapshot(epoch * 4, np.zeros(13))
    finally:
        done.set()
        reader.join()
    assert not errors, errors
    assert seen and seen == sorted(seen)
    assert len(Run.load(tmp_path / "live").steps["step"]) == 160
