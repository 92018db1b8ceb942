"""S3's answers carry S3's request id headers, `x-amz-request-id` and `x-amz-id-2`.

S3 answers every request with both (S3 API reference,
https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html); the SDKs
read them as ResponseMetadata's RequestId and HostId (botocore takes a HostId only beside
`x-amz-request-id`). moto's S3 answered with the `x-amzn-requestid` other services use and
no `x-amz-id-2`, so an AWS SDK task's S3 error lacked the "Extended Request ID" AWS's cause
has: "... (Service: S3, Status Code: 404, Request ID: <id>, Extended Request ID: <id>)"
(LocalStack's recordings of AWS, test_aws_sdk.py::test_no_such_bucket,
test_s3_no_such_key). The extended id is the one moto's S3 error bodies name as HostId.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch


@contextmanager
def s3_host_ids_sent() -> Iterator[None]:
    from moto.core.serialize import S3Serializer
    from moto.s3.responses import S3Response

    host_id = S3Serializer.DEFAULT_HOST_ID
    original = S3Response.__dict__["_send_response"]  # KeyError: moto changed; see the test
    send = original.__func__

    def send_response(cls: Any, response: Any) -> Any:
        status, headers, body = send(cls, response)
        # S3's own name for the request id (moto gave the x-amzn- one other services use)
        request_id = headers.pop("x-amzn-requestid", None)
        if request_id is not None:
            headers.setdefault("x-amz-request-id", request_id)
        headers.setdefault("x-amz-id-2", host_id)
        return status, headers, body

    with patch.object(S3Response, "_send_response", classmethod(send_response)):
        yield
