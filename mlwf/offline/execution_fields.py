"""DescribeExecution's and ListExecutions' fields as AWS answers them.

AWS's DescribeExecution answers `inputDetails`, `redriveCount`, `redriveStatus` and, while
an execution cannot be redriven, `redriveStatusReason` ("Execution is SUCCEEDED and cannot
be redriven"; LocalStack's test_sfn_api.py::test_describe_execution, recorded 2024-08-21);
an execution that FAILED, TIMED_OUT or was ABORTED is REDRIVABLE
(https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html;
API_DescribeExecution.html). ListExecutions' items carry `redriveCount`
(API_ExecutionListItem.html). moto answered none of the redrive fields, and no inputDetails.
Offline no execution is ever redriven (RedriveExecution is not modelled): the count is 0.
moto's internals named here are pinned by tests/unit/test_execution_fields.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")


def redrive_fields(status: str) -> dict[str, Any]:
    """An execution's redrive fields at `status`, as DescribeExecution answers them."""
    if status in REDRIVABLE:
        return {"redriveCount": 0, "redriveStatus": "REDRIVABLE"}
    reason = f"Execution is {status} and cannot be redriven"
    return {"redriveCount": 0, "redriveStatus": "NOT_REDRIVABLE", "redriveStatusReason": reason}


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))  # moto's enum, or its value


@contextmanager
def execution_fields_as_aws() -> Iterator[None]:
    """While the block runs, DescribeExecution and ListExecutions answer AWS's fields.
    Entered after execution_output.outputs_as_json and execution_timeouts.timeouts_as_aws,
    whose answers it wraps."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    # KeyError: moto changed; see tests/unit/test_execution_fields.py
    describe = StepFunctionResponse.__dict__["describe_execution"]
    listing = StepFunctionResponse.__dict__["list_executions"]

    def describe_execution(response: Any) -> Any:
        answer = dict(describe(response).result)
        answer.setdefault("inputDetails", {"included": True})
        answer.update(redrive_fields(_status(answer.get("status"))))
        return ActionResult(answer)

    def list_executions(response: Any) -> Any:
        answer = dict(listing(response).result)
        answer["executions"] = [{**item, "redriveCount": 0} for item in answer["executions"]]
        return ActionResult(answer)

    with ExitStack() as stack:
        stack.enter_context(
            patch.object(StepFunctionResponse, "describe_execution", describe_execution)
        )
        stack.enter_context(patch.object(StepFunctionResponse, "list_executions", list_executions))
        yield
