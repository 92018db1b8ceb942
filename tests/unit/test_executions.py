"""mlwf.executions: what a run reports of each execution, read from Step Functions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from mlwf.executions import (
    CLASSIFY_STATE,
    INFERENCES_MARKER,
    LOW_CONFIDENCE,
    ExecutionInput,
    format_summary,
    inferences_from_cause,
    run_executions,
)
from mlwf.offline.bridge import lambda_error_payload


def filter_verdict_cause(app: Any, inferences: list[float]) -> str:
    """The cause Step Functions gives when the real filter rejects these inferences."""
    with pytest.raises(app.ThresholdConfidenceNotMet) as raised:
        app.filter_inferences({"s3_key": "k.png", "inferences": inferences}, 0.93)
    return json.dumps(lambda_error_payload(raised.value, "request-id"))


def test_the_filters_verdict_carries_its_inferences_to_mlwf(load_app):
    app = load_app("FilterInferencesFunction")
    assert app.INFERENCES_MARKER == INFERENCES_MARKER  # the two sides of one contract
    for inferences in ([0.61, 0.39], [0.07000000000000006, 0.9299999999999999], [0.5, 0.5]):
        assert inferences_from_cause(filter_verdict_cause(app, inferences)) == inferences


@pytest.mark.parametrize(
    "cause",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        json.dumps({"errorType": "ThresholdConfidenceNotMet"}),
        json.dumps({"errorMessage": None}),
        json.dumps({"errorMessage": "k.png: top confidence 0.61 is below the threshold 0.93"}),
        json.dumps({"errorMessage": f"{INFERENCES_MARKER}[0.6, "}),
        json.dumps({"errorMessage": f"{INFERENCES_MARKER}[]"}),
        json.dumps({"errorMessage": f'{INFERENCES_MARKER}["0.6", "0.4"]'}),
        json.dumps({"errorMessage": f"{INFERENCES_MARKER}[true, false]"}),
        json.dumps({"errorMessage": f'{INFERENCES_MARKER}{{"a": 1}}'}),
    ],
)
def test_a_cause_without_readable_inferences_gives_none(cause):
    assert inferences_from_cause(cause) is None


class RecordedSfn:
    """A Step Functions client that answers from one finished execution's records."""

    def __init__(
        self,
        description: dict[str, Any],
        history: list[dict[str, Any]],
        workflow_type: str = "STANDARD",
    ):
        self.description, self.history = description, history
        self.workflow_type = workflow_type
        self.calls: list[str] = []

    def describe_state_machine(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("describe_state_machine")
        return {"stateMachineArn": kwargs["stateMachineArn"], "type": self.workflow_type}

    def start_sync_execution(self, **kwargs: Any) -> dict[str, Any]:
        # AWS: "StartSyncExecution is not available for STANDARD workflows"
        assert self.workflow_type == "EXPRESS", "StateMachineTypeNotSupported"
        self.calls.append("start_sync_execution")
        return {**self.description, "name": kwargs["name"], "input": kwargs["input"]}

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("start_execution")
        return {"executionArn": self.description["executionArn"]}

    def describe_execution(self, **kwargs: Any) -> dict[str, Any]:
        assert self.workflow_type == "STANDARD", "InvalidArn: not valid in this context: express"
        self.calls.append("describe_execution")
        return self.description

    def get_paginator(self, operation: str) -> SimpleNamespace:
        assert self.workflow_type == "STANDARD", f"{operation}: not supported for EXPRESS"
        self.calls.append(operation)
        pages = {
            "list_executions": [{"executions": []}],  # nothing still running
            "get_execution_history": [{"events": self.history}],
        }[operation]
        return SimpleNamespace(paginate=lambda **_: pages)


def failed_execution(cause: str, error: str = LOW_CONFIDENCE) -> dict[str, Any]:
    return {
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e",
        "status": "FAILED",
        "error": error,
        "cause": cause,
        "startDate": datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC),
        "stopDate": datetime(2026, 11, 28, 12, 0, 1, tzinfo=UTC),
    }


