"""A Distributed Map's Map Run failing when its failed items pass the tolerated threshold.

"Step Functions returns a States.ExceedToleratedFailureThreshold error when the Map Run
fails because the specified threshold is exceeded": the percentage is "the total number of
failed or timed out items divided by the total number of items", and its default, zero,
"means that the workflow fails if any one of the child workflow executions fails or times
out"; given both a count and a percentage, the Map Run fails when it exceeds either
(https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html). The
cause, "The specified tolerated failure threshold was exceeded", is AWS's as LocalStack
recorded it (tests/aws/services/stepfunctions/v2/test_state, 2025-11-13, as a user-edit walk
read it). moto ran every child and succeeded whatever failed, the failed children's
results `null` in the output.

The page also says Step Functions "may continue to run child workflows in a Map Run even
after the tolerated failure threshold is exceeded, but before the Map Run fails": offline,
every child runs, then the Map Run fails. A threshold given only as a count (or only as a
percentage) is the only one that applies: the other is not "specified" (an inference from
the page's words, not a recorded answer).
"""

from __future__ import annotations

from typing import Any

CAUSE = "The specified tolerated failure threshold was exceeded"
_COUNT = ("ToleratedFailureCount", "ToleratedFailureCountPath")
_PERCENTAGE = ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")


def exceeded(failed: int, total: int, count: int, percentage: float, state: dict) -> bool:
    """Whether `failed` items of `total` pass the threshold the Map `state` specifies, with
    its evaluated `count` and `percentage` (0 for one not given)."""
    by_count = any(field in state for field in _COUNT) or count > 0
    by_percentage = any(field in state for field in _PERCENTAGE) or percentage > 0
    if not by_count and not by_percentage:
        return failed > 0
    over_count = by_count and failed > count
    over_percentage = by_percentage and total > 0 and failed * 100 > percentage * total
    return over_count or over_percentage


def check_threshold(env: Any, record: Any, state: dict) -> None:
    """Raise the Map Run's failure when its failed or timed-out items pass the threshold."""
    items = record.item_counter
    failed = items.failed.get() + items.timed_out.get()
    count, percentage = record.tolerated_failure_count, record.tolerated_failure_percentage
    if exceeded(failed, items.total.get(), count, percentage, state):
        raise map_run_failure(env, "StatesExceedToleratedFailureThreshold", CAUSE)


def map_run_failure(env: Any, error: str, cause: str, *, execution: bool = False) -> Exception:
    """moto's FailureEventException with the States error of that StatesErrorNameType member
    and the cause: it fails the Map Run, then its state, as moto's own ItemReader failures
    (its CSV reader's duplicate headers) fail it; with `execution`, the execution itself,
    before any Map Run (moto then prefixes the cause with the state, for States.Runtime)."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (  # noqa: E501
        StatesErrorNameType,
    )

    name = StatesErrorName(typ=StatesErrorNameType[error])
    kind = "executionFailedEventDetails" if execution else "mapRunFailedEventDetails"
    # moto's EventDetails is a TypedDict that names every kind of event: one key given here
    details: Any = {kind: {"error": name.error_name, "cause": cause}}
    event_type = HistoryEventType.ExecutionFailed if execution else HistoryEventType.TaskFailed
    failure: Any = FailureEvent(
        env=env, error_name=name, event_type=event_type, event_details=details
    )
    return FailureEventException(failure_event=failure)
