"""Object ACLs under bucket-owner-enforced ownership (mlwf.offline.object_acls): refused as
S3 refuses them ("The bucket does not allow ACLs"), the one ACL S3 still takes taken, and
what the patch leaves to moto left as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mlwf.offline.object_acls import object_acls_refused_when_owner_enforced

PUBLIC = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'


@pytest.fixture
def s3(aws) -> Iterator[Any]:
    """moto with the patch, and a bucket whose owner enforces ownership."""
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="enforced")
    rules = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    client.put_bucket_ownership_controls(Bucket="enforced", OwnershipControls=rules)
    client.put_object(Bucket="enforced", Key="k", Body=b"x")
    with object_acls_refused_when_owner_enforced():
        yield client


def error(s3: Any, call: str, **arguments: Any) -> tuple[str, str, int]:
    with pytest.raises(s3.exceptions.ClientError) as raised:
        getattr(s3, call)(Bucket="enforced", **arguments)
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


@pytest.mark.parametrize(
    "call, arguments",
    [
        ("put_object", {"Key": "new", "Body": b"x", "ACL": "public-read"}),
        ("put_object", {"Key": "new", "Body": b"x", "GrantRead": PUBLIC}),
        ("copy_object", {"Key": "copy", "CopySource": "enforced/k", "ACL": "public-read"}),
        ("put_object_acl", {"Key": "k", "ACL": "authenticated-read"}),
        ("create_multipart_upload", {"Key": "big", "ACL": "public-read"}),
    ],
)
def test_an_acl_on_an_object_is_refused_as_s3_refuses_it(s3, call, arguments):
    refused = error(s3, call, **arguments)
    assert refused == ("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
    assert "new" not in [o["Key"] for o in s3.list_objects_v2(Bucket="enforced")["Contents"]]


def test_no_acl_or_the_owners_full_control_is_taken(s3):
    s3.put_object(Bucket="enforced", Key="plain", Body=b"x")
    s3.put_object(Bucket="enforced", Key="owned", Body=b"x", ACL="bucket-owner-full-control")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="enforced")["Contents"]}
    assert {"plain", "owned"} <= keys


def test_what_the_patch_leaves_to_moto_is_as_moto_has_it(s3):
    # a bucket's own ACL, and a bucket without ownership controls
    s3.put_bucket_acl(Bucket="enforced", ACL="private")
    s3.create_bucket(Bucket="unset")
    s3.put_object(Bucket="unset", Key="k", Body=b"x", ACL="public-read")
    # a missing bucket: moto's own answer
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.put_object(Bucket="missing", Key="k", Body=b"x", ACL="public-read")


def test_the_patched_method_is_still_moto_s():
    # the patch replaces S3Response._acl_from_headers: if moto renames or moves it, the
    # patch would add a method nobody calls and refuse nothing
    from moto.s3.responses import S3Response

    assert "_acl_from_headers" in S3Response.__dict__
    with object_acls_refused_when_owner_enforced():
        assert S3Response.__dict__["_acl_from_headers"].__name__ == "acl_from_headers"
    assert S3Response.__dict__["_acl_from_headers"].__qualname__ == "S3Response._acl_from_headers"
