"""An optimized integration's result carries SdkHttpMetadata and SdkResponseMetadata, as AWS
recorded them (mlwf/offline/sdk_metadata.py: LocalStack's snapshot tests, recorded against
AWS, 2024-2025); an AWS SDK integration's does not, nor the end of a callback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import one_task_machine
from tests.helpers.executions import history_events, run_to_end, wait_until_ended
from tests.helpers.tables import string_keyed_table

pytestmark = pytest.mark.offline

ECHO = "echo"


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        stack.bridge.functions[ECHO] = lambda event, _: event
        yield stack


def task_output(stack: OfflineStack, ended: dict, event_type: str = "TaskSucceeded") -> dict:
    details = next(
        event[key]
        for event in history_events(stack.sfn, ended)
        if event["type"] == event_type
        for key in event
        if key.endswith("EventDetails")
    )
    return json.loads(details["output"])


def test_a_lambda_invoke_result_carries_the_answers_metadata(stack):
    # Given a lambda:invoke step, as the workflow's
    parameters = {"FunctionName": ECHO, "Payload": {"a": 1}}
    invoke = "arn:aws:states:::lambda:invoke"
    ended = run_to_end(stack.sfn, one_task_machine("T", invoke, Parameters=parameters))
    assert ended["status"] == "SUCCEEDED"
    result = json.loads(ended["output"])
    # Then beside the payload: the answer's status, headers and request id, as AWS's
    assert result["Payload"] == {"a": 1} and result["StatusCode"] == 200
    metadata = result["SdkHttpMetadata"]
    assert set(metadata) == {"AllHttpHeaders", "HttpHeaders", "HttpStatusCode"}
    assert metadata["HttpStatusCode"] == 200
    headers = metadata["HttpHeaders"]
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(json.dumps({"a": 1}, ensure_ascii=False)))
    assert headers["Date"].endswith(" GMT")
    assert result["SdkResponseMetadata"] == {"RequestId": headers["x-amzn-RequestId"]}
    # each header also as a list, as AWS's Java SDK gives all of them
    assert metadata["AllHttpHeaders"] == {name: [value] for name, value in headers.items()}
    # in AWS's order: names compared case-insensitively
    assert list(headers) == sorted(headers, key=str.lower)


def test_a_workflow_can_read_the_metadata_as_on_aws(stack):
    # Given a step whose ResultSelector reads the status, as a user's might
    parameters = {"FunctionName": ECHO, "Payload": {}}
    selector = {
        "status.$": "$.SdkHttpMetadata.HttpStatusCode",
        "id.$": "$.SdkResponseMetadata.RequestId",
    }
    invoke = "arn:aws:states:::lambda:invoke"
    machine = one_task_machine("T", invoke, Parameters=parameters, ResultSelector=selector)
    ended = run_to_end(stack.sfn, machine)
    # Then it succeeds (offline, before, the path did not exist)
    assert ended["status"] == "SUCCEEDED", ended
    output = json.loads(ended["output"])
    assert output["status"] == 200 and len(output["id"]) == 36


def test_each_recorded_integration_carries_it(stack):
    topic = stack.client("sns").create_topic(Name="metadata")["TopicArn"]
    queue = stack.client("sqs").create_queue(QueueName="metadata")["QueueUrl"]
    string_keyed_table(stack.client("dynamodb"), "metadata", key="k")
    steps = {
        "sns:publish": {"TopicArn": topic, "Message": "m"},
        "sqs:sendMessage": {"QueueUrl": queue, "MessageBody": "m"},
        "dynamodb:putItem": {"TableName": "metadata", "Item": {"k": {"S": "a"}}},
    }
    for resource, parameters in steps.items():
        machine = one_task_machine("T", f"arn:aws:states:::{resource}", Parameters=parameters)
        result = json.loads(run_to_end(stack.sfn, machine)["output"])
        assert result["SdkHttpMetadata"]["HttpStatusCode"] == 200, resource
        request_id = result["SdkResponseMetadata"]["RequestId"]
        assert result["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"] == request_id


def test_an_aws_sdk_integrations_result_has_none(stack):
    queue = stack.client("sqs").create_queue(QueueName="sdk")["QueueUrl"]
    parameters = {"QueueUrl": queue, "MessageBody": "m"}
    machine = one_task_machine(
        "T", "arn:aws:states:::aws-sdk:sqs:sendMessage", Parameters=parameters
    )
    result = json.loads(run_to_end(stack.sfn, machine)["output"])
    assert "MessageId" in result
    assert "SdkHttpMetadata" not in result and "SdkResponseMetadata" not in result


def test_a_callback_step_has_it_when_submitted_not_when_it_ends(stack):
    # Given a sqs:sendMessage.waitForTaskToken step, and its token sent back
    queue = stack.client("sqs").create_queue(QueueName="callback")["QueueUrl"]
    parameters = {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}
    resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    machine = one_task_machine("T", resource, Parameters=parameters)
    arn = stack.sfn.create_state_machine(
        name="callback",
        definition=json.dumps(machine),
        roleArn="arn:aws:iam::123456789012:role/callback",
    )["stateMachineArn"]
    started = stack.sfn.start_execution(stateMachineArn=arn, input="{}")
    message = stack.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=10)
    token = json.loads(message["Messages"][0]["Body"])["token"]
    stack.sfn.send_task_success(taskToken=token, output=json.dumps({"done": True}))
    ended = wait_until_ended(stack.sfn, started["executionArn"])
    # Then the TaskSubmitted output (sendMessage's answer) has it; the step's result not
    assert task_output(stack, ended, "TaskSubmitted")["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert task_output(stack, ended, "TaskSucceeded") == {"done": True}
