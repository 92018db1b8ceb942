"""EXPRESS state machines offline as AWS runs them: StartSyncExecution answered, and the
calls AWS refuses for EXPRESS refused the same way.

moto runs EXPRESS machines like STANDARD ones: it has no StartSyncExecution, and it lets
DescribeExecution, GetExecutionHistory and ListExecutions read EXPRESS executions, which
AWS does not. Code that works offline would then fail on AWS with WorkflowType=EXPRESS.

What AWS does (https://docs.aws.amazon.com/step-functions/latest/apireference/):
- API_StartSyncExecution.html: "StartSyncExecution is not available for STANDARD
  workflows"; it answers 200 with status SUCCEEDED, FAILED or TIMED_OUT, and "output" only
  when the execution succeeded.
- API_DescribeExecution.html, API_GetExecutionHistory.html, API_ListExecutions.html: not
  supported by EXPRESS state machines (except Map Run children); nor is StopExecution, as
  AWS answered it (LocalStack's test_sfn_api_express.snapshot.json, 2024-07-03). AWS
  tells them apart by the execution ARN's resource type, `...:express:<machine>:<name>:<id>`,
  and answers InvalidArn "Resource type not valid in this context: express"; ListExecutions on an
  EXPRESS machine answers StateMachineTypeNotSupported. (The error codes and messages are
  those LocalStack's provider records from AWS.)

So offline, an EXPRESS execution's ARN is given in that form, by StartExecution and
StartSyncExecution alike, and the calls above refuse it.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mlwf.executions import EXPRESS
from mlwf.offline.bridge import AwsErrorResponse
from mlwf.offline.execution_output import output_json

# "Express Workflows can run for up to five minutes" (choosing-workflow-type.html); a
# synchronous one past that ends TIMED_OUT.
EXPRESS_MAX_SECONDS = 5 * 60
TYPE_NOT_SUPPORTED = (
    "StateMachineTypeNotSupported",
    "This operation is not supported by this type of state machine",
)
BILLED_MS, BILLED_MEMORY_MB = 100, 64  # Express's billing units: see billing_details
NOT_IN_CONTEXT = ("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")


def express_arn(execution_arn: str) -> str:
    """`...:execution:<machine>:<name>` as AWS names an EXPRESS execution,
    `...:express:<machine>:<name>:<id>`: the same each time for the same execution, so that
    StartExecution's answer, `$$.Execution.Id` and its log records name it alike."""
    express = execution_arn.replace(":execution:", ":express:", 1)
    return f"{express}:{uuid.uuid5(uuid.NAMESPACE_URL, execution_arn)}"


