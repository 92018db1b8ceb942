"""The test process's sessions share one botocore loader (tests/conftest.py): what that
relies on in botocore."""

from __future__ import annotations

import boto3


def test_every_new_session_reads_the_models_through_one_loader():
    # botocore builds a session's loader with botocore.session.create_loader; if it stops
    # doing so, the sessions get loaders of their own again and this fails.
    first = boto3.Session(region_name="us-east-1")._session.get_component("data_loader")
    second = boto3.Session(region_name="us-east-1")._session.get_component("data_loader")
    assert first is second


def test_a_shared_loader_gives_clients_that_work(aws):
    s3 = boto3.Session(region_name="us-east-1").client("s3")
    s3.create_bucket(Bucket="shared-loader")
    other = boto3.Session(region_name="us-east-1").client("s3")
    assert [b["Name"] for b in other.list_buckets()["Buckets"]] == ["shared-loader"]
