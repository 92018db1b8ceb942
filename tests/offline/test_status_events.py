"""Standard executions' status changes reach EventBridge rules, as Step Functions sends them
(mlwf.offline.status_events; the fields as AWS's recorded events have them)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from mlwf.offline.runtime import OfflineStack
from tests.helpers.definitions import ROLE
from tests.helpers.executions import run_to_end, wait_until_ended

pytestmark = pytest.mark.offline

PATTERN = {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"]}
DETAIL_FIELDS = [
    "executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate", "input",
    "output", "stateMachineVersionArn", "stateMachineAliasArn", "redriveCount", "redriveDate",
    "redriveStatus", "redriveStatusReason", "inputDetails", "outputDetails", "error", "cause",
]  # fmt: skip


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


@pytest.fixture
def queue(stack) -> Iterator[str]:
    """A queue that a rule on Step Functions' status changes sends them to."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="status")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    events.put_rule(Name="status", EventPattern=json.dumps(PATTERN))
    events.put_targets(Rule="status", Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}])
    yield url
    events.remove_targets(Rule="status", Ids=["q"])
    events.delete_rule(Name="status")
    sqs.delete_queue(QueueUrl=url)


def events_until(stack: OfflineStack, queue: str, execution_arn: str, count: int) -> list[dict]:
    """Every event the queue gets until it has had `count` of that execution's, in the order
    they came; fails after 10 s (an execution's end is sent just after its status is set)."""
    sqs, seen, deadline = stack.client("sqs"), [], time.monotonic() + 10
    while sum(e["detail"]["executionArn"] == execution_arn for e in seen) < count:
        assert time.monotonic() < deadline, f"not {count} events of {execution_arn}: {seen}"
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            seen.append(json.loads(message["Body"]))
    return seen


def received(stack: OfflineStack, queue: str, execution_arn: str, count: int) -> list[dict]:
    """That execution's first `count` events."""
    seen = events_until(stack, queue, execution_arn, count)
    return [e for e in seen if e["detail"]["executionArn"] == execution_arn]


def test_a_succeeded_execution_sends_running_then_succeeded(stack, queue):
    # Given the recorded machine's kind of end: a Pass whose result is the output
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
    }  # noqa: E501
    # When it runs
    ended = run_to_end(stack.sfn, definition, "{}")
    # Then two events came, as AWS's recorded ones (test_event_bridge_events_base)
    running, succeeded = received(stack, queue, ended["executionArn"], 2)
    assert running["source"] == "aws.states"
    assert running["resources"] == [ended["executionArn"]]
    assert list(running["detail"]) == DETAIL_FIELDS
    assert (running["detail"]["status"], running["detail"]["stopDate"]) == ("RUNNING", None)
    assert running["detail"]["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven"
    detail = succeeded["detail"]
    assert (detail["status"], detail["input"], json.loads(detail["output"])) == (
        "SUCCEEDED", "{}", {"Arg1": "argument1"},
    )  # fmt: skip
    assert detail["startDate"] == int(ended["startDate"].timestamp() * 1000)
    assert detail["stopDate"] == int(ended["stopDate"].timestamp() * 1000)
    assert (detail["inputDetails"], detail["outputDetails"]) == ({"included": True},) * 2


def test_a_failed_and_a_stopped_execution_send_their_error(stack, queue):
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}
    ended = run_to_end(stack.sfn, failing, "{}")
    _, failed = received(stack, queue, ended["executionArn"], 2)
    assert [failed["detail"][k] for k in ("status", "error", "cause", "redriveStatus")] == [
        "FAILED", "E", "c", "REDRIVABLE",
    ]  # fmt: skip
    # And a stopped one: ABORTED, with the caller's error and cause
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    arn = stack.sfn.create_state_machine(
        name="waits", definition=json.dumps(waiting), roleArn=ROLE
    )["stateMachineArn"]
    execution = stack.sfn.start_execution(stateMachineArn=arn)["executionArn"]
    stack.sfn.stop_execution(executionArn=execution, error="Manual", cause="stopped")
    wait_until_ended(stack.sfn, execution)
    _, aborted = received(stack, queue, execution, 2)
    assert [aborted["detail"][k] for k in ("status", "error", "cause")] == [
        "ABORTED", "Manual", "stopped",
    ]  # fmt: skip


def test_an_express_execution_sends_none(stack, queue):
    # Given an EXPRESS machine run to its end, then a Standard one
    passing = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    express = stack.sfn.create_state_machine(
        name="fast", definition=passing, roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    assert stack.sfn.start_sync_execution(stateMachineArn=express)["status"] == "SUCCEEDED"
    standard = run_to_end(stack.sfn, json.loads(passing), "{}")
    # Then the queue had the Standard one's two events, and none of the EXPRESS one's
    seen = events_until(stack, queue, standard["executionArn"], 2)
    assert [e["detail"]["status"] for e in seen] == ["RUNNING", "SUCCEEDED"]
    assert {e["detail"]["stateMachineArn"] for e in seen} == {standard["stateMachineArn"]}
