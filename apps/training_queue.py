"""A first-come, first-served pool of worker threads that runs the dashboard's trainings.

On a classroom server every student who clicks Train used to start fitting at once, so with 20 of
them each training took about ten times as long as alone. Here a training is a `Job` handed to the
server's one `TrainingQueue`: `slots` worker threads run the jobs in the order they were asked
for, and a job waiting its turn knows its place in line and a rough estimate. The fit runs in a
worker, never in the session's script run, so the student's pages keep working while they wait
(the page polls the job: see `apps.training`). A session holds at most one job queued or running.
Cancelling a queued job takes it out of line at once; cancelling a running one asks its work to
stop (the work checks `Job.cancel_requested`, e.g. from a Keras callback), and the slot goes to the
next in line as soon as it has.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

RECENT_TRAININGS = 20

logger = logging.getLogger(__name__)


class Job:
    """One training asked for by `owner`: ``work(job)`` runs in a worker thread when its turn comes.

    `state` goes "queued" -> "running" -> "done", "failed" (`error` holds the exception) or
    "cancelled"; a queued job may go straight to "cancelled". `result` is what the work returned.
    """

    def __init__(self, owner: Hashable, work: Callable[[Job], Any], queue: TrainingQueue | None = None):
        self.owner, self.work, self.queue = owner, work, queue
        self.state = "queued"
        self.result: Any = None
        self.error: BaseException | None = None
        self.asked_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._cancel = threading.Event()
        self._finished = threading.Event()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def cancel(self) -> None:
        """Leave the line, or ask the running work to stop (see `TrainingQueue.cancel`)."""
        if self.queue is not None:
            self.queue.cancel(self)
        else:
            self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is done, failed or cancelled (or `timeout` passed); whether it finished."""
        return self._finished.wait(timeout)

    def _finish(self, state: str) -> None:
        self.state, self.finished_at = state, time.monotonic()
        self._finished.set()

    def __repr__(self) -> str:
        return f"Job(owner={self.owner!r}, state={self.state!r})"


class TrainingQueue:
    """At most `slots` jobs run at a time (one worker thread each), started in the order they were asked for."""

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError(f"a training queue needs at least one slot, not {slots}")
        self.slots = slots
        self._changed = threading.Condition()
        self._waiting: collections.deque[Job] = collections.deque()
        self._running: set[Job] = set()
        self._durations: collections.deque[float] = collections.deque(maxlen=RECENT_TRAININGS)
        self._closed = False
        self._workers = [
            threading.Thread(target=self._serve, name=f"dlviz-training-{number}", daemon=True)
            for number in range(1, slots + 1)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, owner: Hashable, work: Callable[[Job], Any]) -> Job:
        """Put a job for `owner` at the end of the line; RuntimeError when `owner` already has one."""
        job = Job(owner, work, self)
        with self._changed:
            if self._closed:
                raise RuntimeError("this training queue is closed")
            if any(held.owner == owner for held in (*self._waiting, *self._running)):
                raise RuntimeError(f"{owner!r} already has a training queued or running")
            self._waiting.append(job)
            self._changed.notify_all()
        return job

    def cancel(self, job: Job) -> None:
        """Take a queued job out of line, or ask a running one to stop; a finished job stays as it is."""
        job._cancel.set()
        with self._changed:
            if job in self._waiting:
                self._waiting.remove(job)
                job._finish("cancelled")
                self._changed.notify_all()

    def place(self, job: Job) -> int | None:
        """The job's place in line (1 = next to start), 0 while it runs, None once it finished."""
        with self._changed:
            if job in self._running:
                return 0
            try:
                return self._waiting.index(job) + 1
            except ValueError:
                return None

    def estimate_s(self, place: int) -> float | None:
        """Seconds until the `place`-th in line (1 = next) may start: the recent mean training time per
        round of `slots`; None before any training finished."""
        if not self._durations:
            return None
        return math.ceil(place / self.slots) * sum(self._durations) / len(self._durations)

    def snapshot(self) -> tuple[int, int]:
        """(jobs running, jobs waiting) right now."""
        with self._changed:
            return len(self._running), len(self._waiting)

    def holders(self) -> frozenset:
        """The owners of the jobs running or waiting, right now."""
        with self._changed:
            return frozenset(job.owner for job in (*self._running, *self._waiting))

    def close(self, timeout: float | None = None) -> None:
        """Cancel the jobs still waiting, let the running ones end, and stop the workers."""
        with self._changed:
            self._closed = True
            waiting, self._waiting = list(self._waiting), collections.deque()
            self._changed.notify_all()
        for job in waiting:
            job._cancel.set()
            job._finish("cancelled")
        for worker in self._workers:
            worker.join(timeout)

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                self._running.add(job)
                job.state, job.started_at = "running", time.monotonic()
            state = "done"
            try:
                job.result = job.work(job)
            except Exception as exc:  # the worker must outlive any training: the job carries the error
                job.error, state = exc, "failed"
                logger.debug("dlviz: training of %r failed", job.owner, exc_info=True)
            if job.cancel_requested and state == "done":
                state = "cancelled"
            with self._changed:
                self._running.discard(job)
                if state == "done":
                    self._durations.append(time.monotonic() - job.started_at)
                job._finish(state)
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
