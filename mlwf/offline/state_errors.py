"""Step Functions' own error names, where moto's interpreter loses them.

The States.* errors (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
are what a Retry or Catch names. moto's interpreter (LocalStack's) loses some of them:

- A Choice state with no matching rule and no Default fails with States.Runtime: AWS's page
  keeps States.NoChoiceMatched "reserved for future use" and reports the error with the
  States.Runtime name (as measured against AWS in floci-io/floci#3167). moto raised a bare
  RuntimeError, whose cause named its tuple; the cause here is this module's words.
- A Map iteration or a Parallel branch that fails passes its error up to the Map or
  Parallel state, whose Retry and Catch then see it. moto wraps that name in its
  CustomErrorName, which refuses names that start with "States.": a branch or an iteration
  failing with States.Timeout, States.TaskFailed or States.QueryEvaluationError failed the
  whole execution with a ValueError (Parallel, past even a Catch on States.ALL) or reached
  the Map as States.Runtime.

- A Choice rule whose Variable names nothing in the state's input fails the execution with
  States.Runtime (AWS's Choice page: "If the state input doesn't contain the $.type field,
  the execution fails"), inside a Not as well; only IsPresent tests a missing field.
  moto read a missing field as a value that matches nothing, and went on to the Default.
  The cause is AWS's words, as executions on AWS and Step Functions Local report them:
  "Invalid path '$.x': The choice state's condition path references an invalid value."
  https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-choice-state.html
  A missing `...Path` operand (StringEqualsPath...) fails the same way, "comparison path"
  for "condition path": those words are recorded by another emulator's authors, the
  "Invalid path" before them inferred from the condition's (moto named its own class,
  "the field 'ComparisonFuncValue'").

- A States.Runtime cause names the state that failed once, the innermost: "An error occurred
  while executing the state 'X' (entered at the event id #6). ..." (AWS's prefix, added once
  at the innermost state, as measured against AWS in floci-io/floci#3167). moto prefixed it
  again at each Map or Parallel it crossed, naming the Map's iteration state 'None'. Only
  moto's own prefix is left out: a cause the workflow wrote (a Fail state's) is kept as it is.

- States.ALL catches any error but two: it "can't catch the States.DataLimitExceeded
  terminal error type and Runtime error types" (the same page). One exception, recorded:
  a Task whose result passes the size quota fails with States.DataLimitExceeded, "The
  state/task '<resource>' returned a result with a size exceeding the maximum number of
  bytes service limit.", and AWS's `"ErrorEquals": ["States.ALL"]` Catch takes it, for a
  `lambda:invoke` step and a Lambda ARN step alike (LocalStack's recordings of AWS,
  test_states_errors.py::test_*_catch_state_all_data_limit_exceeded_on_large_utf8_response,
  2024-03-21); a state's own output or input over the quota stays terminal, as the page
  says (not recorded otherwise). A Retrier's States.ALL is treated as the Catch's. moto's
  States.ALL caught both, a branch's States.Runtime as well once it reached its Parallel by
  name. And no Retry or
  Catch sees States.Runtime, even one naming it: it "isn't retriable, and will always cause
  the execution to fail" (the same page).

moto's internals named here are pinned by tests/unit/test_state_errors.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

NO_CHOICE_CAUSE = "No Choice rule matched the state's input, and the state has no Default."
NOT_CAUGHT_BY_ALL = ("States.Runtime", "States.DataLimitExceeded")
NEVER_CAUGHT = "States.Runtime"
PREFIXED = ("States.Runtime", "States.QueryEvaluationError")  # the errors moto prefixes
PREFIX = "An error occurred while executing the state '"
MISSING_PATH_CAUSE = (
    "Invalid path '{path}': The choice state's {which} path references an invalid value."
)


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
    """While the block runs: States.* errors reach a Map or Parallel state; a Choice with no
    match, or with a rule on a missing field, fails with States.Runtime; a States.Runtime
    cause names its state once; no Retry or Catch sees States.Runtime, and States.ALL passes
    over States.DataLimitExceeded too."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import (  # noqa: E501
        ComparisonVariable,
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
        ComparisonVariable.__dict__["_eval_body"]  # KeyError: moto changed
        stack.enter_context(
            patch.object(ComparisonVariable, "_eval_body", _missing_variable_failing())
        )
        details = FailureEventException.__dict__["get_execution_failed_event_details"]
        stack.enter_context(
            patch.object(
                FailureEventException,
                "get_execution_failed_event_details",
                _prefixed_once(details),
            )
        )
        matching = ErrorEqualsDecl.__dict__["_eval_body"]  # KeyError: moto changed
        stack.enter_context(
            patch.object(ErrorEqualsDecl, "_eval_body", _all_but_terminal(matching))
        )
        for task in _tasks_with_a_result_quota():
            quota = task.__dict__["_verify_size_quota"]  # KeyError: moto changed
            stack.enter_context(patch.object(task, "_verify_size_quota", _marked(quota)))
        yield


