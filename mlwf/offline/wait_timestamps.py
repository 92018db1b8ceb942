"""A Wait state's Timestamp checked and worded as AWS's recorded runs show (LocalStack's
recordings of AWS, test_base_scenarios.py):

- at CreateStateMachine, a Timestamp written in the definition that is no RFC 3339
  date-time ("2016-12-05 21:29:29Z", "2016-12-05T21:29:29", "2016-13-05T21:29:29Z",
  "2016-12-05T25:29:29Z", "05-12-2016T21:29:29Z", and in a JSONPath state
  "{% '2016-03-14T01:59:00Z' %}") is refused, "SCHEMA_VALIDATION_FAILED: String does not
  match RFC3339 timestamp at /States/WaitUntil/Timestamp" (test_wait_timestamp_invalid);
  moto refused them in its parser's words ("Error=ValueError Args=[...]");
- a JSONata Timestamp expression whose value is no such date-time fails the state with
  States.QueryEvaluationError, an EvaluationFailed event at the field "Timestamp", "The
  Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string:
  2016-12-05 21:29:29Z" (test_wait_timestamp_jsonata); moto failed it as States.Runtime, in
  the words of a Timestamp literal. A TimestampPath's failure is moto's, as AWS words it.

- a Timestamp more than 2^31 - 1 seconds ahead fails the execution with States.Runtime, "An
  error occurred while executing the state 'State_1' (entered at the event id #2). Wait
  state delay is too long." (test_wait.py::test_timestamp_too_far_in_future_boundary: 24,856
  days ahead failed so, 24,855 days waited; recorded 2023-12-13); moto waited.

"2016-03-05T21:29:29.243167252Z" (nanoseconds) is taken, as recorded. Lower-case "t" and
"z", which RFC 3339 allows, are taken here too: AWS's answer to them is not recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from mlwf.offline.choice_timestamps import choice_timestamp

MAX_DELAY_SECONDS = 2**31 - 1  # AWS's longest Wait: 24,855 days waited, 24,856 failed


def is_rfc3339(text: str) -> bool:
    """Whether `text` is an RFC 3339 date-time, its date and time in range: the States
    Language's reader (mlwf.offline.choice_timestamps), lower-case "t" and "z" taken too."""
    return choice_timestamp(text.upper()) is not None  # T and Z are its only letters


def timestamp_diagnostics(state: dict[str, Any], at: str, language: str) -> list[str]:
    """The Wait state's Timestamp, refused when it is a literal that is no date-time."""
    value = state.get("Timestamp")
    if state.get("Type") != "Wait" or not isinstance(value, str):
        return []
    if language == "JSONata" and value.startswith("{%") and value.endswith("%}"):
        return []  # evaluated at run time
    if is_rfc3339(value):
        return []
    return [f"SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at {at}/Timestamp"]


@contextmanager
def wait_timestamps_as_aws() -> Iterator[None]:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
        Timestamp,
    )

    from mlwf.offline.state_errors import state_failure

    Timestamp.__dict__["_create_failure_event"]  # KeyError: moto changed; see the test
    wait_seconds = Timestamp.__dict__["_get_wait_seconds"]

    def bounded_wait_seconds(self: Any, env: Any) -> int:
        seconds = int(wait_seconds(self, env))
        if seconds > MAX_DELAY_SECONDS:
            raise state_failure(
                env, "States.Runtime", "Wait state delay is too long.", "ExecutionFailed"
            )
        return seconds

    def create_failure_event(self: Any, env: Any, timestamp_str: str) -> Any:
        cause = (
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {timestamp_str}"
        )
        failure = state_failure(env, "States.QueryEvaluationError", cause, "EvaluationFailed")
        failure.failure_event.event_details["evaluationFailedEventDetails"]["location"] = (
            "Timestamp"
        )
        # the EvaluationFailed event before the ExecutionFailed, as the recorded history has
        # it (moto writes the one it raises for only)
        decorated: Any = {
            "evaluationFailedEventDetails": failure.get_evaluation_failed_event_details()
        }
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=decorated,
        )
        return failure.failure_event

    with (
        patch.object(Timestamp, "_create_failure_event", create_failure_event),
        patch.object(Timestamp, "_get_wait_seconds", bounded_wait_seconds),
    ):
        yield
