"""The field checks CreateStateMachine makes (mlwf.offline.definition_fields): what AWS refuses
with SCHEMA_VALIDATION_FAILED, and nothing it accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlwf.offline.definition_fields import JSONATA_ONLY, KNOWN_FIELDS, field_diagnostics
from tests.helpers.definitions import one_state, refused_where_moto_took_it
from tests.helpers.paths import PROJECT_ROOT


@pytest.mark.parametrize("field", JSONATA_ONLY)
def test_jsonatas_fields_are_refused_in_a_jsonpath_state_also_nested(field):
    inner = one_state({"Type": "Pass", field: {"a": 1}})
    definition = one_state({"Type": "Parallel", "Branches": [inner]})
    # AWS's words, located at the state (floci-io/floci#2968)
    assert field_diagnostics(definition) == [
        f"SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field "
        f"'{field}' is only supported for the 'JSONata' QueryLanguage at "
        "/States/S/Branches[0]/States/S"
    ]


def test_a_maps_states_take_the_machines_language_not_the_maps():
    # Given a JSONata Map in a JSONPath machine, its item processor's states are JSONPath
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Output": 1, "End": True}}}
    definition = one_state({"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor})
    assert field_diagnostics(definition) == [
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' "
        "is only supported for the 'JSONata' QueryLanguage at /States/S/ItemProcessor/States/P"
    ]


@pytest.mark.parametrize(
    "field", ["ResultPath", "Parameters", "ItemsPath", "SecondsPath", "Result"]
)
def test_jsonpaths_fields_are_refused_in_a_jsonata_state(field):
    definition = one_state({"Type": "Pass", field: "$.a"}, QueryLanguage="JSONata")
    assert field_diagnostics(definition) == [
        f"SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field "
        f"'{field}' is only supported for the 'JSONPath' QueryLanguage at /States/S"
    ]


def test_a_state_cannot_go_back_to_jsonpath_under_a_jsonata_machine():
    # AWS says nothing of its JSONata field then (floci's
    # downgradedStateReportsTheMixingDiagnosticAndNothingAboutItsOutput); its JSONPath
    # fields are still checked as JSONPath
    definition = one_state(
        {"Type": "Pass", "QueryLanguage": "JSONPath", "Output": 1, "ResultPath": "a.b"},
        QueryLanguage="JSONata",
    )
    assert field_diagnostics(definition) == [
        "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' "
        "for whole state machine at /States/S",
        "SCHEMA_VALIDATION_FAILED: The value for the field 'ResultPath' must be a valid "
        "JSONPath at /States/S/ResultPath",
    ]


def test_a_parallel_branch_declares_no_query_language():
    branch = {"QueryLanguage": "JSONata", **one_state({"Type": "Pass"})}
    definition = one_state({"Type": "Parallel", "Branches": [branch]})
    assert field_diagnostics(definition) == [
        "SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/S/Branches[0]"
    ]


@pytest.mark.parametrize("key", ["ItemProcessor", "Iterator"])
def test_an_item_processor_declares_no_query_language(key):
    processor = {
        "QueryLanguage": "JSONPath",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    definition = one_state({"Type": "Map", key: processor})
    assert field_diagnostics(definition) == [
        f"SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/S/{key}"
    ]


ERROR_HANDLING_FIELDS = {
    "Retry": [{"ErrorEquals": ["States.ALL"]}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S"}],
    "TimeoutSeconds": 5,
    "HeartbeatSeconds": 5,
}
STATES_OF_EACH_TYPE = {
    "Pass": {},
    "Wait": {"Seconds": 1},
    "Succeed": {},
    "Fail": {},
    "Choice": {"Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "S"}]},
    "Task": {"Resource": "arn:aws:states:::lambda:invoke"},
    "Parallel": {"Branches": [one_state({"Type": "Pass"})]},
    "Map": {"ItemProcessor": one_state({"Type": "Pass"})},
}
# The types AWS accepts each field on (floci-io/floci#2735, measured; Heartbeat: state-task.html)
OWNERS = {
    "Retry": {"Task", "Parallel", "Map"},
    "Catch": {"Task", "Parallel", "Map"},
    "TimeoutSeconds": {"Task"},
    "HeartbeatSeconds": {"Task"},
}


@pytest.mark.parametrize("kind", STATES_OF_EACH_TYPE)
@pytest.mark.parametrize("field", ERROR_HANDLING_FIELDS)
def test_error_handling_and_timeouts_only_on_the_types_that_have_them(kind, field):
    state = {"Type": kind, **STATES_OF_EACH_TYPE[kind], field: ERROR_HANDLING_FIELDS[field]}
    definition = {"StartAt": "S", "States": {"S": state}}
    if kind not in ("Succeed", "Fail", "Choice"):
        state["End"] = True
    expected = (
        []
        if kind in OWNERS[field]
        else [f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at /States/S"]
    )
    assert field_diagnostics(definition) == expected


@pytest.mark.parametrize("kind", STATES_OF_EACH_TYPE)
@pytest.mark.parametrize("field", ["Next", "End"])
def test_a_transition_only_on_the_types_that_move_on(kind, field):
    # Succeed and Fail end the workflow, a Choice moves through its rules (moto ran a Fail's
    # Next as if it were not there); the words are those AWS gives for Catch, not measured
    state = {"Type": kind, **STATES_OF_EACH_TYPE[kind], field: "S" if field == "Next" else True}
    found = field_diagnostics({"StartAt": "S", "States": {"S": state}})
    refused = [f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at /States/S"]
    assert found == (refused if kind in ("Succeed", "Fail", "Choice") else [])


# The types each input and output field belongs to, as the States Language's table of
# state types and fields gives them (and state-fail.html for Fail)
IO_OWNERS = {
    "InputPath": {"Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed"},
    "OutputPath": {"Task", "Parallel", "Map", "Pass", "Wait", "Choice", "Succeed"},
    "ResultPath": {"Task", "Parallel", "Map", "Pass"},
    "Parameters": {"Task", "Parallel", "Map", "Pass"},
    "ResultSelector": {"Task", "Parallel", "Map"},
    "Result": {"Pass"},
}
IO_VALUES = {"InputPath": "$", "OutputPath": "$", "ResultPath": "$.r", "Result": {"a": 1}}


@pytest.mark.parametrize("kind", STATES_OF_EACH_TYPE)
@pytest.mark.parametrize("field", IO_OWNERS)
def test_input_and_output_fields_only_on_the_types_that_have_them(kind, field):
    # moto ignored a Wait's ResultPath and a Fail's InputPath, and ran the state
    state = {"Type": kind, **STATES_OF_EACH_TYPE[kind], field: IO_VALUES.get(field, {"a": 1})}
    if kind not in ("Succeed", "Fail", "Choice"):
        state["End"] = True
    found = field_diagnostics({"StartAt": "S", "States": {"S": state}})
    refused = [f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at /States/S"]
    assert found == ([] if kind in IO_OWNERS[field] else refused)


# Each type's own fields, with a value of the right shape, and the types that have them
# (the States Language's table; workflow-variables.html for Assign, state-fail.html for Output)
TYPE_FIELDS = {
    "Resource": ("arn:aws:states:::lambda:invoke", {"Task"}),
    "Credentials": ({"RoleArn": "arn:aws:iam::123456789012:role/r"}, {"Task"}),
    "Choices": ([{"Variable": "$.a", "IsPresent": True, "Next": "S"}], {"Choice"}),
    "Default": ("S", {"Choice"}),
    "Seconds": (1, {"Wait"}),
    "TimestampPath": ("$.t", {"Wait"}),
    "Error": ("E", {"Fail"}),
    "CausePath": ("$.c", {"Fail"}),
    "Branches": ([one_state({"Type": "Pass"})], {"Parallel"}),
    "ItemSelector": ({"x.$": "$$.Map.Item.Value"}, {"Map"}),
    "ItemsPath": ("$.items", {"Map"}),
    "MaxConcurrency": (2, {"Map"}),
    "ToleratedFailureCount": (1, {"Map"}),
    "Label": ("L", {"Map"}),
    "Assign": ({"a": 1}, {"Pass", "Task", "Map", "Parallel", "Choice", "Wait"}),
}


@pytest.mark.parametrize("kind", STATES_OF_EACH_TYPE)
@pytest.mark.parametrize("field", TYPE_FIELDS)
def test_each_types_own_fields_only_on_that_type(kind, field):
    # moto ran a Task's ItemSelector, a Pass's Resource, a Wait's Error by ignoring them
    value, owners = TYPE_FIELDS[field]
    state = {"Type": kind, **STATES_OF_EACH_TYPE[kind], field: value}
    if kind not in ("Succeed", "Fail", "Choice"):
        state["End"] = True
    found = field_diagnostics({"StartAt": "S", "States": {"S": state}})
    refused = [f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at /States/S"]
    assert found == ([] if kind in owners else refused)


@pytest.mark.parametrize(
    "kind, field, owned",
    [("Fail", "Output", False), ("Succeed", "Output", True), ("Wait", "Arguments", False)]
    + [("Task", "Arguments", True), ("Parallel", "Arguments", True)],
)
def test_jsonatas_fields_on_the_types_that_have_them(kind, field, owned):
    state = {"Type": kind, **STATES_OF_EACH_TYPE[kind], field: {"a": 1}}
    if kind not in ("Succeed", "Fail"):
        state["End"] = True
    found = field_diagnostics({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": state}})
    refused = [f"SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at /States/S"]
    assert found == ([] if owned else refused)
    # in a JSONPath machine the field is refused once, for its language
    (jsonpath,) = field_diagnostics({"StartAt": "S", "States": {"S": state}})
    assert "only supported for the 'JSONata' QueryLanguage" in jsonpath


def test_create_state_machine_refuses_a_maps_field_on_a_task_that_moto_ran(aws):
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "ItemSelector": {}}
    assert refused_where_moto_took_it(json.dumps(one_state(task))) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'ItemSelector' is "
        "not supported at /States/S'"
    )


def test_a_jsonpath_field_in_a_jsonata_state_is_refused_once_for_its_language():
    state = {"Type": "Wait", "Seconds": 1, "ResultPath": "$.x", "End": True}
    found = field_diagnostics(one_state(state, QueryLanguage="JSONata"))
    assert found == [
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field "
        "'ResultPath' is only supported for the 'JSONPath' QueryLanguage at /States/S"
    ]


def handles(*error_lists: list[str]) -> list[dict[str, Any]]:
    return [{"ErrorEquals": errors, "Next": "S"} for errors in error_lists]


def test_states_all_in_a_first_retrier_and_catcher_gives_awss_message():
    # aws/aws-cdk#10530 quotes AWS's answer to a Task whose catch-all came first
    task = {"Type": "Task", "Resource": "r"}
    task["Retry"] = [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Lambda.ServiceException"]}]
    task["Catch"] = handles(["States.ALL"], ["Exception"])
    assert field_diagnostics(one_state(task)) == [
        "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of list at "
        "/States/S/Retry[0]/ErrorEquals[0]",
        "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of list at "
        "/States/S/Catch[0]/ErrorEquals[0]",
    ]


@pytest.mark.parametrize("kind", ["Task", "Parallel", "Map"])
def test_states_all_with_other_errors_is_refused_where_it_stands(kind):
    state = {"Type": kind, "Catch": handles(["Mine"], ["Other", "States.ALL"])}
    (found,) = field_diagnostics(
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Next": "S"}, "S": {**state, "End": True}},
        }
    )
    assert found.endswith(" at /States/S/Catch[1]/ErrorEquals[1]")


def test_states_all_alone_and_last_passes_also_in_a_branch():
    catch_all_last = {
        "Type": "Task",
        "Resource": "r",
        "Retry": [{"ErrorEquals": ["Mine"]}, {"ErrorEquals": ["States.ALL"]}],
        "Catch": handles(["Mine", "Yours"], ["States.ALL"]),
    }
    branch = {"StartAt": "T", "States": {"T": {**catch_all_last, "End": True}}}
    assert field_diagnostics(one_state(catch_all_last)) == []
    assert field_diagnostics(one_state({"Type": "Parallel", "Branches": [branch]})) == []
    # and a catch-all misplaced in a branch is found there
    branch["States"]["T"]["Catch"] = handles(["States.ALL"], ["Mine"])
    (found,) = field_diagnostics(one_state({"Type": "Parallel", "Branches": [branch]}))
    assert found.endswith(" at /States/S/Branches[0]/States/T/Catch[0]/ErrorEquals[0]")


def test_create_state_machine_refuses_a_catch_all_that_moto_ran_first(aws):
    # moto alone took it, and its first catcher then caught every error
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    catch = handles(["States.ALL"], ["Mine"])
    parallel = {"Type": "Parallel", "Branches": [branch], "Catch": catch}
    assert refused_where_moto_took_it(json.dumps(one_state(parallel))) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: States.ALL must appear "
        "alone and at end of list at /States/S/Catch[0]/ErrorEquals[0]'"
    )


def test_a_field_no_state_has_gives_awss_message():
    # anomalyco/sst#6747 quotes AWS's answer to a Task with "Timeout" (TimeoutSeconds meant)
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Timeout": 10}
    assert field_diagnostics(one_state(task)) == [
        "SCHEMA_VALIDATION_FAILED: Field 'Timeout' is not supported at /States/S"
    ]


def test_every_field_of_every_type_is_known():
    # each type with the fields its page lists: none is refused as unknown
    types = {
        "Task": ["Resource", "Credentials", "HeartbeatSeconds", "TimeoutSecondsPath"],
        "Map": ["ItemsPath", "ItemSelector", "ItemReader", "ItemBatcher", "ResultWriter"],
        "Wait": ["SecondsPath"],
        "Fail": ["ErrorPath", "CausePath"],
        "Pass": ["Result", "Assign", "Comment"],
    }
    for kind, fields in types.items():
        state = {"Type": kind, **dict.fromkeys(fields, "$.x")}
        found = field_diagnostics({"StartAt": "S", "States": {"S": state}})
        assert not [f for f in found if "is not supported" in f], (kind, found)
    more = {"Label", "ToleratedFailureCount", "MaxConcurrencyPath", "Iterator", "Branches"}
    assert more <= KNOWN_FIELDS


def test_a_state_of_no_known_type_is_left_to_the_parser():
    assert field_diagnostics(one_state({"Type": "Bogus", "Next": "S"})) == []


def test_what_aws_accepts_passes():
    state = {
        "Type": "Pass",
        "Parameters": {
            "intrinsic.$": "States.Format('{}', $.x)",
            "variable.$": "$counter",
            "context.$": "$$.Execution.Name",
            "input.$": "$",
            "filtered.$": "$.items[?(@.price > 2)]",
            "literal": "Execution.Name",
            "nested": [{"deep.$": "$.a['b c']"}],
            # member names a JSONPath parser refuses and AWS takes (RFC 9535 shorthand)
            "reserved.$": "$.where",
            "unicode.$": "$.café.名前",
            "bracket.$": "$['a]b']",
        },
        "InputPath": "$.wherenot",
        "ResultPath": None,
        "OutputPath": "$.items[?(@.name =~ /^a.*/)]",
    }
    assert field_diagnostics(one_state(state)) == []
    # a JSONata state is left to the parser, whose checks of it are JSONata's
    jsonata = one_state({"Type": "Pass", "Output": "{% 1 %}"}, QueryLanguage="JSONata")
    assert field_diagnostics(jsonata) == []
    # and a JSONata state in a JSONPath machine is checked as JSONata
    mixed = one_state({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}"})
    assert field_diagnostics(mixed) == []


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "statemachine").glob("*.asl.json")))
def test_the_projects_definitions_pass(path):
    assert field_diagnostics(json.loads(path.read_text())) == []


def test_cfn_lint_also_refuses_jsonatas_fields_in_a_jsonpath_state():
    # The same fact in cfn-lint's state machine schema (E3601): keep the two equal
    from cfnlint.context import create_context_for_template
    from cfnlint.jsonschema.validators import CfnTemplateValidator
    from cfnlint.rules.resources.stepfunctions.StateMachineDefinition import (
        StateMachineDefinition,
    )
    from cfnlint.template import Template

    cfn = Template("", {"Resources": {}}, regions=["us-east-1"])
    validator = CfnTemplateValidator(context=create_context_for_template(cfn), cfn=cfn, schema={})
    rule = StateMachineDefinition()
    for field in JSONATA_ONLY:
        definition = one_state({"Type": "Pass", field: {"a": 1}})
        errors = list(rule.validate(validator, None, {"Definition": definition}, {}))
        assert [e.message for e in errors] == [
            f"Additional properties are not allowed ({field!r} was unexpected)"
        ]
        jsonata = {**definition, "QueryLanguage": "JSONata"}
        assert list(rule.validate(validator, None, {"Definition": jsonata}, {})) == []


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Parallel", "Branches": 5},
        {"Type": "Parallel", "Branches": [5, {"States": 3}]},
        {"Type": "Choice", "Choices": 5},
        {"Type": "Choice", "Choices": [{"Not": 5, "And": 5, "Variable": "$.a"}]},
        {"Type": "Map", "ItemProcessor": 5, "ItemBatcher": [1], "ItemReader": {"ReaderConfig": 2}},
        {"Type": ["Pass"], "Catch": 5, "Parameters": [1, {"a.$": "$"}]},
    ],
)
def test_a_malformed_state_is_left_to_moto_not_crashed_on(aws, state):
    # These checks run before moto's parse: a shape they do not expect must reach moto,
    # whose InvalidDefinition names it (the first version raised TypeError: an HTTP 500)
    import boto3
    from botocore.exceptions import ClientError

    from mlwf.offline.definition_check import checked_at_create

    definition = {"StartAt": "S", "States": {"S": {**state, "End": True}}}
    assert isinstance(field_diagnostics(definition), list)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with checked_at_create(), pytest.raises(ClientError) as raised:
        sfn.create_state_machine(
            name="malformed",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/r",
        )
    assert raised.value.response["Error"]["Code"] == "InvalidDefinition"
