"""An AWS::S3::Bucket's properties as the S3 calls that apply them, in the API's own shapes.

CloudFormation applies a bucket's configuration when it creates the bucket; offline, the
stack makes the same S3 calls on moto's bucket, so that what a user reads back
(`aws s3api get-bucket-encryption`, `get-public-access-block`, ...) and what S3 answers
(an object's `ServerSideEncryption`, an overwrite keeping its old version) are the
template's. The property names are CloudFormation's
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucket.html),
and several differ from the API's: `ServerSideEncryptionByDefault` is
`ApplyServerSideEncryptionByDefault`, a lifecycle rule's `ExpirationInDays` is
`Expiration.Days`, its `Prefix`, `TagFilters` and object sizes are its `Filter`
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-rule.html).
What S3 then does with them over time (expiring versions after days) is not modelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

PUBLIC_ACCESS_BLOCK = (
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
)


def bucket_calls(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """S3 operation (boto3's name) -> its arguments but `Bucket`, one per property set."""
    calls: dict[str, dict[str, Any]] = {}
    versioning = _object(props.get("VersioningConfiguration")).get("Status")
    if versioning is not None:  # Enabled or Suspended
        calls["put_bucket_versioning"] = {"VersioningConfiguration": {"Status": str(versioning)}}
    encryption = _object(props.get("BucketEncryption")).get("ServerSideEncryptionConfiguration")
    if encryption:
        rules = [_encryption_rule(rule) for rule in _objects(encryption)]
        calls["put_bucket_encryption"] = {"ServerSideEncryptionConfiguration": {"Rules": rules}}
    block = _object(props.get("PublicAccessBlockConfiguration"))
    if block:
        settings = {k: _true(block[k]) for k in PUBLIC_ACCESS_BLOCK if k in block}
        calls["put_public_access_block"] = {"PublicAccessBlockConfiguration": settings}
    ownership = _objects(_object(props.get("OwnershipControls")).get("Rules"))
    if ownership:
        rules = [{"ObjectOwnership": str(rule.get("ObjectOwnership"))} for rule in ownership]
        calls["put_bucket_ownership_controls"] = {"OwnershipControls": {"Rules": rules}}
    lifecycle = _objects(_object(props.get("LifecycleConfiguration")).get("Rules"))
    if lifecycle:
        rules = [_lifecycle_rule(rule) for rule in lifecycle]
        calls["put_bucket_lifecycle_configuration"] = {"LifecycleConfiguration": {"Rules": rules}}
    return calls


def _encryption_rule(rule: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    default = _object(rule.get("ServerSideEncryptionByDefault"))
    if default:
        applied = {"SSEAlgorithm": str(default.get("SSEAlgorithm"))}
        if "KMSMasterKeyID" in default:
            applied["KMSMasterKeyID"] = str(default["KMSMasterKeyID"])
        found["ApplyServerSideEncryptionByDefault"] = applied
    if "BucketKeyEnabled" in rule:
        found["BucketKeyEnabled"] = _true(rule["BucketKeyEnabled"])
    return found


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"Status": str(rule.get("Status")), "Filter": _filter(rule)}
    if "Id" in rule:
        found["ID"] = str(rule["Id"])
    expiration: dict[str, Any] = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if "ExpirationDate" in rule:
        expiration["Date"] = str(rule["ExpirationDate"])
    if "ExpiredObjectDeleteMarker" in rule:
        expiration["ExpiredObjectDeleteMarker"] = _true(rule["ExpiredObjectDeleteMarker"])
    if expiration:
        found["Expiration"] = expiration
    noncurrent = _object(rule.get("NoncurrentVersionExpiration"))
    if "NoncurrentVersionExpirationInDays" in rule:  # the older, shorter form
        noncurrent = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"], **noncurrent}
    if noncurrent:
        found["NoncurrentVersionExpiration"] = {k: int(v) for k, v in noncurrent.items()}
    transitions = _objects(rule.get("Transitions")) + _objects([rule.get("Transition")])
    if transitions:
        found["Transitions"] = [_transition(t, "TransitionInDays", "Days") for t in transitions]
    old = _objects(rule.get("NoncurrentVersionTransitions"))
    old += _objects([rule.get("NoncurrentVersionTransition")])
    if old:
        found["NoncurrentVersionTransitions"] = [
            _transition(t, "TransitionInDays", "NoncurrentDays") for t in old
        ]
    abort = _object(rule.get("AbortIncompleteMultipartUpload"))
    if "DaysAfterInitiation" in abort:
        days = int(abort["DaysAfterInitiation"])
        found["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return found


def _filter(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule's Prefix, TagFilters and object sizes as the API's Filter: one condition
    alone, several under And, none as the empty prefix (every object)."""
    conditions: dict[str, Any] = {}
    if "Prefix" in rule:
        conditions["Prefix"] = str(rule["Prefix"])
    tags = [
        {"Key": str(t.get("Key")), "Value": str(t.get("Value"))}
        for t in _objects(rule.get("TagFilters"))
    ]
    for size in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if size in rule:
            conditions[size] = int(rule[size])
    if len(conditions) + len(tags) > 1:
        return {"And": {**conditions, **({"Tags": tags} if tags else {})}}
    if tags:
        return {"Tag": tags[0]}
    return conditions or {"Prefix": ""}


def _transition(transition: dict[str, Any], days: str, api_days: str) -> dict[str, Any]:
    found: dict[str, Any] = {"StorageClass": str(transition.get("StorageClass"))}
    if days in transition:
        found[api_days] = int(transition[days])
    if "TransitionDate" in transition:
        found["Date"] = str(transition["TransitionDate"])
    if "NewerNoncurrentVersions" in transition:
        found["NewerNoncurrentVersions"] = int(transition["NewerNoncurrentVersions"])
    return found


def _true(value: Any) -> bool:
    """A CloudFormation Boolean: YAML's true, or the string a parameter gives."""
    return value is True or str(value).lower() == "true"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# S3's answer to a lifecycle expiration of 0 days or fewer (InvalidArgument), as
# scality/Arsenal#2648 reproduced it against AWS; moto took it and answered it back
EXPIRATION_DAYS = "'Days' for Expiration action must be a positive integer"


def expiration_refusal(rules: list[dict[str, Any]]) -> str | None:
    """S3's refusal for rules (the API's shape) one of which expires after 0 days or fewer;
    None for rules it takes (a Days that is no integer is left to moto's own checks)."""
    for rule in rules:
        expiration = rule.get("Expiration") if isinstance(rule, dict) else None
        days = expiration.get("Days") if isinstance(expiration, dict) else None
        if isinstance(days, bool):
            continue
        try:
            whole = int(str(days))
        except ValueError:
            continue
        if whole <= 0:
            return EXPIRATION_DAYS
    return None


@contextmanager
def lifecycle_days_checked() -> Iterator[None]:
    """PutBucketLifecycleConfiguration refusing an expiration S3 refuses, while the block runs."""
    from moto.s3.exceptions import InvalidArgumentError
    from moto.s3.models import S3Backend

    original = S3Backend.__dict__["put_bucket_lifecycle_configuration"]  # KeyError: the test

    def put(self: Any, bucket_name: str, rules: list[dict[str, Any]]) -> None:
        refused = expiration_refusal(rules)
        if refused:
            raise InvalidArgumentError(refused, "Days", "0")
        original(self, bucket_name, rules)

    with patch.object(S3Backend, "put_bucket_lifecycle_configuration", put):
        yield


@contextmanager
def event_bridge_notifications_shown() -> Iterator[None]:
    """GetBucketNotificationConfiguration answering a bucket's EventBridgeConfiguration, which
    moto keeps (and sends events by) but leaves out of its answer: `aws s3api
    get-bucket-notification-configuration` showed nothing for the template's images bucket
    (found by a user-edit walk; the element is in the API's answer,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html)."""
    from moto.s3.responses import S3Response

    original = S3Response.__dict__["get_bucket_notification"]  # KeyError: moto changed

    def get_bucket_notification(self: Any) -> Any:
        status, headers, body = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if status != 200 or config is None or config.event_bridge is None:
            return status, headers, body
        closing = "</NotificationConfiguration>"
        if closing not in body:  # the empty element, <NotificationConfiguration .../>
            body = body.rstrip().removesuffix("/>") + ">" + closing
        body = body.replace(closing, "<EventBridgeConfiguration/>" + closing)
        return status, headers, body

    with patch.object(S3Response, "get_bucket_notification", get_bucket_notification):
        yield
