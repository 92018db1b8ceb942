"""Waiting on a Step Functions execution that moto runs in a thread of its own."""

from __future__ import annotations

import time
from typing import Any

ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def wait_until_ended(sfn: Any, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    """The execution's description once its status is terminal; fails the test past
    `timeout`. Polls DescribeExecution, which is how a client learns that an execution ended."""
    deadline = time.monotonic() + timeout
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] in ENDED:
            return description
        assert time.monotonic() < deadline, f"{execution_arn} still running after {timeout} s"
        time.sleep(0.02)  # the poll interval of a wait with a deadline, not a stand-in for one


def counting_loop(rounds: int) -> dict[str, Any]:
    """ExecutionStarted, then 4 events a round (Pass and Choice, each entered and exited),
    then the Succeed state's 2 and ExecutionSucceeded: 4 * rounds + 4 events."""
    return {
        "StartAt": "Count",
        "States": {
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "Enough?",
            },
            "Enough?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": rounds, "Next": "Done"}],
                "Default": "Count",
            },
            "Done": {"Type": "Succeed"},
        },
    }
