"""ValidateStateMachineDefinition offline (mlwf.offline.definition_validation): moto does
not implement it, so its server answered HTTP 500 (and the AWS CLI retried it)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

PASS = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
# Two mistakes: a Next naming no state, and so a state nothing reaches
DANGLING = (
    '{"StartAt": "Read image", "States": {"Read image": {"Type": "Pass", "Next": "Classify"},'
    ' "Classify image": {"Type": "Pass", "End": true}}}'
)


@pytest.fixture
def sfn(aws) -> Iterator:
    # as the offline stack has it: with CreateStateMachine's checks, which patch moto's
    # parser's check the validation also uses
    from mlwf.offline.definition_validation import definitions_checked
    from mlwf.offline.request_constraints import step_functions_requests_checked

    # and the API model's checks, which refuse a maxResults past 100
    with definitions_checked(), step_functions_requests_checked():
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_moto_alone_does_not_answer_it(aws):
    # What the patch is for; when this fails, moto implements the API: use its answer.
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with pytest.raises(NotImplementedError):
        sfn.validate_state_machine_definition(definition=PASS)


def test_a_definition_create_state_machine_takes_is_ok(sfn):
    answer = sfn.validate_state_machine_definition(definition=PASS)
    assert (answer["result"], answer["diagnostics"], answer["truncated"]) == ("OK", [], False)


def test_each_refusal_is_an_error_diagnostic_with_its_location(sfn):
    # State names with spaces: the location is still the whole path
    answer = sfn.validate_state_machine_definition(definition=DANGLING)
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "MISSING_TRANSITION_TARGET",
            "message": "Missing 'Next' target: Classify",
            "location": "/States/Read image/Next",
        },
        {
            "severity": "ERROR",
            "code": "MISSING_TRANSITION_TARGET",
            "message": 'State "Classify image" is not reachable.',
            "location": "/States/Classify image",
        },
    ]


def test_the_answer_matches_what_create_state_machine_refuses(sfn):
    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(
            name="m", definition=DANGLING, roleArn="arn:aws:iam::123456789012:role/r"
        )
    words = refused.value.response["Error"]["Message"]
    for diagnostic in sfn.validate_state_machine_definition(definition=DANGLING)["diagnostics"]:
        assert f"{diagnostic['code']}: {diagnostic['message']} at {diagnostic['location']}" in words


def test_a_diagnostic_with_no_location_has_none(sfn):
    definition = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}'
    (diagnostic,) = sfn.validate_state_machine_definition(definition=definition)["diagnostics"]
    assert diagnostic == {
        "severity": "ERROR",
        "code": "MISSING_END_STATE",
        "message": "Workflow has no terminal state",
    }


def test_what_the_parser_refuses_is_a_schema_error(sfn):
    definition = '{"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": true}}}'
    answer = sfn.validate_state_machine_definition(definition=definition)
    (diagnostic,) = answer["diagnostics"]
    assert (answer["result"], diagnostic["code"]) == ("FAIL", "SCHEMA_VALIDATION_FAILED")
    assert "Bogus" in diagnostic["message"]


def test_text_that_is_not_json_is_a_json_error(sfn):
    answer = sfn.validate_state_machine_definition(definition="{'StartAt': 'A'}")
    assert [d["code"] for d in answer["diagnostics"]] == ["INVALID_JSON_DESCRIPTION"]


def test_more_diagnostics_than_max_results_are_truncated(sfn):
    answer = sfn.validate_state_machine_definition(definition=DANGLING, maxResults=1)
    assert (len(answer["diagnostics"]), answer["truncated"]) == (1, True)


def test_max_results_over_100_is_refused(sfn):
    with pytest.raises(ClientError) as refused:
        sfn.validate_state_machine_definition(definition=PASS, maxResults=101)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 100" in refused.value.response["Error"]["Message"]


def test_no_definition_is_refused_as_the_api_requires_one(sfn):
    # the SDKs refuse it before sending; a raw HTTP caller got FAIL, MISSING_DESCRIPTION
    import json

    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.responses import StepFunctionResponse

    response = StepFunctionResponse()
    response.body = json.dumps({"severity": "ERROR"})
    with pytest.raises(ValidationException) as refused:
        response.validate_state_machine_definition()
    assert "at 'definition' failed to satisfy constraint" in str(refused.value)
