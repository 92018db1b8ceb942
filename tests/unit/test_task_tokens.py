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


def waiting_task(timing: dict, after: dict | None = None) -> tuple[object, str, str]:
    """A started `.waitForTaskToken` task nobody answers: the client, its execution, its
    token. `after`: the catcher's next state (a task past its timeout goes there)."""
    tokens: list[str] = []
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "keeper", "Payload": {"token.$": "$$.Task.Token"}},
        **timing,
        "End": True,
    }
    states = {"T": task}
    if after is not None:
        task["Catch"] = [{"ErrorEquals": ["States.Timeout"], "Next": "After"}]
        states["After"] = after
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name=f"m{len(sfn.list_state_machines()['stateMachines'])}",
        definition=json.dumps({"StartAt": "T", "States": states}),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    with Bridge(functions={"keeper": lambda event, _: tokens.append(event["token"])}):
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        deadline = time.monotonic() + 30
        while not tokens and time.monotonic() < deadline:
            time.sleep(0.01)
    return sfn, execution, tokens[0]


def test_a_heartbeat_for_an_open_task_without_heartbeat_seconds_is_taken(timed_out):
    sfn, execution, token = waiting_task({"TimeoutSeconds": 30})
    sfn.send_task_heartbeat(taskToken=token)  # AWS takes it: the task is open
    sfn.send_task_success(taskToken=token, output="{}")
    assert wait_until_ended(sfn, execution)["status"] == "SUCCEEDED"


def test_a_task_past_its_timeout_is_closed_though_its_execution_runs_on(timed_out):
    # Given a task that timed out, caught, and its execution waiting in the next state
    after = {"Type": "Wait", "Seconds": 30, "End": True}
    sfn, execution, token = waiting_task({"TimeoutSeconds": 1}, after)
    deadline = time.monotonic() + 30
    history: list[str] = []
    while "WaitStateEntered" not in history and time.monotonic() < deadline:
        time.sleep(0.05)
        events = sfn.get_execution_history(executionArn=execution)["events"]
        history = [e["type"] for e in events]
    # Then its token is the token of a closed task
    error = refusal(lambda: sfn.send_task_success(taskToken=token, output="{}"))
    assert error["Code"] == "TaskTimedOut"
    sfn.stop_execution(executionArn=execution)


def test_an_execution_failed_on_its_tasks_timeout_closed_the_task(timed_out):
    sfn, execution, token = waiting_task({"TimeoutSeconds": 1})
    assert wait_until_ended(sfn, execution)["status"] == "FAILED"
    error = refusal(lambda: sfn.send_task_failure(taskToken=token, error="E"))
    assert error["Code"] == "TaskTimedOut"
