"""Start workflow executions, wait for all of them, and report what each one decided.

Works with any Step Functions client: a deployed stack's, or the offline stack's (moto),
and with either workflow type. A STANDARD execution is started, then read back with
ListExecutions and DescribeExecution. AWS does not support those calls for EXPRESS
executions, so an EXPRESS one is run with StartSyncExecution, whose answer carries the
result (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from typing import Any

from mlwf.capture import CLASS_NAMES

LOW_CONFIDENCE = "ThresholdConfidenceNotMet"
# What precedes the JSON inferences in LOW_CONFIDENCE's message (functions/filter_inferences).
INFERENCES_MARKER = "inferences: "
CLASSIFY_STATE = "Classify image"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
EXPRESS = "EXPRESS"
# An EXPRESS execution runs for at most 5 minutes; StartSyncExecution answers at its end.
SYNC_READ_TIMEOUT_SECONDS = 5 * 60 + 10


@dataclass
class ExecutionInput:
    s3_bucket: str
    s3_key: str
    true_label: int | None = None

    def as_input(self) -> str:
        """The workflow's input for this image (events/workflow_input.json's shape)."""
        return json.dumps({"s3_bucket": self.s3_bucket, "s3_key": self.s3_key})


@dataclass
class ExecutionResult:
    s3_key: str
    true_label: int | None
    inferences: list[float] | None
    status: str
    error: str | None
    duration_ms: float | None
    execution_name: str

    @property
    def predicted(self) -> int | None:
        if not self.inferences:
            return None
        return max(range(len(self.inferences)), key=self.inferences.__getitem__)

    @property
    def confidence(self) -> float | None:
        return max(self.inferences) if self.inferences else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def staged_inputs(s3: Any, bucket: str, prefix: str, split: str) -> list[ExecutionInput]:
    """One workflow input per image of a staged split (its .lst file), with its label."""
    from training_job.dataset.lst import read_s3_lst

    return [
        ExecutionInput(bucket, f"{prefix}/{split}/{e.path}", e.label)
        for e in read_s3_lst(s3, bucket, prefix, split)
    ]


def sample(inputs: list[ExecutionInput], count: int, seed: int) -> list[ExecutionInput]:
    """`count` of the inputs (all, if fewer), the same ones for the same seed."""
    return random.Random(seed).sample(inputs, min(count, len(inputs)))


def run_executions(
    sfn: Any,
    state_machine_arn: str,
    inputs: Sequence[ExecutionInput],
    *,
    name_prefix: str = "mlwf",
    concurrency: int = 16,
    poll_interval: float = 0.02,
    timeout: float = 600.0,
    on_done: Callable[[ExecutionResult], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    workflow_type: str | None = None,
) -> list[ExecutionResult]:
    """Run one execution per input, at most `concurrency` at a time; results in input order.

    `workflow_type` is the state machine's type (read from it when not given)."""
    if (workflow_type or state_machine_type(sfn, state_machine_arn)) == EXPRESS:
        return run_sync_executions(
            sfn,
            state_machine_arn,
            inputs,
            name_prefix=name_prefix,
            concurrency=concurrency,
            on_done=on_done,
        )
    batch = uuid.uuid4().hex[:8]
    results: list[ExecutionResult | None] = [None] * len(inputs)
    pending = list(enumerate(inputs))
    running: dict[str, tuple[int, str]] = {}  # execution ARN -> (index, name)
    deadline = clock() + timeout
    while pending or running:
        while pending and len(running) < concurrency:
            index, item = pending.pop(0)
            name = f"{name_prefix}-{batch}-{index:05d}"
            started = sfn.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=item.as_input()
            )
            running[started["executionArn"]] = (index, name)
        finished = False
        # One listing per round instead of a describe per execution; it may lag (AWS
        # lists eventually), so a candidate is only done once its description says so.
        still_running = _running_arns(sfn, state_machine_arn)
        for arn, (index, name) in list(running.items()):
            if arn in still_running:
                continue
            description = sfn.describe_execution(executionArn=arn)
            if description["status"] not in TERMINAL:
                continue
            del running[arn]
            finished = True
            result = result_from(sfn, description, inputs[index], name)
            results[index] = result
            if on_done:
                on_done(result)
        if clock() > deadline:
            raise TimeoutError(f"{len(running)} execution(s) still running after {timeout:.0f} s")
        if running and not finished:
            sleep(poll_interval)
    return [r for r in results if r is not None]


