"""A Distributed Map whose children fail past the tolerated threshold fails with
States.ExceedToleratedFailureThreshold, as AWS's does; moto succeeded whatever failed
(mlwf.offline.map_run_failures)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlwf.offline.map_run_failures import CAUSE
from mlwf.offline.runtime import OfflineStack
from tests.helpers.executions import history_events, run_to_end

pytestmark = pytest.mark.offline

ERROR = "States.ExceedToleratedFailureThreshold"


def failing_map(**tolerance: object) -> dict:
    """A Distributed Map whose children fail for items over 1."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Big?",
        "States": {
            "Big?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericGreaterThan": 1, "Next": "Fail"}],
                "Default": "Done",
            },
            "Fail": {"Type": "Fail", "Error": "TooBig", "Cause": "over 1"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    state = {"Type": "Map", "ItemProcessor": processor, "End": True, **tolerance}
    return {"StartAt": "Each", "States": {"Each": state}}


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def test_a_failed_child_fails_the_map_run_when_no_threshold_is_given(stack):
    ended = run_to_end(stack.sfn, failing_map(), json.dumps([1, 2]))
    # Then the Map Run and the execution fail (moto succeeded, null for the failed child)
    assert (ended["status"], ended.get("error"), ended.get("cause")) == ("FAILED", ERROR, CAUSE)
    history = history_events(stack.sfn, ended)
    failed = [e for e in history if e["type"] == "MapRunFailed"]
    assert failed[0]["mapRunFailedEventDetails"] == {"error": ERROR, "cause": CAUSE}
    run = stack.sfn.list_map_runs(executionArn=ended["executionArn"])["mapRuns"][0]
    described = stack.sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert described["status"] == "FAILED"
    assert described["itemCounts"]["failed"] == 1


def test_failures_within_the_count_are_tolerated_and_past_it_are_not(stack):
    tolerant = run_to_end(stack.sfn, failing_map(ToleratedFailureCount=1), json.dumps([1, 2]))
    assert tolerant["status"] == "SUCCEEDED"
    assert json.loads(tolerant["output"]) == [1, None]
    passed = run_to_end(stack.sfn, failing_map(ToleratedFailureCount=1), json.dumps([1, 2, 3]))
    assert (passed["status"], passed["error"]) == ("FAILED", ERROR)


def test_the_map_s_catch_sees_the_threshold_error(stack):
    definition = failing_map(ToleratedFailurePercentage=50)
    definition["States"]["Each"].pop("End")
    definition["States"]["Each"]["Catch"] = [{"ErrorEquals": [ERROR], "Next": "Caught"}]
    definition["States"]["Each"]["Next"] = "Caught"
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    ended = run_to_end(stack.sfn, definition, json.dumps([1, 2, 3]))  # 67% failed
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"])["Error"] == ERROR


def test_list_executions_of_a_map_run_lists_its_children(stack):
    # Given a Map Run with one child that succeeded and one that failed
    ended = run_to_end(stack.sfn, failing_map(ToleratedFailureCount=1), json.dumps([1, 2]))
    run = stack.sfn.list_map_runs(executionArn=ended["executionArn"])["mapRuns"][0]
    # When its children are listed by the Map Run's ARN (moto answered HTTP 500)
    listed = stack.sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    # Then both are there, under the Map Run's state machine, each with its item count
    assert sorted(e["status"] for e in listed) == ["FAILED", "SUCCEEDED"]
    for execution in listed:
        assert execution["mapRunArn"] == run["mapRunArn"]
        assert execution["stateMachineArn"] == run["stateMachineArn"]
        assert execution["itemCount"] == 1
        assert execution["stopDate"] >= execution["startDate"]
    failed = stack.sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED")
    assert [e["status"] for e in failed["executions"]] == ["FAILED"]


def test_list_executions_of_an_unknown_map_run_is_resource_not_found(stack):
    unknown = "arn:aws:states:us-east-1:123456789012:mapRun:m/x:0000"
    with pytest.raises(stack.sfn.exceptions.ResourceNotFound):
        stack.sfn.list_executions(mapRunArn=unknown)
