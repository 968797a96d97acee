"""A first-come, first-served queue that bounds how many dashboard trainings run at once.

On a classroom server every student who clicks Train used to start fitting at once, so with 20 of
them each training took about ten times as long as alone. Here at most `slots` trainings run; the
others wait in line in the order they asked, and a waiting student is told their place and a rough
estimate. A session waits in its own script run, so it holds at most one place; whatever ends that
run while it waits (a click, a closed tab: Streamlit stops the run at its next call) gives the
place up, and a finished or failed training frees its slot for the next in line.
"""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator

WAIT_POLL_S = 0.5
RECENT_TRAININGS = 20


class TrainingQueue:
    """At most `slots` trainings at a time, admitted in the order they were asked for."""

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError(f"a training queue needs at least one slot, not {slots}")
        self.slots = slots
        self._changed = threading.Condition()
        self._waiting: list[object] = []
        self._running: set[object] = set()
        self._durations: collections.deque[float] = collections.deque(maxlen=RECENT_TRAININGS)

    def snapshot(self) -> tuple[int, int]:
        """(trainings running, trainings waiting) right now."""
        with self._changed:
            return len(self._running), len(self._waiting)

    def holders(self) -> frozenset:
        """Who is training or waiting to, right now."""
        with self._changed:
            return frozenset(self._running) | frozenset(self._waiting)

    def estimate_s(self, place: int) -> float | None:
        """Seconds until the `place`-th in line (1 = next) may start: the recent mean training time per
        round of `slots`; None before any training finished."""
        if not self._durations:
            return None
        return math.ceil(place / self.slots) * sum(self._durations) / len(self._durations)

    @contextlib.contextmanager
    def turn(self, who: object, waiting: Callable[[int, float | None], None]) -> Iterator[None]:
        """Wait for a free slot in line, then hold it for the block.

        While in line, ``waiting(place, estimate_s)`` is called about every half second (place 1 =
        next). An exception it raises (Streamlit stopping the run) leaves the line.
        """
        with self._changed:
            if who in self._waiting or who in self._running:
                raise RuntimeError(f"{who!r} already has a training queued or running")
            self._waiting.append(who)
        started = None
        try:
            while True:
                with self._changed:
                    place = self._waiting.index(who) + 1
                    if place <= self.slots - len(self._running):
                        self._waiting.remove(who)
                        self._running.add(who)
                        break
                    place -= self.slots - len(self._running)
                waiting(place, self.estimate_s(place))
                with self._changed:
                    self._changed.wait(WAIT_POLL_S)
            started = time.monotonic()
            yield
        finally:
            with self._changed:
                if who in self._waiting:
                    self._waiting.remove(who)
                if who in self._running:
                    self._running.discard(who)
                    if started is not None:
                        self._durations.append(time.monotonic() - started)
                self._changed.notify_all()


_shared: TrainingQueue | None = None
_shared_lock = threading.Lock()


def shared(slots: int) -> TrainingQueue:
    """The server's one queue (made with `slots` on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TrainingQueue(slots)
        return _shared
