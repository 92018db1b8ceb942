"""Resources the offline stack does not make are refused at start, naming each, rather than
skipped: a topic, a parameter, a queue trigger or a schedule added to template.yaml were
silently never made, and the app then behaved unlike the deployed one (mlwf/offline/
resource_types.py). A type CloudFormation does not know fails as CloudFormation fails it."""

from __future__ import annotations

import pytest

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


def test_resources_of_types_it_does_not_make_are_refused_by_name(tmp_path):
    # Given a topic and an alarm added to the template (offline made neither, and
    # `!Ref AlertsTopic` gave a name where CloudFormation gives the topic's ARN)
    template = project_copy(tmp_path)
    edit_template(template, "Resources:\n", TOPIC_AND_ALARM)

    # When the offline stack reads it, Then both are named, and nothing else
    message = refused(template)
    assert message.startswith(
        "template.yaml: the offline mode does not make these resources as AWS would: "
        "AlertsTopic (AWS::SNS::Topic); LowConfidenceAlarm (AWS::CloudWatch::Alarm)."
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
