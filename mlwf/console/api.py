"""What the console's pages ask for, read from AWS: the stack, its state machines, their
executions (a list kept fresh by polling, as the Step Functions console does), and starting
an execution, the one thing the console changes.

The execution list needs, per execution, what ListExecutions does not give: the image's key
(its input) and the top confidence (its output or its error's cause). Each execution is
described once when first seen and once more when its status changes; finished ones are
never described again. Describing runs in a small pool in the background, so a list of
thousands answers at once and fills in as the answers arrive.

Step Functions keeps no history of EXPRESS executions (only their CloudWatch Logs, when
logging is on: https://docs.aws.amazon.com/step-functions/latest/dg/
concepts-view-execution-details.html), so their list is not shown.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlwf.console.aws import Aws, ConsoleError, console_error
from mlwf.console.layout import layout
from mlwf.executions import LOW_CONFIDENCE, inferences_from_cause

STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"

REFRESH_SECONDS = 1.5  # ListExecutions at most this often per state machine
DESCRIBE_WORKERS = 6  # DescribeExecution is throttled per account: stay modest
STACK_SECONDS = 10.0  # a page load asks for the stack twice or more: once per 10 s is enough


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def duration_ms(start: datetime | None, stop: datetime | None) -> float | None:
    if start is None or stop is None:
        return None
    return round((stop - start).total_seconds() * 1000, 1)


def top_confidence(description: dict[str, Any]) -> float | None:
    """The highest probability of the execution's inferences: from its output when it
    succeeded, from ThresholdConfidenceNotMet's cause when the filter rejected it."""
    inferences: Any = None
    if description.get("status") == "SUCCEEDED":
        try:
            output = json.loads(description.get("output") or "{}")
        except ValueError:
            return None
        inferences = output.get("inferences") if isinstance(output, dict) else None
    elif description.get("error") == LOW_CONFIDENCE:
        inferences = inferences_from_cause(description.get("cause"))
    if isinstance(inferences, list) and inferences:
        numbers = [v for v in inferences if isinstance(v, int | float) and not isinstance(v, bool)]
        return max(numbers) if numbers else None
    return None


def input_key(text: str | None) -> str | None:
    """The image's key (or a batch's prefix) from an execution's input."""
    try:
        document = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    for name in ("s3_key", "s3_prefix"):
        if isinstance(document.get(name), str):
            return document[name]
    detail = document.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get("object"), dict):
        key = detail["object"].get("key")
        return key if isinstance(key, str) else None
    return None


def summary_row(listed: dict[str, Any], description: dict[str, Any] | None) -> dict[str, Any]:
    """One row of the execution list."""
    row: dict[str, Any] = {
        "arn": listed["executionArn"],
        "name": listed["name"],
        "status": listed["status"],
        "start": iso(listed.get("startDate")),
        "stop": iso(listed.get("stopDate")),
        "duration_ms": duration_ms(listed.get("startDate"), listed.get("stopDate")),
        "error": None,
        "key": None,
        "confidence": None,
        "described": description is not None,
    }
    if description is not None:
        row["error"] = description.get("error")
        row["key"] = input_key(description.get("input"))
        row["confidence"] = top_confidence(description)
    return row


@dataclass
class ExecutionList:
    """The executions of one state machine, kept fresh on demand."""

    arn: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # arn -> row
    revisions: dict[str, int] = field(default_factory=dict)  # arn -> revision it changed at
    revision: int = 0
    refreshed: float = 0.0
    error: ConsoleError | None = None
    refreshing: bool = False  # a ListExecutions in the background now
    lock: threading.Lock = field(default_factory=threading.Lock)


