"""An offline stack served over HTTP with the executions the console must show (succeeded,
low confidence, retried, error, a batch), and `mlwf console` running against it in its own
process, as a user runs both. For tests/browser and benchmarks/console_executions.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwf.offline.server import free_port
from tests.helpers.processes import stop

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HTML_KEY = 'incoming/<img src=x onerror="document.title=1">&amp;<b>bold</b>.png'


@dataclass
class ConsoleStack:
    stack: Any  # mlwf.offline.runtime.OfflineStack
    settings: Any  # training_job.stack.StackSettings
    executions: dict[str, str] = field(default_factory=dict)  # role -> execution ARN
    url: str = ""

    def environment(self) -> dict[str, str]:
        region = self.stack.spec.region
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        environment.update(
            AWS_ENDPOINT_URL=self.stack.endpoint_url,
            AWS_REGION=region,
            AWS_DEFAULT_REGION=region,
            AWS_ACCESS_KEY_ID="offline",
            AWS_SECRET_ACCESS_KEY="offline",
        )
        return environment


@contextmanager
def offline_stack(stack_name: str) -> Iterator[ConsoleStack]:
    """The offline stack, served over HTTP, its model deployed (no executions yet)."""
    from mlwf.offline.runtime import OfflineStack
    from mlwf.offline.stack_record import register_stack
    from mlwf.offline.workflow import deploy_model

    with OfflineStack.start(stack_name=stack_name, port=free_port(), say=lambda _: None) as stack:
        deployment = deploy_model(stack, "synthetic", count=60, test_count=20, say=lambda _: None)
        register_stack(stack)
        yield ConsoleStack(stack, deployment.settings)


def run_workflow_executions(console_stack: ConsoleStack) -> dict[str, str]:
    """One execution of each kind the console must show; their ARNs by role."""
    from mlwf.offline.workflow import split_inputs

    stack, settings = console_stack.stack, console_stack.settings
    inputs = split_inputs(stack, settings, "test")
    found: dict[str, str] = {}

    def run(role: str, key: str, bucket: str | None = None) -> dict[str, Any]:
        payload = {"s3_bucket": bucket or settings.bucket, "s3_key": key}
        description = stack.run_execution(payload, name=role)
        found[role] = description["executionArn"]
        return description

    for index, item in enumerate(inputs):  # until one is accepted and one is rejected
        if {"succeeded", "low-confidence"} <= set(found):
            break
        description = run(f"image-{index}", item.s3_key)
        role = "succeeded" if description["status"] == "SUCCEEDED" else "low-confidence"
        if description.get("error") in (None, "ThresholdConfidenceNotMet") and role not in found:
            found[role] = description["executionArn"]
    fault = stack.inject("ClassifyImageFunction:throttle:1")
    run("retried", inputs[0].s3_key)
    stack.faults.remove(fault)
    run("error", HTML_KEY)
    # A batch of four images, one of them the rejected one: a verdict of each kind.
    keys = [_input_key(stack, found[r]) for r in ("succeeded", "low-confidence")]
    keys += [i.s3_key for i in inputs[1:3]]
    for index, key in enumerate(keys):
        stack.s3.copy_object(
            Bucket=settings.bucket,
            Key=f"batch/{index}-{key.rsplit('/', 1)[-1]}",
            CopySource={"Bucket": settings.bucket, "Key": key},
        )
    batch_arn = stack.state_machine_arn("BatchClassificationStateMachine")
    started = stack.sfn.start_execution(
        stateMachineArn=batch_arn,
        name="batch",
        input=json.dumps({"s3_bucket": settings.bucket, "s3_prefix": "batch/"}),
    )
    stack.wait_for_execution(started["executionArn"], timeout=300)
    found["batch"] = started["executionArn"]
    stack.flush_capture()
    console_stack.executions.update(found)
    return found


def _input_key(stack: Any, arn: str) -> str:
    return json.loads(stack.sfn.describe_execution(executionArn=arn)["input"])["s3_key"]


@contextmanager
def console_process(
    console_stack: ConsoleStack, *extra: str, output: list[str] | None = None
) -> Iterator[str]:
    """`mlwf console --no-browser` against the stack, in its own process: its URL. Once it
    has stopped, what it printed is added to `output`."""
    port = free_port()
    command = [
        sys.executable, "-m", "mlwf.cli", "console", "--no-browser", "--port", str(port),
        "--stack-name", console_stack.stack.spec.stack_name, *extra,
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=console_stack.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        _, printed = stop(
            process, signal.SIGTERM, timeout=30, what="mlwf console", read_output=True
        )
        if output is not None:
            output.extend(printed.splitlines())


def wait_until_serving(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"mlwf console exited {process.returncode}: {output}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)  # polling a port that is not open yet: nothing to wait on
    raise RuntimeError(f"mlwf console did not serve {url} within {timeout} s")
