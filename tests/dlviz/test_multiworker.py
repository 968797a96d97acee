"""Multi-worker recording: two worker processes on localhost train a custom loop under
MultiWorkerMirroredStrategy (CPU only) and the chief's run equals a single worker's on the same global
batches. The loop is tests/dlviz/multiworker_training.py, the README's recipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlviz.runs import Run
from tests.dlviz.multiworker_training import local_cluster, make_strategy, train

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "dlviz" / "multiworker_training.py"
TIMEOUT_S = 240



def launch(logdir: Path, tf_config: dict | None, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(logdir), *args],
        env=env,
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(processes: list[subprocess.Popen]) -> list[dict]:
    """Each process' summary line; all are killed when one fails or runs past the timeout."""
    outputs = []
    try:
        outputs = [process.communicate(timeout=TIMEOUT_S) for process in processes]
        failed = [
            f"worker {index}:\n{err[-3000:]}"
            for index, (process, (_, err)) in enumerate(zip(processes, outputs, strict=True))
            if process.returncode
        ]
        assert not failed, "\n".join(failed)
        return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.mark.slow
def test_two_workers_record_what_one_worker_records_on_the_same_global_batches(tmp_path):
    shared = tmp_path / "two_workers"  # both workers are given it: only the chief may write there
    cluster = local_cluster(2)
    modes = ("step",)  # the README's recipe; probe gradients under strategies: tests/dlviz/test_recorder.py
    workers = [
        launch(shared, {"cluster": cluster, "task": {"type": "worker", "index": index}}, "--modes", *modes)
        for index in range(2)
    ]
    # The reference in this process while the workers train: one worker, the default strategy.
    strategy = make_strategy()
    for index, mode in enumerate(modes):
        train(strategy, str(tmp_path / "one_worker" / f"{index}-{mode}"), mode=mode)
    chief, other = finish(workers)
    assert (chief["task"], chief["chief"]) == ("worker:0", True)
    assert (other["task"], other["chief"]) == ("worker:1", False)
    for index, mode in enumerate(modes):
        folder = shared / f"{index}-{mode}"
        assert sorted(path.name for path in folder.iterdir()) == ["chunks", "meta.json", "snapshots"]
        assert_same_records(Run.load(folder), Run.load(tmp_path / "one_worker" / f"{index}-{mode}"), mode)


def assert_same_records(recorded: Run, reference: Run, mode: str) -> None:
    assert recorded.problems == [] and recorded.meta["status"] == "finished"
    assert recorded.meta["recorder"]["gradients"] == reference.meta["recorder"]["gradients"] == mode
    np.testing.assert_array_equal(recorded.steps["step"], np.arange(8))
    np.testing.assert_array_equal(recorded.record_steps, reference.record_steps)
    np.testing.assert_array_equal(recorded.snapshot_steps, reference.snapshot_steps)
    assert len(recorded.record_steps) >= 4 and len(recorded.snapshot_steps) >= 4
    for table in ("steps", "epochs"):
        for name, values in getattr(reference, table).items():
            np.testing.assert_allclose(getattr(recorded, table)[name], values, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(recorded.snapshots, reference.snapshots, atol=1e-6)
    # The weights moved: equal snapshots are not equal by standing still.
    assert np.abs(recorded.snapshots[-1] - recorded.snapshots[0]).max() > 1e-3
    for quantity in ("grad_norm", "update_ratio", "act_mean", "act_std", "act_zero_frac"):
        expected = reference.series(quantity)
        assert expected, (mode, quantity)
        for layer, values in expected.items():
            np.testing.assert_allclose(
                recorded.series(quantity)[layer], values, atol=1e-6, err_msg=f"{mode} {quantity}"
            )
    for kind in ("grad", "act"):
        for layer, (counts, edges) in reference.histograms(kind).items():
            np.testing.assert_array_equal(recorded.histograms(kind)[layer][0], counts)
            np.testing.assert_allclose(recorded.histograms(kind)[layer][1], edges, atol=1e-6)