def sync_client_config() -> Any:
    """botocore settings for a client that calls StartSyncExecution: a read timeout past
    the 5 minutes an EXPRESS execution may run and, when AWS_ENDPOINT_URL names an
    endpoint, no "sync-" host prefix (botocore would send to sync-<that host>)."""
    import os

    from botocore.config import Config

    return Config(
        read_timeout=SYNC_READ_TIMEOUT_SECONDS,
        inject_host_prefix=not os.environ.get("AWS_ENDPOINT_URL"),
    )


def state_machine_type(sfn: Any, state_machine_arn: str) -> str:
    return str(sfn.describe_state_machine(stateMachineArn=state_machine_arn)["type"])


def run_sync_executions(
    sfn: Any,
    state_machine_arn: str,
    inputs: Sequence[ExecutionInput],
    *,
    name_prefix: str = "mlwf",
    concurrency: int = 16,
    on_done: Callable[[ExecutionResult], None] | None = None,
) -> list[ExecutionResult]:
    """One StartSyncExecution per input (EXPRESS), `concurrency` at a time, in input order.

    Give `sfn` a read timeout of SYNC_READ_TIMEOUT_SECONDS: each call waits for the end.
    """
    batch = uuid.uuid4().hex[:8]
    results: list[ExecutionResult | None] = [None] * len(inputs)

    def run(index: int) -> tuple[int, ExecutionResult]:
        item, name = inputs[index], f"{name_prefix}-{batch}-{index:05d}"
        answer = sfn.start_sync_execution(
            stateMachineArn=state_machine_arn, name=name, input=item.as_input()
        )
        return index, result_from(sfn, answer, item, name, history=False)

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        for future in as_completed([pool.submit(run, i) for i in range(len(inputs))]):
            index, result = future.result()
            results[index] = result
            if on_done:
                on_done(result)
    finally:
        # A failed call (or Ctrl-C) starts no more executions; those running finish.
        pool.shutdown(wait=True, cancel_futures=True)
    return [r for r in results if r is not None]


def execution_arns(sfn: Any, state_machine_arn: str, status: str | None = None) -> set[str]:
    """The machine's executions (every page), those with `status` only when it is given."""
    paginator = sfn.get_paginator("list_executions")
    filters = {"statusFilter": status} if status else {}
    pages = paginator.paginate(stateMachineArn=state_machine_arn, **filters)
    return {e["executionArn"] for page in pages for e in page["executions"]}


def _running_arns(sfn: Any, state_machine_arn: str) -> set[str]:
    return execution_arns(sfn, state_machine_arn, "RUNNING")


def result_from(
    sfn: Any, description: dict[str, Any], item: ExecutionInput, name: str, history: bool = True
) -> ExecutionResult:
    """The result from DescribeExecution's answer, or StartSyncExecution's (`history` False:
    an EXPRESS execution has no history to read)."""
    duration = None
    if description.get("stopDate") and description.get("startDate"):
        duration = (description["stopDate"] - description["startDate"]).total_seconds() * 1000
    inferences = None
    if description["status"] == "SUCCEEDED":
        inferences = json.loads(description.get("output") or "{}").get("inferences")
    elif description["status"] == "FAILED":
        # The filter's verdict carries the inferences; other failures need the history.
        if description.get("error") == LOW_CONFIDENCE:
            inferences = inferences_from_cause(description.get("cause"))
        if inferences is None and history:
            inferences = _classify_output(sfn, description["executionArn"])
    return ExecutionResult(
        s3_key=item.s3_key,
        true_label=item.true_label,
        inferences=inferences,
        status=description["status"],
        error=description.get("error"),
        duration_ms=duration,
        execution_name=name,
    )