def _tasks_with_a_result_quota() -> tuple[Any, ...]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
        StateTaskService,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    return StateTaskLambda, StateTaskService


def _marked(original: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    """A task's result-size check whose States.DataLimitExceeded a States.ALL may catch."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )

    def verify(self: Any, env: Any, value: Any) -> None:
        try:
            original(self, env, value)
        except FailureEventException as exc:
            name: Any = exc.failure_event.error_name  # a new StatesErrorName each raise
            name.mlwf_task_result = True
            raise

    return verify


def _prefixed_once(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def details(exception: Any) -> Any:
        answer = original(exception)
        error, cause = exception.extract_error_cause_pair() or (None, None)
        # prefixed already, by moto at the state that failed: not again at its Map
        if answer is not None and error in PREFIXED and str(cause).startswith(PREFIX):
            answer["cause"] = cause
        return answer

    return details


def _all_but_terminal(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def eval_body(self: Any, env: Any) -> None:
        names = [getattr(name, "error_name", None) for name in self.error_names]
        error = getattr(env.stack[-1], "error_name", None)
        terminal = error in NOT_CAUGHT_BY_ALL and not getattr(
            env.stack[-1], "mlwf_task_result", False
        )
        if error == NEVER_CAUGHT or ("States.ALL" in names and terminal):
            env.stack.pop()  # as moto's: the error off the stack, whether it matched on
            env.stack.append(False)
            return
        original(self, env)

    return eval_body


def _missing_variable_failing() -> Callable[[Any, Any], None]:
    """moto's ComparisonVariable._eval_body (the variable sampled, then the comparison made),
    with the checks between and around its two steps: the variable is sampled once. That
    moto's body is still those two steps is pinned by tests/unit/test_state_errors.py."""
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import (  # noqa: E501
        ComparisonOperatorType,
    )
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import (
        NoSuchVariable,
    )
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    def eval_body(self: Any, env: Any) -> None:
        operator = self.comparison_function.operator_type
        self.variable.eval(env)
        missing = isinstance(env.stack[-1], NoSuchVariable)
        if missing and operator is not ComparisonOperatorType.IsPresent:
            raise _missing_path(env, "condition", self.variable.string_sampler)
        try:
            self.comparison_function.eval(env)
        except NoSuchJsonPathError as exc:
            if not operator.name.endswith("Path"):
                raise
            raise _missing_path(env, "comparison", exc.json_path) from None

    return eval_body


def _missing_path(env: Any, which: str, path: Any) -> Exception:
    """States.Runtime for a Choice rule's path that names nothing: `path` its text, or the
    string sampler that holds it (a `$$.` path keeps its `$$` as written)."""
    if not isinstance(path, str):
        path = getattr(path, "context_object_path", None) or path.literal_value
    cause = MISSING_PATH_CAUSE.format(path=path, which=which)
    return state_failure(env, "States.Runtime", cause, "ExecutionFailed")


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
    return state_failure(env, "States.Runtime", NO_CHOICE_CAUSE, "ExecutionFailed")


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
