"""What CreateStateMachine refuses for an EXPRESS machine (mlwf.offline.definition_express):
job runs, callbacks and activities, which moto created and ran."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.definition_express import express_diagnostics
from tests.helpers.definitions import one_task
from tests.helpers.paths import PROJECT_ROOT

ROLE = "arn:aws:iam::123456789012:role/r"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
# AWS's answers to these definitions, with their state names, as LocalStack recorded them
# (tests/aws/services/stepfunctions/v2/test_sfn_api_express.snapshot.json, 2024-07-03)
RECORDED = {
    "Publish": (
        "arn:aws:states:::sns:publish.waitForTaskToken",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine "
        "does not support '.waitForTaskToken' service integration  at /States/Publish/Resource'",
    ),
    "StartExecution": (
        "arn:aws:states:::states:startExecution.sync",
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine "
        "does not support '.sync' service integration at /States/StartExecution/Resource'",
    ),
    "ActivityTask": (
        ACTIVITY,
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine "
        "does not support Activity ARN at /States/ActivityTask/Resource'",
    ),
}


def task(name: str, resource: str) -> str:
    return one_task(name, resource)


@pytest.fixture
def sfn(aws) -> Iterator[Any]:
    from mlwf.offline.definition_validation import definitions_checked

    with definitions_checked():
        yield boto3.client("stepfunctions", region_name="us-east-1")


def refused(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "InvalidDefinition"
    return str(raised.value.response["Error"]["Message"])


def test_moto_alone_creates_an_express_machine_with_a_callback(aws):
    # What the check is for; when this fails, moto checks it: compare its words with AWS's
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    definition = task("Publish", RECORDED["Publish"][0])
    sfn.create_state_machine(name="m", definition=definition, roleArn=ROLE, type="EXPRESS")


@pytest.mark.parametrize("state", RECORDED)
def test_an_express_machine_refuses_what_aws_refused_in_its_words(sfn, state):
    resource, words = RECORDED[state]
    definition = task(state, resource)
    create = sfn.create_state_machine
    express = refused(lambda: create(name="e", definition=definition, roleArn=ROLE, type="EXPRESS"))
    assert express == words
    # a STANDARD machine runs all three
    create(name="s", definition=definition, roleArn=ROLE, type="STANDARD")


def test_an_update_is_held_to_the_machines_type(sfn):
    request_response = task("Publish", "arn:aws:states:::sns:publish")
    callback = task("Publish", RECORDED["Publish"][0])
    express = sfn.create_state_machine(
        name="e", definition=request_response, roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    standard = sfn.create_state_machine(name="s", definition=request_response, roleArn=ROLE)
    update = sfn.update_state_machine
    assert (
        refused(lambda: update(stateMachineArn=express, definition=callback))
        == (RECORDED["Publish"][1])
    )
    update(stateMachineArn=standard["stateMachineArn"], definition=callback)


def test_a_job_run_in_a_branch_or_an_item_processor_is_found_where_it_is():
    inner = json.loads(task("Run", "arn:aws:states:::states:startExecution.sync:2"))
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [inner], "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": inner, "End": True},
        },
    }
    assert express_diagnostics(definition) == [
        "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service "
        f"integration at {at}/States/Run/Resource"
        for at in ("/States/P/Branches[0]", "/States/M/ItemProcessor")
    ]


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::aws-sdk:s3:getObject",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:::sagemaker:createTrainingJob",  # the request, not the job run
    ],
)
def test_request_response_calls_pass(resource):
    assert express_diagnostics(json.loads(task("T", resource))) == []


def test_the_projects_workflow_passes_as_express():
    # WorkflowType=EXPRESS deploys it as such
    path = PROJECT_ROOT / "statemachine" / "image_classification.asl.json"
    assert express_diagnostics(json.loads(path.read_text())) == []


def test_validation_with_type_express_answers_as_aws(sfn):
    # AWS's diagnostic as LocalStack recorded it (test_sfn_api_validation.snapshot.json,
    # 2025-10-19): the message keeps the space before its location
    definition = task("SendMessageWithWait", "arn:aws:states:::sqs:sendMessage.waitForTaskToken")
    answer = sfn.validate_state_machine_definition(definition=definition, type="EXPRESS")
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Express state machine does not support '.waitForTaskToken' service "
            "integration ",
            "location": "/States/SendMessageWithWait/Resource",
        }
    ]
    assert sfn.validate_state_machine_definition(definition=definition)["result"] == "OK"
