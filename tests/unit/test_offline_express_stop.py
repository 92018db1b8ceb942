"""An EXPRESS execution past its limit is stopped as AWS ends it, even when moto's worker
thread has not yet made the environment its stop() needs (a race seen in CI)."""

from __future__ import annotations

import inspect
import threading
from types import SimpleNamespace
from typing import Any

from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from mlwf.offline.express import stop_timed_out


def test_the_pinned_moto_worker_stops_through_an_environment_made_in_its_thread():
    # What stop_timed_out waits for; if moto changes this, the wait must change too.
    assert "self.env.set_stop(" in inspect.getsource(ExecutionWorker.stop)
    assert "self.env = self._get_evaluation_environment()" in inspect.getsource(
        ExecutionWorker._execution_logic
    )


class Execution:
    """moto's Execution as far as stopping goes: stop() reaches its worker's env."""

    def __init__(self) -> None:
        self.exec_worker = SimpleNamespace(env=None)
        self.stopped: list[tuple[Any, ...]] = []

    def stop(self, stop_date: Any, error: str, cause: Any) -> None:
        self.exec_worker.env.set_stop(stop_date=stop_date, error=error, cause=cause)
        self.stopped.append((error, cause))


def test_a_stop_before_the_worker_has_its_environment_waits_for_it():
    # Given an execution whose worker thread makes its environment only a moment later
    execution = Execution()
    made = threading.Event()

    def make_environment(seconds: float) -> None:
        execution.exec_worker.env = SimpleNamespace(set_stop=lambda **_: None)
        made.set()

    # When it is stopped at once (the first poll is when the environment appears)
    stop_timed_out(execution, sleep=make_environment)
    # Then it is stopped as AWS ends it, not with AttributeError
    assert made.is_set() and execution.stopped == [("States.Timeout", None)]


def test_a_worker_that_never_makes_its_environment_is_left_to_end():
    execution = Execution()
    stop_timed_out(execution, within=0.05)
    assert execution.stopped == []
