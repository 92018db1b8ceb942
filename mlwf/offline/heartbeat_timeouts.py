"""A lapsed heartbeat is seen by a Retry or Catch naming States.HeartbeatTimeout.

A Task with HeartbeatSeconds that hears nothing for that long fails. Step Functions reports
it as States.Timeout, which a Retry or Catch naming States.Timeout sees (both timeouts, "a
Catch on States.Timeout that includes both Task timeout and Task Heartbeat timeout"); one
naming States.HeartbeatTimeout sees the heartbeat's alone: that name "is only available
inside the Catch and Retry fields"
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html; its
introduction by the Step Functions team in aws/aws-cdk#16084). moto reported both
timeouts as States.Timeout, and nothing matched States.HeartbeatTimeout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

HEARTBEAT = "States.HeartbeatTimeout"


@contextmanager
def heartbeat_timeouts_named() -> Iterator[None]:
    """While the block runs, a lapsed heartbeat's States.Timeout also matches
    States.HeartbeatTimeout in a Retry or Catch. Entered after states_errors_kept, whose
    matching it wraps."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )

    from_error = StateTask.__dict__["_from_error"]  # KeyError: moto changed; see the test
    matching = ErrorEqualsDecl.__dict__["_eval_body"]  # KeyError: likewise
    with ExitStack() as stack:
        stack.enter_context(patch.object(StateTask, "_from_error", _marked(from_error)))
        stack.enter_context(patch.object(ErrorEqualsDecl, "_eval_body", _matching(matching)))
        yield


@functools.cache
def _lapsed_heartbeat() -> Any:
    """The class of a lapsed heartbeat's error name: States.Timeout, known to be one."""
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    class LapsedHeartbeat(StatesErrorName):
        pass

    return LapsedHeartbeat


def _marked(original: Callable[[Any, Any, Exception], Any]) -> Callable[..., Any]:
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError

    def from_error(state: Any, env: Any, ex: Exception) -> Any:
        event = original(state, env, ex)
        if isinstance(ex, HeartbeatTimeoutError):
            from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
                StatesErrorNameType,
            )

            event.error_name = _lapsed_heartbeat()(typ=StatesErrorNameType.StatesTimeout)
        return event

    return from_error


def _matching(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def eval_body(self: Any, env: Any) -> None:
        names = [getattr(name, "error_name", None) for name in self.error_names]
        lapsed = isinstance(env.stack[-1], _lapsed_heartbeat())
        if lapsed and HEARTBEAT in names:
            env.stack.pop()  # as moto's: the error off the stack, whether it matched on
            env.stack.append(True)
            return
        original(self, env)

    return eval_body
