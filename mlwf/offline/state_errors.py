"""Step Functions' own error names, where moto's interpreter loses them.

The States.* errors (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
are what a Retry or Catch names. moto's interpreter (LocalStack's) loses two of them:

- A Choice state with no matching rule and no Default fails with States.NoChoiceMatched
  ("A Choice state failed to find a match for the condition field extracted from its
  input"). moto raised a bare RuntimeError: States.Runtime, which no Catch sees.
- A Map iteration or a Parallel branch that fails passes its error up to the Map or
  Parallel state, whose Retry and Catch then see it. moto wraps that name in its
  CustomErrorName, which refuses names that start with "States.": a branch or an iteration
  failing with States.Timeout, States.TaskFailed, States.NoChoiceMatched or
  States.QueryEvaluationError failed the whole execution with a ValueError (Parallel, past
  even a Catch on States.ALL) or reached the Map as States.Runtime.

- States.ALL catches any error but two: it "can't catch the States.DataLimitExceeded
  terminal error type and Runtime error types" (the same page). moto's caught them too, a
  branch's States.Runtime as well once it reached its Parallel by name.

moto's internals named here are pinned by tests/unit/test_state_errors.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

NO_CHOICE_CAUSE = "No Choice rule matched the state's input, and the state has no Default."
NOT_CAUGHT_BY_ALL = ("States.Runtime", "States.DataLimitExceeded")


def error_name(error_name: str | None) -> Any:
    """A child's error name as its parent state sees it: one of the States.* names for
    those, else a custom name (moto's CustomErrorName for every name)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    if error_name is not None and error_name.startswith("States."):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:  # not one of the States.* names moto knows: kept as it came
            pass
    return CustomErrorName(error_name=error_name)


@contextmanager
def states_errors_kept() -> Iterator[None]:
    """States.* errors reach a Map or Parallel state, a Choice with no match fails with
    States.NoChoiceMatched, and States.ALL passes over States.Runtime and
    States.DataLimitExceeded (in a Retry as in a Catch), while the block runs."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        iteration_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import (
        branches_decl,
    )

    with ExitStack() as stack:
        for module in (iteration_worker, branches_decl):
            module.__dict__["CustomErrorName"]  # KeyError: moto changed; see the test
            stack.enter_context(patch.object(module, "CustomErrorName", error_name))
        original = StateChoice.__dict__["_eval_state"]  # KeyError: moto changed
        stack.enter_context(patch.object(StateChoice, "_eval_state", _no_match_failing(original)))
        matching = ErrorEqualsDecl.__dict__["_eval_body"]  # KeyError: moto changed
        stack.enter_context(
            patch.object(ErrorEqualsDecl, "_eval_body", _all_but_terminal(matching))
        )
        yield


def _all_but_terminal(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def eval_body(self: Any, env: Any) -> None:
        names = [getattr(name, "error_name", None) for name in self.error_names]
        if "States.ALL" in names and getattr(env.stack[-1], "error_name", None) in (
            NOT_CAUGHT_BY_ALL
        ):
            env.stack.pop()  # as moto's: the error off the stack, whether it matched on
            env.stack.append(False)
            return
        original(self, env)

    return eval_body


def _no_match_failing(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def eval_state(self: Any, env: Any) -> None:
        try:
            original(self, env)
        except RuntimeError as exc:
            if self.default_state is not None or "No branching option" not in str(exc.args[0]):
                raise
            raise _no_choice_matched(env) from None

    return eval_state


def _no_choice_matched(env: Any) -> Exception:
    return state_failure(env, "States.NoChoiceMatched", NO_CHOICE_CAUSE, "ExecutionFailed")


def state_failure(env: Any, error: str, cause: str, event: str) -> Any:
    """moto's FailureEventException for a state failing with one of the States.* errors,
    `event` the history event that carries it (ExecutionFailed, EvaluationFailed)."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    name = StatesErrorName.from_name(error)
    # moto's EventDetails is a TypedDict that names every kind of event: one key given here
    details: Any = {f"{event[0].lower()}{event[1:]}EventDetails": {"error": error, "cause": cause}}
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=name,
            event_type=HistoryEventType(event),
            event_details=details,
        )
    )
