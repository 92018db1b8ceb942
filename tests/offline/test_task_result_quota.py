"""A Task whose result passes Step Functions' size quota fails with States.DataLimitExceeded,
and a Catch on States.ALL takes it, as AWS's recorded runs show (LocalStack's
test_states_errors.py::test_*_catch_state_all_data_limit_exceeded_on_large_utf8_response,
recorded against AWS 2024-03-21); moto's Catch passed over it, as the error-handling page
says States.ALL does for a state's own terminal DataLimitExceeded
(mlwf.offline.state_errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import run_to_end

pytestmark = pytest.mark.offline

FUNCTION = "too-big"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
CAUSE = "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit."  # noqa: E501


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        # a function whose result is 300 KiB, past the 256 KiB quota
        stack.bridge.functions[FUNCTION] = lambda event, _: "x" * (300 * 1024)
        yield stack


@pytest.mark.parametrize(
    ("resource", "parameters", "named", "failed_event"),
    [
        ("arn:aws:states:::lambda:invoke", {"FunctionName": FUNCTION}, "lambda", "TaskFailed"),
        (ARN, None, ARN, "LambdaFunctionFailed"),
    ],
    ids=["lambda-invoke", "lambda-arn"],
)
def test_a_catch_on_states_all_takes_a_task_result_over_the_quota(
    stack, resource, parameters, named, failed_event
):
    # Given a Task whose function answers past the quota, and a Catch on States.ALL
    task = {"Type": "Task", "Resource": resource, "End": True}
    task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "HandleGeneralError"}]
    if parameters:
        task["Parameters"] = parameters
    handler = {"Type": "Pass", "End": True}
    definition = {"StartAt": "T", "States": {"T": task, "HandleGeneralError": handler}}
    # When it runs
    ended = run_to_end(stack.sfn, definition)
    # Then the Catch takes States.DataLimitExceeded, as in AWS's recorded run
    assert ended["status"] == "SUCCEEDED", ended
    caught = {"Error": "States.DataLimitExceeded", "Cause": CAUSE.format(named)}
    assert json.loads(ended["output"]) == caught
    history = stack.sfn.get_execution_history(executionArn=ended["executionArn"])["events"]
    assert [e["type"] for e in history][-5:] == [
        failed_event,
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
