"""One execution for its page: the description, the graph of the definition it ran, each
state's runs and colour (mlwf.console.history), the event table, and its functions' log
lines from CloudWatch Logs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from mlwf.console.api import Console, duration_ms, input_key, iso, top_confidence
from mlwf.console.aws import ConsoleError, console_error
from mlwf.console.history import FAILED, SUCCEEDED, analyse, elide, event_rows, function_names
from mlwf.console.layout import layout

LOG_SLACK = timedelta(seconds=5)  # log events are stamped a little before/after the task
MAX_LOG_LINES = 2000
REQUEST_ID_RE = re.compile(r"RequestId: ([0-9a-f-]{36})")


def history(console: Console, arn: str) -> list[dict[str, Any]]:
    sfn = console.aws.client("stepfunctions")
    paginator = sfn.get_paginator("get_execution_history")
    events: list[dict[str, Any]] = []
    for page in paginator.paginate(executionArn=arn, includeExecutionData=True):
        events.extend(page["events"])
    return events


def describe(console: Console, arn: str) -> dict[str, Any]:
    sfn = console.aws.client("stepfunctions")
    try:
        return dict(sfn.describe_execution(executionArn=arn))
    except Exception as exc:
        error = console_error(exc, f"execution {arn.rsplit(':', 1)[-1]}")
        if error.status == 404:
            # History is kept 90 days after an execution closes:
            # https://docs.aws.amazon.com/step-functions/latest/dg/limits.html
            error = ConsoleError(
                404,
                f"execution {arn} does not exist (any more): Step Functions keeps a "
                "finished STANDARD execution 90 days, and the offline stack forgets its "
                "executions when it stops",
            )
        raise error from None


def execution(console: Console, arn: str) -> dict[str, Any]:
    """Everything the execution page shows except the logs."""
    description = describe(console, arn)
    sfn = console.aws.client("stepfunctions")
    try:
        events = history(console, arn)
        machine = sfn.describe_state_machine_for_execution(executionArn=arn)
    except Exception as exc:
        raise console_error(exc, f"history of {description['name']}") from None
    definition = json.loads(machine["definition"])
    shown_input, input_images = elide(description.get("input"))
    shown_output, output_images = elide(description.get("output"))
    analysed = analyse(events, description)
    written = result_writer_items(console, description)
    if written is not None:  # a Distributed Map: its items ran as child executions
        analysed["items"] = written
    return {
        "arn": arn,
        "name": description["name"],
        "status": description["status"],
        "state_machine_arn": description["stateMachineArn"],
        "state_machine_name": machine.get("name"),
        "start": iso(description.get("startDate")),
        "stop": iso(description.get("stopDate")),
        "duration_ms": duration_ms(description.get("startDate"), description.get("stopDate")),
        "error": description.get("error"),
        "cause": description.get("cause"),
        "input": shown_input,
        "output": shown_output,
        "images": input_images + output_images,
        "key": input_key(description.get("input")),
        "confidence": top_confidence(description),
        "graph": layout(definition),
        "definition": definition,
        "map_states": map_states(definition),
        **analysed,
        "events": event_rows(events),
    }


# The first items a Distributed Map wrote are shown; `mlwf batch --out` writes them all.
MAX_WRITTEN_ITEMS = 1000


def result_writer_items(
    console: Console, description: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """A Distributed Map's items, from the result files its ResultWriter wrote to S3, as
    AWS's console reads them: its child executions (EXPRESS here) keep no history to show.
    None when the execution's output names no result files."""
    from itertools import islice

    from mlwf.batch_results import iter_verdicts

    try:
        details = json.loads(description.get("output") or "{}").get("ResultWriterDetails")
    except (ValueError, AttributeError):
        return None
    if not isinstance(details, dict) or not details.get("Bucket") or not details.get("Key"):
        return None
    s3 = console.aws.client("s3")
    try:
        verdicts = list(
            islice(iter_verdicts(s3, details["Bucket"], details["Key"]), MAX_WRITTEN_ITEMS)
        )
    except Exception as exc:
        raise console_error(
            exc, f"result files s3://{details['Bucket']}/{details['Key']}"
        ) from None
    return [
        {
            "index": index,
            "status": FAILED if verdict.verdict == "ERROR" else SUCCEEDED,
            "verdict": verdict.verdict,
            "error": verdict.error,
            "key": verdict.s3_key,
            "runs": [],
            "child": True,  # an EXPRESS child: no history, nothing to open
        }
        for index, verdict in enumerate(verdicts)
    ]


def map_states(scope: dict[str, Any]) -> dict[str, list[str]]:
    """Per Map state (at any depth): the names of the states its item processor holds, so
    that one item's page can leave the states it did not reach uncoloured."""
    found: dict[str, list[str]] = {}
    raw = scope.get("States")
    states = raw if isinstance(raw, dict) else {}
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        inner = [state.get("ItemProcessor") or state.get("Iterator")]
        inner += state.get("Branches") or []
        for child in inner:
            if isinstance(child, dict):
                if state.get("Type") == "Map":
                    found[name] = list(child.get("States") or {})
                found.update(map_states(child))
    return found


