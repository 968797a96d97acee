"""The training queue: a bounded number at once, first come first served, places told, a stopped wait leaves."""

from __future__ import annotations

import threading
import time

import pytest

from apps.training_queue import TrainingQueue


@pytest.mark.parametrize("slots", [1, 2])
def test_no_more_than_the_slots_run_and_the_line_is_served_in_order(slots):
    queue = TrainingQueue(slots)
    order, running, most = [], [], [0]
    lock = threading.Lock()
    release = threading.Event()
    places: dict[str, list[int]] = {}

    def student(name: str) -> None:
        with queue.turn(name, lambda place, estimate: places.setdefault(name, []).append(place)):
            with lock:
                order.append(name)
                running.append(name)
                most[0] = max(most[0], len(running))
            release.wait(5)
            time.sleep(0.05)
            with lock:
                running.remove(name)

    threads = []
    for name in ("a", "b", "c", "d", "e"):
        threads.append(threading.Thread(target=student, args=(name,)))
        threads[-1].start()
        time.sleep(0.1)  # arrive in this order
    assert queue.snapshot() == (slots, 5 - slots)
    assert [places[name][-1] for name in "abcde"[slots:]] == list(range(1, 6 - slots)), places
    release.set()
    for thread in threads:
        thread.join(10)
    assert most[0] == slots
    # students admitted together (when a round of slots frees) may log in either order
    assert [sorted(order[start : start + slots]) for start in range(0, 5, slots)] == [
        sorted("abcde"[start : start + slots]) for start in range(0, 5, slots)
    ]
    assert queue.snapshot() == (0, 0)
    assert queue.estimate_s(1) > 0, "finished trainings give the estimate"


def test_a_wait_that_is_stopped_leaves_the_line_and_one_place_per_session():
    queue = TrainingQueue(1)
    holding, stop = threading.Event(), threading.Event()

    def first() -> None:
        with queue.turn("first", lambda place, estimate: None):
            holding.set()
            stop.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with pytest.raises(RuntimeError, match="already has a training"):
        with queue.turn("first", lambda place, estimate: None):
            pass

    def closed_tab(place, estimate):
        assert place == 1 and estimate is None
        raise KeyboardInterrupt("the run was stopped")

    with pytest.raises(KeyboardInterrupt):
        with queue.turn("second", closed_tab):
            pytest.fail("a stopped wait never trains")
    assert queue.snapshot() == (1, 0), "the stopped student left the line"
    stop.set()
    thread.join(5)
    assert queue.snapshot() == (0, 0)
    with pytest.raises(ValueError, match="at least one slot"):
        TrainingQueue(0)


@pytest.mark.slow
def test_a_dashboard_training_waits_in_line_while_every_slot_is_taken():
    from dashboard_helpers import assert_no_exception, new_app, train, workspace

    from apps import settings, training_queue

    queue = training_queue.shared(settings.current().max_concurrent_trainings)
    release, seen_waiting = threading.Event(), []

    def hold(slot: int) -> None:
        with queue.turn(f"holder {slot}", lambda place, estimate: None):
            release.wait(120)

    def watch() -> None:  # frees the slots once the dashboard's training is seen waiting in line
        while not release.is_set():
            if queue.snapshot()[1]:
                seen_waiting.append(queue.snapshot())
                release.set()
            time.sleep(0.05)

    holders = [threading.Thread(target=hold, args=(slot,)) for slot in range(queue.slots)]
    for thread in holders:
        thread.start()
    while queue.snapshot()[0] < queue.slots:
        time.sleep(0.01)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        at = train(new_app().run(), epochs=1)
    finally:
        release.set()
        for thread in [*holders, watcher]:
            thread.join(10)
    assert_no_exception(at)
    assert seen_waiting and seen_waiting[0] == (queue.slots, 1), "the training waited behind the held slots"
    assert workspace(at).trained_epochs == 1, "then it trained"
    assert queue.snapshot() == (0, 0)
