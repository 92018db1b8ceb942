"""Each Standard execution's status changes sent to EventBridge, as Step Functions sends them.

"Status changes in state machine executions are sent to EventBridge automatically", for
Standard workflows, to the default event bus, as `Step Functions Execution Status Change`
events from `aws.states` whose detail "provides the same information as the
DescribeExecution API": RUNNING when an execution starts, then SUCCEEDED, FAILED,
TIMED_OUT or ABORTED (https://docs.aws.amazon.com/step-functions/latest/dg/
eventbridge-integration.html; https://docs.aws.amazon.com/eventbridge/latest/ref/
events-ref-states.html). moto sent none, so a rule on them (say, to alert on a failed
execution) never fired offline. The detail's fields, their order and their nulls are AWS's
as LocalStack recorded them (test_base.py::test_event_bridge_events_base, 2024-02-07): the
dates in epoch milliseconds, the input and output as JSON text, no version or alias, no
redrive yet.

Delivery is best effort on AWS; here a failure to deliver is logged and the execution goes
on. Not sent: EXPRESS executions' (AWS sends none) and a Distributed Map's children's (moto
runs them inside their parent). An input or output too large for one event is sent as it
is (AWS's rule for those is not documented here).
moto's internals named here are pinned by tests/unit/test_status_events.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any
from unittest.mock import patch

from mlwf.offline.execution_fields import redrive_fields
from mlwf.offline.execution_output import output_json

LOG = logging.getLogger(__name__)
SOURCE = "aws.states"
DETAIL_TYPE = "Step Functions Execution Status Change"


def _millis(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def status_detail(execution: Any, status: str) -> dict[str, Any]:
    """The event's detail for an execution at `status`, as AWS's recorded events give it."""
    ended = status != "RUNNING"
    succeeded = status == "SUCCEEDED"
    redrive = redrive_fields(status)
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date) if ended else None,
        "input": execution.execution_input,
        "output": output_json(execution.output) if succeeded else None,
        "stateMachineVersionArn": None,
        "stateMachineAliasArn": None,
        "redriveCount": 0,
        "redriveDate": None,
        "redriveStatus": redrive["redriveStatus"],
        "redriveStatusReason": redrive.get("redriveStatusReason"),
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": execution.error if ended else None,
        "cause": execution.cause if ended else None,
    }


def _send(execution: Any, status: str) -> None:
    from moto.events.models import events_backends

    kind = getattr(execution.state_machine, "type", "STANDARD")
    if getattr(kind, "value", kind) != "STANDARD":  # moto's enum, or its value
        return
    entry = {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(status_detail(execution, status)),
        "Resources": [execution.exec_arn],
    }
    try:
        events_backends[execution.account_id][execution.region_name].put_events([entry])
    except Exception:  # best effort, as on AWS: the execution goes on
        LOG.warning("could not send %s's %s event", execution.exec_arn, status, exc_info=True)


@contextmanager
def status_changes_sent() -> Iterator[None]:
    """While the block runs, Standard executions send their status changes to EventBridge.
    Entered after moto_patches.stops_as_aws, whose end (every field written) it follows."""
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )

    # KeyError: moto changed; see tests/unit/test_status_events.py
    start = Execution.__dict__["start"]
    reflect = BaseExecutionWorkerCommunication.__dict__["_reflect_execution_status"]

    def started(execution: Any) -> None:
        _send(execution, "RUNNING")  # before its worker runs: the end cannot come first
        start(execution)

    def ended(communication: Any) -> None:
        reflect(communication)
        execution = communication.execution
        _send(execution, str(getattr(execution.exec_status, "value", execution.exec_status)))

    with ExitStack() as stack:
        stack.enter_context(patch.object(Execution, "start", started))
        stack.enter_context(
            patch.object(BaseExecutionWorkerCommunication, "_reflect_execution_status", ended)
        )
        yield
