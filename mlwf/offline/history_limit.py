"""A Standard execution's history holds at most 25,000 events, as AWS's does; moto's grew
without end.

AWS: "Step Functions has a hard quota of 25,000 entries in the execution event history.
When an execution reaches 24,999 events, it waits for the next event to happen. If the event
number 25,000 is ExecutionSucceeded, the execution finishes successfully. If the event
number 25,000 isn't ExecutionSucceeded, the ExecutionFailed event is logged and the state
machine execution fails because of reaching the history limit"
(https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html). The failure is
States.Runtime, "The execution reached the maximum number of history events (25000)." (AWS's
answer as measured in floci-io/floci#2734; the same words in
https://cloudonaut.io/step-functions-pitfall-maximum-number-of-history-events/).

moto ran a runaway loop (a Choice that never leaves, a Retry-like loop a user writes by
hand) for ever: the execution stayed RUNNING, a core busy, its history growing in memory.
Here the event that would be number 25,000 fails the execution instead, unless it is the
execution's own end; the events its states go on writing as they wind down are not kept.

The execution's end (ExecutionSucceeded, ExecutionFailed, ExecutionAborted,
ExecutionTimedOut) is its history's last event, as on AWS, whatever ended it: moto went on
writing what a Map's other iterations or a Parallel's other branches did after it (a
failing iteration's sibling wrote its MapIterationFailed after the ExecutionFailed), so a
reader of the history's last event (`--reverse-order --max-items 1`) did not find the end
(AWS's own history in floci-io/floci#2734 ends on its ExecutionFailed, read that way).
The end is the event moto's Program writes once the execution has stopped, saying how; moto
also wrote a state's own failure (a Task's missing TimeoutSecondsPath) as a first
ExecutionFailed, without the state's name in its cause: not kept, AWS's history has one.

Only a Standard execution's own history counts: EXPRESS executions have none (moto gave every
execution the type STANDARD, its StateMachine fixing `sm_type`; here an execution takes its
machine's type). A Distributed Map's children each have a history of their own on AWS, with
its own 25,000 events; moto runs them all on one event manager of their own, left unlimited
here (counting them together would fail a large batch AWS runs): a runaway child is not
stopped offline.
moto's internals named here are pinned by tests/unit/test_history_limit.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

MAX_EVENTS = 25_000
CAUSE = "The execution reached the maximum number of history events (25000)."
ENDINGS = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")


@contextmanager
def history_limited() -> Iterator[None]:
    """Standard executions fail at 25,000 history events, and nothing follows their end,
    while the block runs."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, StateMachineType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.evaluation_details import StateMachineDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend.execution import Execution

    # KeyError: moto changed; see tests/unit/test_history_limit.py
    machine_details = Execution.__dict__["get_start_state_machine_details"]
    make = Environment.__dict__["__init__"]
    add = EventManager.__dict__["add_event"]
    set_error = Environment.__dict__["set_error"]
    set_timed_out = Environment.__dict__["set_timed_out"]

    def typed_machine_details(execution: Any) -> Any:
        details = machine_details(execution)
        typ = StateMachineType(execution.state_machine.type)
        return StateMachineDetails(details.arn, details.name, typ, details.definition)

    def environment(env: Any, *args: Any, **kwargs: Any) -> None:
        make(env, *args, **kwargs)
        # An execution's environment; a frame (a branch, an iteration) gets its parent's
        # event manager after this, so the mark stays with the execution's.
        if env.execution_type == StateMachineType.STANDARD:
            env.event_manager.offline_execution = env
            env.event_manager.offline_count_lock = threading.Lock()

    def add_event(manager: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> Any:
        env = manager.__dict__.get("offline_execution")
        if env is None:
            return add(manager, context, event_type, *args, **kwargs)
        with manager.offline_count_lock:  # the count and the event together: branches race
            if manager.__dict__.get("offline_ended"):
                return context.last_published_event_id  # after the end: not kept
            name = getattr(event_type, "value", event_type)
            if name in ENDINGS:
                details = kwargs.get("event_details", args[0] if args else None)
                if not _the_end(env, name, details):
                    # moto also writes a state's own failure (a missing TimeoutSecondsPath)
                    # as an ExecutionFailed: AWS's history has one, the execution's
                    return context.last_published_event_id
                manager.offline_ended = True
                return add(manager, context, event_type, *args, **kwargs)
            if len(manager._history_event_list) < MAX_EVENTS - 1:
                return add(manager, context, event_type, *args, **kwargs)
        with env._state_mutex:
            if not env.__dict__.get("offline_history_full"):
                set_error(env, ExecutionFailedEventDetails(error="States.Runtime", cause=CAUSE))
                env.offline_history_full = True  # its end: no later error replaces it
        return context.last_published_event_id

    def environment_error(env: Any, error: Any) -> None:
        if not env.__dict__.get("offline_history_full"):
            set_error(env, error)

    def environment_timed_out(env: Any) -> None:
        if not env.__dict__.get("offline_history_full"):
            set_timed_out(env)

    with (
        patch.object(Execution, "get_start_state_machine_details", typed_machine_details),
        patch.object(Environment, "__init__", environment),
        patch.object(EventManager, "add_event", add_event),
        patch.object(Environment, "set_error", environment_error),
        patch.object(Environment, "set_timed_out", environment_timed_out),
    ):
        yield


def _the_end(env: Any, name: str, details: Any) -> bool:
    """Whether an Execution* event is the execution's own end: written once it has stopped
    running, as moto's Program writes it, and saying how it stopped (an ExecutionFailed with
    the execution's own error and cause)."""
    from moto.stepfunctions.parser.asl.eval.program_state import (
        ProgramEnded,
        ProgramError,
        ProgramStopped,
        ProgramTimedOut,
    )

    if env.is_running():
        return False
    state = env.program_state()
    kinds = {
        "ExecutionSucceeded": ProgramEnded,
        "ExecutionFailed": ProgramError,
        "ExecutionAborted": ProgramStopped,
        "ExecutionTimedOut": ProgramTimedOut,
    }
    if not isinstance(state, kinds[name]):
        return False
    if name != "ExecutionFailed":
        return True
    given = (details or {}).get("executionFailedEventDetails") or {}
    error = state.error or {}
    return (given.get("error"), given.get("cause")) == (error.get("error"), error.get("cause"))
