"""What of a template the offline stack does not make is named, not silently skipped
(mlwf/offline/resource_types.py): a topic, an alarm, a queue trigger or a schedule added to
template.yaml were never made, nothing fired, and nothing said so. The app still runs
offline. A type CloudFormation does not know fails as CloudFormation fails it."""

from __future__ import annotations

from mlwf.offline.resource_types import skipped_note
from mlwf.offline.template import load_template
from tests.helpers.project import edit_template, load_refusal, project_copy

TOPIC_AND_ALARM = """Resources:
  AlertsTopic:
    Type: AWS::SNS::Topic
  LowConfidenceAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/States
      MetricName: ExecutionsFailed
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions: [!Ref AlertsTopic]
"""


def with_filter_events(tmp_path, events: str):
    """The project's template with `events` on the filter function, and a queue."""
    template = project_copy(tmp_path)
    edit_template(template, "Resources:\n", "Resources:\n  WorkQueue:\n    Type: AWS::SQS::Queue\n")
    text = template.read_text()
    start = text.index("  FilterInferencesFunction:\n")
    properties = text.index("    Properties:\n", start) + len("    Properties:\n")
    template.write_text(text[:properties] + "      Events:\n" + events + text[properties:])
    return template


def test_resources_it_does_not_make_are_named_and_the_app_is_read_whole(tmp_path):
    # Given an alarm, and a topic it notifies, added to the template
    template = project_copy(tmp_path)
    edit_template(template, "Resources:\n", TOPIC_AND_ALARM)

    # When the offline stack reads it
    spec = load_template(template)

    # Then the alarm is named, and the app is read whole (the topic is made since
    # mlwf.offline.service_resources: tests/unit/test_service_resources.py)
    assert spec.left_out == ["LowConfidenceAlarm (AWS::CloudWatch::Alarm)"]
    assert skipped_note(spec.left_out) == (
        "not made offline (AWS would make them; offline, nothing runs them and a call to one "
        "fails): LowConfidenceAlarm (AWS::CloudWatch::Alarm)"
    )
    assert "AlertsTopic" in spec.resources and len(spec.functions) == 3


def test_triggers_it_never_fires_are_named(tmp_path):
    # SAM makes an event source mapping for the SQS event, a rule with a ScheduleExpression
    # for the schedule and a REST API for the Api event: offline wired none, without a word
    events = (
        "        Work:\n          Type: SQS\n          Properties:\n"
        "            Queue: !GetAtt WorkQueue.Arn\n"
        "        Hourly:\n          Type: Schedule\n          Properties:\n"
        "            Schedule: rate(1 hour)\n"
        "        Http:\n          Type: Api\n          Properties:\n"
        "            Path: /filter\n            Method: post\n"
    )
    spec = load_template(with_filter_events(tmp_path, events))
    assert (
        "FilterInferencesFunctionWork (AWS::Lambda::EventSourceMapping: no queue or stream"
        " is polled)" in spec.left_out
    )
    assert "FilterInferencesFunctionHourly (a scheduled rule: nothing is run on a schedule)" in (
        spec.left_out
    )
    assert "ServerlessRestApi (AWS::ApiGateway::RestApi: no API is served)" in spec.left_out
    assert "FilterInferencesFunction" in spec.functions  # the function itself runs


def test_s3_notifications_other_than_event_bridge_are_named(tmp_path):
    template = project_copy(tmp_path)
    edit_template(
        template,
        "      NotificationConfiguration:\n",
        "      NotificationConfiguration:\n"
        "        QueueConfigurations:\n"
        "          - Event: s3:ObjectCreated:*\n"
        "            Queue: arn:aws:sqs:us-east-1:123456789012:q\n",
    )
    spec = load_template(template)
    assert spec.left_out == [
        "ImagesBucket's QueueConfigurations (only EventBridge gets its events)"
    ]
    assert "ImagesBucket" in spec.buckets  # made, with its EventBridge events


def test_a_type_cloudformation_does_not_know_fails_in_its_words(tmp_path):
    # "Template format error: Unrecognized resource types: [AWS::CDK::Metadata]"
    # (aws/aws-cdk#3648); offline skipped it and deployed
    template = project_copy(tmp_path)
    edit_template(
        template,
        "Resources:\n",
        "Resources:\n  Widget:\n    Type: AWS::Foo::Widget\n"
        "  Gadget:\n    Type: AWS::Foo::Gadget\n",
    )
    refused = load_refusal(template)
    assert refused == (
        "template.yaml: Template format error: Unrecognized resource types: "
        "[AWS::Foo::Gadget, AWS::Foo::Widget]"
    )


def test_the_projects_own_template_leaves_nothing_out(tmp_path):
    spec = load_template(project_copy(tmp_path))
    assert spec.left_out == []
    assert set(spec.functions) == {
        "SerializeImageDataFunction",
        "ClassifyImageFunction",
        "FilterInferencesFunction",
    }
