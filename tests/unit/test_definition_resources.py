"""CreateStateMachine refuses a Task whose service integration AWS does not recognize
(mlwf.offline.definition_resources), in AWS's words, where moto took it and failed the
execution at that state, ran it, or refused it in its own words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.definition_resources import recognized, resource_diagnostics
from tests.helpers.definitions import ROLE, one_task, refused_where_moto_took_it
from tests.helpers.paths import PROJECT_ROOT

NOT_RECOGNIZED = (
    "SCHEMA_VALIDATION_FAILED: The resource provided {} is not recognized. The value is not "
    "a valid resource ARN, or the resource is not available in this region. at {}/Resource"
)


def test_a_pascal_case_sdk_action_is_refused_in_the_words_aws_gave(aws):
    # AWS's answer to this Resource, quoted in aws/aws-cdk#27635 (CloudFormation's event)
    resource = "arn:aws:states:::aws-sdk:cloudwatchlogs:CreateLogStream"
    assert refused_where_moto_took_it(one_task("SendTaskSuccess", resource)) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The resource provided "
        "arn:aws:states:::aws-sdk:cloudwatchlogs:CreateLogStream is not recognized. The value "
        "is not a valid resource ARN, or the resource is not available in this region. at "
        "/States/SendTaskSuccess/Resource'"
    )


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::aws-sdk:s3:GetObject",  # the action in Pascal case
        "arn:aws:states:::aws-sdk:s3:getObjects",  # no such action
        "arn:aws:states:::aws-sdk:logs:createLogStream",  # botocore's name, not the table's
        "arn:aws:states:::aws-sdk:nosuchservice:getThing",
        "arn:aws:states:::aws-sdk:s3",  # no action
        "arn:aws:states:::aws-sdk:codebuild:startBuild.sync",  # aws/aws-cdk#19174
        "arn:aws:states:::aws-sdk:lambda:invokeAsync",  # the page's unsupported actions
        "arn:aws:states:::dynamodb:putItem.waitForTaskToken",  # Request Response only
        "arn:aws:states:::sns:publish.sync",  # no job run
        "arn:aws:states:::lambda:invoke.sync",
    ],
)
def test_a_resource_aws_does_not_recognize_is_refused_where_moto_took_it(aws, resource):
    message = refused_where_moto_took_it(one_task("T", resource))
    assert (
        message
        == f"Invalid State Machine Definition: '{NOT_RECOGNIZED.format(resource, '/States/T')}'"
    )


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::dynamodb:query",  # moto: "Error=ValueError Args=[...]"
        "arn:aws:states:::lambda:invoke.callback",  # moto: a RuntimeError's words
        "arn:aws:states:::foo:bar",  # moto: RecognitionException "Unknown service 'foo'"
    ],
)
def test_a_resource_moto_refused_in_its_own_words_is_refused_in_awss(sfn, resource):
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name="m", definition=one_task("T", resource), roleArn=ROLE)
    message = raised.value.response["Error"]["Message"]
    assert (
        message
        == f"Invalid State Machine Definition: '{NOT_RECOGNIZED.format(resource, '/States/T')}'"
    )


@pytest.fixture
def sfn(aws) -> Iterator[Any]:
    from mlwf.offline.definition_validation import definitions_checked

    with definitions_checked():
        yield boto3.client("stepfunctions", region_name="us-east-1")


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::sns:publish.waitForTaskToken",
        "arn:aws:states:::sqs:sendMessage",
        "arn:aws:states:::events:putEvents.waitForTaskToken",
        "arn:aws:states:::dynamodb:putItem",
        "arn:aws:states:::dynamodb:PutItem",  # as moto takes it; AWS's answer not recorded
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::aws-sdk:s3:getObject",
        "arn:aws:states:::aws-sdk:s3:listObjectsV2.waitForTaskToken",
        "arn:aws:states:::aws-sdk:cloudwatchlogs:createLogStream",
        "arn:aws:states:::aws-sdk:eventbridge:putEvents",
        "arn:aws:states:::aws-sdk:sfn:startSyncExecution",
        "arn:aws:states:::glue:startJobRun.sync",  # not run offline: moto's to answer
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:us-east-1:123456789012:activity:review",
    ],
)
def test_a_resource_aws_recognizes_passes(resource):
    assert recognized(resource)


def test_tasks_in_a_branch_and_an_item_processor_are_found_where_they_are():
    inner = json.loads(one_task("Run", "arn:aws:states:::aws-sdk:s3:GetObject"))
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [inner], "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": inner, "End": True},
        },
    }
    assert resource_diagnostics(definition) == [
        NOT_RECOGNIZED.format("arn:aws:states:::aws-sdk:s3:GetObject", f"{at}/States/Run")
        for at in ("/States/P/Branches[0]", "/States/M/ItemProcessor")
    ]


@pytest.mark.parametrize("name", ["image_classification", "batch_classification"])
def test_the_projects_definitions_pass(name):
    document = json.loads((PROJECT_ROOT / "statemachine" / f"{name}.asl.json").read_text())
    assert resource_diagnostics(document) == []


@pytest.mark.parametrize("credentials", [{}, {"InvalidField": "invalid"}, "arn:aws:iam::1:role/r"])
def test_credentials_without_a_role_arn_are_refused_in_the_words_aws_gave(sfn, credentials):
    # AWS's answer as LocalStack recorded it (test_invalid_credentials_field); moto's parser
    # refused it as an ASLParserException
    definition = one_task(
        "State0",
        "arn:aws:states:::lambda:invoke",
        Parameters={"FunctionName": "f"},
        Credentials=credentials,
    )
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name="m", definition=definition, roleArn=ROLE)
    assert raised.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is "
        "required but was missing at /States/State0/Credentials'"
    )


def test_credentials_with_a_role_arn_pass():
    for credentials in ({"RoleArn": "arn:aws:iam::1:role/r"}, {"RoleArn.$": "$.role"}):
        state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}
        document = {"StartAt": "T", "States": {"T": {**state, "Credentials": credentials}}}
        assert resource_diagnostics(document) == []
