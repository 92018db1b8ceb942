"""An EventBridge event's Detail as EventBridge takes it, and a failed PutEvents task's cause
as Step Functions gives it.

- PutEvents refuses an entry whose Detail is JSON but not an object (`"\\"jsonstring\\""`):
  its entry answers `MalformedDetail`, "Detail is malformed.", and an optimized
  `events:putEvents` task then fails with `EventBridge.FailedEntry`. moto accepted it with a
  warning ("types such as ... are ignored by AWS") and delivered it. AWS's answer as
  LocalStack recorded it (`test_put_events_malformed_detail`, an `aws.validated` test;
  https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html:
  Detail is "A valid JSON object").
- The FailedEntry's cause is PutEvents' answer as compact JSON, its `Entries` then its
  `FailedEntryCount` (`{"Entries":[{"ErrorCode":"MalformedDetail",...}],"FailedEntryCount":1}`
  as recorded); moto wrote it as Python's repr of the dict (single quotes), which
  `States.StringToJson` cannot read.
- Any other answer of EventBridge's (a denied call) failed the state with States.Runtime in
  botocore's words; it is now the task's failure named as mlwf.offline.optimized_errors
  names the other services' (`EventBridge.AccessDeniedException`, a modelled error; the
  name inferred by that rule, not recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

from mlwf.offline.optimized_errors import java_error, service_cause

MALFORMED = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
MAX_ENTRIES = 10  # PutEvents' own limit, which moto checks on the whole request


def malformed(entry: dict[str, Any]) -> bool:
    """An entry moto would take whose Detail is JSON but not an object."""
    detail = entry.get("Detail")
    if not (entry.get("Source") and entry.get("DetailType") and detail):
        return False  # moto's own InvalidArgument answers
    try:
        return not isinstance(json.loads(detail), dict)
    except (TypeError, ValueError):
        return False  # moto's own MalformedDetail


def failed_entry_cause(answer: dict[str, Any]) -> str:
    """PutEvents' answer as the FailedEntry's cause: JSON, its entries first."""
    shaped = {
        "Entries": answer.get("Entries", []),
        "FailedEntryCount": answer.get("FailedEntryCount", 0),
    }
    return json.dumps(shaped, separators=(",", ":"))


def client_error_event(task: Any, env: Any, ex: Any) -> Any:
    """The task's failure for a service's answer (moto's interpreter failed the state with
    States.Runtime and botocore's words, which no Catch of the service's errors sees)."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )

    name = java_error("events", ex.response["Error"]["Code"])
    details: Any = {
        "taskFailedEventDetails": {
            "error": name,
            "cause": service_cause("AmazonEventBridge", ex),
            "resource": task._get_sfn_resource(),
            "resourceType": task._get_sfn_resource_type(),
        }
    }
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(name),
        event_type=HistoryEventType.TaskFailed,
        event_details=details,
    )


@contextmanager
def event_details_as_aws() -> Iterator[None]:
    """PutEvents refusing a Detail that is no object, and the FailedEntry cause as JSON."""
    from botocore.exceptions import ClientError
    from moto.events.models import EventsBackend
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_events as events_task,
    )

    put_events = EventsBackend.__dict__["put_events"]  # KeyError: moto changed; see the test
    task = events_task.StateTaskServiceEvents
    from_error = task.__dict__["_from_error"]

    def put(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        refused = [malformed(event) for event in events]
        if not any(refused) or len(events) > MAX_ENTRIES:
            return list(put_events(self, events))
        kept = iter(put_events(self, [e for e, no in zip(events, refused, strict=True) if not no]))
        return [dict(MALFORMED) if no else next(kept) for no in refused]

    def task_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, ClientError):
            return client_error_event(self, env, ex)
        event = from_error(self, env, ex)
        if isinstance(ex, events_task.SfnFailedEntryCountException) and isinstance(ex.cause, dict):
            event.event_details["taskFailedEventDetails"]["cause"] = failed_entry_cause(ex.cause)
        return event

    with ExitStack() as stack:
        stack.enter_context(patch.object(EventsBackend, "put_events", put))
        stack.enter_context(patch.object(task, "_from_error", task_error))
        yield
