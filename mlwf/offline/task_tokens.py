"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat with the token of a task that has
closed answer TaskTimedOut, as Step Functions answers them.

A token Step Functions gave out (`$$.Task.Token` in a `.waitForTaskToken` task, or an
activity's) names its task for good: once the task has closed (succeeded, failed, timed
out, its execution ended), a call with it fails with TaskTimedOut, "The task token has
either expired or the task associated with the token has already been closed"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
the error's description, here its message). A token it never gave out is InvalidToken.
A heartbeat for a task still open is taken, with or without HeartbeatSeconds. moto forgot
a token once its task or its execution was over, and answered InvalidToken (or took a
failure after the task had closed); answered InvalidToken to a heartbeat for an open task
with no HeartbeatSeconds; and its own TaskTimedOut went out with no error code.
"""

from __future__ import annotations

import threading
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
    """While the block runs, a call with the token of a closed task answers TaskTimedOut,
    and a heartbeat for an open task is taken."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    tokens = _Tokens()
    with ExitStack() as stack:
        for name in ("add", "add_activity_task"):
            original = CallbackPoolManager.__dict__[name]  # KeyError: moto changed; see the test
            stack.enter_context(patch.object(CallbackPoolManager, name, tokens.noting(original)))
        task = StateTaskServiceCallback.__dict__["_eval_body"]  # KeyError: likewise
        stack.enter_context(
            patch.object(StateTaskServiceCallback, "_eval_body", tokens.closing(task))
        )
        for name in SENDS:
            original = StepFunctionsParserBackend.__dict__[name]  # KeyError: likewise
            stack.enter_context(
                patch.object(StepFunctionsParserBackend, name, tokens.answering(original))
            )
        yield


class _Tokens:
    """The tokens given out while the stack runs, and which of their tasks have closed."""

    def __init__(self) -> None:
        self.pools: dict[str, Any] = {}  # token -> the callback pool of its execution
        self.closed: set[str] = set()
        self._opened = threading.local()  # the tokens the task state being run gave out

    def noting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def add(pool: Any, callback_id: str, *args: Any, **kwargs: Any) -> Any:
            answer = original(pool, callback_id, *args, **kwargs)
            self.pools[callback_id] = pool
            getattr(self._opened, "tokens", []).append(callback_id)
            return answer

        return add

    def closing(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """A task state's evaluation: whatever way it ends (succeeded, failed, timed out,
        caught), the tokens it gave out are closed."""

        def eval_body(state: Any, env: Any) -> None:
            outer = getattr(self._opened, "tokens", None)
            self._opened.tokens = []
            try:
                original(state, env)
            finally:
                self.closed.update(self._opened.tokens)
                self._opened.tokens = outer if outer is not None else []

        return eval_body

    def answering(self, original: Callable[..., Any]) -> Callable[..., Any]:
        from moto.stepfunctions.parser.api import InvalidToken, TaskTimedOut

        closes = original.__name__ != "send_task_heartbeat"

        def send(backend: Any, task_token: str, *args: Any, **kwargs: Any) -> Any:
            given = task_token in self.pools
            if given and (task_token in self.closed or not self._running(backend, task_token)):
                raise TaskTimedOut(CLOSED, exception_type="TaskTimedOut")
            try:
                answer = original(backend, task_token, *args, **kwargs)
            except InvalidToken:
                if given and not closes:  # an open task with no HeartbeatSeconds: taken
                    return None
                if given:
                    raise TaskTimedOut(CLOSED, exception_type="TaskTimedOut") from None
                raise
            except TaskTimedOut:  # moto's own (its task timed out) has no error code
                raise TaskTimedOut(CLOSED, exception_type="TaskTimedOut") from None
            if closes:
                self.closed.add(task_token)
            return answer

        return send

    def _running(self, backend: Any, task_token: str) -> bool:
        """Whether the execution that gave the token out is still running (moto's sends find
        it the same way, by its environment's callback pool)."""
        from moto.stepfunctions.parser.api import ExecutionStatus

        pool = self.pools[task_token]
        for execution in backend._get_executions(ExecutionStatus.RUNNING):
            env = getattr(execution.exec_worker, "env", None)
            if env is not None and env.callback_pool_manager is pool:
                return True
        return False
