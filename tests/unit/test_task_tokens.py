"""A call with the token of a closed task answers TaskTimedOut; a token never given out,
InvalidToken (mlwf/offline/task_tokens.py)."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.bridge import Bridge
from mlwf.offline.task_tokens import CLOSED, closed_task_tokens_timed_out
from tests.helpers.executions import wait_until_ended
from tests.helpers.paths import REGION


def closed_task() -> tuple[object, str]:
    """A `.waitForTaskToken` task closed by SendTaskSuccess: the client and its token (the
    function the task invokes only keeps the token it is given)."""
    tokens: list[str] = []
    bridge = Bridge(functions={"keeper": lambda event, _: tokens.append(event["token"])})
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "keeper", "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 30,
        "End": True,
    }
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="m",
        definition=json.dumps({"StartAt": "T", "States": {"T": task}}),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    with bridge:
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        deadline = time.monotonic() + 30
        while not tokens and time.monotonic() < deadline:
            time.sleep(0.01)
        sfn.send_task_success(taskToken=tokens[0], output="{}")
        assert wait_until_ended(sfn, execution)["status"] == "SUCCEEDED"
    return sfn, tokens[0]


def refusal(call) -> dict:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]


def test_the_pinned_moto_answers_invalid_token_for_a_closed_task(aws):
    sfn, token = closed_task()
    assert refusal(lambda: sfn.send_task_success(taskToken=token, output="{}"))["Code"] == (
        "InvalidToken"
    )


@pytest.fixture
def timed_out(aws):
    with closed_task_tokens_timed_out():
        yield


@pytest.mark.parametrize("send", ["success", "failure", "heartbeat"])
def test_a_closed_tasks_token_answers_task_timed_out(timed_out, send):
    sfn, token = closed_task()
    calls = {
        "success": lambda: sfn.send_task_success(taskToken=token, output="{}"),
        "failure": lambda: sfn.send_task_failure(taskToken=token, error="E"),
        "heartbeat": lambda: sfn.send_task_heartbeat(taskToken=token),
    }
    error = refusal(calls[send])
    assert (error["Code"], error["Message"]) == ("TaskTimedOut", CLOSED)


def test_a_token_never_given_out_is_still_invalid(timed_out):
    closed_task()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert refusal(lambda: sfn.send_task_heartbeat(taskToken="made-up"))["Code"] == "InvalidToken"
