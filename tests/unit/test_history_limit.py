"""A Standard execution fails when its history would pass 25,000 events, as AWS's does
(mlwf.offline.history_limit, bp-history-limit.html). The limit is lowered here so that each
case runs in a moment; tests/offline/test_history_limit.py runs a loop into the real one."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from mlwf.offline import history_limit
from mlwf.offline.history_limit import CAUSE, history_limited
from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.executions import counting_loop, run_to_end
from tests.helpers.paths import REGION

LIMIT = 40


@pytest.fixture
def limited(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(history_limit, "MAX_EVENTS", LIMIT)
    with stops_as_aws(), history_limited():  # in the offline stack's order
        yield boto3.client("stepfunctions", region_name=REGION)


def run(sfn: Any, definition: dict[str, Any], kind: str = "STANDARD") -> dict[str, Any]:
    return run_to_end(sfn, definition, '{"n": 0}', kind=kind)


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def test_the_event_that_would_pass_the_limit_fails_the_execution_instead(limited):
    # Given a loop whose history would reach 44 events, with a limit of 40
    ended = run(limited, counting_loop(10))

    # Then it fails as AWS fails it, and the failure is event number 40
    assert (ended["status"], ended["error"], ended["cause"]) == ("FAILED", "States.Runtime", CAUSE)
    events = history(limited, ended["executionArn"])
    assert [e["id"] for e in events] == list(range(1, LIMIT + 1))
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": CAUSE}


def test_an_execution_whose_end_is_the_last_event_allowed_succeeds(limited):
    # 4 * 9 + 4 = 40: event number 40 is ExecutionSucceeded
    ended = run(limited, counting_loop(9))
    assert ended["status"] == "SUCCEEDED"
    assert len(history(limited, ended["executionArn"])) == LIMIT


def test_a_loop_in_a_parallel_branch_counts_in_the_executions_history(limited):
    # A branch's events are the execution's (as on AWS): its loop fails the execution,
    # and the branch winding down does not replace that failure with its own
    parallel = {"Type": "Parallel", "Branches": [counting_loop(20)], "End": True}
    ended = run(limited, {"StartAt": "P", "States": {"P": parallel}})
    assert (ended["status"], ended["error"], ended["cause"]) == ("FAILED", "States.Runtime", CAUSE)
    assert len(history(limited, ended["executionArn"])) == LIMIT


def test_an_express_execution_has_no_history_to_fill(limited):
    # (moto answers DescribeExecution for it; the offline stack, as AWS, does not)
    ended = run(limited, counting_loop(10), kind="EXPRESS")
    assert ended["status"] == "SUCCEEDED"


def test_the_pinned_moto_keeps_what_the_patch_reads():
    # What history_limited wraps and reads; a rename here fails the patch at its start
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    for name in ("__init__", "set_error", "set_timed_out"):
        assert name in Environment.__dict__
    assert "add_event" in EventManager.__dict__
    manager = EventManager()
    assert manager._history_event_list == [] and manager._mutex.acquire(blocking=False)
    manager._mutex.release()
    assert "execution_type" in inspect.signature(Environment.__init__).parameters
    # A Distributed Map's children get an event manager of their own, as each child
    # execution has its own history on AWS: unmarked, so not limited with the parent's
    source = inspect.getsource(distributed_iteration_component.DistributedIterationComponent)
    assert "env.event_manager = EventManager()" in source


def test_the_pinned_moto_runs_every_execution_as_standard(aws):
    # Why the patch gives an execution its machine's type (an EXPRESS one has no history)
    from moto.stepfunctions.parser.backend.execution import Execution

    sfn = boto3.client("stepfunctions", region_name=REGION)
    ended = run(sfn, counting_loop(1), kind="EXPRESS")
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends["123456789012"][REGION]
    execution = backend.describe_execution(ended["executionArn"])
    assert isinstance(execution, Execution) and execution.state_machine.type == "EXPRESS"
    assert execution.get_start_state_machine_details().typ == "STANDARD"


class _Execution:
    """What the patch touches of an execution's environment."""

    def __init__(self) -> None:
        self._state_mutex = threading.RLock()
        self._frames: list[Any] = []
        self.program_state_event = threading.Event()

    def is_running(self) -> bool:
        return False  # by the time its end event is written, as moto's Program writes it

    def program_state(self) -> Any:
        from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

        return ProgramError(error=None)  # failed, with no error or cause of its own


def test_two_branches_reaching_the_limit_together_add_one_event_between_them(monkeypatch):
    # Given a history one event short of the limit (2 of 4, and event 4 is the failure's),
    # and two branches adding an event at once, the first slow to publish its own
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    monkeypatch.setattr(history_limit, "MAX_EVENTS", 4)
    second_checked = threading.Event()

    def publish(manager: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        if not second_checked.is_set() and not manager.__dict__.get("first_in"):
            manager.first_in = True
            # unlocked, the other branch passes its check meanwhile and publishes too
            second_checked.wait(timeout=0.5)
        else:
            second_checked.set()
        manager._history_event_list.append({"type": event_type})
        return len(manager._history_event_list)

    monkeypatch.setattr(EventManager, "add_event", publish)
    with history_limited():
        manager = EventManager()
        manager._history_event_list.extend([{"type": "ExecutionStarted"}, {"type": "P"}])
        manager.offline_execution = _Execution()
        manager.offline_count_lock = threading.Lock()
        context = SimpleNamespace(last_published_event_id=2)
        branches = [
            threading.Thread(
                target=EventManager.add_event, args=(manager, context, "PassStateExited")
            )
            for _ in range(2)
        ]
        for branch in branches:
            branch.start()
        for branch in branches:
            branch.join()
    # Then one of them published, the other found the history full and failed the execution
    assert len(manager._history_event_list) == 3
    assert manager.offline_execution._program_state.error["cause"] == CAUSE


def test_nothing_follows_the_executions_end_in_its_history():
    # Given an execution's history that has reached its end, and a Map's other iteration
    # still winding down (moto's thread writes its MapIterationFailed after the end)
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_manager import (
        EventHistoryContext,
        EventManager,
    )

    def history_after_a_late_event() -> list[str]:
        manager = EventManager()
        manager.offline_execution = _Execution()  # as the patch marks a Standard execution's
        manager.offline_count_lock = threading.Lock()
        context = EventHistoryContext.of_program_start()
        for event in (
            "MapIterationFailed",
            "MapStateFailed",
            "ExecutionFailed",
            "MapIterationFailed",
        ):
            manager.add_event(context=context, event_type=HistoryEventType(event))
        return [e["type"] for e in manager._history_event_list]

    # moto keeps it: the end is not the last event
    assert history_after_a_late_event()[-2:] == ["ExecutionFailed", "MapIterationFailed"]
    # Then, patched, the end is the history's last event, as on AWS
    with history_limited():
        assert history_after_a_late_event()[-1] == "ExecutionFailed"


def test_a_states_own_failure_written_as_execution_failed_is_not_taken_for_the_end(limited):
    # moto writes a Task's missing TimeoutSecondsPath as an ExecutionFailed event while the
    # execution still runs, then the execution's own: AWS's history has one, the last, and
    # it follows the state that failed (mlwf console reads the failed state from it)
    task = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "TimeoutSecondsPath": "$.missing",
        "End": True,
    }
    ended = run(limited, {"StartAt": "T", "States": {"T": task}})
    events = history(limited, ended["executionArn"])
    assert ended["status"] == "FAILED"
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ExecutionFailed",
    ]
    assert events[-1]["previousEventId"] == events[1]["id"]
    assert events[-1]["executionFailedEventDetails"]["cause"] == ended["cause"]
