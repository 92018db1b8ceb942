"""The checks CreateStateMachine makes on JSONata expressions (mlwf.offline.definition_jsonata,
run by mlwf.offline.definition_check): what AWS refuses, and nothing it accepts.

The expressions, names, messages and locations below are AWS's answers, measured with
`aws stepfunctions validate-state-machine-definition` and recorded in floci-io/floci#2670 and
#2745 and in that project's JsonataTopLevelReferencesTest and
StepFunctionsTopLevelReferenceIntegrationTest."""

from __future__ import annotations

import json
from typing import Any

import jsonata
import pytest

from mlwf.offline.definition_check import state_diagnostics
from mlwf.offline.definition_jsonata import top_level_names
from tests.helpers.definitions import refused_where_moto_took_it


def jsonata_machine(state: dict[str, Any], name: str = "E") -> str:
    ended = state if state.get("Type") in ("Fail", "Succeed") else {**state, "End": True}
    return json.dumps({"QueryLanguage": "JSONata", "StartAt": name, "States": {name: ended}})


def names(expression: str) -> list[str]:
    return list(dict.fromkeys(top_level_names(jsonata.Jsonata(expression).ast)))


def refused(name: str, at: str) -> str:
    return (
        f"UNSUPPORTED_JSONATA_EXPRESSION: Reference to '{name}' at the top level is not "
        f"supported. at {at}"
    )


@pytest.mark.parametrize(
    "expression",
    [
        "phone",
        "phone[0].number",
        "phone.number.street",
        "-phone",
        "phone ? 1 : 2",
        "$states.input.a ? phone : 2",
        "phone & 'x'",
        "phone in $states.input.b",
        "$sum(phone)",
        "phone(1)",
        "phone ~> $string()",
        "[1..phone]",
        "(phone)",
        "(phone).other",
        "[phone].other",
        "[phone, 1]",
        "{phone: 1}",
        "($x := phone; $x)",
        "$map($states.input.a, function($y){ phone })",
        "$count(phone[inner])",
        "phone.**.deeper",
    ],
)
def test_a_name_read_from_no_input_is_named(expression):
    assert names(expression) == ["phone"]


@pytest.mark.parametrize(
    "expression",
    [
        "$states.input.phone",
        "$states.input.a.phone",
        "$states.input.a[0].phone",
        "$states.input.a.phone[0]",
        "$states.input.items[phone > 3]",
        "$states.input.a^(phone)",
        "$states.input.a{'k': phone}",
        "$states.input.a.(phone)",
        "$states.input.a.$phone",
        "$phone",
        "$states.input.a ~> $string()",
        "$states.input ~> |phone|{'b': 1}|",
        "**.phone",
        "{'k': 1}.phone",
        "$states.input.a[0][phone]",
        "$states.input.a[$ > 1]",
        "function($x){ $x.phone }",
        "$map($states.input.a, function($x){ $x.phone })",
        "'phone'",
        "1 + 1",
        "$now()",
    ],
)
def test_a_name_read_from_something_else_is_taken(expression):
    assert names(expression) == []


@pytest.mark.parametrize(
    "expression",
    ["$", "$.phone", "$[0]", "$string($)", "$map($states.input.a, function($x){ $ })"],
)
def test_the_context_item_itself_is_named_dollar(expression):
    assert names(expression) == ["$"]


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("aaa + bbb", ["aaa", "bbb"]),
        ("[bbb, aaa]", ["bbb", "aaa"]),
        ("aaa + aaa", ["aaa"]),
        ("(aaa; bbb)", ["aaa", "bbb"]),
        ("$number(aaa) + $number(bbb)", ["aaa", "bbb"]),
    ],
)
def test_each_distinct_name_once_in_writing_order(expression, expected):
    assert names(expression) == expected


@pytest.mark.parametrize(
    "expression, message",
    [
        ("phone[1,2)", 'Expected "]", got ","'),
        ("phone %.other", 'The symbol "." cannot be used as a unary operator'),
        ("", "Unexpected end of expression"),
        ('"unterminated', "String literal must be terminated by a matching quote"),
        ('$match("a", /abc', "No terminating / in regular expression"),
    ],
)
def test_an_expression_that_does_not_parse_gets_awss_message_where_it_is(expression, message):
    state = {"Type": "Pass", "Output": {"v": f"{{% {expression} %}}"}}
    assert state_diagnostics(jsonata_machine(state)) == [
        f"INVALID_JSONATA_EXPRESSION: {message} at /States/E/Output/v"
    ]


@pytest.mark.parametrize(
    "state, at",
    [
        ({"Type": "Pass", "Output": {"a": {"b": ["{% phone %}"]}}}, "/States/E/Output/a/b[0]"),
        ({"Type": "Pass", "Assign": {"Next": "{% phone %}"}}, "/States/E/Assign/Next"),
        ({"Type": "Wait", "Seconds": "{% phone %}"}, "/States/E/Seconds"),
        ({"Type": "Fail", "Cause": "{% phone %}"}, "/States/E/Cause"),
        (
            {"Type": "Task", "Resource": "r", "Arguments": {"Payload": {"Comment": "{% phone %}"}}},
            "/States/E/Arguments/Payload/Comment",
        ),
        (
            {
                "Type": "Task",
                "Resource": "r",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"Retry": "{% phone %}"}}],
            },
            "/States/E/Catch[0]/Assign/Retry",
        ),
        (
            {"Type": "Pass", "Output": {"ItemProcessor": {"Iterator": "{% phone %}"}}},
            "/States/E/Output/ItemProcessor/Iterator",
        ),
    ],
)
def test_every_field_holding_a_value_is_read_wherever_it_sits(state, at):
    assert state_diagnostics(jsonata_machine(state)) == [refused("phone", at)]