def is_express_arn(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 5 and parts[5] == "express"


class ExpressWorkflows:
    """The Step Functions calls whose answer depends on the machine's type, in moto's
    backend for `account` and `region`. `wait(timeout)` returns when some execution ends."""

    def __init__(self, account: str, region: str, wait: Callable[[float], None]):
        self.account, self.region, self.wait = account, region, wait

    def _backend(self) -> Any:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[self.account][self.region]

    def machine_type(self, state_machine_arn: str) -> str | None:
        """The machine's type, or None when moto does not know it (moto then answers)."""
        from moto.stepfunctions.exceptions import StateMachineDoesNotExist

        try:
            return str(self._backend().describe_state_machine(state_machine_arn).type)
        except (StateMachineDoesNotExist, ValueError):
            return None

    # -- before the call: refusals ---------------------------------------------------
    def check(self, operation: str, params: dict[str, Any]) -> None:
        """Raise AwsErrorResponse where AWS refuses `operation` for an EXPRESS machine."""
        if operation in ("DescribeExecution", "GetExecutionHistory", "StopExecution"):
            if is_express_arn(str(params.get("executionArn", ""))):
                raise AwsErrorResponse(*NOT_IN_CONTEXT)
        elif operation == "ListExecutions":
            arn = params.get("stateMachineArn")
            if arn and self.machine_type(arn) == EXPRESS:
                raise AwsErrorResponse(*TYPE_NOT_SUPPORTED)

    # -- after StartExecution: the ARN AWS gives --------------------------------------
    def started_arn(self, state_machine_arn: str, execution_arn: str) -> str:
        if self.machine_type(state_machine_arn) == EXPRESS:
            return express_arn(execution_arn)
        return execution_arn

    # -- StartSyncExecution ----------------------------------------------------------
    def start_sync(self, params: dict[str, Any]) -> dict[str, Any]:
        """Run the execution to its end and answer as StartSyncExecution does."""
        from moto.core.exceptions import AWSError

        arn = params["stateMachineArn"]
        machine_type = self.machine_type(arn)
        if machine_type is None:
            raise AwsErrorResponse(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'"
            )
        if machine_type != EXPRESS:
            raise AwsErrorResponse(*TYPE_NOT_SUPPORTED)
        name = params.get("name") or str(uuid.uuid4())
        try:
            execution = self._backend().start_execution(arn, name, params.get("input") or "{}")
        except AWSError as exc:  # InvalidExecutionInput, ExecutionAlreadyExists...: as AWS
            # moto's parser errors carry no error type (see definition_check): their class
            # names are AWS's codes.
            raise AwsErrorResponse(exc.error_type or type(exc).__name__, exc.message) from None
        limit = EXPRESS_MAX_SECONDS
        deadline = time.monotonic() + limit
        while execution.exec_status is None or execution.status == "RUNNING":
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # As AWS ends it (States.Timeout); moto_patches.stops_as_aws
                # makes this safe even before moto's worker has its environment.
                execution.stop(datetime.now(UTC), "States.Timeout", None)
                return self._answer(execution, arn, name, status="TIMED_OUT")
            self.wait(min(1.0, remaining))
        # One that ended past the limit, between two looks, AWS would have stopped at it.
        if _seconds(execution.start_date, execution.stop_date) > limit:
            return self._answer(execution, arn, name, status="TIMED_OUT")
        return self._answer(execution, arn, name, status=execution.status)

    def _answer(self, execution: Any, arn: str, name: str, status: str) -> dict[str, Any]:
        """StartSyncExecution's answer (only a SUCCEEDED one carries the output)."""
        stopped = execution.stop_date or datetime.now(UTC)
        answer: dict[str, Any] = {
            "executionArn": express_arn(execution.execution_arn),
            "stateMachineArn": arn,
            "name": name,
            "startDate": execution.start_date,
            "stopDate": stopped,
            "status": status,
            "input": execution.execution_input,
            "inputDetails": {"included": True},
            "billingDetails": billing_details(_seconds(execution.start_date, stopped)),
        }
        if status == "SUCCEEDED":
            answer["output"] = output_json(execution.output)
            answer["outputDetails"] = {"included": True}
        for key in ("error", "cause"):
            if getattr(execution, key, None) is not None:
                answer[key] = getattr(execution, key)
        return answer


def billing_details(seconds: float) -> dict[str, int]:
    """StartSyncExecution's billingDetails (API_BillingDetails.html). Express Workflows
    bill "the time that your workflow begins running until it completes or otherwise
    finishes, rounded up to the nearest 100 ms, and the amount of memory used in running
    your workflow, billed in 64-MB chunks" (AWS's Step Functions workshop, module 13,
    "Review the Cost Impact"). AWS answered 100, 300, 400 and 7600 ms and 64 MB in every
    recorded run (LocalStack's test_express_sync.snapshot.json and others). Offline does not
    measure an execution's memory: it answers the first chunk, 64 MB."""
    milliseconds = max(1, math.ceil(round(seconds * 1000, 3)))
    return {
        "billedDurationInMilliseconds": math.ceil(milliseconds / BILLED_MS) * BILLED_MS,
        "billedMemoryUsedInMB": BILLED_MEMORY_MB,
    }


def _seconds(start: Any, stop: Any) -> float:
    """Seconds between two of moto's execution datetimes (0 when either is missing)."""
    if not isinstance(start, datetime) or not isinstance(stop, datetime):
        return 0.0
    return (stop - start).total_seconds()
