"""A lambda:invoke task's fields checked as Step Functions checks them
(mlwf.offline.integration_fields): a field the Invoke API lacks fails the state with
"The field ... is not supported by Step Functions"; the API's own fields pass; and moto's
method, which the patch repeats with the check inside, pinned."""

from __future__ import annotations

import inspect
import json
from typing import Any

import boto3
import pytest

from mlwf.offline.integration_fields import invoke_fields, lambda_fields_checked
from tests.helpers.executions import run_to_end

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:nowhere"


def invoking(parameters: dict[str, Any]) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    return {"StartAt": "T", "States": {"T": {**task, "Parameters": parameters}}}


def run(definition: dict[str, Any]) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with lambda_fields_checked():
        return run_to_end(sfn, definition, json.dumps({"s3_key": "k"}))


@pytest.mark.parametrize(
    "parameters, field",
    [
        ({"FunctionName": FUNCTION, "Payload.$": "$", "Foo": 1}, "Foo"),
        ({"FunctionName": FUNCTION, "payload.$": "$"}, "payload"),  # misspelt: moto sent {}
        (
            {"FunctionName": FUNCTION, "Payload.$": "$", "TaskToken.$": "$$.Execution.Id"},
            "TaskToken",
        ),
    ],
)
def test_a_field_the_invoke_api_lacks_fails_the_state(aws, parameters, field):
    ended = run(invoking(parameters))
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")
    assert ended["cause"].endswith(f'The field "{field}" is not supported by Step Functions')


def test_the_invoke_apis_own_fields_pass_the_check(aws):
    parameters = {
        "FunctionName": FUNCTION,
        "Payload.$": "$",
        "InvocationType": "RequestResponse",
        "LogType": "None",
        "Qualifier": "$LATEST",
    }
    ended = run(invoking(parameters))
    # past the check, to moto's call of a function that does not exist
    assert (ended["status"], ended["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    assert {"FunctionName", "Payload", "InvocationType", "ClientContext"} <= invoke_fields()


def test_the_pinned_moto_evaluates_then_drops_what_it_does_not_pass_on():
    # The patch repeats these two steps with the check between them: when moto's method
    # changes, this fails, and the patch must be read again
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )

    source = inspect.getsource(StateTask._eval_parameters)
    body = [line.strip() for line in source.splitlines() if line.strip() and "#" not in line]
    assert body == [
        "def _eval_parameters(self, env: Environment) -> dict:",
        "parameters = {}",
        "if self.parargs is not None:",
        "self.parargs.eval(env=env)",
        "parameters = env.stack.pop()",
        "supported_parameters = self._get_supported_parameters()",
        "if supported_parameters:",
        "unsupported_parameters: list[str] = [",
        "parameter",
        "for parameter in parameters.keys()",
        "if parameter not in supported_parameters",
        "]",
        "for unsupported_parameter in unsupported_parameters:",
        "parameters.pop(unsupported_parameter, None)",
        "return parameters",
    ]
