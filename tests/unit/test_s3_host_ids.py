"""mlwf/offline/s3_host_ids.py: S3's answers name their request ids as S3's do, pinned to
moto 5.2.5's, which name them as other services' do."""

from __future__ import annotations

import boto3
import pytest

from mlwf.offline.s3_host_ids import s3_host_ids_sent
from tests.helpers.paths import REGION


def missing_key_metadata() -> dict:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="host-ids")
    with pytest.raises(s3.exceptions.NoSuchKey) as missing:
        s3.get_object(Bucket="host-ids", Key="nope")
    return missing.value.response["ResponseMetadata"]


def test_the_pinned_moto_s3_sends_no_extended_request_id(aws):
    metadata = missing_key_metadata()
    assert "HostId" not in metadata
    assert "x-amzn-requestid" in metadata["HTTPHeaders"]


def test_s3_sends_both_of_its_request_ids(aws):
    with s3_host_ids_sent():
        metadata = missing_key_metadata()
    headers = metadata["HTTPHeaders"]
    assert metadata["RequestId"] == headers["x-amz-request-id"]
    assert metadata["HostId"] == headers["x-amz-id-2"] != ""
    assert "x-amzn-requestid" not in headers
