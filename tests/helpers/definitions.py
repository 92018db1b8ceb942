"""CreateStateMachine with and without the offline mode's definition checks
(mlwf.offline.definition_check), for the tests of what those checks refuse."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

ROLE = "arn:aws:iam::123456789012:role/r"


def refused_where_moto_took_it(text: str) -> str:
    """The InvalidDefinition message CreateStateMachine answers `text` with, the offline
    checks on, after moto alone has taken it (which is why the check exists). Needs moto
    running (the `aws` fixture)."""
    from mlwf.offline.definition_check import checked_at_create

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    name = f"m{len(sfn.list_state_machines()['stateMachines'])}"
    sfn.create_state_machine(name=f"{name}-moto", definition=text, roleArn=ROLE)
    with checked_at_create(), pytest.raises(sfn.exceptions.InvalidDefinition) as refused:
        sfn.create_state_machine(name=f"{name}-checked", definition=text, roleArn=ROLE)
    return str(refused.value.response["Error"]["Message"])


def one_state(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A definition of that one state, named S and ending the machine (and any top fields)."""
    return {**top, "StartAt": "S", "States": {"S": {**state, "End": True}}}


def one_task_machine(name: str, resource: str, **fields: Any) -> dict[str, Any]:
    """A definition of one Task state of that name and Resource (and any other fields)."""
    state = {"Type": "Task", "Resource": resource, **fields, "End": True}
    return {"StartAt": name, "States": {name: state}}


def one_task(name: str, resource: str, **fields: Any) -> str:
    """one_task_machine as the JSON text CreateStateMachine takes."""
    return json.dumps(one_task_machine(name, resource, **fields))


# STANDARD children that hand their input back
ECHO_CHILDREN: dict[str, Any] = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Echo",
    "States": {"Echo": {"Type": "Pass", "End": True}},
}


def distributed_map_machine(
    name: str = "Each", children: dict[str, Any] = ECHO_CHILDREN, **fields: Any
) -> dict[str, Any]:
    """A definition of one Distributed Map state of that name, its children's definition and
    any other fields (an ItemReader, a ResultWriter, ...)."""
    state = {"Type": "Map", "ItemProcessor": children, **fields, "End": True}
    return {"StartAt": name, "States": {name: state}}


def s3_reader(resource: str, config: dict[str, Any] | None = None, **parameters: Any) -> dict:
    """An ItemReader of that S3 integration (getObject, listObjectsV2), ReaderConfig and
    Parameters."""
    reader: dict[str, Any] = {"Resource": f"arn:aws:states:::s3:{resource}"}
    if config is not None:
        reader["ReaderConfig"] = config
    return reader | {"Parameters": parameters}
