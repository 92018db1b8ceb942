"""A state machine's executions logged to its CloudWatch Logs group as its LoggingConfiguration
asks (cw-logs.html; mlwf/offline/execution_logs.py): moto started every execution without a
logging session, so the template's groups stayed empty. A level Step Functions does not have
is refused (mlwf/offline/request_constraints.py; at start:
tests/offline/test_template_at_start.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from mlwf.offline.execution_logs import executions_logged, history_record
from tests.helpers.executions import wait_until_ended
from tests.helpers.paths import REGION

GROUP = "/aws/vendedlogs/states/m"
GROUP_ARN = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}:*"
PASSES = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"secret": 1}, "End": True}}}
FAILS = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "c"}}}


def logging(level: str, data: bool = False) -> dict[str, Any]:
    return {
        "level": level,
        "includeExecutionData": data,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": GROUP_ARN}}],
    }


def run_logged(definition: dict[str, Any], configuration: dict[str, Any]) -> list[dict]:
    """One execution of `definition` on a machine logging as `configuration`: the records in
    its group, oldest first."""
    logs = boto3.client("logs", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    logs.create_log_group(logGroupName=GROUP)
    arn = sfn.create_state_machine(
        name="m",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/r",
        loggingConfiguration=configuration,
    )["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, input='{"image": "x"}')
    wait_until_ended(sfn, started["executionArn"])
    events = logs.filter_log_events(logGroupName=GROUP)["events"]
    return [json.loads(event["message"]) for event in events]


def test_the_pinned_moto_logs_nothing(aws):
    # What executions_logged is for; when this fails, moto logs: drop the session here.
    assert run_logged(PASSES, logging("ALL")) == []


def test_every_event_is_logged_at_level_all_without_the_data(aws):
    with executions_logged():
        records = run_logged(PASSES, logging("ALL"))
    assert [r["type"] for r in records] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    first = records[0]
    assert set(first) == {
        "id",
        "type",
        "details",
        "previous_event_id",
        "event_timestamp",
        "execution_arn",
        "redrive_count",  # "0", as AWS's records have it (LocalStack's test_logs recordings)
    }
    assert (first["id"], first["previous_event_id"]) == ("1", "0")
    assert first["event_timestamp"].isdigit()
    assert first["execution_arn"].endswith(":execution:m:" + first["execution_arn"].split(":")[-1])
    # includeExecutionData false: "data is excluded"
    assert "input" not in first["details"] and "output" not in records[-1]["details"]


def test_the_data_is_logged_when_asked(aws):
    with executions_logged():
        records = run_logged(PASSES, logging("ALL", data=True))
    assert json.loads(records[0]["details"]["input"]) == {"image": "x"}
    assert json.loads(records[-1]["details"]["output"]) == {"secret": 1}


def test_level_error_logs_only_the_errors(aws):
    # cloudwatch-log-level.html: ERROR logs the failures, not the steps
    with executions_logged():
        records = run_logged(FAILS, logging("ERROR"))
    assert [r["type"] for r in records] == ["FailStateEntered", "ExecutionFailed"]


def test_a_configuration_without_include_execution_data_leaves_the_data_out(aws):
    # optional, false by default; moto's reader took it as given, and every execution of
    # such a machine failed with Python's KeyError
    configuration = logging("ALL")
    del configuration["includeExecutionData"]
    with executions_logged():
        records = run_logged(PASSES, configuration)
    assert records[0]["type"] == "ExecutionStarted" and "input" not in records[0]["details"]


def test_level_off_logs_nothing(aws):
    with executions_logged():
        assert run_logged(PASSES, {"level": "OFF"}) == []


def test_a_record_is_step_functions_log_format():
    millis, message = history_record(
        {
            "id": 3,
            "previous_event_id": 2,
            "event_timestamp": "2026-12-01T10:00:00.250+00:00",
            "type": "TaskStateEntered",
            "execution_arn": "arn",
            "details": {"name": "Classify"},
        }
    )
    assert millis == 1796119200250
    assert json.loads(message) == {
        "id": "3",
        "type": "TaskStateEntered",
        "details": {"name": "Classify"},
        "previous_event_id": "2",
        "event_timestamp": "1796119200250",
        "execution_arn": "arn",
        "redrive_count": "0",
    }
