"""The values CreateStateMachine checks in a definition's fields (mlwf.offline.definition_fields):
paths, intrinsic functions and Choice comparisons that AWS refuses with
SCHEMA_VALIDATION_FAILED, and those it takes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlwf.offline.definition_fields import field_diagnostics
from tests.helpers.definitions import one_state, refused_where_moto_took_it


def test_awss_own_example_gives_awss_message():
    # aws-cloudformation/cfn-lint#4085 and #4643 quote AWS's answer to this definition
    definition = one_state({"Type": "Pass", "Assign": {"Variable.$": "Test"}})
    assert field_diagnostics(definition) == [
        "SCHEMA_VALIDATION_FAILED: The value for the field 'Variable.$' must be a valid "
        "JSONPath or a valid intrinsic function call at /States/S/Assign"
    ]


@pytest.mark.parametrize(
    "state, where",
    [
        ({"Type": "Pass", "Parameters": {"a": {"b.$": "Execution.Name"}}}, "/Parameters/a"),
        ({"Type": "Pass", "Parameters": {"a": [{"b.$": 3}]}}, "/Parameters/a[0]"),
        (
            {"Type": "Task", "Resource": "r", "ResultSelector": {"x.$": "Payload"}},
            "/ResultSelector",
        ),
        ({"Type": "Map", "ItemSelector": {"x.$": "item"}}, "/ItemSelector"),
        ({"Type": "Pass", "Parameters": {"x.$": "$.a["}}, "/Parameters"),
    ],
)
def test_a_dollar_field_needs_a_path_or_an_intrinsic(state, where):
    (found,) = field_diagnostics(one_state(state))
    assert "must be a valid JSONPath or a valid intrinsic function call" in found
    assert found.endswith(f" at /States/S{where}")


@pytest.mark.parametrize("field", ["InputPath", "OutputPath", "ResultPath"])
@pytest.mark.parametrize("value", ["Payload", "$.annotation[", "$.", "$.a]", "$['a", 3])
def test_a_path_field_needs_a_path_that_parses(field, value):
    (found,) = field_diagnostics(one_state({"Type": "Pass", field: value}))
    assert found == (
        f"SCHEMA_VALIDATION_FAILED: The value for the field '{field}' must be a valid "
        f"JSONPath at /States/S/{field}"
    )


def test_a_choice_rules_variable_is_a_path_however_deep():
    rule = {"Not": {"And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.b["}]}}
    definition = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"},
        },
    }
    assert field_diagnostics(definition) == [
        "SCHEMA_VALIDATION_FAILED: The value for the field 'Variable' must be a valid "
        "JSONPath at /States/C/Choices[0]/Not/And[1]/Variable"
    ]


# Every intrinsic function AWS documents
# (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html).
INTRINSICS = (
    "Format StringToJson JsonToString Array ArrayPartition ArrayContains ArrayRange "
    "ArrayGetItem ArrayLength ArrayUnique Base64Encode Base64Decode Hash JsonMerge "
    "MathRandom MathAdd StringSplit UUID"
).split()


@pytest.mark.parametrize("name", INTRINSICS)
def test_every_documented_intrinsic_is_taken_in_a_dollar_field(name):
    # States.Base64Encode and Base64Decode were refused: the check read names of letters only
    state = {"Type": "Pass", "Parameters": {"x.$": f"States.{name}($.a)"}, "End": True}
    assert field_diagnostics(one_state(state)) == []


def choice(rule: dict[str, Any]) -> dict[str, Any]:
    rules = [{"Variable": "$.x", **rule, "Next": "E"}]
    states = {"C": {"Type": "Choice", "Choices": rules, "Default": "E"}, "E": {"Type": "Succeed"}}
    return {"StartAt": "C", "States": states}


@pytest.mark.parametrize(
    "rule, kind",
    [
        ({"NumericGreaterThan": "0.9"}, "Number"),  # a threshold written as a string
        ({"NumericEquals": True}, "Number"),
        ({"StringEquals": 5}, "String"),
        ({"BooleanEquals": "true"}, "Boolean"),
        ({"TimestampEquals": "yesterday"}, "Timestamp"),
        ({"IsPresent": 1}, "Boolean"),
    ],
)
def test_a_comparison_of_the_wrong_type_is_refused(rule, kind):
    # moto took "0.9" and failed every execution at the rule with Python's TypeError
    (field,) = rule
    assert field_diagnostics(choice(rule)) == [
        f"SCHEMA_VALIDATION_FAILED: Expected value of type {kind} at /States/C/Choices[0]/{field}"
    ]


@pytest.mark.parametrize(
    "rule",
    [
        {"NumericGreaterThan": 0.9},
        {"NumericEquals": 3},
        {"StringMatches": "*.png"},
        {"BooleanEquals": False},
        {"TimestampLessThan": "2026-12-01T10:00:00Z"},
        {"TimestampEquals": "2026-12-01T10:00:00.123+01:00"},
        {"IsNull": False},
        {"NumericGreaterThanPath": "$.threshold"},
    ],
)
def test_a_comparison_of_the_right_type_passes(rule):
    assert field_diagnostics(choice(rule)) == []


def test_a_path_comparison_needs_a_path():
    (found,) = field_diagnostics(choice({"StringEqualsPath": "name"}))
    assert found.endswith(
        "'StringEqualsPath' must be a valid JSONPath at /States/C/Choices[0]/StringEqualsPath"
    )


def test_create_state_machine_refuses_a_string_threshold_moto_ran(aws):
    message = refused_where_moto_took_it(json.dumps(choice({"NumericGreaterThan": "0.9"})))
    assert message == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Expected value of type "
        "Number at /States/C/Choices[0]/NumericGreaterThan'"
    )
