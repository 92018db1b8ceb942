"""An execution ended by its machine's TimeoutSeconds, answered as AWS answers it
(mlwf.offline.execution_timeouts): a stopDate in DescribeExecution and ListExecutions, and
ExecutionTimedOut with States.Timeout. Each case runs on moto alone (the pin) and patched."""

from __future__ import annotations

import contextlib
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
