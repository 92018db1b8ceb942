"""A lapsed heartbeat is States.Timeout, seen by a Retry or Catch naming States.Timeout or
States.HeartbeatTimeout; a TimeoutSeconds timeout by States.Timeout alone
(mlwf/offline/heartbeat_timeouts.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from mlwf.offline.bridge import Bridge
from mlwf.offline.heartbeat_timeouts import heartbeat_timeouts_named
from mlwf.offline.state_errors import states_errors_kept
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION


def waiting(timing: dict, catch: str) -> dict:
    """A task that waits for a token nobody sends, its timeout given by `timing`."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "silent", "Payload": {"token.$": "$$.Task.Token"}},
        **timing,
        "Catch": [{"ErrorEquals": [catch], "ResultPath": "$.caught", "Next": "Caught"}],
        "End": True,
    }
    return {"StartAt": "T", "States": {"T": task, "Caught": {"Type": "Pass", "End": True}}}


HEARTBEAT = {"HeartbeatSeconds": 1, "TimeoutSeconds": 30}
TIMEOUT = {"TimeoutSeconds": 1}


@pytest.fixture
def silent(aws) -> Iterator[None]:
    with Bridge(functions={"silent": lambda event, _: {}}):
        yield


def run(definition: dict) -> dict:
    return run_to_end(boto3.client("stepfunctions", region_name=REGION), definition)


def test_the_pinned_moto_matches_no_heartbeat_timeout(silent):
    ended = run(waiting(HEARTBEAT, "States.HeartbeatTimeout"))
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")


@pytest.fixture
def named(silent) -> Iterator[None]:
    with states_errors_kept(), heartbeat_timeouts_named():
        yield


@pytest.mark.parametrize("catch", ["States.HeartbeatTimeout", "States.Timeout", "States.ALL"])
def test_a_lapsed_heartbeat_is_caught_by_either_name(named, catch):
    ended = run(waiting(HEARTBEAT, catch))
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"])["caught"]["Error"] == "States.Timeout"


def test_a_task_past_its_timeout_is_not_a_heartbeat_timeout(named):
    ended = run(waiting(TIMEOUT, "States.HeartbeatTimeout"))
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")
    assert run(waiting(TIMEOUT, "States.Timeout"))["status"] == "SUCCEEDED"


def test_uncaught_a_lapsed_heartbeat_fails_the_execution_with_states_timeout(named):
    ended = run(waiting(HEARTBEAT, "States.TaskFailed"))
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")
