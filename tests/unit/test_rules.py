"""EventBridge's input transformer, and why the offline stack delivers to Step Functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mlwf.offline.rules import transform_input
from tests.helpers.events import load_event
from tests.helpers.sam_translate import sam_template


def upload_rule() -> dict:
    machine = sam_template()["Resources"]["ImageClassificationStateMachine"]
    return machine["Properties"]["Events"]["ImageUploaded"]["Properties"]


def test_the_upload_rules_transformer_gives_the_workflow_input():
    event = load_event("s3_object_created.json")
    body = transform_input(upload_rule()["InputTransformer"], event)
    assert json.loads(body) == load_event("workflow_input.json")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{"k": <key>}', {"k": 'a "quoted" key'}),  # a string, quoted as JSON
        ('{"k": "<key>"}', {"k": 'a "quoted" key'}),  # already quoted: not twice
        ('{"n": <size>, "o": <object>}', {"n": 5, "o": {"key": 'a "quoted" key', "size": 5}}),
        ('{"missing": <nothing>}', {"missing": None}),
    ],
)
def test_placeholders_become_json_values(template, expected):
    event = {"detail": {"object": {"key": 'a "quoted" key', "size": 5}}}
    transformer = {
        "InputPathsMap": {
            "key": "$.detail.object.key",
            "size": "$.detail.object.size",
            "object": "$.detail.object",
            "nothing": "$.detail.none",
        },
        "InputTemplate": template,
    }
    assert json.loads(transform_input(transformer, event)) == expected


def test_moto_alone_still_cannot_deliver_to_a_state_machine():
    # Why mlwf.offline.rules delivers Step Functions targets itself: moto raises for them
    # (and its S3 notifications swallow the error). If it learns to, this fails.
    from moto.events.models import Rule

    rule = Rule.__new__(Rule)
    rule.event_pattern = type("AnyEvent", (), {"matches_event": lambda self, e: True})()
    rule.targets = [{"Id": "t", "Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}]
    with pytest.raises(NotImplementedError):
        Rule.send_to_targets(rule, {"detail": {}}, transform_input=False)


def test_the_predefined_variables_need_no_path():
    # eb-transform-target-input.html, "Predefined variables" (offline left them as written)
    rule = type("Rule", (), {"arn": "arn:aws:events:us-east-1:123456789012:rule/up", "name": "up"})
    event = {"id": "e1", "time": "2026-12-01T00:00:00Z", "detail": {"bucket": "b"}}
    template = (
        '{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", '
        '"at": <aws.events.event.ingestion-time>, "event": <aws.events.event>, '
        '"whole": <aws.events.event.json>}'
    )
    given = json.loads(transform_input({"InputTemplate": template}, event, rule()))
    assert given["arn"] == rule.arn and given["name"] == "up"
    assert given["event"] == {"id": "e1", "time": "2026-12-01T00:00:00Z"}  # without detail
    assert given["whole"] == event
    stamp = datetime.strptime(given["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


@pytest.fixture
def events_to_a_queue(aws):
    """An SQS queue that a rule on source my.source sends its events to, unchanged."""
    import boto3

    from mlwf.offline.rules import step_functions_targets

    sqs, events = (boto3.client(s, region_name="us-east-1") for s in ("sqs", "events"))
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events.put_rule(Name="mine", EventPattern=json.dumps({"source": ["my.source"]}))
    target = {"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}
    events.put_targets(Rule="mine", Targets=[target])
    with step_functions_targets():
        yield events, sqs, queue


def test_a_target_without_a_transformer_gets_the_whole_event_account_included(events_to_a_queue):
    # Given a rule whose target has no InputTransformer
    events, sqs, queue = events_to_a_queue
    # When an event is put
    entry = {"Source": "my.source", "DetailType": "t", "Detail": '{"a": 1}'}
    events.put_events(Entries=[entry])
    # Then the queue gets it with every field EventBridge delivers, in its order
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(message["Body"])
    assert list(body) == [
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    ]  # fmt: skip
    assert (body["account"], body["detail"]) == ("123456789012", {"a": 1})


def test_the_pinned_moto_leaves_the_account_out_of_its_default_template():
    from moto.events.utils import EventTemplateParser

    assert "<account>" not in EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    assert EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP["account"] == "$.account"