def logs(console: Console, arn: str) -> dict[str, Any]:
    """Per function the execution invoked: its log lines that belong to this execution.

    An invocation (the lines of one RequestId in one stream) belongs to it when it started
    while one of the execution's tasks was calling that function, and one of its lines
    names the execution (inference_id), an image key from its inputs, or a RequestId from
    its failures' causes. Read with FilterLogEvents over the tasks' time span."""
    description = describe(console, arn)
    events = history(console, arn)
    needles = _needles(description, events)
    logs_client = console.aws.client("logs")
    groups: list[dict[str, Any]] = []
    for name, windows in task_windows(events).items():
        group = f"/aws/lambda/{name}"
        start = min(w[0] for w in windows) - LOG_SLACK
        stop = max(w[1] for w in windows) + LOG_SLACK
        try:
            lines = _filter(logs_client, group, start, stop)
        except Exception as exc:
            error = console_error(exc, f"log group {group}")
            groups.append({"function": name, "group": group, "lines": [], "note": error.message})
            continue
        kept = _belonging(lines, needles, windows)
        groups.append(
            {
                "function": name,
                "group": group,
                "lines": kept[:MAX_LOG_LINES],
                "note": None if kept else "no log lines of this execution in its time span",
            }
        )
    return {"arn": arn, "functions": groups}


def task_windows(events: list[dict[str, Any]]) -> dict[str, list[tuple[Any, Any]]]:
    """Per Lambda function: the (scheduled, ended) times of each call the tasks made."""
    names = function_names(events)
    open_calls: dict[int, tuple[str, Any]] = {}  # event id -> (function, scheduled)
    windows: dict[str, list[tuple[Any, Any]]] = {n: [] for n in names}
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details is not None:
            function = _function_of(details)
            if function:
                open_calls[event["id"]] = (function, event["timestamp"])
            continue
        previous = event.get("previousEventId")
        if previous in open_calls:  # TaskStarted: follow the chain
            function, scheduled = open_calls.pop(previous)
            if event["type"] == "TaskStarted":
                open_calls[event["id"]] = (function, scheduled)
            else:
                windows[function].append((scheduled, event["timestamp"]))
    last = events[-1]["timestamp"] if events else None
    for function, scheduled in open_calls.values():  # still running
        windows[function].append((scheduled, last))
    return {name: spans for name, spans in windows.items() if spans}


def _function_of(details: dict[str, Any]) -> str | None:
    if details.get("resourceType") != "lambda":
        return None
    try:
        parameters = json.loads(details.get("parameters") or "{}")
    except ValueError:
        return None
    function = parameters.get("FunctionName") if isinstance(parameters, dict) else None
    if not isinstance(function, str):
        return None
    return function.split(":function:")[-1].split(":")[0]


def _needles(description: dict[str, Any], events: list[dict[str, Any]]) -> set[str]:
    needles = {description["name"]}
    for event in events:
        for details in event.values():
            if not isinstance(details, dict):
                continue
            for field in ("input", "cause"):
                text = details.get(field)
                if not isinstance(text, str):
                    continue
                key = input_key(text)
                if key:
                    needles.add(key)
                for match in re.finditer(r'"requestId"\s*:\s*"([0-9a-f-]{36})"', text):
                    needles.add(match.group(1))
    return {n for n in needles if len(n) >= 6}


def _filter(client: Any, group: str, start: Any, stop: Any) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    paginator = client.get_paginator("filter_log_events")
    pages = paginator.paginate(
        logGroupName=group,
        startTime=int(start.timestamp() * 1000),
        endTime=int(stop.timestamp() * 1000),
    )
    for page in pages:
        lines.extend(page["events"])
        if len(lines) > 20 * MAX_LOG_LINES:
            break
    return lines


def _belonging(
    lines: list[dict[str, Any]], needles: set[str], windows: list[tuple[Any, Any]]
) -> list[dict[str, Any]]:
    """The invocations (grouped by stream and RequestId) that started within a window
    (give or take a second: log times are stamped when written) and mention a needle."""
    slack = 1000
    spans = [
        (int(a.timestamp() * 1000) - slack, int(b.timestamp() * 1000) + slack) for a, b in windows
    ]
    invocations: dict[tuple[str, str], list[dict[str, Any]]] = {}
    current: dict[str, str] = {}  # stream -> its open RequestId
    order: list[tuple[str, str]] = []
    for line in sorted(lines, key=lambda e: (e.get("timestamp", 0), e.get("eventId", ""))):
        stream, message = line.get("logStreamName", ""), line.get("message", "")
        found = REQUEST_ID_RE.search(message)
        if found and message.startswith("START"):
            current[stream] = found.group(1)
        request = current.get(stream, "")
        key = (stream, request)
        if key not in invocations:
            invocations[key] = []
            order.append(key)
        invocations[key].append(
            {
                "timestamp": line.get("timestamp"),
                "stream": stream,
                "request_id": request or None,
                "message": message.rstrip("\n"),
            }
        )
    kept: list[dict[str, Any]] = []
    for key in order:
        block = invocations[key]
        began = block[0]["timestamp"] or 0
        if not any(a <= began <= b for a, b in spans):
            continue
        if any(n in e["message"] or n == key[1] for e in block for n in needles):
            kept.extend(block)
    return kept
