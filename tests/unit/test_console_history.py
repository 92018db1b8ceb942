"""An execution's history read as the Step Functions console shows it: the failed state
red with its error, a retried state green with its retries counted, a caught failure
orange, Map iterations apart, base64 images taken out of the JSON and shown as pictures.

The histories have the shape GetExecutionHistory returns
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html),
events chained by previousEventId as the offline stack's recorded them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mlwf.console.detail import _belonging, task_windows
from mlwf.console.history import analyse, elide, event_rows, function_names
from tests.helpers.events import sample_png

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:stack-{}"


class History:
    """Builds events with ids, previous ids and times, as Step Functions numbers them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, previous: int, details: dict[str, Any] | None = None) -> int:
        number = len(self.events) + 1
        event: dict[str, Any] = {
            "id": number,
            "previousEventId": previous,
            "type": kind,
            "timestamp": T0 + timedelta(milliseconds=100 * number),
        }
        if details is not None:
            key = kind[0].lower() + kind[1:]
            for prefix in ("TaskState", "PassState", "MapState", "FailState"):
                if kind.startswith(prefix) and kind.endswith(("Entered", "Exited")):
                    key = "stateEntered" if kind.endswith("Entered") else "stateExited"
            event[f"{key}EventDetails"] = details
        self.events.append(event)
        return number

    def task(
        self, name: str, previous: int, payload: Any, *, errors: tuple[str, ...] = ()
    ) -> tuple[int, bool]:
        """A Lambda task: one failed attempt per error, then success unless the last of
        `errors` ends it (ending with "!"). Returns (last event id, exited)."""
        last = self.add("TaskStateEntered", previous, {"name": name, "input": json.dumps(payload)})
        function = FUNCTION.format(name.replace(" ", ""))
        for error in errors:
            scheduled = self.add(
                "TaskScheduled",
                last,
                {"resourceType": "lambda", "parameters": json.dumps({"FunctionName": function})},
            )
            started = self.add("TaskStarted", scheduled, {})
            last = self.add(
                "TaskFailed", started, {"error": error.rstrip("!"), "cause": f"{error} <b>x</b>"}
            )
            if error.endswith("!"):
                return last, False
        scheduled = self.add(
            "TaskScheduled",
            last,
            {"resourceType": "lambda", "parameters": json.dumps({"FunctionName": function})},
        )
        started = self.add("TaskStarted", scheduled, {})
        done = self.add("TaskSucceeded", started, {"output": json.dumps({"Payload": payload})})
        return self.add(
            "TaskStateExited", done, {"name": name, "output": json.dumps(payload)}
        ), True


def test_a_retried_state_succeeds_with_its_retries_counted():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    last, _ = history.task("Serialize", start, {"s3_key": "a.png"})
    last, _ = history.task(
        "Classify", last, {"s3_key": "a.png"}, errors=("Lambda.TooManyRequestsException",)
    )
    history.add("ExecutionSucceeded", last, {"output": "{}"})
    found = analyse(history.events)
    assert found["states"]["Classify"]["status"] == "SUCCEEDED"
    assert found["states"]["Classify"]["retries"] == 1
    classify = found["runs"][1]
    assert [a["error"] for a in classify["attempts"]] == ["Lambda.TooManyRequestsException", None]
    assert found["states"]["Serialize"] == {
        "status": "SUCCEEDED",
        "runs": 1,
        "retries": 0,
        "errors": [],
    }
    assert function_names(history.events) == ["stack-Serialize", "stack-Classify"]


def test_the_state_that_failed_the_execution_is_failed_with_its_error():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    last, _ = history.task("Classify", start, {})
    last, _ = history.task("Filter", last, {}, errors=("ThresholdConfidenceNotMet!",))
    history.add("ExecutionFailed", last, {"error": "ThresholdConfidenceNotMet", "cause": "low"})
    found = analyse(history.events, {"status": "FAILED"})
    assert found["status"] == "FAILED"
    assert found["states"]["Filter"]["status"] == "FAILED"
    assert found["states"]["Filter"]["errors"] == ["ThresholdConfidenceNotMet"]
    assert found["runs"][1]["cause"] == "ThresholdConfidenceNotMet! <b>x</b>"  # as text
    assert found["states"]["Classify"]["status"] == "SUCCEEDED"
    assert "Record" not in found["states"]  # not reached: no entry, drawn uncoloured


def test_a_caught_failure_is_caught_and_the_catcher_runs():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    last, _ = history.task("Filter", start, {}, errors=("ThresholdConfidenceNotMet!",))
    entered = history.add("PassStateEntered", last, {"name": "Record low confidence"})
    exited = history.add("PassStateExited", entered, {"name": "Record low confidence"})
    history.add("ExecutionSucceeded", exited, {"output": "{}"})
    found = analyse(history.events)
    assert found["states"]["Filter"]["status"] == "CAUGHT_ERROR"
    assert found["states"]["Record low confidence"]["status"] == "SUCCEEDED"


