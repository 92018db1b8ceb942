"""The transition checks AWS makes at CreateStateMachine, as the offline stack makes them.

Expected messages are AWS's, as recorded in localstack/localstack#11978 (CreateStateMachine)
and floci-io/floci#2786 (ValidateStateMachineDefinition, same codes and locations)."""

from __future__ import annotations

import json

import pytest

from mlwf.offline.definition_check import diagnostics, message
from tests.helpers.definitions import refused_where_moto_took_it
from tests.helpers.paths import PROJECT_ROOT


def test_awss_own_example_gives_awss_message():
    definition = {
        "StartAt": "pass1",
        "States": {
            "pass1": {"Type": "Pass", "Next": "pass3"},
            "pass2": {"Type": "Pass", "End": True},
        },
    }
    assert message(diagnostics(json.dumps(definition))) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: "
        'pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not '
        "reachable. at /States/pass2'"
    )


def test_every_kind_of_transition_is_checked_and_reported_as_next():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "x",
                "Next": "B",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone1"}],
            },
            "B": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Gone2"}],
                "Default": "Gone3",
            },
        },
    }
    found = diagnostics(definition)
    assert found[:3] == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone1 at /States/A/Catch[0]/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone2 at /States/B/Choices[0]/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone3 at /States/B/Default",
    ]
    # And with no state that ends, the workflow has no terminal state (no location)
    assert found[3:] == ["MISSING_END_STATE: Workflow has no terminal state"]


def test_a_loop_with_no_end_hides_the_reachability_check():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Next": "A"},
            "Orphan": {"Type": "Pass", "Next": "A"},
        },
    }
    assert diagnostics(definition) == ["MISSING_END_STATE: Workflow has no terminal state"]


def test_a_missing_start_leaves_every_state_unreachable():
    definition = {"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}
    assert diagnostics(definition) == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt",
        'MISSING_TRANSITION_TARGET: State "A" is not reachable. at /States/A',
    ]


def test_a_maps_item_processor_is_a_scope_of_its_own():
    definition = {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {"Inner": {"Type": "Pass", "Next": "Map"}},  # leaves its scope
                },
            }
        },
    }
    assert diagnostics(definition) == [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Map at /States/Map/ItemProcessor"
        "/States/Inner/Next",
        "MISSING_END_STATE: Workflow has no terminal state",
    ]


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "statemachine").glob("*.asl.json")))
def test_the_projects_definitions_pass(path):
    assert diagnostics(path.read_text()) == []


def one_pass(name: str = "X") -> dict:
    return {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}


def test_a_state_name_given_twice_in_the_machine_is_refused():
    # "state names MUST be unique within the scope of the whole state machine": branches
    # and item processors included (moto accepted both, and ran them)
    parallel = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": [one_pass(), one_pass()], "End": True}},
    }
    assert diagnostics(parallel) == [
        "DUPLICATE_STATE_NAME: Duplicate State name: X at /States/P/Branches[1]/States/X"
    ]
    mapped = {
        "StartAt": "X",
        "States": {"X": {"Type": "Map", "ItemProcessor": one_pass(), "End": True}},
    }
    assert diagnostics(mapped) == [
        "DUPLICATE_STATE_NAME: Duplicate State name: X at /States/X/ItemProcessor/States/X"
    ]


def test_a_state_name_given_twice_in_one_states_object_is_refused():
    # The States Language linter's own example (awslabs/statelint#39): JSON keeps the last
    text = (
        '{"StartAt": "Dup", "States": {"Dup": {"Type": "Pass", "Next": "S"},'
        ' "Dup": {"Type": "Pass", "Next": "S"}, "S": {"Type": "Succeed"}}}'
    )
    assert diagnostics(text) == ["DUPLICATE_STATE_NAME: Duplicate State name: Dup at /States/Dup"]
    assert message(diagnostics(text)).startswith(
        "Invalid State Machine Definition: 'DUPLICATE_STATE_NAME: Duplicate State name: Dup"
    )


def test_the_same_name_in_two_machines_or_as_a_payload_key_is_not_a_duplicate():
    assert diagnostics(one_pass()) == [] and diagnostics(one_pass()) == []
    # as JSON text, read as CreateStateMachine reads it: keys outside States are no names
    keyed = (
        '{"StartAt": "A", "States": {"A": {"Type": "Pass",'
        ' "Parameters": {"A": 1, "k": 1, "k": 2, "B": {"A": 2}}, "End": true}}}'
    )
    assert diagnostics(keyed) == []


def test_a_name_given_twice_in_one_object_and_once_elsewhere_is_reported_once():
    branch = '{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}'
    text = (
        '{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [' + branch + "],"
        ' "Next": "X"}, "X": {"Type": "Succeed"}, "X": {"Type": "Succeed"}}}'
    )
    assert diagnostics(text) == ["DUPLICATE_STATE_NAME: Duplicate State name: X at /States/X"]


def test_create_state_machine_refuses_a_name_given_twice_in_words_of_aws(aws):
    # moto's parser refused it first, in its own words ("State redefinition")
    import boto3

    from mlwf.offline.definition_check import checked_at_create

    text = (
        '{"StartAt": "Dup", "States": {"Dup": {"Type": "Pass", "Next": "S"},'
        ' "Dup": {"Type": "Pass", "Next": "S"}, "S": {"Type": "Succeed"}}}'
    )
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with checked_at_create(), pytest.raises(sfn.exceptions.InvalidDefinition) as refused:
        sfn.create_state_machine(
            name="dup", definition=text, roleArn="arn:aws:iam::123456789012:role/r"
        )
    assert refused.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: "
        "'DUPLICATE_STATE_NAME: Duplicate State name: Dup at /States/Dup'"
    )


LONG = "This is an exceptionally long state name that I know will fail when I try to deploy to AWS"


def test_a_state_name_over_80_characters_gives_awss_message():
    # ChristopheBougere/asl-validator#69 quotes AWS's answer to this definition
    definition = {
        "StartAt": "Hello",
        "States": {"Hello": {"Type": "Pass", "Next": LONG}, LONG: {"Type": "Pass", "End": True}},
    }
    assert diagnostics(definition) == [
        f"INVALID_STATE_NAME: Invalid State name: State '{LONG}' exceeds the 80-character "
        f"limit allowed by the service at /States/{LONG}"
    ]


def test_80_characters_pass_and_a_long_name_in_a_branch_is_found_there():
    eighty = "é" * 80  # characters, not bytes
    branch = {"StartAt": "B" * 81, "States": {"B" * 81: {"Type": "Succeed"}}}
    definition = {
        "StartAt": eighty,
        "States": {eighty: {"Type": "Parallel", "Branches": [branch], "End": True}},
    }
    (found,) = diagnostics(definition)
    assert found.startswith("INVALID_STATE_NAME: ")
    assert found.endswith(f" at /States/{eighty}/Branches[0]/States/{'B' * 81}")


def test_create_state_machine_refuses_a_long_name_that_moto_ran(aws):
    text = json.dumps({"StartAt": LONG, "States": {LONG: {"Type": "Succeed"}}})
    assert refused_where_moto_took_it(text).startswith(
        "Invalid State Machine Definition: 'INVALID_STATE_NAME: Invalid State name: State "
    )
