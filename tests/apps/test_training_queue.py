"""The training queue: a bounded pool of workers, first come first served, places told, cancelling, failures kept."""

from __future__ import annotations

import threading
import time

import pytest

from apps.training_queue import TrainingQueue

WAIT_S = 10


def never(job):
    raise AssertionError("this job should never run")


def wait_for(condition, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("slots", [1, 2])
def test_no_more_than_the_slots_run_and_the_line_is_served_in_order(slots):
    queue = TrainingQueue(slots)
    started, running, most = [], [], [0]
    lock = threading.Lock()
    release = threading.Event()

    def work(job):
        with lock:
            started.append(job.owner)
            running.append(job.owner)
            most[0] = max(most[0], len(running))
        release.wait(WAIT_S)
        time.sleep(0.02)
        with lock:
            running.remove(job.owner)
        return f"trained {job.owner}"

    jobs = [queue.submit(name, work) for name in "abcde"]
    wait_for(lambda: queue.snapshot() == (slots, 5 - slots))
    assert [queue.place(job) for job in jobs] == [0] * slots + list(range(1, 6 - slots))
    assert queue.holders() == frozenset("abcde")
    assert queue.estimate_s(1) is None, "no estimate before a training finished"
    release.set()
    assert all(job.wait(WAIT_S) for job in jobs)
    assert most[0] == slots
    # students started together (when a round of slots frees) may log in either order
    assert [sorted(started[i : i + slots]) for i in range(0, 5, slots)] == [
        sorted("abcde"[i : i + slots]) for i in range(0, 5, slots)
    ]
    assert [(job.state, job.result) for job in jobs] == [("done", f"trained {name}") for name in "abcde"]
    assert [queue.place(job) for job in jobs] == [None] * 5
    assert queue.snapshot() == (0, 0) and queue.holders() == frozenset()
    assert queue.estimate_s(1) > 0 and queue.estimate_s(slots + 1) == pytest.approx(2 * queue.estimate_s(1))
    queue.close(WAIT_S)


def test_one_job_per_owner_cancelling_in_line_or_running_and_a_failure_keeps_the_worker():
    queue = TrainingQueue(1)
    holding, stopped = threading.Event(), []

    def hold(job):
        holding.set()
        while not job.cancel_requested:  # the way a Keras callback checks between batches
            time.sleep(0.01)
        stopped.append(job.owner)

    first = queue.submit("first", hold)
    holding.wait(WAIT_S)
    with pytest.raises(RuntimeError, match="already has a training"):
        queue.submit("first", hold)
    second = queue.submit("second", never)
    assert queue.place(second) == 1
    second.cancel()
    assert second.finished and second.state == "cancelled" and queue.snapshot() == (1, 0)

    first.cancel()
    assert first.wait(WAIT_S) and first.state == "cancelled" and stopped == ["first"]

    def broken(job):
        raise ValueError("the user's model does not fit the data")

    failed = queue.submit("first", broken)  # the owner may ask again once its job ended
    assert failed.wait(WAIT_S) and failed.state == "failed" and "does not fit" in str(failed.error)
    after = queue.submit("third", lambda job: 42)
    assert after.wait(WAIT_S) and (after.state, after.result) == ("done", 42), (
        "the worker outlived the failure"
    )
    assert queue.estimate_s(1) is not None

    blocker, waiting = queue.submit("blocker", hold), queue.submit("waiting", never)
    wait_for(lambda: queue.place(blocker) == 0)
    closing = threading.Thread(target=queue.close, args=(WAIT_S,))
    closing.start()
    wait_for(lambda: waiting.finished)
    assert waiting.state == "cancelled", "closing cancels the line"
    blocker.cancel()  # closing lets the running job end
    closing.join(WAIT_S)
    assert blocker.state == "cancelled" and not closing.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        queue.submit("late", lambda job: None)
    with pytest.raises(ValueError, match="at least one slot"):
        TrainingQueue(0)


def test_the_default_slots_are_the_cores_the_server_may_use(tmp_path):
    import doctest
    import os

    from apps import settings

    quota = tmp_path / "cpu.max"
    allowed = len(os.sched_getaffinity(0))
    for text, cores in (
        ("max 100000", allowed),
        (f"{100000 * (allowed + 3)} 100000", allowed),
        ("150000 100000", 2),
    ):
        quota.write_text(text)
        assert settings.cpu_cores(quota) == min(cores, allowed), text
    assert settings.cpu_cores(tmp_path / "no such file") == allowed
    assert doctest.testmod(settings).failed == 0


@pytest.mark.slow
def test_a_dashboard_training_waits_in_line_while_every_slot_is_taken_and_can_leave():
    from dashboard_helpers import assert_no_exception, finish_training, new_app, texts, workspace

    from apps import training
    from dlviz.i18n import t

    queue = training.queue()
    release = threading.Event()
    holders = [queue.submit(f"holder {slot}", lambda job: release.wait(120)) for slot in range(queue.slots)]
    try:
        wait_for(lambda: queue.snapshot()[0] == queue.slots)
        at = new_app().run()
        at.number_input(key="train.epochs").set_value(1)
        at.button(key="train.go").click().run()
        assert_no_exception(at)
        ws = workspace(at)
        assert queue.place(ws.training.job) == 1, "the training waits behind the held slots"
        assert at.button(key="train.go").disabled, "one training per session"
        bars = [bar.proto.text for bar in at.get("progress")]
        assert len(bars) == 1 and bars[0].startswith(t("train.queued", "en", place=1)), bars
        at.button(key="train.cancel").click().run()
        assert ws.training is None and t("train.cancelled", "en") in texts(at.info)
        assert queue.snapshot() == (queue.slots, 0), "it left the line"

        at.button(key="train.go").click().run()
        release.set()
        finish_training(at)
    finally:
        release.set()
        for job in holders:
            job.wait(WAIT_S)
    assert_no_exception(at)
    assert ws.trained_epochs == 1 and ws.current_run in ws.runs, "then it trained"
    assert queue.snapshot() == (0, 0)
