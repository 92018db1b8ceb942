"""An AWS::S3::Bucket's CloudFormation properties as the S3 calls that apply them
(mlwf.offline.bucket_properties): the API's shapes, which S3 (here moto, checking them with
botocore's model) takes, and which read back as the template says."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from mlwf.offline.bucket_properties import (
    EXPIRATION_DAYS,
    bucket_calls,
    event_bridge_notifications_shown,
    lifecycle_days_checked,
)
from tests.helpers.paths import REGION
from tests.helpers.project import edit_template, load_refusal, project_copy

ENCRYPTION = {
    "ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": "true"}
    ]
}


def applied(props: dict[str, Any]) -> Any:
    """A moto bucket with the calls made, and its client."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="configured")
    for operation, arguments in bucket_calls(props).items():
        getattr(s3, operation)(Bucket="configured", **arguments)
    return s3


def test_encryption_takes_the_apis_names_and_objects_report_it(aws):
    s3 = applied({"BucketEncryption": ENCRYPTION})
    (rule,) = s3.get_bucket_encryption(Bucket="configured")["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert rule["BucketKeyEnabled"] is True  # a parameter's "true" is a Boolean
    put = s3.put_object(Bucket="configured", Key="k", Body=b"x")
    assert put["ServerSideEncryption"] == "AES256"


def test_public_access_block_and_ownership_read_back_as_given(aws):
    block = {"BlockPublicAcls": True, "BlockPublicPolicy": "false", "IgnorePublicAcls": True}
    ownership = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    s3 = applied({"PublicAccessBlockConfiguration": block, "OwnershipControls": ownership})
    answer = s3.get_public_access_block(Bucket="configured")["PublicAccessBlockConfiguration"]
    assert answer["BlockPublicAcls"] is True and answer["BlockPublicPolicy"] is False
    controls = s3.get_bucket_ownership_controls(Bucket="configured")["OwnershipControls"]
    assert controls == ownership


@pytest.mark.parametrize(
    "rule, expected",
    [
        (
            {
                "Id": "old",
                "Status": "Enabled",
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            },
            {
                "ID": "old",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            },
        ),
        (
            {"Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": "7"},
            {"Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}},
        ),
        (
            {
                "Status": "Disabled",
                "Prefix": "logs/",
                "TagFilters": [{"Key": "kind", "Value": "log"}],
                "NoncurrentVersionExpirationInDays": 3,
                "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            {
                "Status": "Disabled",
                "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "kind", "Value": "log"}]}},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
                "Transitions": [{"StorageClass": "GLACIER", "Days": 90}],
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
        ),
    ],
)
def test_a_lifecycle_rule_takes_the_apis_shape(aws, rule, expected):
    s3 = applied({"LifecycleConfiguration": {"Rules": [rule]}})
    (read,) = s3.get_bucket_lifecycle_configuration(Bucket="configured")["Rules"]
    assert read == expected


def test_a_bucket_without_configuration_gets_no_call():
    assert bucket_calls({}) == {}
    assert bucket_calls({"BucketName": "b", "Tags": [{"Key": "a", "Value": "b"}]}) == {}


LIFECYCLE = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}]}


def test_the_pinned_moto_takes_an_expiration_of_0_days(aws):
    # What lifecycle_days_checked is for; once moto refuses it, the patch can go.
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="lifecycled")
    s3.put_bucket_lifecycle_configuration(Bucket="lifecycled", LifecycleConfiguration=LIFECYCLE)
    assert s3.get_bucket_lifecycle_configuration(Bucket="lifecycled")["Rules"][0]["Expiration"] == {
        "Days": 0
    }


def test_an_expiration_of_0_days_is_refused_in_s3s_words(aws):
    # "'Days' for Expiration action must be a positive integer" (InvalidArgument, as
    # scality/Arsenal#2648 reproduced it against AWS)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="lifecycled")
    with lifecycle_days_checked(), pytest.raises(ClientError) as refused:
        s3.put_bucket_lifecycle_configuration(Bucket="lifecycled", LifecycleConfiguration=LIFECYCLE)
    assert refused.value.response["Error"]["Code"] == "InvalidArgument"
    assert refused.value.response["Error"]["Message"] == EXPIRATION_DAYS


def test_a_template_expiration_of_0_days_is_refused_at_start(tmp_path):
    template = project_copy(tmp_path)
    edit_template(
        template,
        "            NoncurrentVersionExpiration:\n",
        "            ExpirationInDays: 0\n            NoncurrentVersionExpiration:\n",
    )
    refused = load_refusal(template)
    assert refused == f"template.yaml (ImagesBucket): {EXPIRATION_DAYS}"


def notified(s3) -> dict:
    s3.create_bucket(Bucket="notified")
    s3.put_bucket_notification_configuration(
        Bucket="notified", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    answer = s3.get_bucket_notification_configuration(Bucket="notified")
    answer.pop("ResponseMetadata")
    return answer


def test_the_pinned_moto_leaves_event_bridge_out_of_its_answer(aws):
    # What event_bridge_notifications_shown is for; once moto answers it, the patch can go.
    assert notified(boto3.client("s3", region_name=REGION)) == {}


def test_a_buckets_event_bridge_notifications_are_in_its_answer(aws):
    with event_bridge_notifications_shown():
        answer = notified(boto3.client("s3", region_name=REGION))
    assert answer == {"EventBridgeConfiguration": {}}


def test_event_bridge_is_answered_beside_other_notifications(aws):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="notified")
    queue = "arn:aws:sqs:us-east-1:123456789012:uploads"
    configuration = {
        "EventBridgeConfiguration": {},
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}],
    }
    with event_bridge_notifications_shown():
        s3.put_bucket_notification_configuration(
            Bucket="notified", NotificationConfiguration=configuration
        )
        answer = s3.get_bucket_notification_configuration(Bucket="notified")
    assert answer["EventBridgeConfiguration"] == {}
    assert answer["QueueConfigurations"][0]["QueueArn"] == queue
