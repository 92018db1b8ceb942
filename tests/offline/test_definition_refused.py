"""A definition AWS refuses at CreateStateMachine is refused offline too, before anything runs,
naming the state and the file (see mlwf.offline.definition_check)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from mlwf.offline.runtime import OfflineStack
from tests.helpers.project import edit_definition, edit_template, project_copy, refusal

pytestmark = pytest.mark.offline

WORKFLOW = "image_classification.asl.json"


def test_a_next_naming_a_missing_state_is_refused_naming_state_and_file(tmp_path):
    # Given the user mistypes a state's name in a transition
    def mistyped(definition):
        definition["States"]["Classify image"]["Next"] = "Filter low confidence"

    # When the offline stack is started on it, it is refused as CreateStateMachine refuses it
    text = refusal(edit_definition(tmp_path, WORKFLOW, mistyped))
    assert "image_classification.asl.json" in text and "ImageClassificationStateMachine" in text
    assert (
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Filter low confidence at "
        "/States/Classify image/Next" in text
    )
    assert 'State "Filter low-confidence inferences" is not reachable.' in text


def test_a_state_name_used_twice_is_refused_naming_state_and_file(tmp_path):
    # Given the user wraps a step in a Parallel whose branch reuses a state's name
    def reused(definition):
        classify = definition["States"]["Classify image"]
        branch = {"StartAt": "Serialize image data", "States": {}}
        branch["States"]["Serialize image data"] = {**classify, "End": True}
        branch["States"]["Serialize image data"].pop("Next", None)
        definition["States"]["Classify image"] = {
            "Type": "Parallel",
            "Branches": [branch],
            "Next": classify["Next"],
        }

    # Then the stack refuses it as CreateStateMachine does (moto ran it)
    text = refusal(edit_definition(tmp_path, WORKFLOW, reused))
    assert "image_classification.asl.json" in text
    assert (
        "DUPLICATE_STATE_NAME: Duplicate State name: Serialize image data at "
        "/States/Classify image/Branches[0]/States/Serialize image data" in text
    )


def test_an_sdk_step_aws_would_not_recognize_is_refused_naming_state_and_file(tmp_path):
    # Given the user adds a step that reads the image's tags, the action in Pascal case as
    # the S3 API reference spells it (Step Functions takes it in camel case only)
    def tagged(definition):
        definition["States"]["Read tags"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:GetObjectTagging",
            "Parameters": {"Bucket.$": "$.s3_bucket", "Key.$": "$.s3_key"},
            "ResultPath": "$.tags",
            "Next": definition["StartAt"],
        }
        definition["StartAt"] = "Read tags"

    # Then the stack refuses it as CreateStateMachine does (moto created it and ran it)
    text = refusal(edit_definition(tmp_path, WORKFLOW, tagged))
    assert "image_classification.asl.json" in text
    assert (
        "SCHEMA_VALIDATION_FAILED: The resource provided "
        "arn:aws:states:::aws-sdk:s3:GetObjectTagging is not recognized. The value is not a "
        "valid resource ARN, or the resource is not available in this region. at "
        "/States/Read tags/Resource" in text
    )


def test_create_and_update_answer_invalid_definition_as_aws(tmp_path):
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})
    with OfflineStack.start(say=lambda _: None) as stack:
        sfn = stack.sfn
        role = "arn:aws:iam::123456789012:role/r"
        with pytest.raises(ClientError) as created:
            sfn.create_state_machine(name="broken", definition=broken, roleArn=role)
        arn = stack.state_machine_arn()
        with pytest.raises(ClientError) as updated:
            sfn.update_state_machine(stateMachineArn=arn, definition=broken)
    for raised in (created, updated):
        error = raised.value.response["Error"]
        assert error["Code"] == "InvalidDefinition"
        assert error["Message"].startswith("Invalid State Machine Definition: 'MISSING_TRANSITION")


def test_moto_alone_still_accepts_a_dangling_next(aws):
    # The patch exists because moto does not check transitions; if it starts to, this fails
    # and the two checks are reconciled rather than run twice.
    import boto3

    broken = json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Succeed"}}}
    )
    sfn = boto3.client("stepfunctions")
    created = sfn.create_state_machine(
        name="dangling", definition=broken, roleArn="arn:aws:iam::123456789012:role/r"
    )
    assert created["stateMachineArn"]


def test_a_dollar_field_without_a_path_is_refused_before_anything_runs(tmp_path):
    # Given the user forgets the `$` of a path in the workflow (moto took it as a literal:
    # the workflow succeeded, and the classify function made up its own inference id)
    def literal(definition):
        payload = definition["States"]["Classify image"]["Parameters"]["Payload"]
        payload["inference_id.$"] = "Execution.Name"

    # When the offline stack is started on it, it is refused as CreateStateMachine refuses it
    text = refusal(edit_definition(tmp_path, WORKFLOW, literal))
    assert "image_classification.asl.json" in text
    assert (
        "SCHEMA_VALIDATION_FAILED: The value for the field 'inference_id.$' must be a valid "
        "JSONPath or a valid intrinsic function call at /States/Classify image/Parameters/Payload"
    ) in text


def test_a_catch_on_a_state_that_cannot_catch_is_refused(tmp_path):
    # Given the user moves the serializer's Catch-all onto a Pass state they added before it
    def tagged_first(definition):
        definition["States"]["Tag input"] = {
            "Type": "Pass",
            "Result": "tagged",
            "ResultPath": "$.tag",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Serialize image data"}],
            "Next": "Serialize image data",
        }
        definition["StartAt"] = "Tag input"

    # When the offline stack is started on it, it is refused (moto ran it)
    text = refusal(edit_definition(tmp_path, WORKFLOW, tagged_first))
    assert "SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported at /States/Tag input" in text


def test_a_batch_concurrency_read_from_the_context_object_is_refused(tmp_path):
    # Given the user reads the batch's concurrency from the execution's input through the
    # context object (moto took it; AWS takes a context path only in ItemsPath)
    def from_context(definition):
        for state in definition["States"].values():
            if state["Type"] == "Map":
                state["MaxConcurrencyPath"] = "$$.Execution.Input.max_concurrency"

    text = refusal(edit_definition(tmp_path, "batch_classification.asl.json", from_context))
    assert "batch_classification.asl.json" in text
    assert "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path at /States/" in text
    assert "/MaxConcurrencyPath" in text


def test_offline_up_serves_an_edited_copy_given_with_template(tmp_path, capsys):
    # A user tries an edit on a copy before touching the project's files: `mlwf offline up`
    # takes --template as `mlwf demo` does (a README walk found it had none)
    from mlwf.cli import main

    def tagged(definition):
        definition["States"]["Tag"] = {
            "Type": "Pass",
            "TimeoutSeconds": 5,
            "Next": "Classify image",
        }
        definition["States"]["Serialize image data"]["Next"] = "Tag"

    template = edit_definition(tmp_path, WORKFLOW, tagged)
    code = main(["offline", "up", "--template", str(template), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 1
    assert "image_classification.asl.json" in err
    assert "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/Tag" in err


def test_moto_alone_accepts_a_state_name_used_twice(aws):
    # Why definition_check reports DUPLICATE_STATE_NAME; if moto starts to, reconcile them
    import boto3

    branch = {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}}
    parallel = {"Type": "Parallel", "Branches": [branch, branch], "End": True}
    sfn = boto3.client("stepfunctions")
    created = sfn.create_state_machine(
        name="twice",
        definition=json.dumps({"StartAt": "P", "States": {"P": parallel}}),
        roleArn="arn:aws:iam::123456789012:role/r",
    )
    assert created["stateMachineArn"]


def test_a_callback_step_in_an_express_workflow_is_refused_at_start(tmp_path):
    # Given the user adds a human review of low-confidence images, waiting for a task
    # token, and deploys the workflow as EXPRESS, which runs request-response calls only
    def reviewed(definition):
        definition["States"]["Human review"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "review", "MessageBody": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
        filter_state = definition["States"]["Filter low-confidence inferences"]
        filter_state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Human review"}]

    template = edit_definition(tmp_path, WORKFLOW, reviewed)
    # Then the stack refuses it as CreateStateMachine refuses it (moto created and ran it)
    text = refusal(template, parameter_overrides={"WorkflowType": "EXPRESS"})
    assert "image_classification.asl.json" in text
    assert (
        "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' "
        "service integration  at /States/Human review/Resource" in text
    )


def test_a_condition_on_a_function_the_workflow_calls_fails_the_template(tmp_path):
    # Given the user makes the filter conditional, false by default: CloudFormation creates
    # neither it nor what depends on it (the state machine), and the stack's outputs read
    # the state machine (offline made the machine, which then called a missing function)
    template = project_copy(tmp_path)
    edit_template(
        template,
        "  FilterInferencesFunction:\n    Type: AWS::Serverless::Function\n",
        "  FilterInferencesFunction:\n    Type: AWS::Serverless::Function\n"
        "    Condition: ReserveClassifyConcurrency\n",
    )
    assert refusal(template).endswith(
        "Template format error: Unresolved resource dependencies "
        "[ImageClassificationStateMachine] in the Outputs block of the template"
    )
