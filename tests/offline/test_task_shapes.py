"""Service tasks' requests, results and errors are shaped as Step Functions shapes them
(mlwf.offline.task_shapes): an AWS SDK task takes Step Functions' PascalCase parameters,
its result is JSON with PascalCase keys, and its errors are named `Service.Error` in
Pascal case. Each case failed offline before: a KeyError, an HTTP 500 from
DescribeExecution, a Catch that never fired."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import run_to_end, wait_until_ended
from tests.helpers.tables import string_keyed_table

pytestmark = pytest.mark.offline


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def task(resource: str, parameters: dict, **more: object) -> dict:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **more}


def test_an_sdk_task_takes_pascal_case_parameters_and_answers_in_pascal_case(stack):
    # Given a machine that describes its own execution with the camelCase API
    # DescribeExecution, its parameter in Step Functions' PascalCase
    definition = {
        "StartAt": "Describe",
        "States": {
            "Describe": task(
                "arn:aws:states:::aws-sdk:sfn:describeExecution",
                {"ExecutionArn.$": "$$.Execution.Id"},
                End=True,
            )
        },
    }
    ended = run_to_end(stack.sfn, definition)
    # Then it ran, and its result is JSON with PascalCase keys, the date as text
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    described = json.loads(ended["output"])
    assert described["Status"] == "RUNNING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", described["StartDate"])


def test_a_blob_in_a_result_is_base64_text(stack):
    # Given an item with a binary attribute, read by the optimized DynamoDB integration
    dynamodb = stack.client("dynamodb")
    string_keyed_table(dynamodb, "blobs")
    dynamodb.put_item(TableName="blobs", Item={"id": {"S": "1"}, "blob": {"B": b"hello"}})
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": task(
                "arn:aws:states:::dynamodb:getItem",
                {"TableName": "blobs", "Key": {"id": {"S": "1"}}},
                End=True,
            )
        },
    }
    ended = run_to_end(stack.sfn, definition)
    # Then DescribeExecution answers (it failed on the bytes) with DynamoDB's JSON form
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    assert json.loads(ended["output"])["Item"]["blob"] == {"B": "aGVsbG8="}


def test_an_sdk_task_s_error_is_named_in_pascal_case_and_caught_by_that_name(stack):
    # Given a Catch of the documented name of SSM's ParameterNotFound
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": task(
                "arn:aws:states:::aws-sdk:ssm:getParameter",
                {"Name": "/nowhere"},
                Catch=[{"ErrorEquals": ["Ssm.ParameterNotFoundException"], "Next": "Missing"}],
                End=True,
            ),
            "Missing": {"Type": "Pass", "End": True},
        },
    }
    ended = run_to_end(stack.sfn, definition)
    # Then it is caught (the error was `ssm.ParameterNotFoundException`)
    assert ended["status"] == "SUCCEEDED", ended.get("error")
    assert json.loads(ended["output"])["Error"] == "Ssm.ParameterNotFoundException"


@pytest.mark.parametrize(
    ("resource", "parameters", "error"),
    [
        (
            "arn:aws:states:::aws-sdk:cloudwatchlogs:describeLogStreams",
            {"LogGroupName": "/nowhere"},
            "CloudWatchLogs.ResourceNotFoundException",
        ),
        (
            "arn:aws:states:::aws-sdk:eventbridge:describeRule",
            {"Name": "nowhere"},
            "EventBridge.ResourceNotFoundException",
        ),
    ],
)
def test_an_sdk_task_reaches_the_service_the_table_names_and_its_error_has_its_prefix(
    stack, resource, parameters, error
):
    # Given SDK tasks that name CloudWatch Logs and EventBridge as Step Functions' table does
    # (botocore calls them logs and events), each caught by the table's exception prefix
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": task(
                resource,
                parameters,
                Catch=[{"ErrorEquals": [error], "Next": "Missing"}],
                End=True,
            ),
            "Missing": {"Type": "Pass", "End": True},
        },
    }
    ended = run_to_end(stack.sfn, definition)
    # Then each called its service, which answered the missing resource (the call failed
    # with "Unknown service: 'cloudwatchlogs'"), and the Catch fired
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    assert json.loads(ended["output"])["Error"] == error


def test_an_optimized_dynamodb_error_it_does_not_model_is_its_base_exception(stack):
    # Given a getItem whose key is not the table's: DynamoDB answers ValidationException,
    # which its API does not model (AWS names it DynamoDB.AmazonDynamoDBException)
    string_keyed_table(stack.client("dynamodb"), "keyed")
    caught = "DynamoDB.AmazonDynamoDBException"
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": task(
                "arn:aws:states:::dynamodb:getItem",
                {"TableName": "keyed", "Key": {"wrong": {"S": "1"}}},
                Catch=[{"ErrorEquals": [caught], "Next": "Invalid"}],
                End=True,
            ),
            "Invalid": {"Type": "Pass", "End": True},
        },
    }
    ended = run_to_end(stack.sfn, definition)
    # Then the Catch of that name fires (it was DynamoDB.ValidationException)
    assert ended["status"] == "SUCCEEDED", ended.get("error")
    assert json.loads(ended["output"])["Error"] == caught


def test_a_nested_start_its_role_may_not_make_is_named_once(stack):
    # Given a machine under the workflow's role, which may not start executions, that
    # starts one
    role = stack.spec.state_machines["ImageClassificationStateMachine"].role_arn
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": task(
                "arn:aws:states:::states:startExecution",
                {"StateMachineArn": stack.state_machine_arn()},
                End=True,
            )
        },
    }
    arn = stack.sfn.create_state_machine(
        name="nested", definition=json.dumps(definition), roleArn=role
    )["stateMachineArn"]
    started = stack.sfn.start_execution(stateMachineArn=arn)
    ended = wait_until_ended(stack.sfn, started["executionArn"])
    # Then it fails with the SDK's base exception of the service (it was
    # StepFunctions.AccessDeniedExceptionException), the denial in its cause
    assert ended["status"] == "FAILED"
    assert ended["error"] == "StepFunctions.AWSStepFunctionsException"
    assert "is not authorized to perform: states:StartExecution" in ended["cause"]


NULL_ITEM = (
    "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
    "Member must not be null"
)


@pytest.mark.parametrize(
    ("resource", "error"),
    [
        # as LocalStack recorded AWS's answers (test_dynamodb_invalid_param, test_invalid_param)
        ("arn:aws:states:::aws-sdk:dynamodb:putItem", "DynamoDb.DynamoDbException"),
        ("arn:aws:states:::dynamodb:putItem", "DynamoDB.AmazonDynamoDBException"),
    ],
)
def test_a_null_item_fails_as_dynamodb_fails_it(stack, resource, error):
    definition = {
        "StartAt": "Put",
        "States": {"Put": task(resource, {"TableName": "keyed", "Item": None}, End=True)},
    }
    ended = run_to_end(stack.sfn, definition)
    # Then the call failed with DynamoDB's validation error (it was Python's AttributeError,
    # "'NoneType' object has no attribute 'items'")
    assert (ended["status"], ended["error"]) == ("FAILED", error)
    assert ended["cause"].startswith(NULL_ITEM)


def test_sqs_answers_are_named_as_aws_names_them(stack):
    url = stack.client("sqs").create_queue(QueueName="named")["QueueUrl"]
    cases = [
        # a null body: the SDK leaves it out, SQS answers MissingParameter (it sent "null")
        (
            {"QueueUrl": url, "MessageBody": None},
            "SQS.AmazonSQSException",
            "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
            "Status Code: 400; Error Code: MissingParameter;",
        ),
        # a queue's name for its URL: the SDK cannot send it
        (
            {"QueueUrl": "no-such-queue", "MessageBody": "m"},
            "SQS.SdkClientException",
            "Unable to execute HTTP request: no-such-queue: Name or service not known",
        ),
    ]
    for parameters, error, cause in cases:
        definition = {
            "StartAt": "Send",
            "States": {"Send": task("arn:aws:states:::sqs:sendMessage", parameters, End=True)},
        }
        ended = run_to_end(stack.sfn, definition)
        assert (ended["status"], ended["error"]) == ("FAILED", error)
        assert ended["cause"].startswith(cause)


def test_an_sdk_result_key_is_the_members_name_as_aws_gives_it(stack):
    # Given an S3 put with a checksum: the result's member is ChecksumCRC32, which AWS
    # answers as it is (LocalStack's recording; moto's snake-case round trip gave
    # ChecksumCrc32)
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": task(
                "arn:aws:states:::aws-sdk:s3:putObject",
                {
                    "Bucket": stack.bucket_name(),
                    "Key": "checksummed.json",
                    "Body": {"a": 1},
                    "ChecksumAlgorithm": "CRC32",
                },
                End=True,
            )
        },
    }
    ended = run_to_end(stack.sfn, definition)
    assert ended["status"] == "SUCCEEDED", ended.get("cause")
    assert "ChecksumCRC32" in json.loads(ended["output"])


def test_a_message_body_keeps_its_nulls(stack):
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="bodies")["QueueUrl"]
    body = {"status": None, "id": 1}
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": task(
                "arn:aws:states:::sqs:sendMessage",
                {"QueueUrl": url, "MessageBody": body},
                End=True,
            )
        },
    }
    assert run_to_end(stack.sfn, definition)["status"] == "SUCCEEDED"
    received = sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
    assert json.loads(received) == body


def test_an_sdk_task_its_role_may_not_call_fails_with_the_services_error(stack):
    # Given the workflow's role, which may not read parameters, and an SDK step that does
    role = stack.spec.state_machines["ImageClassificationStateMachine"].role_arn
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": task("arn:aws:states:::aws-sdk:ssm:getParameter", {"Name": "/x"}, End=True)
        },
    }
    arn = stack.sfn.create_state_machine(
        name="denied-sdk", definition=json.dumps(definition), roleArn=role
    )["stateMachineArn"]
    ended = wait_until_ended(
        stack.sfn, stack.sfn.start_execution(stateMachineArn=arn)["executionArn"]
    )
    # Then the step fails with SSM's modelled AccessDeniedException, in the table's prefix
    assert (ended["status"], ended["error"]) == ("FAILED", "Ssm.AccessDeniedException")
    assert "is not authorized to perform: ssm:GetParameter" in ended["cause"]
