"""One execution's event history as the Step Functions console shows it: each state's runs
(input, output, every attempt with its error, duration), each state's colour, the Map's
iterations, and the events as a table.

Events are tied together by previousEventId (https://docs.aws.amazon.com/step-functions/
latest/apireference/API_HistoryEvent.html): a Task's Scheduled/Started/Failed/Succeeded
events chain back to its StateEntered, and a Map iteration's states chain back to its
MapIterationStarted, even while iterations interleave.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any

from mlwf.console.api import duration_ms, iso

# The Step Functions console's Graph view legend (https://docs.aws.amazon.com/step-functions/
# latest/dg/exec-details-interface-overview.html): in progress, succeeded, failed, caught
# error, cancelled; states not reached stay uncoloured.
SUCCEEDED, FAILED, CAUGHT, IN_PROGRESS, CANCELLED, NOT_REACHED = (
    "SUCCEEDED",
    "FAILED",
    "CAUGHT_ERROR",
    "IN_PROGRESS",
    "CANCELLED",
    "NOT_REACHED",
)
PRECEDENCE = (FAILED, CAUGHT, IN_PROGRESS, CANCELLED, SUCCEEDED)
BASE64_RE = re.compile(r"^[A-Za-z0-9+/]{200,}={0,2}$")
IMAGE_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
TERMINAL_EXECUTION = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
ATTEMPT_FAILURES = ("Failed", "TimedOut", "StartFailed", "SubmitFailed")


def _details(event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def elide(text: str | None) -> tuple[Any, list[dict[str, str]]]:
    """JSON text with every base64 image replaced by a note, and the images found.

    Anything that is not JSON comes back as it is."""
    if text is None:
        return None, []
    try:
        document = json.loads(text)
    except ValueError:
        return text, []
    images: list[dict[str, str]] = []

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and BASE64_RE.match(value):
            mime = _image_type(value)
            if mime:
                images.append({"path": path, "mime": mime, "data": value})
                size = len(value) * 3 // 4
                return f"<{mime}, {size:,} bytes of base64: shown as a picture>"
        return value

    return walk(document, "$"), images


def _image_type(value: str) -> str | None:
    try:
        head = base64.b64decode(value[:16] + "=" * (-len(value[:16]) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    for magic, mime in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return mime
    return None


def _new_run(name: str, kind: str, event: dict[str, Any], iteration: int | None) -> dict[str, Any]:
    shown, images = elide(_details(event).get("input"))
    return {
        "state": name,
        "type": kind,
        "iteration": iteration,
        "entered": iso(event["timestamp"]),
        "exited": None,
        "duration_ms": None,
        "status": IN_PROGRESS,
        "input": shown,
        "output": None,
        "images": images,
        "attempts": [],
        "error": None,
        "cause": None,
        "_start": event["timestamp"],
        "_events": [event["id"]],
    }


def analyse(
    events: list[dict[str, Any]], description: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The runs, per-state status and Map iterations of one execution's history (oldest
    first, as GetExecutionHistory returns it by default)."""
    run_of: dict[int, dict[str, Any]] = {}  # event id -> the run it belongs to
    iteration_of: dict[int, tuple[str, int] | None] = {}  # event id -> (Map, index)
    runs: list[dict[str, Any]] = []
    iterations: dict[tuple[str, int], dict[str, Any]] = {}
    failed_event: int | None = None
    ended: str | None = None
    map_runs: dict[str, dict[str, Any]] = {}  # Map state name -> its latest run
    parallels: list[dict[str, Any]] = []  # the Parallel runs entered and not yet exited
    for event in events:
        kind, previous = event["type"], event.get("previousEventId") or 0
        details = _details(event)
        iteration_of[event["id"]] = iteration_of.get(previous)
        if kind.startswith("MapIteration"):
            # Iteration events belong to their Map's run, outside any iteration.
            key = (str(details.get("name", "")), int(details.get("index", 0)))
            if kind == "MapIterationStarted":
                iteration_of[event["id"]] = key
                iterations[key] = {"map": key[0], "index": key[1], "status": IN_PROGRESS}
                iterations[key]["runs"] = []
            else:
                iteration_of[event["id"]] = None
                if key in iterations:
                    iterations[key]["status"] = {
                        "MapIterationSucceeded": SUCCEEDED,
                        "MapIterationAborted": CANCELLED,
                    }.get(kind, FAILED)
            if key[0] in map_runs:
                run_of[event["id"]] = map_runs[key[0]]
            continue
        if kind.endswith("StateEntered"):
            entered = _new_run(details.get("name", "?"), kind[: -len("StateEntered")], event, None)
            entered["iteration"] = iteration_of[event["id"]]
            runs.append(entered)
            run_of[event["id"]] = entered
            if entered["type"] == "Map":
                map_runs[entered["state"]] = entered
            elif entered["type"] == "Parallel":
                parallels.append(entered)
            # A failed run that another state follows was caught (Catch) into that state.
            source = run_of.get(previous)
            if source is not None and source["status"] == FAILED:
                source["status"] = CAUGHT
            continue
        run = run_of.get(previous)
        if kind.startswith("ParallelState") and parallels:
            # Its Succeeded/Exited events follow a branch's last event, not its own.
            run = parallels[-1]
            if kind == "ParallelStateExited":
                parallels.pop()
            iteration_of[event["id"]] = run["iteration"]
        if kind in TERMINAL_EXECUTION:
            ended = TERMINAL_EXECUTION[kind]
            if kind == "ExecutionFailed":
                failed_event = previous
            continue
        if run is None:
            continue
        run_of[event["id"]] = run
        run["_events"].append(event["id"])
        if kind.endswith("StateExited"):
            shown, images = elide(details.get("output"))
            run["output"], run["exited"] = shown, iso(event["timestamp"])
            run["images"] += images
            run["duration_ms"] = duration_ms(run["_start"], event["timestamp"])
            if run["status"] == IN_PROGRESS:
                run["status"] = SUCCEEDED
        elif kind.endswith("Scheduled"):
            run["attempts"].append(
                {"scheduled": iso(event["timestamp"]), "error": None, "cause": None, "ended": None}
            )
            run["status"] = IN_PROGRESS  # a retry: the failure before it was not the end
        elif any(kind.endswith(s) for s in ATTEMPT_FAILURES):
            _fail(run, details, event)
        elif kind.endswith("Succeeded"):
            if run["attempts"]:
                run["attempts"][-1]["ended"] = iso(event["timestamp"])
            run["error"] = run["cause"] = None  # retried into success: attempts keep them
    for run in runs:
        if run["type"] == "Fail":
            run["status"] = FAILED
    if failed_event is not None and failed_event in run_of:
        run_of[failed_event]["status"] = FAILED
    if ended in ("ABORTED", "TIMED_OUT"):
        for run in runs:
            if run["status"] == IN_PROGRESS:
                run["status"] = CANCELLED
    for run in runs:
        if run["iteration"] is not None and run["iteration"] in iterations:
            iterations[run["iteration"]]["runs"].append(run)
        run["retries"] = max(0, len(run["attempts"]) - 1)
        if run["exited"] is None and run["attempts"] and run["attempts"][-1]["ended"]:
            end = datetime.fromisoformat(run["attempts"][-1]["ended"])
            run["duration_ms"] = duration_ms(run["_start"], end)
    states = _state_status(runs)
    for index, run in enumerate(runs):
        run["index"] = index
        if run["iteration"] is not None:
            run["map"], run["iteration"] = run["iteration"]
    items = [_item(iteration) for _, iteration in sorted(iterations.items())]
    for run in runs:
        del run["_start"], run["_events"]
    return {
        "status": (description or {}).get("status") or ended or "RUNNING",
        "runs": runs,
        "states": states,
        "items": items,
    }


