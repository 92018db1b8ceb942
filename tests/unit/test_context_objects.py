"""mlwf/offline/context_objects.py: the Context object's times and fields as AWS gives them
(input-output-contextobject.html; the format asserted against AWS by LocalStack's
test_base.py::test_execution_dateformat), and the moto internals the patch replaces, pinned."""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import boto3
import pytest

from mlwf.offline.context_objects import aws_time, context_objects_as_aws
from mlwf.offline.moto_patches import stops_as_aws
from tests.helpers.executions import run_to_end

AWS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
CONTEXT = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Pass",
            "Parameters": {"execution.$": "$$.Execution", "state.$": "$$.State"},
            "End": True,
        }
    },
}


def test_a_time_is_utc_to_the_millisecond_with_a_z():
    moment = datetime(2023, 11, 21, 7, 27, 31, 545999, tzinfo=timezone(timedelta(hours=1)))
    assert aws_time(moment) == "2023-11-21T06:27:31.545Z"


@pytest.fixture
def sfn(aws):
    with stops_as_aws(), context_objects_as_aws():  # in the offline stack's order
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_the_start_is_the_executions_start_date_and_the_execution_can_be_described(sfn):
    # Given a state that puts the Context object in the output
    # When it runs (run_to_end describes it: moto failed that on a datetime in the output)
    ended = run_to_end(sfn, CONTEXT)
    # Then its times are AWS's, the start is the execution's startDate, and RedriveCount is 0
    output = json.loads(ended["output"])
    execution, state = output["execution"], output["state"]
    assert list(execution) == ["Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount"]
    assert execution["StartTime"] == aws_time(ended["startDate"])
    assert execution["RedriveCount"] == 0
    assert list(state) == ["Name", "EnteredTime"]
    assert AWS_TIME.fullmatch(state["EnteredTime"])
    entered = datetime.strptime(state["EnteredTime"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert ended["startDate"].astimezone(UTC) - timedelta(milliseconds=1) <= entered


def test_the_pinned_moto_gives_a_datetime_start_and_an_isoformat_entered_time():
    import moto.stepfunctions.parser.asl.component.state.state as state_module
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    environment = inspect.getsource(ExecutionWorker.__dict__["_get_evaluation_environment"])
    assert "StartTime=self._evaluation_details.execution_details.start_time" in environment
    assert "RedriveCount" not in environment
    entered = inspect.getsource(state_module.CommonStateField._eval_body)
    assert "StateData(" in entered
    assert "EnteredTime=datetime.datetime.now(tz=datetime.timezone.utc).isoformat()" in entered
