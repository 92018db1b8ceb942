"""mlwf/offline/execution_fields.py: DescribeExecution's and ListExecutions' redrive fields and
inputDetails, as AWS answers them (LocalStack's test_describe_execution, recorded
2024-08-21), and moto's answers without them, pinned."""

from __future__ import annotations

import boto3
import pytest

from mlwf.offline.execution_fields import execution_fields_as_aws, redrive_fields
from tests.helpers.executions import run_to_end

PASSING = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
}  # noqa: E501
FAILING = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}


@pytest.fixture
def sfn(aws):
    return boto3.client("stepfunctions", region_name="us-east-1")


def test_the_pinned_moto_answers_no_redrive_fields(sfn):
    ended = run_to_end(sfn, PASSING)
    assert not {"inputDetails", "redriveCount", "redriveStatus"} & set(ended)
    (item,) = sfn.list_executions(stateMachineArn=ended["stateMachineArn"])["executions"]
    assert "redriveCount" not in item


def test_a_succeeded_execution_is_described_as_aws_describes_it(sfn):
    with execution_fields_as_aws():
        ended = run_to_end(sfn, PASSING)
        (item,) = sfn.list_executions(stateMachineArn=ended["stateMachineArn"])["executions"]
    assert ended["inputDetails"] == {"included": True}
    assert [ended[k] for k in ("redriveCount", "redriveStatus", "redriveStatusReason")] == [
        0, "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven",
    ]  # fmt: skip
    assert item["redriveCount"] == 0


def test_a_failed_execution_is_redrivable_with_no_reason(sfn):
    with execution_fields_as_aws():
        ended = run_to_end(sfn, FAILING)
    assert (ended["redriveStatus"], "redriveStatusReason" in ended) == ("REDRIVABLE", False)


@pytest.mark.parametrize("status", ["TIMED_OUT", "ABORTED"])
def test_every_other_end_is_redrivable_and_a_running_one_is_not(status):
    assert redrive_fields(status)["redriveStatus"] == "REDRIVABLE"
    assert redrive_fields("RUNNING")["redriveStatusReason"] == (
        "Execution is RUNNING and cannot be redriven"
    )