def test_a_verdict_without_inferences_falls_back_to_the_history():
    # Given a stack deployed before verdicts carried their inferences
    old_cause = json.dumps({"errorMessage": "k.png: top confidence 0.6100 is below 0.93"})
    classify_exit = {
        "type": "TaskStateExited",
        "stateExitedEventDetails": {
            "name": CLASSIFY_STATE,
            "output": json.dumps({"inferences": [0.61, 0.39]}),
        },
    }
    sfn = RecordedSfn(failed_execution(old_cause), [classify_exit])

    # When a run reports the execution
    (result,) = run_executions(sfn, "arn:m", [ExecutionInput("b", "k.png", 0)])

    # Then the inferences come from the classify state's output in the history
    assert result.inferences == [0.61, 0.39]
    assert "get_execution_history" in sfn.calls


def test_a_verdict_with_inferences_needs_no_history():
    cause = json.dumps({"errorMessage": f"k.png: ...; {INFERENCES_MARKER}[0.61, 0.39]"})
    sfn = RecordedSfn(failed_execution(cause), [])

    (result,) = run_executions(sfn, "arn:m", [ExecutionInput("b", "k.png", 0)])

    assert (result.inferences, result.predicted, result.duration_ms) == ([0.61, 0.39], 0, 1000)
    assert "get_execution_history" not in sfn.calls


def test_only_the_filters_verdict_is_read_for_inferences():
    # Given another error whose message happens to hold the marker (an odd S3 key, say)
    cause = json.dumps({"errorMessage": f"s3://b/odd {INFERENCES_MARKER}[0.9, 0.1] is missing"})
    sfn = RecordedSfn(failed_execution(cause, error="ImageNotFound"), [])

    (result,) = run_executions(sfn, "arn:m", [ExecutionInput("b", "k.png", 0)])

    # Then no inferences are made up from it: the history (no classify output) decides
    assert result.inferences is None
    assert "get_execution_history" in sfn.calls


def test_an_express_execution_is_run_synchronously_and_read_from_its_answer():
    # Given an EXPRESS state machine, whose executions AWS will not describe or list
    cause = json.dumps({"errorMessage": f"k.png: ...; {INFERENCES_MARKER}[0.61, 0.39]"})
    sfn = RecordedSfn(failed_execution(cause), [], workflow_type="EXPRESS")

    # When a run reports two images
    inputs = [ExecutionInput("b", "k.png", 0), ExecutionInput("b", "j.png", 1)]
    results = run_executions(sfn, "arn:m", inputs, concurrency=2)

    # Then each was run with StartSyncExecution and read from its answer, in input order
    assert [r.s3_key for r in results] == ["k.png", "j.png"]
    assert all(r.inferences == [0.61, 0.39] and r.duration_ms == 1000 for r in results)
    assert sorted(set(sfn.calls)) == ["describe_state_machine", "start_sync_execution"]


def test_an_express_failure_without_a_verdict_has_no_inferences():
    sfn = RecordedSfn(failed_execution("{}", error="ImageNotFound"), [], workflow_type="EXPRESS")

    (result,) = run_executions(sfn, "arn:m", [ExecutionInput("b", "k.png", 0)])

    assert (result.status, result.error, result.inferences) == ("FAILED", "ImageNotFound", None)
    assert "get_execution_history" not in sfn.calls


def test_the_run_summary_lines_up_its_values():
    # Given a run's summary, with every line that can appear
    summary = {
        "executions": 100,
        "succeeded": 74,
        "failed_low_confidence": 26,
        "other_failures": {"ImageNotFound": 1},
        "threshold": 0.93,
        "accuracy_all": 0.87,
        "accuracy_accepted": 0.973,
        "coverage": 0.74,
        "median_duration_ms": 260.0,
    }
    # Then each value starts in the same column (the low-confidence count once broke it)
    lines = format_summary(summary).splitlines()
    assert len(lines) == 8
    assert all(re.fullmatch(r"[a-z ,]+: +", line[:23]) and line[23] != " " for line in lines), lines
    assert f"low confidence:        26 ({LOW_CONFIDENCE})" in lines
