"""The checks CreateStateMachine makes on JSONata expressions (mlwf.offline.definition_jsonata,
run by mlwf.offline.definition_check): what AWS refuses, and nothing it accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlwf.offline.definition_check import state_diagnostics
from mlwf.offline.definition_jsonata import expression_diagnostics


def jsonata_machine(state: dict[str, Any]) -> str:
    return json.dumps(
        {"QueryLanguage": "JSONata", "StartAt": "E", "States": {"E": {**state, "End": True}}}
    )


def test_a_top_level_reference_gets_awss_own_diagnostic():
    # AWS's answer to this definition, recorded in floci-io/floci#2670
    definition = jsonata_machine({"Type": "Pass", "Output": {"v": "{% phone %}"}})
    assert state_diagnostics(definition) == [
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not "
        "supported. at /States/E/Output/v"
    ]


@pytest.mark.parametrize(
    "expression, message",
    [
        # the shapes of floci-io/floci#2745, which AWS refuses; the messages are jsonata-python's
        ("a[1,2)", "Expected ], got ,"),
        ('"unterminated', "String literal must be terminated by a matching quote"),
        ("1 +", "Unexpected end of expression"),
        ('{"a":}', "The symbol } cannot be used as a unary operator"),
        ("$x :=", "Unexpected end of expression"),
        ('$match("a", /abc', "No terminating / in regular expression"),
    ],
)
def test_an_expression_that_does_not_parse_is_refused_where_it_is(expression, message):
    state = {"Type": "Pass", "Assign": {"list": ["ok", f"{{% {expression} %}}"]}}
    assert state_diagnostics(jsonata_machine(state)) == [
        f"INVALID_JSONATA_EXPRESSION: {message} at /States/E/Assign/list[1]"
    ]


@pytest.mark.parametrize(
    "expression, names",
    [
        ("$exists(phone)", ["phone"]),
        ("phone[0].number", ["phone"]),
        ("$states.input.a & b", ["b"]),
        ("{ 'key': value, name: 1 }", ["value", "name"]),
        ("(a; $x := b; $x)", ["a", "b"]),
        ("a ~> $uppercase()", ["a"]),
        ("a ? b : a", ["a", "b"]),
        ("[a, -c]", ["a", "c"]),
    ],
)
def test_every_name_read_from_no_input_is_named_once(expression, names):
    found = expression_diagnostics({"Output": f"{{% {expression} %}}"}, "/States/E")
    assert found == [
        f"UNSUPPORTED_JSONATA_EXPRESSION: Reference to '{name}' at the top level is not "
        "supported. at /States/E/Output"
        for name in names
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "$states.input.items[price > 2].name",
        "$states.input.items^(price)",
        "$states.input.a{b: c}",
        "$sum($states.input.items.(price * qty))",
        "$count($states.input.items[type = 'x'])",
        "$map($states.input.items, function($v) { $v.price })",
        "$states.context.Execution.Name & $counter",
        "$partition([1, 2, 3], 2)",
        "$hash('a', 'SHA-256')",
        "$states.input.`a b`",
        '"literal"',
    ],
)
def test_what_aws_takes_is_taken(expression):
    assert expression_diagnostics({"Output": f"{{% {expression} %}}"}, "/States/E") == []


def test_only_jsonata_states_and_only_evaluated_fields_are_read():
    catching = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Comment": "{% not read %}",
        "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% oops %}", "Next": "E"}],
    }
    assert state_diagnostics(jsonata_machine(catching)) == [
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'oops' at the top level is not "
        "supported. at /States/E/Catch[0]/Output"
    ]
    # the same text in a JSONPath state is a string like any other
    jsonpath = {"StartAt": "E", "States": {"E": {"Type": "Pass", "Result": "{% 1 + %}"}}}
    jsonpath["States"]["E"]["End"] = True
    assert state_diagnostics(json.dumps(jsonpath)) == []
    # a Map's item processor states are read as states, each once
    inner = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": "{% x %}", "End": True}}}
    found = state_diagnostics(jsonata_machine({"Type": "Map", "ItemProcessor": inner}))
    assert found == [
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'x' at the top level is not supported. "
        "at /States/E/ItemProcessor/States/P/Output"
    ]