def test_map_iterations_are_told_apart_while_they_interleave():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    entered = history.add("MapStateEntered", start, {"name": "Each", "input": "{}"})
    started = history.add("MapStateStarted", entered, {"length": 2})
    first = history.add("MapIterationStarted", started, {"name": "Each", "index": 0})
    second = history.add("MapIterationStarted", started, {"name": "Each", "index": 1})
    # Iteration 1 runs first, and fails into its catcher; iteration 0 is accepted.
    one, _ = history.task("Filter", second, {"s3_key": "b.png"}, errors=("Low!",))
    one_in = history.add("PassStateEntered", one, {"name": "Record", "input": "{}"})
    one_out = history.add(
        "PassStateExited", one_in, {"name": "Record", "output": '{"verdict": "LOW_CONFIDENCE"}'}
    )
    zero, _ = history.task("Filter", first, {"s3_key": "a.png"})
    zero_in = history.add("PassStateEntered", zero, {"name": "Record", "input": "{}"})
    zero_out = history.add(
        "PassStateExited", zero_in, {"name": "Record", "output": '{"verdict": "ACCEPTED"}'}
    )
    done_1 = history.add("MapIterationSucceeded", one_out, {"name": "Each", "index": 1})
    history.add("MapIterationSucceeded", zero_out, {"name": "Each", "index": 0})
    succeeded = history.add("MapStateSucceeded", done_1, {})
    exited = history.add("MapStateExited", succeeded, {"name": "Each", "output": "[]"})
    history.add("ExecutionSucceeded", exited, {"output": "{}"})
    found = analyse(history.events)
    items = {item["index"]: item for item in found["items"]}
    assert items[0]["key"] == "a.png" and items[0]["verdict"] == "ACCEPTED"
    assert items[1]["key"] == "b.png" and items[1]["verdict"] == "LOW_CONFIDENCE"
    assert items[1]["states"] == {"Filter": "CAUGHT_ERROR", "Record": "SUCCEEDED"}
    assert items[0]["states"] == {"Filter": "SUCCEEDED", "Record": "SUCCEEDED"}
    assert found["states"]["Each"]["status"] == "SUCCEEDED"
    # The Map's own run ends when the Map exits, not with an iteration's state.
    each = next(r for r in found["runs"] if r["state"] == "Each")
    assert each["exited"] is not None and each["iteration"] is None


def test_a_parallels_own_events_are_its_own_not_its_last_branchs():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    entered = history.add("ParallelStateEntered", start, {"name": "Both", "input": "{}"})
    started = history.add("ParallelStateStarted", entered, {})
    left = history.add("PassStateEntered", started, {"name": "Left", "input": "{}"})
    left = history.add("PassStateExited", left, {"name": "Left", "output": "{}"})
    right, _ = history.task("Right", started, {}, errors=("Boom!",))
    failed = history.add("ParallelStateFailed", right, {"error": "Boom", "cause": "x"})
    history.add("ExecutionFailed", failed, {"error": "Boom", "cause": "x"})
    found = analyse(history.events, {"status": "FAILED"})
    assert found["states"]["Right"]["status"] == "FAILED"
    assert found["states"]["Left"]["status"] == "SUCCEEDED"
    assert found["states"]["Both"]["status"] == "FAILED"
    assert found["states"]["Both"]["errors"] == ["Boom"]


def test_base64_images_are_taken_out_and_kept_as_pictures():
    image = base64.b64encode(sample_png()).decode()
    shown, images = elide(json.dumps({"s3_key": "a.png", "image_data": image}))
    assert shown["s3_key"] == "a.png"
    assert "shown as a picture" in shown["image_data"] and image not in shown["image_data"]
    assert images == [{"path": "$.image_data", "mime": "image/png", "data": image}]
    # Long base64 that is not an image stays as it is.
    text = base64.b64encode(b"x" * 300).decode()
    assert elide(json.dumps({"blob": text})) == ({"blob": text}, [])


def test_the_event_table_names_each_events_state():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    last, _ = history.task("Classify", start, {})
    history.add("ExecutionSucceeded", last, {"output": "{}"})
    rows = event_rows(history.events)
    assert [(r["type"], r["state"]) for r in rows] == [
        ("ExecutionStarted", None),
        ("TaskStateEntered", "Classify"),
        ("TaskScheduled", "Classify"),
        ("TaskStarted", "Classify"),
        ("TaskSucceeded", "Classify"),
        ("TaskStateExited", "Classify"),
        ("ExecutionSucceeded", None),
    ]
    assert rows[-1]["elapsed_ms"] == 600.0


def test_log_lines_are_those_of_the_executions_own_invocations():
    history = History()
    start = history.add("ExecutionStarted", 0, {"input": "{}"})
    last, _ = history.task("Classify", start, {"s3_key": "mine.png"})
    history.add("ExecutionSucceeded", last, {"output": "{}"})
    windows = task_windows(history.events)["stack-Classify"]
    (scheduled, ended) = windows[0]
    during = int(scheduled.timestamp() * 1000) + 10
    later = int(ended.timestamp() * 1000) + 60_000

    def invocation(request: str, when: int, text: str) -> list[dict[str, object]]:
        return [
            {"logStreamName": "s", "timestamp": when, "message": f"START RequestId: {request}"},
            {"logStreamName": "s", "timestamp": when + 1, "message": text},
            {"logStreamName": "s", "timestamp": when + 2, "message": f"END RequestId: {request}"},
        ]

    mine = "11111111-1111-1111-1111-111111111111"
    other = "22222222-2222-2222-2222-222222222222"
    again = "33333333-3333-3333-3333-333333333333"
    lines = (
        invocation(mine, during, '{"s3_key":"mine.png"}')
        + invocation(other, during + 5, '{"s3_key":"theirs.png"}')  # same time, other image
        + invocation(again, later, '{"s3_key":"mine.png"}')  # same image, a later execution
    )
    kept = _belonging(lines, {"mine.png"}, windows)
    assert {line["request_id"] for line in kept} == {mine}
    assert [line["message"] for line in kept][1] == '{"s3_key":"mine.png"}'