class Console:
    """The console's model: the stack and its executions, read through `aws`."""

    def __init__(
        self, aws: Aws, stack_name: str, *, report: Callable[[str], None] | None = None
    ) -> None:
        self.aws = aws
        self.stack_name = stack_name
        self.report = report or (lambda line: None)
        self._lists: dict[str, ExecutionList] = {}
        self._lists_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(DESCRIBE_WORKERS, thread_name_prefix="describe")
        self._pending: list[Any] = []  # DescribeExecution calls not yet waited for
        self._stack: tuple[float, dict[str, Any]] | None = None  # (when read, answer)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the stack -----------------------------------------------------------------------
    def stack(self) -> dict[str, Any]:
        """The stack's status, outputs and state machines (from its resources, else from
        outputs that hold state machine ARNs), read again after STACK_SECONDS."""
        cached = self._stack
        if cached is not None and time.monotonic() - cached[0] < STACK_SECONDS:
            return cached[1]
        answer = self._read_stack()
        self._stack = (time.monotonic(), answer)
        return answer

    def _read_stack(self) -> dict[str, Any]:
        cfn = self.aws.client("cloudformation")
        try:
            stacks = cfn.describe_stacks(StackName=self.stack_name)["Stacks"]
        except Exception as exc:
            error = console_error(exc, f"stack {self.stack_name!r}")
            if "does not exist" in error.message:
                error = ConsoleError(
                    404,
                    f"stack {self.stack_name!r} does not exist in region {self.aws.region}"
                    f"{_endpoint()}: deploy it (sam deploy, or `mlwf offline up`), or pass "
                    "--stack-name",
                )
            raise error from None
        stack = stacks[0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        arns: dict[str, str] = {}
        try:
            pages = cfn.get_paginator("list_stack_resources").paginate(StackName=self.stack_name)
            for page in pages:
                for resource in page["StackResourceSummaries"]:
                    if resource["ResourceType"] == STATE_MACHINE_TYPE:
                        arns[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
        except Exception as exc:
            raise console_error(exc, f"stack {self.stack_name!r} resources") from None
        machines = []
        sfn = self.aws.client("stepfunctions")
        for logical_id, arn in arns.items():
            try:
                described = sfn.describe_state_machine(stateMachineArn=arn)
            except Exception as exc:
                raise console_error(exc, f"state machine {logical_id}") from None
            machines.append(
                {
                    "logical_id": logical_id,
                    "arn": arn,
                    "name": described["name"],
                    "type": described.get("type", "STANDARD"),
                    "status": described.get("status"),
                    "created": iso(described.get("creationDate")),
                }
            )
        return {
            "name": self.stack_name,
            "status": stack.get("StackStatus"),
            "region": self.aws.region,
            "endpoint": _endpoint().removeprefix(" at ") or None,
            "outputs": outputs,
            "threshold": _number(outputs.get("Threshold")),
            "bucket": outputs.get("ImagesBucketName"),
            "state_machines": machines,
        }

    def state_machine(self, arn: str) -> dict[str, Any]:
        """A state machine with its definition and the definition's graph."""
        sfn = self.aws.client("stepfunctions")
        try:
            described = sfn.describe_state_machine(stateMachineArn=arn)
        except Exception as exc:
            raise console_error(exc, f"state machine {arn}") from None
        try:
            definition = json.loads(described["definition"])
        except ValueError:
            raise ConsoleError(502, f"state machine {arn}: its definition is not JSON") from None
        return {
            "arn": arn,
            "name": described["name"],
            "type": described.get("type", "STANDARD"),
            "definition": definition,
            "graph": layout(definition),
        }

    # -- executions ----------------------------------------------------------------------
    def executions(self, arn: str, since: int = 0) -> dict[str, Any]:
        """The rows changed since revision `since` (all of them with 0), the revision now,
        and how many rows are still being described."""
        listing = self._listing(arn)
        self._refresh(listing)
        with listing.lock:
            rows = [listing.rows[a] for a, rev in listing.revisions.items() if rev > since]
            pending = sum(not r["described"] for r in listing.rows.values())
            error = listing.error
            revision = listing.revision
            total = len(listing.rows)
        rows.sort(key=lambda r: r["start"] or "", reverse=True)
        return {
            "revision": revision,
            "rows": rows,
            "total": total,
            "pending": pending,
            "error": error.message if error else None,
        }

    def _listing(self, arn: str) -> ExecutionList:
        with self._lists_lock:
            if arn not in self._lists:
                self._lists[arn] = ExecutionList(arn)
            return self._lists[arn]

    def _refresh(self, listing: ExecutionList) -> None:
        """ListExecutions when the last one is older than REFRESH_SECONDS: at once for the
        first answer, else in the background (the page polls: the next answer has it), so
        that a list of thousands answers from what is known without waiting on AWS."""
        now = time.monotonic()
        with listing.lock:
            if now - listing.refreshed < REFRESH_SECONDS or listing.refreshing:
                return
            listing.refreshed = now
            first = not listing.rows
            listing.refreshing = not first
        if first:
            self._list(listing)
            return
        self._pending.append(self._pool.submit(self._list_in_background, listing))

    def _list_in_background(self, listing: ExecutionList) -> None:
        try:
            self._list(listing)
        except ConsoleError as exc:
            self.report(exc.message)
        finally:
            with listing.lock:
                listing.refreshing = False

    def _list(self, listing: ExecutionList) -> None:
        pages = self.aws.client("stepfunctions").get_paginator("list_executions")
        try:
            listed = [
                e
                for page in pages.paginate(stateMachineArn=listing.arn)
                for e in page["executions"]
            ]
        except Exception as exc:
            error = console_error(exc, "ListExecutions")
            if not listing.rows:
                raise error from None
            with listing.lock:
                listing.error = error  # keep showing what we have, and say why it is stale
            return
        to_describe = []
        with listing.lock:
            listing.error = None
            for item in listed:
                arn = item["executionArn"]
                old = listing.rows.get(arn)
                if old is not None and old["status"] == item["status"] and old["described"]:
                    continue
                if old is not None and old["status"] == item["status"]:
                    continue  # already queued for describing
                row = summary_row(item, None)
                if old is not None and old["described"]:
                    row.update({k: old[k] for k in ("key",)})
                self._put(listing, row)
                to_describe.append(item)
        for item in to_describe:
            self._pending.append(self._pool.submit(self._describe, listing, item))

    def wait_described(self, timeout: float | None = None) -> None:
        """Until every DescribeExecution asked so far has answered (for tests and tools)."""
        from concurrent.futures import wait

        while self._pending:  # a background list may have asked for more describes
            pending, self._pending = self._pending, []
            wait(pending, timeout=timeout)

    def _put(self, listing: ExecutionList, row: dict[str, Any]) -> None:
        listing.revision += 1
        listing.rows[row["arn"]] = row
        listing.revisions[row["arn"]] = listing.revision

    def _describe(self, listing: ExecutionList, item: dict[str, Any]) -> None:
        sfn = self.aws.client("stepfunctions")
        try:
            description = sfn.describe_execution(executionArn=item["executionArn"])
        except Exception as exc:
            error = console_error(exc, f"execution {item['name']}")
            self.report(error.message)
            description = {"status": item["status"], "error": None}
        row = summary_row({**item, **_listed_fields(description)}, description)
        with listing.lock:
            current = listing.rows.get(row["arn"])
            if current is not None and current["status"] != row["status"]:
                if row["status"] == "RUNNING":  # an older answer than the list's: keep waiting
                    return
            self._put(listing, row)

    def start_execution(self, arn: str, text: str, name: str | None) -> dict[str, Any]:
        """StartExecution, as the console's "Start execution" does: input must be JSON."""
        try:
            json.loads(text)
        except ValueError as exc:
            raise ConsoleError(400, f"the input is not JSON: {exc}") from None
        request: dict[str, Any] = {"stateMachineArn": arn, "input": text}
        if name:
            request["name"] = name
        else:
            import uuid

            request["name"] = str(uuid.uuid4())  # AWS generates one; moto would say "None"
        try:
            started = self.aws.client("stepfunctions").start_execution(**request)
        except Exception as exc:
            raise console_error(exc, "StartExecution") from None
        with self._lists_lock:
            listing = self._lists.get(arn)
        if listing is not None:
            listing.refreshed = 0.0  # the next list shows it
        return {"arn": started["executionArn"], "start": iso(started.get("startDate"))}


def _listed_fields(description: dict[str, Any]) -> dict[str, Any]:
    return {
        k: description[k]
        for k in ("status", "startDate", "stopDate")
        if description.get(k) is not None
    }


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _endpoint() -> str:
    from mlwf.console.aws import endpoint_hint

    return endpoint_hint()
