"""An execution ended by its machine's TimeoutSeconds, answered as AWS answers it
(mlwf.offline.execution_timeouts): a stopDate in DescribeExecution and ListExecutions, and
ExecutionTimedOut with States.Timeout. Each case runs on moto alone (the pin) and patched."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from typing import Any

import boto3

from mlwf.offline.execution_timeouts import timeouts_as_aws
from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION

SLOW = {
    "TimeoutSeconds": 1,
    "StartAt": "Wait",
    "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}},
}


def timed_out(patched: bool) -> tuple[Any, dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    with stops_as_aws(), timeouts_as_aws() if patched else contextlib.nullcontext():
        described = run_to_end(sfn, SLOW, name=f"slow{patched}", timeout=10)
        listed = sfn.list_executions(stateMachineArn=described["stateMachineArn"])["executions"]
        last = sfn.get_execution_history(executionArn=described["executionArn"])["events"][-1]
    return described, {"listed": listed, "last": last}


def test_a_timed_out_execution_has_its_stop_date_and_awss_event(aws):
    described, seen = timed_out(patched=True)
    assert described["status"] == "TIMED_OUT"
    ran = described["stopDate"] - described["startDate"]
    assert timedelta(seconds=1) <= ran < timedelta(seconds=5)
    assert [e["stopDate"] for e in seen["listed"]] == [described["stopDate"]]
    last = seen["last"]
    assert (last["type"], last["previousEventId"]) == ("ExecutionTimedOut", 0)
    assert last["executionTimedOutEventDetails"] == {"error": "States.Timeout"}


def test_the_pinned_moto_gives_a_timed_out_execution_no_stop_date(aws):
    # What timeouts_as_aws adds; once moto answers these, it can go
    described, seen = timed_out(patched=False)
    assert described["status"] == "TIMED_OUT" and "stopDate" not in described
    assert "stopDate" not in seen["listed"][0]
    assert seen["last"]["executionTimedOutEventDetails"] == {}


def test_the_history_ends_before_the_status_says_timed_out(aws, monkeypatch):
    # moto set TIMED_OUT at the timeout, and the program's own thread wrote the end event
    # when it next woke: a client could see TIMED_OUT and a history that had not ended (a
    # `make test` run under load failed so). Given that thread held after it wakes until
    # the status is written
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (  # noqa: E501
        WaitFunction,
    )
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    released, last_at_status = threading.Event(), []
    wait, terminated = WaitFunction._wait_interval, BaseExecutionWorkerCommunication.terminated

    def held(function: Any, env: Any, wait_seconds: int) -> None:
        wait(function, env, wait_seconds)
        released.wait(timeout=10)  # until the status is written (or 10 s)

    def status_written(communication: Any) -> None:
        events = communication.execution.exec_worker.env.event_manager.get_event_history()
        last_at_status.append(events[-1]["type"])
        released.set()
        terminated(communication)

    monkeypatch.setattr(WaitFunction, "_wait_interval", held)
    monkeypatch.setattr(BaseExecutionWorkerCommunication, "terminated", status_written)

    # When the execution times out
    _, seen = timed_out(patched=True)

    # Then its history had ended when its status was written, and nothing followed the end
    assert last_at_status == ["ExecutionTimedOut"]
    assert seen["last"]["type"] == "ExecutionTimedOut"
