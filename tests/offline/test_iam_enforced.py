"""IAM is enforced offline on the stack's own roles, as AWS enforces it (mlwf.offline.iam):
a permission removed from template.yaml fails the workflow as it would fail on AWS, with the
project's named error on top of AccessDenied. Each test runs the real template first, or
beside the edit, so that the check is shown to tell the two apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlwf.offline.runtime import DEFAULT_TEMPLATE, OfflineStack
from mlwf.offline.template import load_template
from tests.helpers.project import edit_template, project_copy

pytestmark = pytest.mark.offline

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
KEY = "incoming/bike.png"

READ_IMAGES = """            - Sid: ReadImages
              Effect: Allow
              Action: s3:GetObject
              Resource: !Sub ${ImagesBucket.Arn}/*
"""
READ_ENDPOINT_NAME = """            - Sid: ReadEndpointName
              Effect: Allow
              Action: ssm:GetParameter
"""
# The image classification machine's policies: only it has Events (the upload rule) after.
INVOKE_SERIALIZER = """        - LambdaInvokePolicy:
            FunctionName: !Ref SerializeImageDataFunction
        - LambdaInvokePolicy:
            FunctionName: !Ref ClassifyImageFunction
        - LambdaInvokePolicy:
            FunctionName: !Ref FilterInferencesFunction
      Events:
"""
INVOKE_NOTHING_MORE = """        - LambdaInvokePolicy:
            FunctionName: !Ref ClassifyImageFunction
        - LambdaInvokePolicy:
            FunctionName: !Ref FilterInferencesFunction
      Events:
"""


def run_once(template: Path | None = None, *, endpoint_name: str | None = None) -> dict:
    """One execution on an image in the bucket, in a fresh stack on `template`."""
    with OfflineStack.start(template, say=lambda _: None) as stack:
        stack.s3.put_object(Bucket=stack.bucket_name(), Key=KEY, Body=PNG)
        if endpoint_name is not None:
            name = stack.spec.functions["ClassifyImageFunction"].environment
            stack.client("ssm").put_parameter(
                Name=name["ENDPOINT_PARAMETER_NAME"], Value=endpoint_name, Type="String"
            )
        return stack.run_execution({"s3_bucket": stack.bucket_name(), "s3_key": KEY})


@pytest.fixture
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def test_the_unedited_template_gets_past_every_permission(stack):
    # The image is read and the parameter too; only the missing endpoint stops it.
    stack.s3.put_object(Bucket=stack.bucket_name(), Key=KEY, Body=PNG)
    ended = stack.run_execution({"s3_bucket": stack.bucket_name(), "s3_key": KEY})
    assert ended["error"] == "EndpointParameterNotFound"


def test_an_endpoint_outside_the_prefix_is_denied_to_the_classifier():
    # Given the parameter names an endpoint inside, then outside, the policy's prefix
    prefix = load_template(DEFAULT_TEMPLATE).parameters["EndpointNamePrefix"]
    inside = run_once(endpoint_name=f"{prefix}-missing")
    outside = run_once(endpoint_name="someone-elses-endpoint")

    # Then inside the prefix the call is allowed (and the endpoint is missing); outside, denied
    assert inside["error"] == "EndpointNotFound"
    assert outside["error"] == "EndpointInvocationFailed"
    assert "AccessDeniedException" in outside["cause"]
    assert "sagemaker:InvokeEndpoint" in outside["cause"]
    assert "endpoint/someone-elses-endpoint" in outside["cause"]


def test_a_rule_whose_role_may_not_start_the_execution_dead_letters_no_permissions(stack):
    # Given the upload rule's target points at a role without states:StartExecution
    events, sqs = stack.client("events"), stack.client("sqs")
    (rule,) = stack.spec.rules.values()
    (target,) = events.list_targets_by_rule(Rule=rule.name)["Targets"]
    wrong = stack.spec.functions["SerializeImageDataFunction"].role_arn
    events.put_targets(Rule=rule.name, Targets=[{**target, "RoleArn": wrong}])
    before = len(stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn())["executions"])
    try:
        stack.s3.put_object(Bucket=stack.bucket_name(), Key="incoming/denied.png", Body=PNG)
    finally:
        events.put_targets(Rule=rule.name, Targets=[target])

    # Then no execution starts, and the event is in the DLQ with EventBridge's code
    after = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn())["executions"]
    assert len(after) == before
    url = sqs.get_queue_url(QueueName=next(iter(stack.spec.queues.values())))["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert "states:StartExecution" in attributes["ERROR_MESSAGE"]
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "incoming/denied.png"


def test_without_s3_get_object_the_serializer_fails_with_image_access_denied(tmp_path):
    template = project_copy(tmp_path)
    edit_template(template, READ_IMAGES, "")
    ended = run_once(template)
    assert ended["error"] == "ImageAccessDenied"
    assert KEY in ended["cause"]


def test_without_ssm_get_parameter_the_classifier_cannot_read_the_endpoint_name(tmp_path):
    template = project_copy(tmp_path)
    other_action = READ_ENDPOINT_NAME.replace("ssm:GetParameter", "ssm:ListTagsForResource")
    edit_template(template, READ_ENDPOINT_NAME, other_action)
    ended = run_once(template)
    assert ended["error"] == "EndpointParameterUnreadable"
    assert "AccessDeniedException" in ended["cause"] and "ssm:GetParameter" in ended["cause"]


def test_a_state_machine_role_without_invoke_fails_the_task_as_step_functions_does(tmp_path):
    template = project_copy(tmp_path)
    edit_template(template, INVOKE_SERIALIZER, INVOKE_NOTHING_MORE)
    ended = run_once(template)
    # (retried by the definition's Retry on Lambda.AWSLambdaException, then failed)
    assert ended["error"] == "Lambda.AWSLambdaException"
    assert "is not authorized to perform: lambda:InvokeFunction" in ended["cause"]
    assert "Error Code: AccessDeniedException" in ended["cause"]


def test_the_iam_api_answers_for_the_stacks_roles(stack):
    # `aws iam get-role` and its siblings see the roles the SAM transform generates, with
    # the policies mlwf.offline.iam enforces (they answered NoSuchEntity)
    iam = stack.client("iam")
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == {
        role.name for role in stack.spec.roles.values()
    }
    serializer = stack.spec.functions["SerializeImageDataFunction"].role_arn.rsplit("/", 1)[-1]
    (name,) = iam.list_role_policies(RoleName=serializer)["PolicyNames"]
    document = iam.get_role_policy(RoleName=serializer, PolicyName=name)["PolicyDocument"]
    assert "s3:GetObject" in json.dumps(document)
