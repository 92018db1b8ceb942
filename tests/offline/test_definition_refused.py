"""A definition AWS refuses at CreateStateMachine is refused offline too, before anything runs,
naming the state and the file (see mlwf.offline.definition_check)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from mlwf.offline.runtime import OfflineStack
from tests.helpers.project import project_copy
from training_job.errors import MlwfError

pytestmark = pytest.mark.offline


def test_a_next_naming_a_missing_state_is_refused_naming_state_and_file(tmp_path):
    # Given the user mistypes a state's name in a transition
    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    definition = json.loads(path.read_text())
    definition["States"]["Classify image"]["Next"] = "Filter low confidence"
    path.write_text(json.dumps(definition, indent=2))

    # When the offline stack is started on it, it is refused as CreateStateMachine refuses it
    with pytest.raises(MlwfError) as raised:
        with OfflineStack.start(template, say=lambda _: None):
            pytest.fail("the stack started")
    text = str(raised.value)
    assert "image_classification.asl.json" in text and "ImageClassificationStateMachine" in text
    assert (
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Filter low confidence at "
        "/States/Classify image/Next" in text
    )
    assert 'State "Filter low-confidence inferences" is not reachable.' in text


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
    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    definition = json.loads(path.read_text())
    definition["States"]["Classify image"]["Parameters"]["Payload"]["inference_id.$"] = (
        "Execution.Name"
    )
    path.write_text(json.dumps(definition, indent=2))

    # When the offline stack is started on it, it is refused as CreateStateMachine refuses it
    with pytest.raises(MlwfError) as raised:
        with OfflineStack.start(template, say=lambda _: None):
            pytest.fail("the stack started")
    text = str(raised.value)
    assert "image_classification.asl.json" in text
    assert (
        "SCHEMA_VALIDATION_FAILED: The value for the field 'inference_id.$' must be a valid "
        "JSONPath or a valid intrinsic function call at /States/Classify image/Parameters/Payload"
    ) in text


def test_a_catch_on_a_state_that_cannot_catch_is_refused(tmp_path):
    # Given the user moves the serializer's Catch-all onto a Pass state they added before it
    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    definition = json.loads(path.read_text())
    definition["States"]["Tag input"] = {
        "Type": "Pass",
        "Result": "tagged",
        "ResultPath": "$.tag",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Serialize image data"}],
        "Next": "Serialize image data",
    }
    definition["StartAt"] = "Tag input"
    path.write_text(json.dumps(definition, indent=2))

    # When the offline stack is started on it, it is refused (moto ran it)
    with pytest.raises(MlwfError) as raised:
        with OfflineStack.start(template, say=lambda _: None):
            pytest.fail("the stack started")
    assert "SCHEMA_VALIDATION_FAILED: Field 'Catch' is not supported at /States/Tag input" in str(
        raised.value
    )


def test_a_batch_concurrency_read_from_the_context_object_is_refused(tmp_path):
    # Given the user reads the batch's concurrency from the execution's input through the
    # context object (moto took it; AWS takes a context path only in ItemsPath)
    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / "batch_classification.asl.json"
    definition = json.loads(path.read_text())
    (map_name,) = [n for n, s in definition["States"].items() if s["Type"] == "Map"]
    definition["States"][map_name]["MaxConcurrencyPath"] = "$$.Execution.Input.max_concurrency"
    path.write_text(json.dumps(definition, indent=2))

    with pytest.raises(MlwfError) as raised:
        with OfflineStack.start(template, say=lambda _: None):
            pytest.fail("the stack started")
    assert "batch_classification.asl.json" in str(raised.value)
    assert (
        f"SCHEMA_VALIDATION_FAILED: Value is not a Reference Path at /States/{map_name}/"
        "MaxConcurrencyPath"
    ) in str(raised.value)


def test_offline_up_serves_an_edited_copy_given_with_template(tmp_path, capsys):
    # A user tries an edit on a copy before touching the project's files: `mlwf offline up`
    # takes --template as `mlwf demo` does (a README walk found it had none)
    from mlwf.cli import main

    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / "image_classification.asl.json"
    definition = json.loads(path.read_text())
    definition["States"]["Tag"] = {"Type": "Pass", "TimeoutSeconds": 5, "Next": "Classify image"}
    definition["States"]["Serialize image data"]["Next"] = "Tag"
    path.write_text(json.dumps(definition, indent=2))

    code = main(["offline", "up", "--template", str(template), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 1
    assert "image_classification.asl.json" in err
    assert "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/Tag" in err
