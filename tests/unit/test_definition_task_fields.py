"""CreateStateMachine refuses an AWS SDK task whose Parameters have a field its API request
lacks (mlwf.offline.definition_task_fields), in AWS's words; moto took it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.definition_task_fields import field_diagnostics_of_tasks, step_functions_names

ROLE = "arn:aws:iam::123456789012:role/r"


def machine(resource: str, parameters: Any, *, jsonata: bool = False) -> dict[str, Any]:
    field = "Arguments" if jsonata else "Parameters"
    state = {"Type": "Task", "Resource": resource, field: parameters, "End": True}
    document = {"StartAt": "T", "States": {"T": state}}
    return {**document, "QueryLanguage": "JSONata"} if jsonata else document


def unsupported(field: str, where: str = "/States/T/Parameters") -> str:
    return (
        f'SCHEMA_VALIDATION_FAILED: The field "{field}" is not supported by Step Functions '
        f"at {where}"
    )


@pytest.fixture
def sfn(aws) -> Iterator[Any]:
    from mlwf.offline.definition_validation import definitions_checked

    with definitions_checked():
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_a_field_the_request_lacks_is_refused_in_the_words_aws_gave(sfn):
    # Given the task aws/aws-cdk#29968 quotes AWS's refusal of: Definition's member is
    # `Static` (a union), the field written `static`
    definition = machine(
        "arn:aws:states:::aws-sdk:verifiedpermissions:createPolicy",
        {"PolicyStoreId": "p", "Definition": {"static": {"Statement": "permit(...);"}}},
    )
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)
    assert raised.value.response["Error"]["Code"] == "InvalidDefinition"
    assert raised.value.response["Error"]["Message"] == (
        'Invalid State Machine Definition: \'SCHEMA_VALIDATION_FAILED: The field "static" is '
        "not supported by Step Functions at /States/T/Parameters'"
    )


def test_moto_alone_creates_a_machine_with_a_field_the_request_lacks(aws):
    # What the check is for; when this fails, moto checks it: compare its words with AWS's
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = machine("arn:aws:states:::aws-sdk:s3:headObject", {"Bucket": "b", "Foo": 1})
    sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)


@pytest.mark.parametrize(
    ("resource", "parameters", "field"),
    [
        ("arn:aws:states:::aws-sdk:s3:headObject", {"Bucket": "b", "Key": "k", "Foo": 1}, "Foo"),
        ("arn:aws:states:::aws-sdk:s3:getObject", {"bucket": "b", "Key": "k"}, "bucket"),
        ("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket.$": "$.b", "Keys.$": "$.k"}, "Keys"),
        # camelCase as the SFN API spells it; Step Functions takes ExecutionArn
        ("arn:aws:states:::aws-sdk:sfn:describeExecution", {"executionArn": "a"}, "executionArn"),
        # nested: a Tag's members are Key and Value
        (
            "arn:aws:states:::aws-sdk:sqs:createQueue",
            {"QueueName": "q", "tags": {"a": "b"}},
            "tags",
        ),
        (
            "arn:aws:states:::aws-sdk:sns:createTopic",
            {"Name": "t", "Tags": [{"key": "a", "Value": "b"}]},
            "key",
        ),
        (
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            {"TableName": "t", "Item": {"id": {"Str": "1"}}},
            "Str",
        ),
    ],
)
def test_an_unknown_misspelt_or_camel_case_field_is_named(resource, parameters, field):
    assert field_diagnostics_of_tasks(machine(resource, parameters)) == [unsupported(field)]


@pytest.mark.parametrize(
    ("resource", "parameters"),
    [
        ("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket.$": "$.b", "Key.$": "$.k"}),
        ("arn:aws:states:::aws-sdk:sfn:describeExecution", {"ExecutionArn.$": "$$.Execution.Id"}),
        # a map's keys are the caller's, its values' members checked
        (
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            {"TableName": "t", "Item": {"id": {"S.$": "$.id"}, "any name": {"N": "1"}}},
        ),
        (
            "arn:aws:states:::aws-sdk:eventbridge:putEvents",
            {"Entries": [{"Source": "s", "DetailType": "d", "Detail": {"free": "form"}}]},
        ),
        ("arn:aws:states:::aws-sdk:s3:putObject", {"Bucket": "b", "Key": "k", "Body": {"a": 1}}),
        ("arn:aws:states:::aws-sdk:s3:listBuckets", {}),
        # the Java SDK's spellings, as public workflows for AWS write them
        ("arn:aws:states:::aws-sdk:rds:describeDBInstances", {"DbInstanceIdentifier.$": "$.id"}),
        (
            "arn:aws:states:::aws-sdk:route53:changeResourceRecordSets",
            {
                "HostedZoneId": "Z1",
                "ChangeBatch": {
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {"Name": "a.example.com", "Type": "A", "Ttl": 60},
                        }
                    ]
                },
            },
        ),
        ("arn:aws:states:::aws-sdk:s3:getObject", "$.anything"),  # not a mapping: not read
        ("arn:aws:states:::lambda:invoke", {"Foo": 1}),  # checked at run time, as recorded
    ],
)
def test_the_requests_own_fields_pass(resource, parameters):
    assert field_diagnostics_of_tasks(machine(resource, parameters)) == []


def test_a_jsonata_states_arguments_are_checked_and_its_expressions_left_to_run_time():
    resource = "arn:aws:states:::aws-sdk:s3:getObject"
    good = {"Bucket": "{% $states.input.b %}", "Key": "k"}
    assert field_diagnostics_of_tasks(machine(resource, good, jsonata=True)) == []
    assert field_diagnostics_of_tasks(machine(resource, "{% $states.input %}", jsonata=True)) == []
    bad = machine(resource, {"Bucket": "b", "Kee": "{% $x %}"}, jsonata=True)
    assert field_diagnostics_of_tasks(bad) == [unsupported("Kee", "/States/T/Arguments")]


def test_member_names_are_pascal_case_the_java_sdks_and_equals_is_equals_value():
    # supported-services-awssdk.html: "API fields for equals will be referred to in your
    # state machines as: EqualsValue"
    assert step_functions_names("executionArn") == {"ExecutionArn"}
    assert step_functions_names("Bucket") == {"Bucket"}
    assert step_functions_names("Equals") == {"EqualsValue"}
    # the Java SDK's spelling, as public workflows for AWS write RDS's and Route 53's fields
    assert step_functions_names("DBInstanceIdentifier") == {
        "DbInstanceIdentifier",
        "DBInstanceIdentifier",
    }
    assert "Ttl" in step_functions_names("TTL")


@pytest.mark.parametrize(
    ("resource", "parameters", "field"),
    [
        # moto dropped these and ran the task (a user-edit walk)
        ("arn:aws:states:::sns:publish", {"TopicArn": "t", "Message": "m", "Foo": 1}, "Foo"),
        ("arn:aws:states:::dynamodb:putItem", {"TableName": "t", "Item": {}, "Foo": 1}, "Foo"),
        (
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            {"QueueUrl": "q", "Body": "b"},
            "Body",
        ),
        (
            "arn:aws:states:::events:putEvents",
            {"Entries": [{"Source": "s", "Details": "d"}]},
            "Details",
        ),
        ("arn:aws:states:::states:startExecution.sync:2", {"StateMachine": "a"}, "StateMachine"),
    ],
)
def test_an_optimized_tasks_field_its_api_lacks_is_named(resource, parameters, field):
    assert field_diagnostics_of_tasks(machine(resource, parameters)) == [unsupported(field)]


@pytest.mark.parametrize(
    ("resource", "parameters"),
    [
        ("arn:aws:states:::sns:publish", {"TopicArn": "t", "Message.$": "$", "Subject": "s"}),
        (
            "arn:aws:states:::dynamodb:updateItem",
            {
                "TableName": "t",
                "Key": {"id": {"S.$": "$.id"}},
                "UpdateExpression": "SET #c = :c",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":c": {"N": "1"}},
            },
        ),
        (
            "arn:aws:states:::states:startExecution.sync:2",
            {
                "StateMachineArn": "a",
                "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
            },
        ),
        ("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": {"any": "object"}}),
    ],
)
def test_an_optimized_tasks_own_fields_pass(resource, parameters):
    assert field_diagnostics_of_tasks(machine(resource, parameters)) == []


def test_create_refuses_an_optimized_field_the_api_lacks_which_moto_alone_takes(aws):
    import boto3

    from mlwf.offline.definition_validation import definitions_checked

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    parameters = {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m", "Foo": 1}
    definition = json.dumps(machine("arn:aws:states:::sns:publish", parameters))
    sfn.create_state_machine(name="moto", definition=definition, roleArn=ROLE)  # moto alone
    with definitions_checked(), pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name="checked", definition=definition, roleArn=ROLE)
    assert raised.value.response["Error"]["Message"] == (
        f"Invalid State Machine Definition: '{unsupported('Foo')}'"
    )
