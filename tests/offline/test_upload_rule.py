"""The upload rule is live offline: an object created under incoming/ starts the workflow
with the rule's InputTransformer, as EventBridge does (see mlwf.offline.rules)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import PurePosixPath

import pytest

from mlwf.executions import ExecutionInput
from mlwf.offline.runtime import OfflineStack
from mlwf.uploads import rule_prefix, run_by_uploads
from training_job.errors import MlwfError

pytestmark = pytest.mark.offline

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture(scope="module")
def stack() -> Iterator[OfflineStack]:
    with OfflineStack.start(say=lambda _: None) as stack:
        yield stack


def executions(stack: OfflineStack) -> list[dict]:
    listed = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn())["executions"]
    return [stack.wait_for_execution(e["executionArn"]) for e in listed]


def test_an_upload_under_incoming_starts_the_workflow_with_its_bucket_and_key(stack):
    # Given uploads under incoming/ and elsewhere
    bucket = stack.bucket_name()
    before = len(executions(stack))
    stack.s3.put_object(Bucket=bucket, Key="incoming/first.png", Body=PNG)
    stack.s3.put_object(Bucket=bucket, Key="dataset/not-watched.png", Body=PNG)

    # Then exactly one execution started, with the transformed input
    started = executions(stack)[: len(executions(stack)) - before]
    assert [json.loads(e["input"]) for e in started] == [
        {"s3_bucket": bucket, "s3_key": "incoming/first.png"}
    ]
    # (no endpoint is deployed in this stack: the workflow itself fails, as it would on AWS)
    assert started[0]["error"] == "EndpointParameterNotFound"


def test_function_logs_reach_cloudwatch_logs_a_stream_per_environment(stack):
    # Given a workflow run started by an upload
    stack.s3.put_object(Bucket=stack.bucket_name(), Key="incoming/logged.png", Body=PNG)
    executions(stack)  # all ended
    logs = stack.client("logs")
    group = f"/aws/lambda/{stack.spec.functions['SerializeImageDataFunction'].name}"

    # Then the serializer's lines are in its log group, as sam logs would read them
    found = logs.filter_log_events(logGroupName=group, filterPattern='"incoming/logged.png"')
    (line,) = [json.loads(e["message"]) for e in found["events"]]
    assert (line["message"], line["s3_key"]) == ("Serialized image", "incoming/logged.png")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert streams and all("[$LATEST]" in s["logStreamName"] for s in streams)
    # and the template's log group kept its retention
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["retentionInDays"] == 30


def test_a_disabled_rule_starts_nothing(stack):
    events = stack.client("events")
    (rule,) = stack.spec.rules.values()
    before = len(executions(stack))
    events.disable_rule(Name=rule.name)
    try:
        stack.s3.put_object(Bucket=stack.bucket_name(), Key="incoming/ignored.png", Body=PNG)
    finally:
        events.enable_rule(Name=rule.name)
    assert len(executions(stack)) == before


def test_run_by_uploads_pairs_each_upload_with_the_execution_the_rule_started(stack):
    # Given three images in the bucket, outside the watched prefix
    bucket = stack.bucket_name()
    inputs = []
    for index in range(3):
        stack.s3.put_object(Bucket=bucket, Key=f"dataset/test/{index}.png", Body=PNG)
        inputs.append(ExecutionInput(bucket, f"dataset/test/{index}.png", true_label=index % 2))
    (rule,) = stack.spec.rules.values()
    prefix = rule_prefix(rule.event_pattern)
    assert prefix == "incoming/"  # read from template.yaml's rule

    # When they are run as production runs them: uploaded, two in flight
    results = run_by_uploads(
        stack.s3, stack.sfn, stack.state_machine_arn(), inputs, prefix=prefix, concurrency=2
    )

    # Then each result is its image's, from an execution the rule started on its upload
    assert [(r.s3_key, r.true_label) for r in results] == [(i.s3_key, i.true_label) for i in inputs]
    assert len({r.execution_name for r in results}) == 3
    for result in results:
        described = stack.sfn.describe_execution(
            executionArn=f"{stack.state_machine_arn().replace(':stateMachine:', ':execution:')}"
            f":{result.execution_name}"
        )
        uploaded = json.loads(described["input"])["s3_key"]
        assert uploaded.startswith(prefix) and uploaded.endswith(PurePosixPath(result.s3_key).name)
        assert result.error == "EndpointParameterNotFound"  # no endpoint in this stack


def test_run_by_uploads_names_a_rule_that_starts_nothing(stack):
    events = stack.client("events")
    (rule,) = stack.spec.rules.values()
    stack.s3.put_object(Bucket=stack.bucket_name(), Key="dataset/x.png", Body=PNG)
    item = ExecutionInput(stack.bucket_name(), "dataset/x.png")
    events.disable_rule(Name=rule.name)
    try:
        with pytest.raises(MlwfError, match="the upload rule started no execution for incoming/"):
            run_by_uploads(
                stack.s3,
                stack.sfn,
                stack.state_machine_arn(),
                [item],
                prefix="incoming/",
                discovery_timeout=0.5,
            )
    finally:
        events.enable_rule(Name=rule.name)


# Last: it deletes the module's state machine.
def test_an_event_that_cannot_be_delivered_lands_in_the_dead_letter_queue(stack):
    # Given the state machine is gone
    sqs = stack.client("sqs")
    (queue,) = stack.spec.queues.values()
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    stack.sfn.delete_state_machine(stateMachineArn=stack.state_machine_arn())

    # When an image is uploaded
    stack.s3.put_object(Bucket=stack.bucket_name(), Key="incoming/lost.png", Body=PNG)

    # Then the event is kept in the dead-letter queue, with why
    answer = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])
    (message,) = answer["Messages"]
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "incoming/lost.png"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"  # rule-dlq.html
    assert attributes["ERROR_MESSAGE"].startswith("StateMachineDoesNotExist")
    assert attributes["TARGET_ARN"] == stack.state_machine_arn()
    assert attributes["RULE_ARN"].endswith(
        ":rule/offline-ImageClassificationStateMachineImageUploaded"
    )


def test_the_dead_letter_queue_has_the_templates_attributes(stack):
    # It was made by name alone: a 4-day retention where the template keeps 14 days
    sqs = stack.client("sqs")
    (queue,) = stack.spec.queues.values()
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    given = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert given["MessageRetentionPeriod"] == "1209600"
    assert given["SqsManagedSseEnabled"] == "true"
