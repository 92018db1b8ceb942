"""An execution ended by its state machine's TimeoutSeconds, answered as AWS answers it.

moto's DescribeExecution and ListExecutions gave a TIMED_OUT execution no stopDate (they add
it for SUCCEEDED, FAILED and ABORTED only), so `mlwf run` could not tell how long it ran; its
ExecutionTimedOut event had empty details. AWS: stopDate is "the date the execution
stopped", for any execution that ended
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html),
and the event reads {"error": "States.Timeout"}, with previousEventId 0, as an
ExecutionAborted does (AWS's answer as measured in floci-io/floci#2965).

moto also wrote that event late: at the timeout its watcher marks the program timed out and
the execution TIMED_OUT at once, while the event is written by the program's own thread when
it next wakes (a Wait's 30 s sleep is cut short, then it writes). A client that saw TIMED_OUT
could read a history that did not end yet (a README walk's `make test` failed so; under
load, one run of the test in ten did). The event is now written by the watcher itself,
before the status, and the history ends there: what the program's thread writes afterwards
is dropped.
moto's internals named here are pinned by tests/unit/test_execution_timeouts.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch
from weakref import WeakSet

TIMED_OUT = "TIMED_OUT"


@contextmanager
def timeouts_as_aws() -> Iterator[None]:
    """TIMED_OUT executions with their stopDate and AWS's ExecutionTimedOut event while the
    block runs."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.responses import StepFunctionResponse

    # KeyError: moto changed; see tests/unit/test_execution_timeouts.py
    describe = StepFunctionResponse.__dict__["describe_execution"]
    listing = StepFunctionResponse.__dict__["list_executions"]
    add = EventManager.__dict__["add_event"]
    set_timed_out = Environment.__dict__["set_timed_out"]
    ended: WeakSet[Any] = WeakSet()  # the event managers whose history a timeout ended

    def stopped(response: Any, item: dict[str, Any]) -> dict[str, Any]:
        status = item.get("status")
        if getattr(status, "value", status) != TIMED_OUT or item.get("stopDate") is not None:
            return item
        execution = response.stepfunction_backend.describe_execution(item["executionArn"])
        return {**item, "stopDate": execution.stop_date}

    def describe_execution(response: Any) -> Any:
        return ActionResult(stopped(response, dict(describe(response).result)))

    def list_executions(response: Any) -> Any:
        answer = dict(listing(response).result)
        answer["executions"] = [stopped(response, dict(e)) for e in answer["executions"]]
        return ActionResult(answer)

    def add_event(
        manager: Any,
        context: Any,
        event_type: Any,
        event_details: Any = None,
        *args: Any,
        **kw: Any,
    ) -> Any:
        if manager in ended:
            return 0  # the program's thread, after the timeout ended the history
        if event_type == HistoryEventType.ExecutionTimedOut:
            context.source_event_id = 0
            event_details = {"executionTimedOutEventDetails": {"error": "States.Timeout"}}
            written = add(manager, context, event_type, event_details, *args, **kw)
            ended.add(manager)
            return written
        return add(manager, context, event_type, event_details, *args, **kw)

    def timed_out(env: Any) -> None:
        set_timed_out(env)
        if not env.is_frame():  # the execution's own environment: its history ends now
            env.event_manager.add_event(
                context=env.event_history_context,
                event_type=HistoryEventType.ExecutionTimedOut,
            )

    with (
        patch.object(StepFunctionResponse, "describe_execution", describe_execution),
        patch.object(StepFunctionResponse, "list_executions", list_executions),
        patch.object(EventManager, "add_event", add_event),
        patch.object(Environment, "set_timed_out", timed_out),
    ):
        yield
