"""An object ACL refused where the bucket owner enforces ownership, as S3 refuses it.

With Object Ownership set to BucketOwnerEnforced (template.yaml's bucket sets it), "ACLs are
disabled": a PUT that sets an ACL, other than the bucket-owner-full-control canned ACL, fails
with 400 AccessControlListNotSupported, "The bucket does not allow ACLs"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
moto stored the ACL, so `aws s3 cp ... --acl public-read` worked offline and failed on AWS.

Patched where moto reads an ACL from a request's headers (x-amz-acl, x-amz-grant-*), for the
requests on an object: PutObject, CopyObject, CreateMultipartUpload and PutObjectAcl. A
bucket's own ACL, and a bucket with no ownership controls (which moto makes when none are
given, where AWS now enforces ownership by default), are left as moto has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

OWNER_FULL_CONTROL = "bucket-owner-full-control"  # the one ACL S3 still takes there


@contextmanager
def object_acls_refused_when_owner_enforced() -> Iterator[None]:
    from moto.s3.exceptions import MissingBucket, S3ClientError
    from moto.s3.responses import S3Response

    original = S3Response.__dict__["_acl_from_headers"]  # KeyError: moto changed; see the test

    def acl_from_headers(response: Any, headers: Any) -> Any:
        acl = original(response, headers)
        if acl is None or headers.get("x-amz-acl", "") == OWNER_FULL_CONTROL:
            return acl
        try:
            bucket = response.backend.get_bucket(response.bucket_name)
            on_object = bool(response.parse_key_name())
        except MissingBucket:
            return acl  # moto's answer for a missing bucket follows
        if on_object and bucket.ownership_rule == "BucketOwnerEnforced":
            raise S3ClientError("AccessControlListNotSupported", "The bucket does not allow ACLs")
        return acl

    with patch.object(S3Response, "_acl_from_headers", acl_from_headers):
        yield
