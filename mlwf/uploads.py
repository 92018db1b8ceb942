"""Run the workflow the way it runs in production: by uploading images.

Each image is copied under the prefix the template's upload rule watches (incoming/), and
the rule starts the execution with its InputTransformer, as EventBridge does on AWS. Uploads
are paced so that at most `concurrency` executions run at once; each execution is found by
the key in its input, and its result read as `mlwf run` reads one (mlwf.executions).

An EXPRESS machine's executions cannot be described or listed (mlwf.offline.express), so
there is nothing to wait on: the caller runs those with StartSyncExecution instead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import Any

from mlwf.executions import (
    TERMINAL,
    ExecutionInput,
    ExecutionResult,
    execution_arns,
    result_from,
)
from training_job.errors import MlwfError

# How long an upload may go without its execution before the rule is called broken. The
# offline rule delivers while the upload is answered; on AWS, EventBridge takes well under.
DISCOVERY_SECONDS = 30.0


def rule_prefix(event_pattern: dict[str, Any]) -> str | None:
    """The key prefix an S3 Object Created rule watches (`key: [{prefix: ...}]`)."""
    keys = event_pattern.get("detail", {}).get("object", {}).get("key", [])
    for item in keys if isinstance(keys, list) else []:
        if isinstance(item, dict) and isinstance(item.get("prefix"), str):
            return str(item["prefix"])
    return None


def run_by_uploads(
    s3: Any,
    sfn: Any,
    state_machine_arn: str,
    inputs: Sequence[ExecutionInput],
    *,
    prefix: str,
    concurrency: int = 4,
    on_done: Callable[[ExecutionResult], None] | None = None,
    poll_interval: float = 0.02,
    timeout: float = 600.0,
    discovery_timeout: float = DISCOVERY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ExecutionResult]:
    """One upload per input, at most `concurrency` executions at once; results in input
    order. The uploads stay under `prefix`, as a user's would."""
    run = uuid.uuid4().hex[:8]
    results: list[ExecutionResult | None] = [None] * len(inputs)
    pending = list(enumerate(inputs))
    awaiting: dict[str, tuple[int, float]] = {}  # uploaded key -> (index, when)
    running: dict[str, int] = {}  # execution ARN -> index
    seen = execution_arns(sfn, state_machine_arn)
    deadline = clock() + timeout
    while pending or awaiting or running:
        while pending and len(awaiting) + len(running) < concurrency:
            index, item = pending.pop(0)
            key = f"{prefix}{run}/{index:05d}-{PurePosixPath(item.s3_key).name}"
            s3.copy_object(
                Bucket=item.s3_bucket,
                Key=key,
                CopySource={"Bucket": item.s3_bucket, "Key": item.s3_key},
            )
            awaiting[key] = (index, clock())
        if awaiting:
            for arn in execution_arns(sfn, state_machine_arn) - seen:
                seen.add(arn)
                started = sfn.describe_execution(executionArn=arn)
                uploaded = _input_key(started.get("input"))
                if uploaded in awaiting:
                    running[arn] = awaiting.pop(uploaded)[0]
            _check_discovered(awaiting, clock(), discovery_timeout)
        finished = False
        for arn, index in list(running.items()):
            description = sfn.describe_execution(executionArn=arn)
            if description["status"] not in TERMINAL:
                continue
            del running[arn]
            finished = True
            item = inputs[index]
            result = result_from(sfn, description, item, description["name"])
            result.s3_key = item.s3_key  # the image it classified, not its upload's copy
            results[index] = result
            if on_done:
                on_done(result)
        if clock() > deadline:
            left = len(running) + len(awaiting)
            raise TimeoutError(f"{left} execution(s) still running after {timeout:.0f} s")
        if (running or awaiting) and not finished:
            sleep(poll_interval)
    return [r for r in results if r is not None]


def _input_key(text: str | None) -> str | None:
    import json

    try:
        value = json.loads(text or "{}")
    except ValueError:
        return None
    return value.get("s3_key") if isinstance(value, dict) else None


def _check_discovered(awaiting: dict[str, tuple[int, float]], now: float, limit: float) -> None:
    late = [key for key, (_, when) in awaiting.items() if now - when > limit]
    if late:
        raise MlwfError(
            f"the upload rule started no execution for {late[0]} within {limit:.0f} s: "
            "is the rule enabled, and is its dead-letter queue empty?"
        )
