"""Running and waiting on a Step Functions execution that moto runs in a thread of its own."""

from __future__ import annotations

import json
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


def run_to_end(
    sfn: Any,
    definition: dict[str, Any],
    given: str = "{}",
    *,
    kind: str = "STANDARD",
    name: str | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """A new state machine of `definition` (named after how many there are, unless `name`),
    one execution of it on the input text `given`, and its description once it has ended."""
    name = name or f"m{len(sfn.list_state_machines()['stateMachines'])}"
    arn = sfn.create_state_machine(
        name=name,
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::123456789012:role/{name}",
        type=kind,
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, input=given)
    return wait_until_ended(sfn, started["executionArn"], timeout=timeout)


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


def history_events(sfn: Any, ended: dict[str, Any]) -> list[dict[str, Any]]:
    """An execution's history events, in order."""
    return list(sfn.get_execution_history(executionArn=ended["executionArn"])["events"])


def event_types(sfn: Any, ended: dict[str, Any]) -> list[str]:
    """The types of an execution's history events, in order."""
    return [event["type"] for event in history_events(sfn, ended)]
