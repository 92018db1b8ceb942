"""Step Functions refusing a parameter outside its enum, range or length, as AWS refuses it
(mlwf/offline/request_constraints.py): moto answered `list-executions --status-filter DONE`
with an empty list, took a logging level of EVERYTHING, and paged on with any size."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.request_constraints import step_functions_requests_checked
from tests.helpers.paths import REGION

MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
STATUSES = "[RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"


def machine(sfn) -> str:
    return sfn.create_state_machine(
        name="m", definition=json.dumps(MACHINE), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]


def test_the_pinned_moto_answers_an_unknown_status_with_nothing(aws):
    # What the check is for; when this fails, moto checks enums: drop the patch.
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert (
        sfn.list_executions(stateMachineArn=machine(sfn), statusFilter="DONE")["executions"] == []
    )


def test_an_unknown_status_filter_is_a_validation_exception(aws):
    # API_ListExecutions.html: statusFilter is one of these values
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = machine(sfn)
    with step_functions_requests_checked():
        with pytest.raises(ClientError) as refused:
            sfn.list_executions(stateMachineArn=arn, statusFilter="DONE")
        assert sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"] == []
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'DONE' at 'statusFilter' failed to satisfy "
        f"constraint: Member must satisfy enum value set: {STATUSES}"
    )


def test_a_nested_enum_is_checked_too(aws):
    # API_LoggingConfiguration.html: "Valid Values: ALL | ERROR | FATAL | OFF"
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with step_functions_requests_checked(), pytest.raises(ClientError) as refused:
        sfn.create_state_machine(
            name="m",
            definition=json.dumps(MACHINE),
            roleArn="arn:aws:iam::123456789012:role/r",
            loggingConfiguration={"level": "EVERYTHING"},
        )
    assert refused.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'EVERYTHING' at 'loggingConfiguration.level' failed "
        "to satisfy constraint: Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]"
    )
    assert sfn.list_state_machines()["stateMachines"] == []


def test_validate_definitions_type_and_severity_are_held_to_their_enums(aws):
    # once checked by definition_validation itself, beside this check
    from mlwf.offline.definition_validation import definitions_checked

    sfn = boto3.client("stepfunctions", region_name=REGION)
    with step_functions_requests_checked(), definitions_checked():
        for field, value, allowed in (
            ("type", "BATCH", "[STANDARD, EXPRESS]"),
            ("severity", "INFO", "[ERROR, WARNING]"),
        ):
            with pytest.raises(ClientError) as refused:
                sfn.validate_state_machine_definition(
                    definition=json.dumps(MACHINE), **{field: value}
                )
            assert refused.value.response["Error"]["Message"] == (
                f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {allowed}"
            )
        answer = sfn.validate_state_machine_definition(definition=json.dumps(MACHINE))
    assert answer["result"] == "OK"


@pytest.mark.parametrize(
    ("call", "field", "constraint"),
    [
        # AWS's answers in LocalStack's recordings (test_sfn_api.py, 2024-07-01)
        ("list_state_machines", "maxResults", "value less than or equal to 1000"),
        ("list_state_machines", "nextToken", "length less than or equal to 1024"),
        ("list_executions", "nextToken", "length less than or equal to 3096"),
    ],
)
def test_a_number_past_its_range_and_a_string_past_its_length_are_refused(
    aws, call, field, constraint
):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = machine(sfn)
    limit = int(constraint.rsplit(" ", 1)[1])
    given = limit + 1 if field == "maxResults" else "x" * (limit + 1)
    extra = {"stateMachineArn": arn} if call == "list_executions" else {}
    with step_functions_requests_checked():
        if field == "maxResults":  # the limit itself is taken
            getattr(sfn, call)(**extra, maxResults=limit)
        with pytest.raises(ClientError) as refused:
            getattr(sfn, call)(**extra, **{field: given})
    assert refused.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value '{given}' at '{field}' failed to satisfy "
        f"constraint: Member must have {constraint}"
    )


def test_a_sensitive_value_is_left_out_of_the_message(aws):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = machine(sfn)
    with step_functions_requests_checked(), pytest.raises(ClientError) as refused:
        sfn.start_execution(stateMachineArn=arn, input=json.dumps("x" * 262144))
    assert refused.value.response["Error"]["Message"] == (
        "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    )