def _fail(run: dict[str, Any], details: dict[str, Any], event: dict[str, Any]) -> None:
    if not run["attempts"]:
        run["attempts"].append({"scheduled": None, "error": None, "cause": None, "ended": None})
    attempt = run["attempts"][-1]
    attempt["error"] = details.get("error")
    attempt["cause"] = details.get("cause")
    attempt["ended"] = iso(event["timestamp"])
    run["error"], run["cause"] = attempt["error"], attempt["cause"]
    run["status"] = FAILED  # until a retry succeeds (it exits) or a catch moves on


def _state_status(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per state name: the status to colour it (the worst of its runs), runs, retries."""
    states: dict[str, dict[str, Any]] = {}
    for run in runs:
        entry = states.setdefault(
            run["state"], {"status": SUCCEEDED, "runs": 0, "retries": 0, "errors": []}
        )
        entry["runs"] += 1
        entry["retries"] += run["retries"]
        if PRECEDENCE.index(run["status"]) < PRECEDENCE.index(entry["status"]):
            entry["status"] = run["status"]
        for attempt in run["attempts"]:
            if attempt["error"] and attempt["error"] not in entry["errors"]:
                entry["errors"].append(attempt["error"])
    return states


def _item(iteration: dict[str, Any]) -> dict[str, Any]:
    runs = iteration["runs"]
    key = None
    if runs and isinstance(runs[0]["input"], dict):
        key = runs[0]["input"].get("s3_key")
    verdict = None
    error = None
    if runs and isinstance(runs[-1]["output"], dict):
        verdict = runs[-1]["output"].get("verdict")
        error = runs[-1]["output"].get("error")
    return {
        "index": iteration["index"],
        "map": iteration["map"],
        "status": iteration["status"],
        "key": key,
        "verdict": verdict,
        "error": error,
        "states": {r["state"]: r["status"] for r in runs},
        "runs": [r["index"] for r in runs],
    }


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history as the console's table: id, type, state, time, elapsed, details."""
    rows = []
    first: datetime | None = events[0]["timestamp"] if events else None
    state_of: dict[int, str] = {}
    for event in events:
        details = _details(event)
        name = details.get("name") if event["type"].endswith(("Entered", "Exited")) else None
        previous = event.get("previousEventId") or 0
        state = None if event["type"].startswith("Execution") else name or state_of.get(previous)
        if state and not event["type"].startswith("MapIteration"):
            state_of[event["id"]] = state
        shown = {}
        for key, value in details.items():
            if key in ("input", "output", "parameters") and isinstance(value, str):
                value, _ = elide(value)
            shown[key] = value
        rows.append(
            {
                "id": event["id"],
                "type": event["type"],
                "state": state,
                "timestamp": iso(event["timestamp"]),
                "elapsed_ms": duration_ms(first, event["timestamp"]),
                "details": shown,
            }
        )
    return rows


def function_names(events: list[dict[str, Any]]) -> list[str]:
    """The Lambda functions the execution's tasks invoked (names, from their ARNs)."""
    names: list[str] = []
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if not details or details.get("resourceType") != "lambda":
            continue
        try:
            parameters = json.loads(details.get("parameters") or "{}")
        except ValueError:
            continue
        function = parameters.get("FunctionName") if isinstance(parameters, dict) else None
        if isinstance(function, str):
            name = function.split(":function:")[-1].split(":")[0]
            if name not in names:
                names.append(name)
    return names
