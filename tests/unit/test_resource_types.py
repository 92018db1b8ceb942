"""Resources the offline stack does not make: named at start and left out, a reference to one
refused, a trigger refused (mlwf/offline/resource_types.py). A topic, a parameter, a queue
trigger or a schedule added to template.yaml were silently never made, a Ref to the topic gave
a made-up name, and the app then behaved unlike the deployed one. A type CloudFormation does
not know fails as CloudFormation fails it."""

from __future__ import annotations

import pytest

from mlwf.offline.resource_types import skipped_note
from mlwf.offline.template import load_template
from tests.helpers.project import edit_template, project_copy
from training_job.errors import MlwfError

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


def refused(template) -> str:
    with pytest.raises(MlwfError) as raised:
        load_template(template)
    return str(raised.value)


def test_resources_it_does_not_make_are_left_out_and_named(tmp_path):
    # Given a topic and an alarm added to the template, which nothing else refers to
    template = project_copy(tmp_path)
    edit_template(template, "Resources:\n", TOPIC_AND_ALARM)

    # When the offline stack reads it
    spec = load_template(template)

    # Then both are left out and named (the start says so), and the app is read whole
    assert spec.skipped == {
        "AlertsTopic": "AWS::SNS::Topic",
        "LowConfidenceAlarm": "AWS::CloudWatch::Alarm",
    }
    assert skipped_note(spec.skipped) == (
        "not made offline (AWS would make them; nothing here refers to them): "
        "AlertsTopic (AWS::SNS::Topic), LowConfidenceAlarm (AWS::CloudWatch::Alarm)"
    )
    assert "AlertsTopic" not in spec.resources and len(spec.functions) == 3


def test_a_reference_to_a_resource_it_does_not_make_is_refused_by_name(tmp_path):
    # Given a function told the topic's ARN (offline gave a made-up name for `!Ref`, where
    # CloudFormation gives the topic's ARN: a publish worked on AWS and failed offline)
    template = project_copy(tmp_path)
    edit_template(template, "Resources:\n", TOPIC_AND_ALARM)
    edit_template(
        template,
        "          THRESHOLD: !Ref ConfidenceThreshold\n",
        "          THRESHOLD: !Ref ConfidenceThreshold\n          ALERTS: !Ref AlertsTopic\n",
    )
    assert refused(template) == (
        "template.yaml: AlertsTopic (AWS::SNS::Topic) is referenced, but the offline mode does "
        "not make AWS::SNS::Topic resources, so the value AWS would give for it is not known "
        "(docs/offline.md lists what it makes)"
    )


def test_triggers_it_would_never_fire_are_refused_by_name(tmp_path):
    # Given an SQS trigger and a schedule on the filter function (SAM makes an event source
    # mapping and a rule with a ScheduleExpression: offline wired neither, nothing fired)
    template = project_copy(tmp_path)
    edit_template(
        template,
        "Resources:\n",
        "Resources:\n  WorkQueue:\n    Type: AWS::SQS::Queue\n",
    )
    text = template.read_text()
    start = text.index("  FilterInferencesFunction:\n")
    properties = text.index("    Properties:\n", start) + len("    Properties:\n")
    events = (
        "      Events:\n"
        "        Work:\n          Type: SQS\n          Properties:\n"
        "            Queue: !GetAtt WorkQueue.Arn\n"
        "        Hourly:\n          Type: Schedule\n          Properties:\n"
        "            Schedule: rate(1 hour)\n"
    )
    template.write_text(text[:properties] + events + text[properties:])

    message = refused(template)

    assert "FilterInferencesFunctionWork (AWS::Lambda::EventSourceMapping: no queue" in message
    assert "FilterInferencesFunctionHourly (a scheduled rule: nothing is run" in message


def test_s3_notifications_to_a_function_are_refused_by_name(tmp_path):
    # SAM's S3 event adds a LambdaConfigurations to the bucket: S3 never invoked it offline
    template = project_copy(tmp_path)
    edit_template(
        template,
        "      NotificationConfiguration:\n",
        "      NotificationConfiguration:\n"
        "        QueueConfigurations:\n"
        "          - Event: s3:ObjectCreated:*\n"
        "            Queue: arn:aws:sqs:us-east-1:123456789012:q\n",
    )
    assert "ImagesBucket (QueueConfigurations: only EventBridge gets S3 events" in refused(template)


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
    assert refused(template) == (
        "template.yaml: Template format error: Unrecognized resource types: "
        "[AWS::Foo::Gadget, AWS::Foo::Widget]"
    )


def test_the_projects_own_template_is_made_whole(tmp_path):
    # every resource of template.yaml is one the offline stack makes, or a resource policy
    spec = load_template(project_copy(tmp_path))
    assert set(spec.functions) == {
        "SerializeImageDataFunction",
        "ClassifyImageFunction",
        "FilterInferencesFunction",
    }