def test_a_choice_condition_and_an_item_processor_are_read():
    choice = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% phone = 1 %}", "Next": "E"}],
                "Default": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }
    assert state_diagnostics(json.dumps(choice)) == [
        refused("phone", "/States/C/Choices[0]/Condition")
    ]
    inner = {"StartAt": "I", "States": {"I": {"Type": "Pass", "Output": {"v": "{% phone %}"}}}}
    inner["States"]["I"]["End"] = True
    machine = jsonata_machine(
        {"Type": "Map", "Items": "{% $states.input.a %}", "ItemProcessor": inner}, "M"
    )
    assert state_diagnostics(machine) == [
        refused("phone", "/States/M/ItemProcessor/States/I/Output/v")
    ]


def test_names_and_text_aws_does_not_read_are_not_read():
    task = {
        "Type": "Task",
        "Resource": "r",
        "Comment": "{% phone %}",
        "Retry": [{"ErrorEquals": ["{% phone %}"]}],
    }
    assert state_diagnostics(jsonata_machine(task)) == []
    reader = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "Arguments": {"Bucket": "b", "Key": "k"},
            "ReaderConfig": {
                "InputType": "CSV",
                "CSVHeaderLocation": "GIVEN",
                "CSVHeaders": ["{% phone %}"],
            },
        },
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
    }
    assert state_diagnostics(jsonata_machine(reader, "M")) == []
    # a JSONPath state's "{% %}" text is a string like any other
    jsonpath = {
        "StartAt": "E",
        "States": {"E": {"Type": "Pass", "Parameters": {"v": "{% phone %}"}, "End": True}},
    }
    assert state_diagnostics(json.dumps(jsonpath)) == []


ROOT_REFUSED = "UNSUPPORTED_JSONATA_EXPRESSION: Reference to '$$' is not supported. at "
ERROR_OUTPUT_REFUSED = (
    "UNSUPPORTED_JSONATA_EXPRESSION: Field '$states.errorOutput' does not exist. at "
)


def caught(field: str, expression: str) -> dict[str, Any]:
    """floci's catchDefinition: a Task whose catcher holds the expression in `field`."""
    catcher: dict[str, Any] = {"ErrorEquals": ["States.ALL"], "Next": "E"}
    catcher[field] = {"lastError": expression} if field == "Assign" else expression
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Catch": [catcher]}


@pytest.mark.parametrize(
    "expression",
    ["$$", "$$.a", "$states.input.a[$$.b]", "$map([1], function($v){ $$ })", "{'k': $$}"],
)
def test_the_root_input_is_refused_wherever_the_expression_reads_it(expression):
    state = {"Type": "Pass", "Output": f"{{% {expression} %}}"}
    assert state_diagnostics(jsonata_machine(state, "Main")) == [
        ROOT_REFUSED + "/States/Main/Output"
    ]


@pytest.mark.parametrize(
    "state, at",
    [
        ({"Type": "Pass", "Output": "{% $states.errorOutput %}"}, "/States/Main/Output"),
        (
            {"Type": "Pass", "Assign": {"e": "{% $states.errorOutput.Cause %}"}},
            "/States/Main/Assign/e",
        ),
        (
            {"Type": "Task", "Resource": "r", "Arguments": {"m": "{% $states.errorOutput %}"}},
            "/States/Main/Arguments/m",
        ),
        (
            {"Type": "Pass", "Output": "{% $map([1], function($v){ $states.errorOutput }) %}"},
            "/States/Main/Output",
        ),
    ],
)
def test_the_error_output_is_refused_outside_a_catcher(state, at):
    assert state_diagnostics(jsonata_machine(state, "Main")) == [ERROR_OUTPUT_REFUSED + at]


@pytest.mark.parametrize("field", ["Output", "Assign"])
def test_the_error_output_is_taken_in_a_catchers_output_and_assign(field):
    machine = json.loads(jsonata_machine(caught(field, "{% $states.errorOutput %}"), "Main"))
    machine["States"]["E"] = {"Type": "Pass", "End": True}
    machine["States"]["Main"] = {**machine["States"]["Main"], "Next": "E"}
    del machine["States"]["Main"]["End"]
    assert state_diagnostics(json.dumps(machine)) == []
    # a field of the input that happens to be called errorOutput is no reserved field
    reading_input = {"Type": "Pass", "Output": "{% $states.input.errorOutput %}"}
    assert state_diagnostics(jsonata_machine(reading_input)) == []


def test_create_state_machine_refuses_what_moto_took(aws):
    text = jsonata_machine({"Type": "Pass", "Output": {"v": "{% $states.errorOutput %}"}})
    assert refused_where_moto_took_it(text) == (
        f"Invalid State Machine Definition: '{ERROR_OUTPUT_REFUSED}/States/E/Output/v'"
    )
