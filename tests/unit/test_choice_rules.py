"""A Choice rule meeting a value of another type does not match: the execution goes on to
the next rule or the Default, with no error. AWS's behaviour as LocalStack recorded it
(tests/aws/services/stepfunctions/v2/choice_operators/test_numeric.snapshot.json,
test_numeric_equals, 2023-06-22: null, "", " ", [], [""], {}, {"A": 0}, false and true each
went to the Default of a NumericEquals rule). moto's interpreter does the same; this pins it."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.helpers.executions import run_to_end

DEFINITION = {
    "StartAt": "C",
    "States": {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.Variable", "NumericEquals": 0, "Next": "T"}],
            "Default": "F",
        },
        "T": {"Type": "Pass", "Result": {"r": "ConditionTrue"}, "End": True},
        "F": {"Type": "Pass", "Result": {"r": "ConditionFalse"}, "End": True},
    },
}


@pytest.mark.parametrize("value", [None, "", " ", [], [""], {}, {"A": 0}, False, True, "0"])
def test_a_numeric_rule_on_another_type_goes_to_the_default(aws, value):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    ended = run_to_end(sfn, DEFINITION, json.dumps({"Variable": value}))
    assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", {"r": "ConditionFalse"})


def test_a_number_still_matches(aws):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    ended = run_to_end(sfn, DEFINITION, json.dumps({"Variable": 0}))
    assert json.loads(ended["output"]) == {"r": "ConditionTrue"}
