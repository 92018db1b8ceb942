"""The transition checks AWS makes at CreateStateMachine, as the offline stack makes them.

Expected messages are AWS's, as recorded in localstack/localstack#11978 (CreateStateMachine)
and floci-io/floci#2786 (ValidateStateMachineDefinition, same codes and locations)."""

from __future__ import annotations

import json

import pytest

from mlwf.offline.definition_check import diagnostics, message
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
