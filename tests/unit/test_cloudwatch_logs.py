"""A function's log lines in its CloudWatch Logs group (mlwf/offline/cloudwatch_logs.py),
written into moto's Logs backend and read back through the API, as `sam logs` reads them.
The sink calls moto's backend methods, internals: these tests fail when moto changes them."""

from __future__ import annotations

import logging
import time

import boto3
import pytest

from mlwf.offline.cloudwatch_logs import (
    LogGroupSink,
    missing_stream_named,
    retention_checked,
    stream_prefix_filtered,
)
from tests.helpers.paths import REGION

ACCOUNT = "123456789012"  # moto's default account
GROUP = "/aws/lambda/stack-Function"


def messages(stream: str | None = None) -> list[str]:
    logs = boto3.client("logs", region_name=REGION)
    if stream is None:
        events = logs.filter_log_events(logGroupName=GROUP)["events"]
    else:
        events = logs.get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
    return [event["message"] for event in events]


def test_lines_reach_their_environments_stream_in_a_group_made_on_first_use(aws):
    # Given a function whose template declares no log group
    sink = LogGroupSink(ACCOUNT, REGION, GROUP)

    # When two environments' invocations write their lines
    sink("2026/11/30/[$LATEST]one", ["START RequestId: a", "REPORT RequestId: a"])
    sink("2026/11/30/[$LATEST]two", ["START RequestId: b"])
    sink("2026/11/30/[$LATEST]one", ["START RequestId: c"])

    # Then the API answers each stream's lines, and the group's
    assert messages("2026/11/30/[$LATEST]one") == [
        "START RequestId: a",
        "REPORT RequestId: a",
        "START RequestId: c",
    ]
    assert messages("2026/11/30/[$LATEST]two") == ["START RequestId: b"]
    assert sorted(messages()) == sorted(
        ["START RequestId: a", "REPORT RequestId: a", "START RequestId: b", "START RequestId: c"]
    )


def test_a_declared_group_is_kept_with_its_retention(aws):
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=GROUP)
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=14)

    LogGroupSink(ACCOUNT, REGION, GROUP)("stream", ["a line"])

    (group,) = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    assert group["retentionInDays"] == 14
    assert messages("stream") == ["a line"]


def test_lines_that_cannot_be_delivered_are_named_in_a_warning_not_raised(
    aws, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from moto.logs.models import LogsBackend

    def refuse(*args: object) -> None:
        raise RuntimeError("backend down")

    monkeypatch.setattr(LogsBackend, "put_log_events", refuse)

    with caplog.at_level(logging.WARNING, logger="mlwf.offline.cloudwatch_logs"):
        LogGroupSink(ACCOUNT, REGION, GROUP)("stream", ["one", "two"])

    assert f"lost 2 lines of {GROUP}: RuntimeError('backend down')" in caplog.text


def put_streams(logs, *names: str) -> None:
    logs.create_log_group(logGroupName="g")
    for name in names:
        logs.create_log_stream(logGroupName="g", logStreamName=name)
        logs.put_log_events(
            logGroupName="g",
            logStreamName=name,
            logEvents=[{"timestamp": int(time.time() * 1000), "message": name}],
        )


def test_the_pinned_moto_ignores_a_stream_name_prefix(aws):
    # What stream_prefix_filtered replaces; once moto honours the prefix, the patch can go.
    logs = boto3.client("logs", region_name=REGION)
    put_streams(logs, "job/algo-1-1", "job-2/algo-1-1")
    found = logs.filter_log_events(logGroupName="g", logStreamNamePrefix="job/")["events"]
    assert sorted(e["message"] for e in found) == ["job-2/algo-1-1", "job/algo-1-1"]


def test_filter_log_events_honours_a_stream_name_prefix(aws):
    logs = boto3.client("logs", region_name=REGION)
    put_streams(logs, "job/algo-1-1", "job/algo-2-1", "job-2/algo-1-1")
    with stream_prefix_filtered():
        found = logs.filter_log_events(logGroupName="g", logStreamNamePrefix="job/")["events"]
        none = logs.filter_log_events(logGroupName="g", logStreamNamePrefix="other/")["events"]
        every = logs.filter_log_events(logGroupName="g")["events"]
        with pytest.raises(logs.exceptions.InvalidParameterException):
            logs.filter_log_events(
                logGroupName="g", logStreamNamePrefix="job/", logStreamNames=["job/algo-1-1"]
            )
    assert sorted(e["message"] for e in found) == ["job/algo-1-1", "job/algo-2-1"]
    assert none == []
    assert len(every) == 3


def test_the_pinned_moto_names_the_group_for_a_missing_stream(aws):
    # What missing_stream_named replaces; once moto names the stream, the patch can go.
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="g")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing:
        logs.get_log_events(logGroupName="g", logStreamName="none")
    assert missing.value.response["Error"]["Message"] == "The specified log group does not exist."


def test_get_log_events_on_a_missing_stream_says_the_stream_is_missing(aws):
    # Logs' words, as recorded against AWS (prefect-aws#177: "when calling the GetLogEvents
    # operation: The specified log stream does not exist.")
    logs = boto3.client("logs", region_name=REGION)
    put_streams(logs, "there")
    with missing_stream_named():
        with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing:
            logs.get_log_events(logGroupName="g", logStreamName="none")
        with pytest.raises(logs.exceptions.ResourceNotFoundException) as no_group:
            logs.get_log_events(logGroupName="nothing", logStreamName="none")
        found = logs.get_log_events(logGroupName="g", logStreamName="there")["events"]
    assert missing.value.response["Error"]["Message"] == "The specified log stream does not exist."
    assert no_group.value.response["Error"]["Message"] == "The specified log group does not exist."
    assert [event["message"] for event in found] == ["there"]


def test_the_pinned_moto_keeps_any_retention(aws):
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="g")
    logs.put_retention_policy(logGroupName="g", retentionInDays=2)


def test_a_retention_logs_does_not_offer_is_refused(aws):
    # API_PutRetentionPolicy.html lists the values; 2 is none of them
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="g")
    with retention_checked():
        with pytest.raises(logs.exceptions.InvalidParameterException) as refused:
            logs.put_retention_policy(logGroupName="g", retentionInDays=2)
        logs.put_retention_policy(logGroupName="g", retentionInDays=3)
    assert str(refused.value).endswith(
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy "
        "constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, "
        "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"
    )
    (group,) = logs.describe_log_groups()["logGroups"]
    assert group["retentionInDays"] == 3


def test_a_template_retention_logs_does_not_offer_is_refused_at_start(tmp_path):
    from mlwf.offline.template import load_template
    from tests.helpers.project import edit_template, project_copy
    from training_job.errors import MlwfError

    template = project_copy(tmp_path)
    edit_template(
        template,
        "${SerializeImageDataFunction}\n      RetentionInDays: !Ref LogRetentionDays\n",
        "${SerializeImageDataFunction}\n      RetentionInDays: 2\n",
    )
    with pytest.raises(
        MlwfError, match=r"\(SerializeImageDataLogGroup\): RetentionInDays 2 is not one of"
    ):
        load_template(template)
