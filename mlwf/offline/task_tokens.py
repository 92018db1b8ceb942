"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat with the token of a task that has
closed answer TaskTimedOut, as Step Functions answers them.

A token Step Functions gave out (`$$.Task.Token` in a `.waitForTaskToken` task, or an
activity's) names its task for good: once the task has closed (succeeded, failed, timed
out, its execution ended), a call with it fails with TaskTimedOut, "The task token has
either expired or the task associated with the token has already been closed"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
the error's description, here its message). A token it never gave out is InvalidToken.
moto forgot a token once its task or its execution was over, and answered InvalidToken;
and its own TaskTimedOut (a timed-out task's token, its execution still running) went out
with no error code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

CLOSED = (
    "The task token has either expired or the task associated with the token has already "
    "been closed."
)
SENDS = ("send_task_success", "send_task_failure", "send_task_heartbeat")


@contextmanager
def closed_task_tokens_timed_out() -> Iterator[None]:
    """While the block runs, a call with the token of a closed task answers TaskTimedOut."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    given: set[str] = set()  # every token given out while the stack runs
    closed: set[str] = set()  # the tokens whose task a success or a failure has closed
    with ExitStack() as stack:
        for name in ("add", "add_activity_task"):
            original = CallbackPoolManager.__dict__[name]  # KeyError: moto changed; see the test
            stack.enter_context(patch.object(CallbackPoolManager, name, _noting(original, given)))
        for name in SENDS:
            original = StepFunctionsParserBackend.__dict__[name]  # KeyError: likewise
            stack.enter_context(
                patch.object(
                    StepFunctionsParserBackend, name, _closed_timed_out(original, given, closed)
                )
            )
        yield


def _noting(original: Callable[..., Any], given: set[str]) -> Callable[..., Any]:
    def add(pool: Any, callback_id: str, *args: Any, **kwargs: Any) -> Any:
        answer = original(pool, callback_id, *args, **kwargs)
        given.add(callback_id)
        return answer

    return add


def _closed_timed_out(
    original: Callable[..., Any], given: set[str], closed: set[str]
) -> Callable[..., Any]:
    from moto.stepfunctions.parser.api import InvalidToken, TaskTimedOut

    closes = original.__name__ != "send_task_heartbeat"

    def send(backend: Any, task_token: str, *args: Any, **kwargs: Any) -> Any:
        if task_token in closed:  # moto took a failure after the success (of an ended run)
            raise TaskTimedOut(CLOSED, exception_type="TaskTimedOut")
        try:
            answer = original(backend, task_token, *args, **kwargs)
        except InvalidToken:
            if task_token in given:
                raise TaskTimedOut(CLOSED, exception_type="TaskTimedOut") from None
            raise
        except TaskTimedOut:  # moto's own (a task timed out, its execution running) has no code
            raise TaskTimedOut(CLOSED, exception_type="TaskTimedOut") from None
        if closes:
            closed.add(task_token)
        return answer

    return send
