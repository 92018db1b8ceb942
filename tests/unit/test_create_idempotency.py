"""CreateStateMachine with a name it has: the same request is answered with the machine, a
different definition or type is refused (mlwf.offline.create_idempotency)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.helpers.paths import REGION

ROLE = "arn:aws:iam::123456789012:role/r"


def definition(value: int) -> str:
    return json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": True}}}
    )


def test_the_pinned_moto_answers_another_definition_with_the_old_machine(aws):
    # What the patch is for: moto kept the first definition and said nothing
    sfn = boto3.client("stepfunctions", region_name=REGION)
    first = sfn.create_state_machine(name="m", definition=definition(1), roleArn=ROLE)
    again = sfn.create_state_machine(name="m", definition=definition(2), roleArn=ROLE)
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])["definition"] == (
        definition(1)
    )


@pytest.fixture
def sfn(aws) -> Iterator[Any]:
    from mlwf.offline.create_idempotency import creates_idempotent_as_aws

    with creates_idempotent_as_aws():
        yield boto3.client("stepfunctions", region_name=REGION)


def test_the_same_request_is_answered_with_the_machine(sfn):
    first = sfn.create_state_machine(name="m", definition=definition(1), roleArn=ROLE)
    # "If a following request has a different roleArn or tags, Step Functions will ignore
    # these differences" (API_CreateStateMachine.html)
    other_role = "arn:aws:iam::123456789012:role/other"
    again = sfn.create_state_machine(name="m", definition=definition(1), roleArn=other_role)
    assert again["stateMachineArn"] == first["stateMachineArn"]


@pytest.mark.parametrize(
    "change", [{"definition": definition(2)}, {"definition": definition(1), "type": "EXPRESS"}]
)
def test_another_definition_or_type_under_the_name_is_refused(sfn, change):
    first = sfn.create_state_machine(name="m", definition=definition(1), roleArn=ROLE)
    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(name="m", roleArn=ROLE, **change)
    assert refused.value.response["Error"] == {
        "Code": "StateMachineAlreadyExists",
        "Message": f"State Machine Already Exists: '{first['stateMachineArn']}'",
    }
    described = sfn.describe_state_machine(stateMachineArn=first["stateMachineArn"])
    assert described["definition"] == definition(1)