def inferences_from_cause(cause: str | None) -> list[float] | None:
    """The inferences at the end of ThresholdConfidenceNotMet's message, if they are there.

    A failed Lambda task's cause is the function's error payload (JSON). Reading it saves a
    GetExecutionHistory call per rejected image: an API Step Functions throttles per
    account, and offline the costliest call of a run (~25 ms, the whole history serialised).
    """
    try:
        message = json.loads(cause or "")["errorMessage"]
        _, marker, tail = message.rpartition(INFERENCES_MARKER)
        values = json.loads(tail) if marker else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if (
        isinstance(values, list)
        and values
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    ):
        return [float(v) for v in values]
    return None


def _classify_output(sfn: Any, execution_arn: str) -> list[float] | None:
    """The inferences of a failed execution, from its history (the filter rejected them)."""
    paginator = sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=execution_arn, reverseOrder=True):
        for event in page["events"]:
            details = event.get("stateExitedEventDetails")
            if details and details.get("name") == CLASSIFY_STATE and "output" in details:
                return json.loads(details["output"]).get("inferences")
    return None


def summarize(results: Sequence[ExecutionResult], threshold: float | None) -> dict[str, Any]:
    """Counts by outcome, accuracy overall and of the accepted (succeeded) executions."""
    errors = Counter(r.error for r in results if r.status != "SUCCEEDED")
    labelled = [r for r in results if r.true_label is not None and r.predicted is not None]
    accepted = [r for r in labelled if r.status == "SUCCEEDED"]
    durations = sorted(r.duration_ms for r in results if r.duration_ms is not None)

    def accuracy(rows: list[ExecutionResult]) -> float | None:
        if not rows:
            return None
        return round(sum(r.predicted == r.true_label for r in rows) / len(rows), 4)

    return {
        "executions": len(results),
        "succeeded": sum(r.status == "SUCCEEDED" for r in results),
        "failed_low_confidence": errors.get(LOW_CONFIDENCE, 0),
        "other_failures": {str(k): v for k, v in errors.items() if k != LOW_CONFIDENCE},
        "threshold": threshold,
        "accuracy_all": accuracy(labelled),
        "accuracy_accepted": accuracy(accepted),
        "coverage": round(len(accepted) / len(labelled), 4) if labelled else None,
        "median_duration_ms": round(durations[len(durations) // 2], 1) if durations else None,
    }


def unexpected_failures(summary: dict[str, Any]) -> int:
    return sum(summary["other_failures"].values())


def format_table(results: Sequence[ExecutionResult], limit: int | None = None) -> str:
    header = f"{'image':44} {'true':10} {'predicted':10} {'conf':>6}  {'status':9} error"
    lines = [header, "-" * len(header)]
    shown = results if limit is None else results[:limit]
    for r in shown:
        true = CLASS_NAMES[r.true_label] if r.true_label is not None else "?"
        predicted = CLASS_NAMES[r.predicted] if r.predicted is not None else "-"
        confidence = f"{r.confidence:.3f}" if r.confidence is not None else "-"
        key = r.s3_key if len(r.s3_key) <= 44 else "..." + r.s3_key[-41:]
        lines.append(
            f"{key:44} {true:10} {predicted:10} {confidence:>6}  {r.status:9} {r.error or ''}"
        )
    if limit is not None and len(results) > limit:
        lines.append(f"... and {len(results) - limit} more (all in results.json)")
    return "\n".join(lines)


def format_summary(summary: dict[str, Any]) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    lines = [
        f"executions:            {summary['executions']}",
        f"succeeded:             {summary['succeeded']}",
        f"low confidence:        {summary['failed_low_confidence']} ({LOW_CONFIDENCE})",
    ]
    others = summary["other_failures"]
    lines.append(
        "other failures:        "
        + (", ".join(f"{k}: {v}" for k, v in sorted(others.items())) if others else "none")
    )
    lines += [
        f"threshold:             {summary['threshold']}",
        f"accuracy, all:         {pct(summary['accuracy_all'])}",
        f"accuracy, accepted:    {pct(summary['accuracy_accepted'])} "
        f"(coverage {pct(summary['coverage'])})",
    ]
    if summary.get("median_duration_ms") is not None:
        lines.append(f"median duration:       {summary['median_duration_ms']:.0f} ms")
    return "\n".join(lines)
