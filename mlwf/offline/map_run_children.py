"""A Map Run found by its ARN, and its child executions listed as ListExecutions lists them.

`aws stepfunctions list-executions --map-run-arn <arn>` answered HTTP 500 (moto's
ListExecutions reads only `stateMachineArn`, and failed on its absence), which the CLI and
the SDKs retried four times. AWS: "If the mapRunArn field is specified, a list of all of the
child workflow executions started by a Map Run is returned", each with its `itemCount`
("returned only if mapRunArn was specified"), and "You can specify either a mapRunArn or a
stateMachineArn, but not both"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html).
Offline the children are not executions of their own (mlwf.offline.distributed_map): they
are listed from the Map Run's record with the ARNs its result files give them, which
DescribeExecution does not know; one page holds them all. A Map Run no execution has is
moto's ResourceNotFound, as DescribeMapRun answers it. Given both ARNs, the state machine's
executions are listed, as moto lists them: AWS's refusal of the pair is not recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch


def map_run_pool(execution: Any) -> Any:
    """The execution's Map Run records (moto's pool), None before its worker has one."""
    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    return getattr(env, "map_run_record_pool_manager", None)


def find_map_run(backend: Any, map_run_arn: str) -> Any:
    """The Map Run record of that ARN in any execution; moto's ResourceNotFound if none."""
    from moto.stepfunctions.exceptions import ResourceNotFound

    for execution in backend._get_executions():
        pool = map_run_pool(execution)
        record = pool.get(map_run_arn) if pool else None
        if record is not None:
            return record
    raise ResourceNotFound(map_run_arn)


def listed_children(record: Any, status_filter: str | None) -> list[dict[str, Any]]:
    """The Map Run's started children as ListExecutions lists executions."""
    express = getattr(record, "mlwf_express", False)
    listed = []
    for child in getattr(record, "mlwf_children", []):
        if child.start is None:
            continue  # not started: no execution yet
        status = child.status if child.stop is not None else "RUNNING"
        if status_filter and status != status_filter:
            continue
        item = {
            "executionArn": child.arn(record, express),
            "stateMachineArn": record.map_state_machine_arn,
            "name": child.name,
            "status": status,
            "startDate": child.start,
            "mapRunArn": record.map_run_arn,
            "itemCount": child.items,
        }
        if child.stop is not None:
            item["stopDate"] = child.stop
        listed.append(item)
    return listed


@contextmanager
def map_run_children_listed() -> Iterator[None]:
    """ListExecutions with a mapRunArn answered with the Map Run's children."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    StepFunctionResponse.__dict__["list_executions"]  # KeyError: moto changed; see the test
    listing = StepFunctionResponse.list_executions  # with the patches already entered

    def list_executions(response: Any) -> Any:
        map_run_arn = response._get_param("mapRunArn")
        if not map_run_arn or response._get_param("stateMachineArn"):
            return listing(response)
        record = find_map_run(response.stepfunction_backend, map_run_arn)
        children = listed_children(record, response._get_param("statusFilter"))
        return ActionResult({"executions": children})

    with patch.object(StepFunctionResponse, "list_executions", list_executions):
        yield
