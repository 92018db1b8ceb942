"""The bounds CreateStateMachine holds a state's seconds to (mlwf.offline.definition_seconds,
run by mlwf.offline.definition_check): a Wait of 0 to 99999999 seconds (state-wait.html), a
Task's TimeoutSeconds and HeartbeatSeconds positive (the States Language). moto took a Wait
of 100000000 seconds and ran it, and a TimeoutSeconds of 0."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlwf.offline.definition_check import state_diagnostics


def machine(state: dict[str, Any]) -> str:
    return json.dumps({"StartAt": "S", "States": {"S": {**state, "End": True}}})


TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke"}


@pytest.mark.parametrize(
    "state, message",
    [
        (
            {"Type": "Wait", "Seconds": 100_000_000},
            "Maximum value is 99999999 at /States/S/Seconds",
        ),
        ({"Type": "Wait", "Seconds": -5}, "Minimum value is 0 at /States/S/Seconds"),
        ({**TASK, "TimeoutSeconds": 0}, "Minimum value is 1 at /States/S/TimeoutSeconds"),
        ({**TASK, "HeartbeatSeconds": 0}, "Minimum value is 1 at /States/S/HeartbeatSeconds"),
        (
            {**TASK, "TimeoutSeconds": 100_000_000},
            "Maximum value is 99999999 at /States/S/TimeoutSeconds",
        ),
    ],
)
def test_seconds_out_of_bounds_are_refused(state, message):
    assert state_diagnostics(machine(state)) == [f"SCHEMA_VALIDATION_FAILED: {message}"]


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Wait", "Seconds": 0},
        {"Type": "Wait", "Seconds": 99_999_999},
        {**TASK, "TimeoutSeconds": 1, "HeartbeatSeconds": 1},
        {**TASK, "TimeoutSeconds": 99_999_999},
    ],
)
def test_seconds_within_bounds_are_taken(state):
    assert state_diagnostics(machine(state)) == []


def test_a_wait_nested_in_a_parallel_branch_is_checked():
    branch = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10**9, "End": True}}}
    assert state_diagnostics(machine({"Type": "Parallel", "Branches": [branch]})) == [
        "SCHEMA_VALIDATION_FAILED: Maximum value is 99999999 at "
        "/States/S/Branches[0]/States/W/Seconds"
    ]
