"""A template's queue made with its properties, and SQS's ranges held
(mlwf.offline.queue_attributes)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.queue_attributes import attributes, queue_attributes_checked
from mlwf.offline.template import load_template
from tests.helpers.paths import REGION
from tests.helpers.project import edit_template, load_refusal, project_copy

FOUR_WEEKS = "2419200"  # SQS keeps a message 14 days at most


def test_the_pinned_moto_takes_a_retention_sqs_refuses(aws):
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": FOUR_WEEKS})


@pytest.mark.parametrize(
    "name, value",
    [("MessageRetentionPeriod", FOUR_WEEKS), ("MessageRetentionPeriod", "59")]
    + [("VisibilityTimeout", "43201"), ("DelaySeconds", "901"), ("DelaySeconds", "soon")]
    + [("ReceiveMessageWaitTimeSeconds", "21")],
)
def test_create_and_set_refuse_a_value_out_of_sqss_range(aws, name, value):
    sqs = boto3.client("sqs", region_name=REGION)
    with queue_attributes_checked():
        with pytest.raises(ClientError) as refused:
            sqs.create_queue(QueueName="q", Attributes={name: value})
        assert refused.value.response["Error"]["Code"] == "InvalidAttributeValue"
        assert refused.value.response["Error"]["Message"] == (
            f"Invalid value for the parameter {name}."
        )
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        with pytest.raises(ClientError):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "1209600"})


def test_properties_become_attributes_as_cloudformation_passes_them():
    props = {
        "QueueName": "q",
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": 1209600,
        "RedrivePolicy": {
            "deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq",
            "maxReceiveCount": 3,
        },
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    assert attributes(props) == {
        "SqsManagedSseEnabled": "true",
        "MessageRetentionPeriod": "1209600",
        "RedrivePolicy": json.dumps(props["RedrivePolicy"]),
    }


def test_a_template_queue_sqs_refuses_is_refused_at_start(tmp_path):
    template = project_copy(tmp_path)
    edit_template(
        template, "MessageRetentionPeriod: 1209600", f"MessageRetentionPeriod: {FOUR_WEEKS}"
    )
    raised = load_refusal(template)
    assert raised == (
        "template.yaml (UploadDeadLetterQueue): SQS refuses MessageRetentionPeriod 2419200 "
        "(SQS takes 60 to 1209600): InvalidAttributeValue"
    )


def test_a_fifo_queue_without_a_name_gets_a_fifo_name(tmp_path):
    # CloudFormation ends a FIFO queue's generated name in .fifo, as SQS requires
    template = project_copy(tmp_path)
    edit_template(
        template,
        "      MessageRetentionPeriod: 1209600\n",
        "      MessageRetentionPeriod: 1209600\n      FifoQueue: true\n",
    )
    name = load_template(template).queues["UploadDeadLetterQueue"]
    assert name.endswith(".fifo") and len(name) <= 80


def test_a_redrive_policy_may_name_a_queue_declared_after_it(aws):
    # CloudFormation orders a queue after its dead-letter queue; moto refuses a missing one
    from mlwf.offline.queue_attributes import create_queues

    sqs = boto3.client("sqs", region_name=REGION)
    dead = "arn:aws:sqs:us-east-1:123456789012:dead"
    policy = json.dumps({"deadLetterTargetArn": dead, "maxReceiveCount": 5})
    create_queues(sqs, {"work": {"RedrivePolicy": policy}, "dead": {}})
    url = sqs.get_queue_url(QueueName="work")["QueueUrl"]
    given = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert json.loads(given["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"] == dead
