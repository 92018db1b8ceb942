"""An execution input over 256 KiB, or not JSON, is refused at StartExecution, as the API
says (mlwf/offline/moto_patches.py: executions_started_as_aws)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.moto_patches import executions_started_as_aws
from tests.helpers.paths import REGION

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def machine() -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn.create_state_machine(
        name="m", definition=json.dumps(PASS), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]


def sized(size: int) -> str:
    """A JSON input of exactly `size` UTF-8 bytes."""
    text = json.dumps({"pad": ""})
    return json.dumps({"pad": "x" * (size - len(text))})


def start(arn: str, given: str) -> dict:
    return boto3.client("stepfunctions", region_name=REGION).start_execution(
        stateMachineArn=arn, input=given
    )


def test_the_pinned_moto_starts_an_execution_of_any_input(aws):
    assert start(machine(), sized(270_000))["executionArn"]


@pytest.fixture
def limited(aws):
    with executions_started_as_aws():
        yield


def test_an_input_over_256_kib_is_refused(limited):
    with pytest.raises(ClientError) as refused:
        start(machine(), sized(262_145))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144"
    )


def test_an_input_of_256_kib_exactly_is_taken(limited):
    assert len(sized(262_144).encode()) == 262_144
    assert start(machine(), sized(262_144))["executionArn"]


def test_the_pinned_moto_refuses_an_input_that_is_not_json_with_no_error_code(aws):
    with pytest.raises(ClientError) as refused:
        start(machine(), "{bad")
    assert refused.value.response["Error"]["Code"] == ""


def test_an_input_that_is_not_json_is_invalid_execution_input_in_awss_sentence(limited):
    with pytest.raises(ClientError) as refused:
        start(machine(), "{bad")
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidExecutionInput"
    assert error["Message"].startswith("Invalid State Machine Execution Input: 'Expecting")


@pytest.mark.parametrize("given", ["NaN", '{"a": Infinity}', "-Infinity"])
def test_python_only_numbers_are_not_json_input(limited, given):
    with pytest.raises(ClientError) as refused:
        start(machine(), given)
    assert refused.value.response["Error"]["Code"] == "InvalidExecutionInput"


def start_named(arn: str, name: str) -> dict:
    return boto3.client("stepfunctions", region_name=REGION).start_execution(
        stateMachineArn=arn, name=name, input="{}"
    )


def test_the_pinned_moto_starts_an_execution_of_any_name(aws):
    assert start_named(machine(), "has space")["executionArn"]


@pytest.mark.parametrize("name", ["has space", "a/b", "a*b", "tab\there", "x" * 10 + "$"])
def test_a_name_aws_refuses_is_invalid(limited, name):
    # API_StartExecution.html: "A name must not contain: white space, brackets < > { } [ ],
    # wildcard characters ? *, special characters " # % \ ^ | ~ ` $ & , ; : /, control ..."
    with pytest.raises(ClientError) as refused:
        start_named(machine(), name)
    assert refused.value.response["Error"] == {
        "Code": "InvalidName",
        "Message": f"Invalid Name: '{name}'",
    }


def test_a_name_over_80_characters_is_refused_and_80_taken(limited):
    arn = machine()
    assert start_named(arn, "n" * 80)["executionArn"]
    with pytest.raises(ClientError) as refused:
        start_named(arn, "n" * 81)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 80" in str(refused.value)


def test_names_aws_takes_are_taken(limited):
    arn = machine()
    for name in ("upload-2026-12-01_bike.png", "Ünïcode-name", "a.b+c=d@e!f'g(h)"):
        assert start_named(arn, name)["executionArn"]
